"""Shared test helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyaltylab.sim import LoyaltyModel


def run_weekly(model: LoyaltyModel, weeks: int) -> pd.DataFrame:
    """Run a model and return its weekly table."""
    model.run(weeks)
    return model.weekly


def assert_same_run(a: LoyaltyModel, b: LoyaltyModel) -> None:
    """Two models ended in exactly the same state with the same weekly series."""
    pd.testing.assert_frame_equal(a.weekly, b.weekly)
    for column in ("alive", "purchases", "last_purchase", "net_revenue", "margin_pv"):
        np.testing.assert_array_equal(a.population[column], b.population[column])
