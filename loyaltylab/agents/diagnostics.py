"""The standard BG/NBD diagnostic: conditional expectations against a holdout period.

Customers are grouped by their repeat purchases in the calibration period (0, 1, ...,
``max_frequency``+); in each group the mean of their actual purchases in the holdout
period is set against the mean of their conditional expectations (FHL 2005, eq. 10,
:func:`loyaltylab.agents.expected_purchases`), each customer evaluated with his or her
own segment's parameters. Fader, Hardie & Lee (2005, Figure 4) show it for CDNOW: the
model tracks the actual means in every group, slightly under for the heaviest buyers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from loyaltylab.agents.calibration import Calibration
from loyaltylab.agents.predictions import expected_purchases
from loyaltylab.agents.transactions import DAYS_PER_WEEK, summarise
from loyaltylab.errors import InputError

#: Calibration-period frequencies shown one by one; larger ones are pooled ("7+").
MAX_FREQUENCY = 7


def conditional_expectation_table(
    summary: pd.DataFrame, holdout_purchases: pd.Series, calibration: Calibration,
    holdout_weeks: float, *, max_frequency: int = MAX_FREQUENCY,
) -> pd.DataFrame:
    """Actual against predicted mean holdout purchases by calibration-period frequency.

    Parameters
    ----------
    summary : pandas.DataFrame
        Per-customer summary of the calibration period
        (:func:`loyaltylab.agents.summarise`).
    holdout_purchases : pandas.Series
        Repeat purchase occasions of each customer in the holdout period, indexed by
        customer id; customers of ``summary`` missing from it count 0.
    calibration : Calibration
        The fit on ``summary`` (each customer's segment and parameters).
    holdout_weeks : float
        Length of the holdout period, weeks (> 0).
    max_frequency : int
        Frequencies from this one up are pooled (>= 1).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``frequency`` (``"0"``, ``"1"``, ..., ``"7+"``; groups without a
        customer are left out), with columns ``customers``, ``actual`` and ``predicted``
        (mean holdout purchases per customer) and ``difference`` (predicted - actual).
    """
    if not isinstance(max_frequency, int | np.integer) or max_frequency < 1:
        raise InputError(f"max_frequency: must be an integer >= 1, got {max_frequency!r}")
    if not np.isfinite(holdout_weeks) or holdout_weeks <= 0:
        raise InputError(f"holdout_weeks: must be a finite number > 0, got {holdout_weeks!r}")
    actual = holdout_purchases.reindex(summary.index).fillna(0).astype(float)
    predicted = expected_purchases(summary, calibration, holdout_weeks)
    group = np.minimum(summary["frequency"].to_numpy(), max_frequency)
    table = pd.DataFrame({"group": group, "actual": actual.to_numpy(),
                          "predicted": predicted.to_numpy()})
    table = table.groupby("group").agg(customers=("actual", "size"), actual=("actual", "mean"),
                                       predicted=("predicted", "mean"))
    table["difference"] = table["predicted"] - table["actual"]
    table.index = [f"{g}+" if g == max_frequency else str(g) for g in table.index]
    table.index.name = "frequency"
    return table


def conditional_expectation_table_from_log(
    transactions: pd.DataFrame, calibration_end: Any, holdout_end: Any,
    calibration: Calibration, *, max_frequency: int = MAX_FREQUENCY, warm_up_weeks: int = 0,
) -> pd.DataFrame:
    """:func:`conditional_expectation_table` of a log split at ``calibration_end``.

    Parameters
    ----------
    transactions : pandas.DataFrame
        A log as returned by :func:`loyaltylab.agents.read_transactions`.
    calibration_end, holdout_end : date-like
        Last days (inclusive) of the calibration and holdout periods, as in
        :class:`loyaltylab.agents.HoldoutResult`. The cohort is every customer whose
        first purchase is on or before ``calibration_end``.
    calibration : Calibration
        The fit on the calibration period (its assignment covers the cohort).
    max_frequency : int
        Frequencies from this one up are pooled.
    warm_up_weeks : int
        The warm-up window of a left-truncated log (:func:`loyaltylab.agents.summarise`):
        existing customers' frequencies count every occasion from the log's start, and
        their forecast conditions on that history as a new customer's does.

    Returns
    -------
    pandas.DataFrame
        As :func:`conditional_expectation_table`.

    Examples
    --------
    >>> from pathlib import Path
    >>> from loyaltylab.agents import calibrate, read_transactions, summarise
    >>> log = read_transactions(Path(__file__).parents[2] / "data" / "cdnow_sample.csv")
    >>> cal = calibrate(summarise(log, "1997-09-30"))
    >>> table = conditional_expectation_table_from_log(log, "1997-09-30", "1998-06-30", cal)
    >>> table.loc["7+"].round(3).to_dict()
    {'customers': 64.0, 'actual': 6.359, 'predicted': 6.157, 'difference': -0.202}
    """
    calibration_end = pd.Timestamp(calibration_end).normalize()
    holdout_end = pd.Timestamp(holdout_end).normalize()
    if holdout_end <= calibration_end:
        raise InputError(f"holdout_end: must be after calibration_end "
                         f"({calibration_end.date()}), got {holdout_end.date()}")
    summary = summarise(transactions, calibration_end, warm_up_weeks=warm_up_weeks)
    # Occasions up to the holdout's end minus those of the calibration period: the
    # holdout's repeat occasions, with summarise's own merging of same-day purchases.
    later = summarise(transactions, holdout_end, warm_up_weeks=warm_up_weeks)["frequency"]
    later = later.reindex(summary.index)
    holdout = later - summary["frequency"]
    weeks = (holdout_end - calibration_end).days / DAYS_PER_WEEK
    return conditional_expectation_table(summary, holdout, calibration, weeks,
                                         max_frequency=max_frequency)


def plot_conditional_expectations(table: pd.DataFrame, ax: Any = None) -> Any:
    """Actual and predicted mean holdout purchases by calibration-period frequency.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`conditional_expectation_table`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure's axes (built without pyplot, so it works
        with any backend, Agg included, and leaves pyplot's state alone).

    Returns
    -------
    matplotlib.axes.Axes
        The axes (``ax.figure.savefig(...)`` writes it).
    """
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(6, 4)).subplots()
    ax.plot(table.index, table["actual"], "o-", label="actual")
    ax.plot(table.index, table["predicted"], "s--", label="BG/NBD conditional expectation")
    ax.set_xlabel("repeat purchases in the calibration period")
    ax.set_ylabel("mean purchases in the holdout period")
    ax.legend()
    return ax
