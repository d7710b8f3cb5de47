"""Customer-level predictions from a calibration: P(alive), expected purchases, CLV.

Each customer of a summary (:func:`loyaltylab.agents.summarise`) is evaluated with the
BG/NBD and Gamma-Gamma parameters of his or her own segment
(:attr:`loyaltylab.agents.Calibration.assignment` names it, the calibration's
population holds its parameters), through the closed forms of
:mod:`loyaltylab.agents.btyd`. Times are weeks, money currency units.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from loyaltylab.agents.btyd import (
    conditional_expected_purchases,
    expected_discounted_residual_transactions,
    expected_order_value,
    probability_alive,
    weekly_discount_rate,
)
from loyaltylab.agents.calibration import Calibration
from loyaltylab.agents.segments import Segment
from loyaltylab.errors import InputError

#: Columns of the summary every prediction reads.
HISTORY = ("frequency", "recency", "T")


def _per_customer(
    summary: pd.DataFrame, calibration: Calibration, name: str,
    evaluate: Callable[[pd.DataFrame, Segment], np.ndarray],
    columns: tuple[str, ...] = HISTORY,
) -> pd.Series:
    """``evaluate(part, segment)`` on each segment's customers, one Series like
    ``summary``."""
    missing = [c for c in columns if c not in summary.columns]
    if missing:
        raise InputError(f"summary: missing columns {missing} (use summarise())")
    assignment = calibration.assignment.reindex(summary.index)
    unknown = summary.index[assignment.isna().to_numpy()]
    if len(unknown):
        raise InputError(f"summary: {len(unknown)} customer(s) the calibration did not "
                         f"assign to a segment, e.g. {list(unknown[:3])}")
    out = pd.Series(np.nan, index=summary.index, name=name)
    for segment in calibration.population.segments:
        rows = (assignment == segment.name).to_numpy()
        if rows.any():
            out[rows] = evaluate(summary[rows], segment)
    return out


def p_alive(summary: pd.DataFrame, calibration: Calibration) -> pd.Series:
    """Probability that each customer is still alive at the end of the summary's period.

    Parameters
    ----------
    summary : pandas.DataFrame
        Per-customer summary (``frequency``, ``recency``, ``T`` in weeks) of customers
        the calibration assigned to a segment.
    calibration : Calibration
        Gives each customer's segment and its BG/NBD parameters.

    Returns
    -------
    pandas.Series
        ``p_alive`` in [0, 1], indexed like ``summary``
        (:func:`loyaltylab.agents.probability_alive`).
    """
    def evaluate(part: pd.DataFrame, segment: Segment) -> np.ndarray:
        bg = segment.bgnbd
        return probability_alive(part["frequency"], part["recency"], part["T"],
                                 bg.r, bg.alpha, bg.a, bg.b)

    return _per_customer(summary, calibration, "p_alive", evaluate)


def expected_purchases(summary: pd.DataFrame, calibration: Calibration,
                       weeks: float) -> pd.Series:
    """Expected purchases of each customer in the ``weeks`` after the summary's period.

    Parameters
    ----------
    summary : pandas.DataFrame
        As for :func:`p_alive`.
    calibration : Calibration
        Gives each customer's segment and its BG/NBD parameters.
    weeks : float
        Forecast horizon, weeks (>= 0).

    Returns
    -------
    pandas.Series
        ``expected_purchases``, indexed like ``summary``
        (:func:`loyaltylab.agents.conditional_expected_purchases`, FHL 2005 eq. 10).
    """
    _check_weeks(weeks)
    return _per_customer(summary, calibration, "expected_purchases",
                         lambda part, segment: _purchases_in(weeks, part, segment))


def _check_weeks(weeks: float) -> None:
    if not np.isfinite(weeks) or weeks < 0:
        raise InputError(f"weeks: must be a finite number >= 0, got {weeks!r}")


def _purchases_in(weeks: float, part: pd.DataFrame, segment: Segment) -> np.ndarray:
    """Expected purchases of a segment's customers in their next ``weeks`` (eq. 10)."""
    bg = segment.bgnbd
    return conditional_expected_purchases(weeks, part["frequency"], part["recency"],
                                          part["T"], bg.r, bg.alpha, bg.a, bg.b)


def predicted_clv(
    summary: pd.DataFrame, calibration: Calibration, *, gross_margin: float,
    annual_discount_rate: float = 0.10, weeks: float | None = None,
) -> pd.Series:
    """Each customer's residual lifetime value: margin x expected order x purchases.

    .. math::

        \\text{CLV}_i = \\text{margin} \\times E(Z \\mid m_i, x_i) \\times
        \\text{DERT}(\\delta \\mid x_i, t_{x,i}, T_i)

    with the Gamma-Gamma expected order value
    (:func:`loyaltylab.agents.expected_order_value`) and the BG/NBD discounted expected
    residual transactions (:func:`loyaltylab.agents.expected_discounted_residual_transactions`)
    valued at the end of the summary's period (FHL 2005b). With ``weeks`` the expected
    purchases of the next ``weeks`` replace DERT, undiscounted.

    Parameters
    ----------
    summary : pandas.DataFrame
        As for :func:`p_alive`, with ``mean_repeat_spend`` (currency units; NaN without
        repeat purchases).
    calibration : Calibration
        Gives each customer's segment and its parameters.
    gross_margin : float
        Share of an order's value kept as margin, in [0, 1].
    annual_discount_rate : float
        Discount rate per year (> 0) of the unlimited horizon; unused with ``weeks``.
    weeks : float, optional
        A finite horizon, weeks; default the whole residual lifetime.

    Returns
    -------
    pandas.Series
        ``predicted_clv`` in currency units, indexed like ``summary``.
    """
    if not 0 <= gross_margin <= 1:
        raise InputError(f"gross_margin: must be in [0, 1], got {gross_margin!r}")
    if weeks is None and not annual_discount_rate > 0:
        raise InputError("annual_discount_rate: must be > 0 over an unlimited horizon, got "
                         f"{annual_discount_rate!r}")
    if weeks is not None:
        _check_weeks(weeks)
    delta = weekly_discount_rate(annual_discount_rate) if weeks is None else 0.0

    def evaluate(part: pd.DataFrame, segment: Segment) -> np.ndarray:
        gg, bg = segment.gamma_gamma, segment.bgnbd
        order = expected_order_value(part["mean_repeat_spend"], part["frequency"],
                                     gg.p, gg.q, gg.gamma)
        if weeks is not None:
            count = _purchases_in(weeks, part, segment)
        else:
            count = expected_discounted_residual_transactions(
                part["frequency"], part["recency"], part["T"], bg.r, bg.alpha, bg.a, bg.b,
                delta)
        return gross_margin * order * count

    return _per_customer(summary, calibration, "predicted_clv", evaluate,
                         (*HISTORY, "mean_repeat_spend"))
