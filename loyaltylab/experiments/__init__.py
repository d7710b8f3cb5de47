"""Experiments: scenario files, the A/B runner, metrics, statistics and results, design
sweeps and the design search."""

from loyaltylab.experiments.arm import ArmOutcome, simulate_arm
from loyaltylab.experiments.breakage import RedemptionForecast, forecast_redemption
from loyaltylab.experiments.campaign_fit import CampaignFit, fit_campaign_response
from loyaltylab.experiments.inputs import InputRange, UncertainInput
from loyaltylab.experiments.metrics import METRICS, Metric, metric
from loyaltylab.experiments.results import (
    ExperimentResult,
    default_destination,
    read_results,
    write_results,
)
from loyaltylab.experiments.runner import run
from loyaltylab.experiments.scenario import (
    DESIGNS,
    Arm,
    PolicyConfig,
    PopulationConfig,
    Scenario,
    ScenarioError,
    Uncertainty,
    load_scenario,
    validate_scenario,
)
from loyaltylab.experiments.search import optimise
from loyaltylab.experiments.sensitivity import SensitivityResult, sensitivity
from loyaltylab.experiments.sweep import Search, Sweep
from loyaltylab.experiments.targets import DEFAULT_TARGETS, Target

__all__ = [
    "DEFAULT_TARGETS",
    "DESIGNS",
    "METRICS",
    "Arm",
    "ArmOutcome",
    "CampaignFit",
    "ExperimentResult",
    "InputRange",
    "Metric",
    "PolicyConfig",
    "PopulationConfig",
    "RedemptionForecast",
    "Scenario",
    "ScenarioError",
    "Search",
    "SensitivityResult",
    "Sweep",
    "Target",
    "UncertainInput",
    "Uncertainty",
    "default_destination",
    "fit_campaign_response",
    "forecast_redemption",
    "load_scenario",
    "metric",
    "optimise",
    "read_results",
    "run",
    "sensitivity",
    "simulate_arm",
    "validate_scenario",
    "write_results",
]
