"""Simulating one arm of an experiment, and what it leaves for the metrics.

An arm is a burn-in without a program, then the program for the horizon. The outcome
holds, per cohort customer (the customers present when the program starts), what the
metrics of :mod:`loyaltylab.experiments.metrics` need, on the accrual basis a finance
team reports:

- **Accrual.** A point is a cost when it is earned, at its value times its expected
  redemption share, estimated from the ledger's own history
  (:mod:`loyaltylab.experiments.breakage`). Per customer the rewards cost is the
  value of the points redeemed plus the expected redemption of the points still held
  (so expired points cost nothing and held points cost their expected value); the cash
  view (points cost when redeemed) is kept beside it (``*_cash``).
- **Segments as the firm sees them at launch.** ``segment`` is the simulation's label;
  ``segment_observed`` applies the firm's segment rules (the population's
  :attr:`~loyaltylab.agents.PopulationSpec.segment_rules`, by default the strategy's:
  :class:`loyaltylab.agents.SegmentRules`) to the trailing 12 months before the launch
  (the burn-in, annualised when shorter unless the rules say not to; without a burn-in
  the firm has no history and the column is missing).
- **Repurchase by period.** For each period length *p* (weeks), the number of complete
  periods of the horizon in which the customer bought, and in which they bought twice
  or more.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyaltylab.agents import SEGMENT_NAMES, STRATEGY_RULES, PopulationSpec, SegmentRules
from loyaltylab.agents.satisfaction import satisfaction_of
from loyaltylab.experiments.breakage import forecast_redemption
from loyaltylab.experiments.residual import (
    base_exposure,
    residual_value,
    residual_window,
    window_rates,
)
from loyaltylab.policies import PointsPolicy, TiersPolicy
from loyaltylab.sim import ACTIVE_WINDOW_WEEKS, Economics, LoyaltyModel, Policy, to_numpy

#: Default period of the repurchase rate, weeks (a quarter).
REPURCHASE_PERIOD_WEEKS = 13
#: Weeks of history the firm's segment rules look at.
TRAILING_WEEKS = 52
#: Customer columns snapshot at the program's start and at the residual window's start.
_MONEY = ("gross_revenue", "net_revenue", "purchases", "program_cost", "margin_pv")


@dataclass
class ArmOutcome:
    """What one arm produced in one replication.

    Attributes
    ----------
    weekly : DataFrame
        The model's weekly series for the program's weeks (``week`` counts from 1 at the
        program's start), plus ``retention`` (share of the cohort active), and the
        accrual columns: ``program_cost``, ``cost_rewards`` and ``margin`` on the accrual
        basis, ``program_cost_cash``, ``cost_rewards_cash`` and ``margin_cash`` as booked
        at redemption, and ``points_liability`` (outstanding points x value per point x
        the estimated share of them to be redeemed).
    customers : DataFrame
        One row per cohort customer: segment, segment_observed, pre_spend (net revenue
        in the burn-in), purchases, periods_bought_<p>w and periods_repeat_<p>w,
        gross_revenue, net_revenue (both with referred friends'), referred,
        referred_gross_revenue, referred_net_revenue, program_cost (accrual),
        program_cost_cash, margin (accrual), margin_cash, margin_pv, residual, clv,
        weeks_since_purchase (at the horizon), active, alive, nps_answer (0-10, missing
        if not active), and tier if the program has tiers.
    fixed_cost : float
        Total fixed program cost over the horizon.
    points : DataFrame or None
        The redemption forecast per segment and for all (``all``) of
        :func:`loyaltylab.experiments.breakage.forecast_redemption`, in points; None
        without a points program.
    value_per_point : float
        Currency value of a point (0 without a points program).
    periods : tuple of int
        Period lengths (weeks) of the repurchase columns.
    """

    weekly: pd.DataFrame
    customers: pd.DataFrame
    fixed_cost: float
    points: pd.DataFrame | None = None
    value_per_point: float = 0.0
    periods: tuple[int, ...] = (REPURCHASE_PERIOD_WEEKS,)

    @property
    def size(self) -> int:
        """Customers in the cohort."""
        return len(self.customers)


def observed_segments(spend: np.ndarray, purchases: np.ndarray, weeks_since: np.ndarray,
                      weeks: int, rules: SegmentRules = STRATEGY_RULES) -> np.ndarray:
    """The firm's segment of each customer from ``weeks`` weeks of history (codes of
    :data:`loyaltylab.agents.SEGMENT_NAMES`), by ``rules`` (spend and purchases
    annualised unless the rules say not to).

    >>> observed_segments(np.array([3000.0, 100.0]), np.array([3, 0]), np.array([2, 26]),
    ...                   26).tolist()
    [0, 3]
    """
    return rules.classify(rules.annual(spend, weeks), rules.annual(purchases, weeks),
                          weeks_since)


def simulate_arm(
    spec: PopulationSpec,
    policies: Iterable[Policy],
    economics: Economics,
    seed: np.random.SeedSequence | int,
    horizon_weeks: int,
    burn_in_weeks: int = 0,
    backend: str = "numpy",
    periods: Sequence[int] = (REPURCHASE_PERIOD_WEEKS,),
) -> ArmOutcome:
    """Simulate one arm: burn-in without a program, then the program for the horizon.

    Arms simulated with the same ``spec`` and ``seed`` see the same customers and the
    same luck (common random numbers), so their differences are the program's effect.
    ``backend`` is the engine's array library (``"cupy"`` for a GPU); the outcome is
    always in host memory. ``periods``: lengths (weeks) of the repurchase periods.
    """
    model = LoyaltyModel(spec, economics=economics, seed=seed, backend=backend)
    model.run(max(0, burn_in_weeks - TRAILING_WEEKS))
    trailing = {c: _column(model, c, model.population.n) for c in ("net_revenue", "purchases")}
    model.run(burn_in_weeks - model.week)
    pop = model.population
    n = pop.n
    cohort = slice(0, n)

    def cohort_active(m: LoyaltyModel) -> int:
        recent = m.population["last_purchase"][cohort] > m.week - ACTIVE_WINDOW_WEEKS
        return int(m.xp.count_nonzero(recent))

    start = {c: _column(model, c, n) for c in _MONEY}
    observed = None
    if burn_in_weeks > 0:
        since = model.week - _column(model, "last_purchase", n)
        observed = observed_segments(start["net_revenue"] - trailing["net_revenue"],
                                     start["purchases"] - trailing["purchases"], since,
                                     min(burn_in_weeks, TRAILING_WEEKS),
                                     spec.segment_rules or STRATEGY_RULES)
    model.start_program(policies, reporters={"cohort_active": cohort_active})

    periods = tuple(sorted(set(periods)))
    window = residual_window(horizon_weeks)
    stops = sorted({horizon_weeks - window, horizon_weeks,
                    *(k * p for p in periods for k in range(1, horizon_weeks // p + 1))})
    # Purchase counts at each period boundary, as the model's own int32: a float64 copy
    # per boundary was the largest part of an arm's memory at the end of a run.
    snapshots: dict[int, np.ndarray] = {0: _counts(model, n)}
    then: dict[str, np.ndarray] = {}
    for stop in stops:
        model.run(stop - (model.week - burn_in_weeks))
        snapshots[stop] = _counts(model, n)
        if stop == horizon_weeks - window:
            then = _window_start(model, n)
    return _outcome(model, start, then, window, observed, snapshots, periods)


def _column(model: LoyaltyModel, name: str, n: int) -> np.ndarray:
    """Float64 host copy of a column's first ``n`` rows (zeros if it does not exist)."""
    pop = model.population
    if name not in pop:
        return np.zeros(n)
    return to_numpy(pop[name][:n]).astype(np.float64)


def _counts(model: LoyaltyModel, n: int) -> np.ndarray:
    """Host copy of the purchase counts of the first ``n`` rows, in the model's dtype."""
    return to_numpy(model.population["purchases"][:n]).copy()


def _window_start(model: LoyaltyModel, n: int) -> dict[str, np.ndarray]:
    out = {c: _column(model, c, n) for c in ("gross_revenue", "program_cost", "purchases",
                                             "points_balance")}
    out["alive"] = to_numpy(model.population["alive"][:n]).copy()
    return out


def _period_counts(snapshots: dict[int, np.ndarray], period: int, horizon: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Complete periods in which each customer bought, and bought twice or more."""
    bought = np.zeros(len(snapshots[0]), dtype=np.int16)
    repeat = np.zeros_like(bought)
    for k in range(1, horizon // period + 1):
        orders = snapshots[k * period] - snapshots[(k - 1) * period]
        bought += orders >= 1
        repeat += orders >= 2
    return bought, repeat


def _outcome(model: LoyaltyModel, start: dict[str, np.ndarray], then: dict[str, np.ndarray],
             window: int, observed: np.ndarray | None, snapshots: dict[int, np.ndarray],
             periods: tuple[int, ...]) -> ArmOutcome:
    pop = model.population
    n = len(start["purchases"])
    economics = model.economics
    factor = (1.0 + economics.annual_discount_rate) ** (-1.0 / 52.0)
    begin = model.program_start
    horizon = model.week - begin
    names = model.segment_names

    segment_all = to_numpy(pop["segment"]).astype(np.int64)
    segment = segment_all[:n]
    points, value, held_share = _points(model, segment_all)
    # the expected redemption of the points each customer holds (all rows, friends too)
    liability = value * held_share[segment_all] * _column(model, "points_balance", pop.n)

    weekly = _accrual_weekly(model.weekly.copy(), value, points, n)
    weekly["week"] -= begin
    weekly["retention"] = weekly.pop("cohort_active") / n
    fixed = weekly["cost_fixed"].to_numpy()
    fixed_total = float(fixed.sum())
    fixed_pv = float((fixed * factor ** weekly["week"].to_numpy()).sum())

    now = {c: _column(model, c, n) for c in _MONEY}
    alive = to_numpy(pop["alive"][:n]).astype(bool)
    friends = _referred(model, n, factor**begin, {"liability": liability})
    cash = now["program_cost"] - start["program_cost"] + friends["program_cost"]
    accrued = liability[:n] + friends["liability"]
    gross = now["gross_revenue"] - start["gross_revenue"] + friends["gross_revenue"]
    # margin_pv is discounted to week 0 of the model; bring it to the program's start.
    margin_pv = ((now["margin_pv"] - start["margin_pv"]) / factor**begin
                 + friends["margin_pv"] - accrued * factor**horizon)

    lam = _column(model, "lam", n)
    p_drop = _column(model, "p_drop", n)
    k = len(names)
    in_window = {c: now[c] - then[c] for c in ("gross_revenue", "program_cost", "purchases")}
    held = liability[:n] - value * held_share[segment] * then["points_balance"]
    recurring = (np.bincount(segment, economics.gross_margin * in_window["gross_revenue"]
                             - in_window["program_cost"] - held, minlength=k))
    # A customer drops out right after a purchase, so the last purchase of one who has
    # dropped out is the week they left: the weeks each started alive are exact.
    last = _column(model, "last_purchase", n)
    left = np.where(alive, model.week, np.maximum(last, model.week - window))
    weeks_alive = np.where(then["alive"], left - (model.week - window), 0)
    rates = window_rates(
        base_exposure(lam, p_drop, weeks_alive, segment, k),
        np.bincount(segment, in_window["purchases"], minlength=k),
        np.bincount(segment, then["alive"] & ~alive, minlength=k), recurring)
    residual = residual_value(alive, lam, p_drop, segment, rates, factor, horizon)

    since = model.week - last.astype(np.int64)
    active = since < ACTIVE_WINDOW_WEEKS
    frame = pd.DataFrame({
        "segment": pd.Categorical.from_codes(segment, categories=names),
        "segment_observed": _observed_column(observed, n),
        "pre_spend": start["net_revenue"],
        "purchases": (now["purchases"] - start["purchases"]).astype(np.int64),
    })
    for period in periods:
        bought, repeat = _period_counts(snapshots, period, horizon)
        frame[f"periods_bought_{period}w"] = bought
        frame[f"periods_repeat_{period}w"] = repeat
    frame = frame.assign(
        gross_revenue=gross,
        net_revenue=now["net_revenue"] - start["net_revenue"] + friends["net_revenue"],
        referred=friends["referred"],
        referred_gross_revenue=friends["gross_revenue"],
        referred_net_revenue=friends["net_revenue"],
        program_cost=cash + accrued + fixed_total / n,
        program_cost_cash=cash + fixed_total / n,
        margin=gross * economics.gross_margin - cash - accrued - fixed_total / n,
        margin_cash=gross * economics.gross_margin - cash - fixed_total / n,
        margin_pv=margin_pv - fixed_pv / n,
        residual=residual,
        clv=margin_pv + residual,
        weeks_since_purchase=since,
        active=active,
        alive=alive,
        nps_answer=_survey(model, active),
    )
    tiers = model.find_policies(TiersPolicy)
    if tiers:
        codes = to_numpy(pop["tier"][:n]).astype(np.int64)
        frame["tier"] = pd.Categorical.from_codes(codes, [t.name for t in tiers[0].tiers])
    return ArmOutcome(weekly=weekly, customers=frame, fixed_cost=fixed_total, points=points,
                      value_per_point=value, periods=periods)


def _observed_column(observed: np.ndarray | None, n: int) -> pd.Categorical:
    """The segments the firm sees at launch; missing for all without a history."""
    codes = np.full(n, -1, dtype=np.int64) if observed is None else observed
    return pd.Categorical.from_codes(codes, categories=list(SEGMENT_NAMES))


def _survey(model: LoyaltyModel, active: np.ndarray) -> pd.arrays.IntegerArray:
    """Survey answers (0-10) of the active customers; the others are missing."""
    n = len(active)
    answers = np.zeros(n, dtype=np.int8)
    satisfaction = satisfaction_of(model)
    if satisfaction is None:
        return pd.arrays.IntegerArray(answers, np.ones(n, dtype=bool))
    respondents = np.nonzero(active)[0]
    answers[respondents] = to_numpy(satisfaction.survey(model, model.xp.asarray(respondents)))
    return pd.arrays.IntegerArray(answers, ~active)


def _points(model: LoyaltyModel, segment: np.ndarray
            ) -> tuple[pd.DataFrame | None, float, np.ndarray]:
    """The redemption forecast, the value of a point, and per segment the share of the
    points held now that is expected to be redeemed."""
    k = len(model.segment_names)
    found = model.find_policies(PointsPolicy)
    if not found or model.points.total_earned == 0:
        return None, (found[0].value_per_point if found else 0.0), np.zeros(k)
    forecast = forecast_redemption(model.points.cohorts(), model.points.expiry_weeks,
                                   model.segment_names).table
    share = forecast["outstanding_redemption_share"].reindex(model.segment_names).fillna(
        forecast.at["all", "outstanding_redemption_share"]).to_numpy(dtype=np.float64)
    return forecast, found[0].value_per_point, share


def _accrual_weekly(weekly: pd.DataFrame, value: float, points: pd.DataFrame | None,
                    n: int) -> pd.DataFrame:
    """Weekly series on the accrual basis: points cost their expected redemption when
    earned (the pooled ultimate redemption share), the cash view kept as ``*_cash``."""
    weekly["program_cost_cash"] = weekly["program_cost"]
    weekly["margin_cash"] = weekly["margin"]
    weekly["cost_rewards_cash"] = weekly["cost_rewards"]
    share = 0.0 if points is None else float(points.at["all", "urr"])
    held = 0.0 if points is None else float(points.at["all", "outstanding_redemption_share"])
    accrued = value * share * weekly["points_earned"].to_numpy(dtype=np.float64)
    change = accrued - weekly["cost_rewards_cash"].to_numpy()
    weekly["cost_rewards"] = accrued
    weekly["program_cost"] = weekly["program_cost_cash"] + change
    weekly["margin"] = weekly["margin_cash"] - change
    weekly["points_liability"] = value * held * weekly["points_outstanding"].to_numpy(
        dtype=np.float64)
    return weekly


def _referred(model: LoyaltyModel, n: int, discount: float,
              extra: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Money of the customers referred by each of the first ``n`` (the cohort), and how
    many they are, attributed to the cohort customer at the root of each referral chain.

    Referred friends join after the cohort (rows ``n`` and beyond, with their referrer
    in ``referred_by``). Their gross and net revenue, program cost and discounted margin
    (``margin_pv`` brought from week 0 to the program's start by ``discount``) within
    the horizon, and the ``extra`` per-row amounts, count for the customer who brought
    them: the customer referral value of Kumar, Petersen & Leone (2010, J. Marketing
    74(5)). Their residual after the horizon is left out, which keeps the referral
    value conservative.
    """
    pop = model.population
    columns = {c: _column(model, c, pop.n)[n:] for c in
               ("gross_revenue", "net_revenue", "program_cost", "margin_pv")}
    columns.update({c: v[n:] for c, v in extra.items()})
    out = {c: np.zeros(n) for c in columns}
    out["referred"] = np.zeros(n, dtype=np.int64)
    if "referred_by" not in pop or pop.n == n:
        return out
    by = to_numpy(pop["referred_by"][n:]).astype(np.int64)
    root = by.copy()
    # a friend's referrer has a smaller row, so following the chain ends in the cohort
    deeper = np.nonzero(root >= n)[0]
    while deeper.size:
        root[deeper] = by[root[deeper] - n]
        deeper = deeper[root[deeper] >= n]
    keep = np.nonzero(root >= 0)[0]
    for c, values in columns.items():
        out[c] = np.bincount(root[keep], weights=values[keep], minlength=n)
    out["margin_pv"] /= discount
    out["referred"] = np.bincount(root[keep], minlength=n)
    return out
