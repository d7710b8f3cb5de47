"""loyaltylab: design loyalty programs before they launch.

Simulate a firm's customers as agents (BG/NBD purchase and dropout, Gamma-Gamma spend,
segment-specific responses to incentives), put program designs in front of them week
by week, and compare the designs as A/B experiments (:func:`run`).
"""

from loyaltylab.agents import btyd_population, default_population
from loyaltylab.errors import InputError
from loyaltylab.experiments import load_scenario, run
from loyaltylab.sim import Economics, LoyaltyModel, Policy

__version__ = "0.1.0"

__all__ = ["Economics", "InputError", "LoyaltyModel", "Policy", "__version__",
           "btyd_population", "default_population", "load_scenario", "run"]
