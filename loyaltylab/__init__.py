"""loyaltylab: design loyalty programs before they launch.

Simulate a firm's customers as agents (BG/NBD purchase and dropout, Gamma-Gamma spend,
segment-specific responses to incentives), put program designs in front of them week
by week, and compare the designs as A/B experiments (:func:`run`).

The names below are imported on first use, so that ``import loyaltylab`` (and the
command line's start, which installs its interrupt handlers first) costs nothing until
a name is needed.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_WHERE = {
    "btyd_population": "loyaltylab.agents",
    "default_population": "loyaltylab.agents",
    "InputError": "loyaltylab.errors",
    "load_scenario": "loyaltylab.experiments",
    "run": "loyaltylab.experiments",
    "Economics": "loyaltylab.sim",
    "LoyaltyModel": "loyaltylab.sim",
    "Policy": "loyaltylab.sim",
}

__all__ = ["Economics", "InputError", "LoyaltyModel", "Policy", "__version__",
           "btyd_population", "default_population", "load_scenario", "run"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'loyaltylab' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
