"""Experiments: scenario files, the A/B runner, metrics, statistics and results."""

from loyaltylab.experiments.breakage import RedemptionForecast, forecast_redemption
from loyaltylab.experiments.metrics import ArmOutcome, simulate_arm
from loyaltylab.experiments.results import (
    ExperimentResult,
    default_destination,
    read_results,
    write_results,
)
from loyaltylab.experiments.runner import TARGETS, run
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
    "TARGETS",
    "Arm",
    "ArmOutcome",
    "ExperimentResult",
    "PolicyConfig",
    "PopulationConfig",
    "RedemptionForecast",
    "Scenario",
    "ScenarioError",
    "default_destination",
    "forecast_redemption",
    "load_scenario",
    "read_results",
    "run",
    "simulate_arm",
    "validate_scenario",
    "write_results",
]
