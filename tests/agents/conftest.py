"""Shared fixtures of the agent tests: the vendored CDNOW sample."""

from pathlib import Path

import pytest

from loyaltylab.agents import read_transactions, summarise

CDNOW = Path(__file__).parents[2] / "data" / "cdnow_sample.csv"


@pytest.fixture(scope="session")
def cdnow_log():
    """The CDNOW sample's transactions (2,357 customers, 1997-1998)."""
    return read_transactions(CDNOW)


@pytest.fixture(scope="session")
def cdnow(cdnow_log):
    """Per-customer summaries of the 39-week calibration period (to 1997-09-30)."""
    return summarise(cdnow_log, "1997-09-30")
