"""Experiments: scenario files (validated on load), and later the A/B runner, metrics
and reports."""

from loyaltylab.experiments.scenario import (
    DESIGNS,
    Arm,
    PolicyConfig,
    PopulationConfig,
    Scenario,
    ScenarioError,
    load_scenario,
    validate_scenario,
)

__all__ = [
    "DESIGNS",
    "Arm",
    "PolicyConfig",
    "PopulationConfig",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "validate_scenario",
]
