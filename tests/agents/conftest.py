"""Shared fixtures of the agent tests: the vendored CDNOW sample."""

from pathlib import Path

import pandas as pd
import pytest

from loyaltylab.agents import btyd_population, read_transactions, summarise
from loyaltylab.sim import LoyaltyModel
from loyaltylab.sim.logs import START_DATE, transaction_log

CDNOW = Path(__file__).parents[2] / "data" / "cdnow_sample.csv"


@pytest.fixture(scope="session")
def cdnow_log():
    """The CDNOW sample's transactions (2,357 customers, 1997-1998)."""
    return read_transactions(CDNOW)


@pytest.fixture(scope="session")
def cdnow(cdnow_log):
    """Per-customer summaries of the 39-week calibration period (to 1997-09-30)."""
    return summarise(cdnow_log, "1997-09-30")


#: The truth behind :func:`truncated_log`: BG/NBD in weekly units.
TRUTH = {"r": 0.9, "alpha": 1.5, "a": 0.6, "b": 6.0}


@pytest.fixture(scope="session")
def truncated_log():
    """A log exported from loyaltylab's own simulation that starts mid-relationship.

    20,000 customers alive at the start (their joining purchase is not in the log, as
    for a firm whose log begins on some Monday), 60 new customers a week for a year,
    so customers first seen after the calibration period are late joiners.
    """
    spec = btyd_population(20_000, **TRUTH)
    model = LoyaltyModel(spec, seed=3, record=True)
    for _ in range(52):
        model.add_customers(0, 60)
        model.step()
    log = transaction_log(model)
    start = pd.Timestamp(START_DATE) + pd.Timedelta(days=7)   # week 1: after the joining day
    return {"log": log[log["date"] >= start].reset_index(drop=True), "start": start,
            "full": log, "initial": spec.size}
