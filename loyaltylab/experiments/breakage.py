"""The redemption forecast: the share of the points awarded that will ever be redeemed.

Finance books the points liability at the *ultimate redemption rate* (URR), the share of
the points awarded expected to be redeemed (IFRS 15); ``1 - URR`` is the breakage. This
module estimates it, per customer group and pooled, from the award cohorts of the points
ledger (:meth:`loyaltylab.sim.PointsLedger.cohorts`): for each award week and group, the
points awarded, redeemed and expired, observed at an age (weeks since the award).

- A *resolved* cohort (its awards have expired) is done: its realised redemption share
  is ``redeemed / awarded``.
- An *open* cohort of age ``a`` has redeemed a share ``c_w`` so far; its outstanding
  points are forecast with a *development curve* ``c(a)``, the cumulative share of a
  cohort's points redeemed by age ``a``. The points still outstanding at age ``a`` are
  redeemed by the expiry ``E`` with the curve's conditional probability
  ``(c(E) - c(a)) / (1 - c(a))`` (``c(E) = c_inf`` without expiry), so the cohort's
  ultimate share is ``c_w + (1 - c_w) (c(E) - c(a)) / (1 - c(a))``.

The curve is the saturating hyperbolic form (:func:`development_curve`)::

    c(a) = c_inf * a / (a + h)

``c_inf`` in [0, 1] is the share of a cohort's points ever redeemed without expiry and
``h > 0`` the age (weeks) by which half of them are. It is what members who differ in how
fast they redeem give: if a point is redeemed at a constant weekly rate, and the rates of
the points that will be redeemed are exponentially distributed across members (fast
spenders, slow savers and light buyers), the share redeemed by age ``a`` is ``a / (a +
h)`` (the gamma mixture of exponentials of the Pareto/NBD, with shape 1). Its tail is
longer than a single exponential's: in the simulator, forecasts of the default program's
breakage made before any award had expired were 0.6-6.6 points too high with
``c_inf (1 - exp(-a / h))``, and within -0.7 to +1.1 points with this form (-2.1 to +1.1
over the settings measured; README, "Breakage forecast").
``c(0) = 0``: in the simulator points are redeemed at checkout before the order earns, so
a week's awards can be redeemed from the next week on. The curve is fitted by least
squares on the cohorts' shares weighted by the points awarded
(:func:`scipy.optimize.curve_fit`): open cohorts give ``c(age)``, resolved ones ``c(E)``.

With few cohorts
    A group's own curve needs cohorts of at least :data:`MIN_AGES` different ages and
    some points redeemed; a group with less data, or whose fit fails, uses the curve
    fitted on all groups' cohorts (pooled). When even the pooled data are too few, the
    outstanding points of open cohorts cannot be forecast: their expected redemptions,
    the URR and the expected breakage are NaN (resolved cohorts alone need no curve).
    The curve is extrapolated from the oldest age observed (``max_age`` in
    :attr:`RedemptionForecast.curves`) to the expiry: from a horizon much shorter than
    the expiry (the first weeks of a program) ``c_inf`` and ``h`` are poorly determined
    and the forecast is unreliable.

Without expiry the ledger follows a cohort for its first 52 weeks only; older cohorts
are forecast from their share at 52 weeks, and ``redeemed`` counts what they had
redeemed by then.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

#: Distinct cohort ages a group needs for its own development curve.
MIN_AGES = 3
#: Columns of :attr:`RedemptionForecast.table`.
FORECAST_COLUMNS = (
    "awarded", "redeemed", "expired", "outstanding", "expected_redemptions", "urr",
    "expected_breakage", "realised_breakage", "outstanding_redemption_share",
)
#: Label of the pooled row.
POOLED = "all"


def development_curve(age: np.ndarray | float, c_inf: float, h: float) -> np.ndarray:
    """Cumulative share of a cohort's points redeemed by ``age`` weeks after the award:
    ``c_inf * age / (age + h)``; ``age`` may be ``inf``.

    >>> float(development_curve(5, 0.8, 5.0)), float(development_curve(math.inf, 0.8, 5.0))
    (0.4, 0.8)
    """
    age = np.asarray(age, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return c_inf * np.where(np.isinf(age), 1.0, age / (age + h))


def conditional_redemption(age: np.ndarray, until: float, c_inf: float, h: float
                           ) -> np.ndarray:
    """Share of the points outstanding at ``age`` that the curve redeems by ``until``:
    ``(c(until) - c(age)) / (1 - c(age))``, 0 from ``until`` on.

    >>> float(conditional_redemption(np.array(5.0), math.inf, 1.0, 5.0))
    1.0
    """
    age = np.minimum(np.asarray(age, dtype=np.float64), until)
    now = development_curve(age, c_inf, h)
    # 1 - c(age) >= h / (age + h) > 0 for a finite age
    return np.clip((development_curve(until, c_inf, h) - now) / (1.0 - now), 0.0, 1.0)


@dataclass(frozen=True)
class Curve:
    """A fitted development curve: its parameters and the data behind them."""

    c_inf: float
    h: float
    ages: int
    max_age: int


def fit_development_curve(age: np.ndarray, share: np.ndarray, weight: np.ndarray
                          ) -> Curve | None:
    """Least-squares fit of :func:`development_curve` to redemption ``share`` at ``age``,
    weighted by ``weight`` (points awarded); None with fewer than :data:`MIN_AGES`
    distinct ages, no redemption at all, or a failed fit.

    >>> a = np.arange(30.0)
    >>> fit = fit_development_curve(a, development_curve(a, 0.7, 4.0), np.ones(30))
    >>> round(fit.c_inf, 6), round(fit.h, 6)
    (0.7, 4.0)
    """
    frame = pd.DataFrame({"age": age, "x": share * weight, "w": weight})
    frame = frame[frame["w"] > 0].groupby("age").sum()  # same fit, one point per age
    if len(frame) < MIN_AGES or not (frame["x"] > 0).any():
        return None
    a = frame.index.to_numpy(dtype=np.float64)
    y = (frame["x"] / frame["w"]).to_numpy()
    w = frame["w"].to_numpy(dtype=np.float64)
    # start: the share of the oldest third of the ages, half of it by the mean age
    old = a >= np.quantile(a, 2 / 3)
    start = (min(max(float(np.average(y[old], weights=w[old])), 0.05), 0.95),
             max(float(a.mean()), 1.0))
    try:
        (c_inf, h), _ = optimize.curve_fit(
            development_curve, a, y, p0=start, sigma=1.0 / np.sqrt(w / w.max()),
            bounds=([0.0, 1e-3], [1.0, 1e4]))
    except (RuntimeError, ValueError):
        return None
    return Curve(float(c_inf), float(h), len(frame), int(a.max()))


@dataclass
class RedemptionForecast:
    """Result of :func:`forecast_redemption`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per group and a last row ``"all"`` (pooled: the sums of the groups, each
        forecast with its own curve). Columns: ``awarded``, ``redeemed``, ``expired`` and
        ``outstanding`` (points so far; awarded = redeemed + expired + outstanding);
        ``expected_redemptions`` (of the outstanding points, expected to be redeemed
        before they expire); ``urr`` = (redeemed + expected_redemptions) / awarded;
        ``expected_breakage`` = 1 - urr; ``realised_breakage`` (expired / awarded of the
        resolved cohorts, NaN if none); ``outstanding_redemption_share`` =
        expected_redemptions / outstanding (the share for the liability).
    curves : pandas.DataFrame
        The curve each group's open cohorts were forecast with, and the pooled curve
        (row ``"all"``). Columns ``c_inf``, ``h``, ``source`` ("group", "pooled" or
        "none": not enough data), ``ages`` (distinct ages fitted) and ``max_age``.
    """

    table: pd.DataFrame
    curves: pd.DataFrame


def forecast_redemption(
    cohorts: pd.DataFrame, expiry_weeks: int | None, groups: Sequence[str] | None = None
) -> RedemptionForecast:
    """Forecast the ultimate redemption share and the breakage of the points awarded.

    Parameters
    ----------
    cohorts : pandas.DataFrame
        Award cohorts: columns ``award_week``, ``age``, ``group`` (int), ``awarded``,
        ``redeemed``, ``expired`` and ``resolved``, as
        :meth:`loyaltylab.sim.PointsLedger.cohorts` returns them.
    expiry_weeks : int or None
        Weeks after the award the points expire (None: never).
    groups : sequence of str, optional
        Names of the groups, by group id (e.g. ``model.segment_names``); default: the
        ids. Groups without points awarded get no row.

    Returns
    -------
    RedemptionForecast
        The forecast by group and pooled, and the development curves.

    Examples
    --------
    >>> cohorts = pd.DataFrame({"award_week": [1, 2], "age": [2, 1], "group": [0, 0],
    ...     "awarded": [100, 100], "redeemed": [60, 30], "expired": [40, 0],
    ...     "resolved": [True, False]})
    >>> forecast_redemption(cohorts, 2).table.loc["all", ["redeemed", "outstanding"]].tolist()
    [90.0, 70.0]
    """
    if expiry_weeks is not None and expiry_weeks < 1:
        raise ValueError(f"expiry_weeks: must be >= 1 or None, got {expiry_weeks}")
    missing = {"age", "group", "awarded", "redeemed", "expired", "resolved"} - set(cohorts)
    if missing:
        raise ValueError(f"cohorts: missing columns {sorted(missing)}")
    horizon = math.inf if expiry_weeks is None else float(expiry_weeks)
    c = cohorts[cohorts["awarded"] > 0]
    awarded = c["awarded"].to_numpy(dtype=np.float64)
    redeemed = c["redeemed"].to_numpy(dtype=np.float64)
    expired = c["expired"].to_numpy(dtype=np.float64)
    resolved = c["resolved"].to_numpy(dtype=bool)
    group = c["group"].to_numpy(dtype=np.int64)
    # resolved cohorts tell the share redeemed by the expiry, open ones by their age
    age = c["age"].to_numpy(dtype=np.float64)
    age[resolved] = horizon
    share = redeemed / awarded

    pooled = fit_development_curve(age, share, awarded)
    ids = sorted(set(group.tolist()))
    names = [str(groups[g]) if groups is not None else str(g) for g in ids]
    expected = np.full(awarded.shape, np.nan)
    expected[resolved] = 0.0
    curves = {}
    for g, name in zip(ids, names, strict=True):
        mine = group == g
        own = fit_development_curve(age[mine], share[mine], awarded[mine])
        curve, source = (own, "group") if own is not None else (
            (pooled, "pooled") if pooled is not None else (None, "none"))
        curves[name] = _curve_row(curve, source)
        open_ = mine & ~resolved
        if curve is not None:
            outstanding = awarded[open_] - redeemed[open_] - expired[open_]
            expected[open_] = outstanding * conditional_redemption(
                age[open_], horizon, curve.c_inf, curve.h)
    curves[POOLED] = _curve_row(pooled, "pooled" if pooled is not None else "none")

    frame = pd.DataFrame({
        "group": pd.Categorical([names[ids.index(g)] for g in group], categories=names),
        "awarded": awarded, "redeemed": redeemed, "expired": expired,
        "expected_redemptions": expected,
        "resolved_awarded": np.where(resolved, awarded, 0.0),
        "resolved_expired": np.where(resolved, expired, 0.0),
    })
    sums = frame.groupby("group", observed=True).sum()
    sums.loc[POOLED] = sums.sum()
    sums.index = pd.Index(list(sums.index), name="group")
    # a group with an open cohort it could not forecast: NaN
    unknown = frame["expected_redemptions"].isna().groupby(frame["group"], observed=True).any()
    sums.loc[[*unknown.index[unknown], *([POOLED] if unknown.any() else [])],
             "expected_redemptions"] = np.nan
    sums["outstanding"] = sums["awarded"] - sums["redeemed"] - sums["expired"]
    with np.errstate(divide="ignore", invalid="ignore"):
        sums["urr"] = (sums["redeemed"] + sums["expected_redemptions"]) / sums["awarded"]
        sums["expected_breakage"] = 1.0 - sums["urr"]
        sums["realised_breakage"] = sums["resolved_expired"] / sums["resolved_awarded"]
        sums["outstanding_redemption_share"] = (
            sums["expected_redemptions"] / sums["outstanding"])
    table = sums[list(FORECAST_COLUMNS)].astype(np.float64)
    table = table.reindex([*names, POOLED])
    return RedemptionForecast(table, pd.DataFrame.from_dict(curves, orient="index"))


def _curve_row(curve: Curve | None, source: str) -> dict[str, float | int | str]:
    if curve is None:
        return {"c_inf": math.nan, "h": math.nan, "source": source, "ages": 0, "max_age": 0}
    return {"c_inf": curve.c_inf, "h": curve.h, "source": source, "ages": curve.ages,
            "max_age": curve.max_age}
