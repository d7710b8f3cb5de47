"""Experiments: scenarios, the A/B runner, metrics and reports."""
