"""Outcomes of one arm in one replication, and the metrics computed from them.

Definitions (used by the runner, the summary and the report):

- Customers: the *cohort* present when the program starts (after any burn-in).
  Money metrics are **per cohort customer** over the horizon, in currency units, so
  they compare across population sizes; totals are in the weekly series.
- retention: share of the cohort active (a purchase in the last 26 weeks) at the
  horizon; churn = 1 - retention. repurchase_rate: share with >= 2 purchases in the
  horizon. purchase_frequency: purchases per customer over the horizon.
  average_order_value: net revenue / purchases.
- net_revenue, program_cost, margin: per customer, undiscounted; program cost includes
  an equal share of the fixed program cost; margin = gross revenue x gross margin -
  program cost (:mod:`loyaltylab.sim.ledger`). cost_to_revenue = program cost / net
  revenue. cost_<component>: program cost by component, per customer.
- clv: the customer's margin (without the fixed-cost share, which no single customer
  causes), discounted weekly to the program's start at the annual discount rate, plus
  the expected residual after the horizon (:func:`residual_value`).
- points_liability: outstanding points x value per point x expected redemption share
  at the horizon, per customer. breakage: points expired / points earned in the weeks
  whose awards have reached their expiry (NaN without expiry). redemption_rate: points
  redeemed / points earned.
- nps: net promoter score of the active cohort at the horizon
  (:mod:`loyaltylab.agents.satisfaction`).
- Against the control arm of the same replication: incremental_revenue,
  incremental_margin (per customer), roi = incremental margin / incremental program cost
  (margin is already net of program cost, so this is the design's
  (incremental margin before program cost - incremental cost) / incremental cost), and
  payback_week: the first week from which the cumulative incremental margin stays >= 0
  to the horizon (NaN if it is negative at the horizon).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loyaltylab.agents import PopulationSpec
from loyaltylab.agents.satisfaction import net_promoter_score, satisfaction_of
from loyaltylab.policies import TiersPolicy
from loyaltylab.sim import ACTIVE_WINDOW_WEEKS, Economics, LoyaltyModel, Policy, to_numpy

#: Weeks at the end of the horizon from which the residual value is extrapolated.
RESIDUAL_WINDOW_WEEKS = 26

#: Metrics whose relative change against the control is reported as ``<name>_rel_change``.
RELATIVE_METRICS = (
    "retention", "churn", "repurchase_rate", "purchase_frequency", "average_order_value",
    "net_revenue", "margin", "clv", "nps",
)


@dataclass
class ArmOutcome:
    """What one arm produced in one replication.

    Attributes
    ----------
    weekly : DataFrame
        The model's weekly series for the program's weeks (``week`` counts from 1 at the
        program's start) plus ``retention``, the share of the cohort active.
    customers : DataFrame
        One row per cohort customer: segment, pre_spend (net revenue in the burn-in),
        purchases, gross_revenue, net_revenue, program_cost, margin, margin_pv,
        residual, clv, weeks_since_purchase (at the horizon), active, alive, nps_answer
        (0-10, missing if not active), and tier if the program has tiers.
    fixed_cost : float
        Total fixed program cost over the horizon.
    expiry_weeks : int or None
        Points expiry of the program.
    """

    weekly: pd.DataFrame
    customers: pd.DataFrame
    fixed_cost: float
    expiry_weeks: int | None

    @property
    def size(self) -> int:
        """Customers in the cohort."""
        return len(self.customers)


def residual_value(
    rate: np.ndarray, alive: np.ndarray, hazard: np.ndarray, factor: float, weeks_ahead: int
) -> np.ndarray:
    """Expected present value of the margin after the horizon.

    A customer alive at the horizon keeps contributing ``rate`` (margin per week in the
    last weeks of the horizon) while alive, and survives each further week with
    probability ``1 - hazard``; the sum is discounted with the weekly ``factor`` and
    brought back ``weeks_ahead`` weeks to the program's start:
    ``rate x factor^weeks_ahead x q / (1 - q)`` with ``q = factor x (1 - hazard)``.

    >>> residual_value(np.array([10.0]), np.array([True]), np.array([0.0]), 0.5, 0)
    array([10.])
    """
    q = factor * (1.0 - hazard)
    return np.where(alive, rate * factor**weeks_ahead * q / (1.0 - q), 0.0)


def _segment_hazard(segment: np.ndarray, alive_then: np.ndarray, alive_now: np.ndarray,
                    weeks: int, segments: int) -> np.ndarray:
    """Weekly dropout hazard of each segment over the last ``weeks`` weeks."""
    then = np.bincount(segment, weights=alive_then, minlength=segments)
    now = np.bincount(segment, weights=alive_now, minlength=segments)
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = 1.0 - (now / then) ** (1.0 / weeks)
    return np.where(then > 0, hazard, 1.0)


def simulate_arm(
    spec: PopulationSpec,
    policies: Iterable[Policy],
    economics: Economics,
    seed: np.random.SeedSequence | int,
    horizon_weeks: int,
    burn_in_weeks: int = 0,
    backend: str = "numpy",
) -> ArmOutcome:
    """Simulate one arm: burn-in without a program, then the program for the horizon.

    Arms simulated with the same ``spec`` and ``seed`` see the same customers and the
    same luck (common random numbers), so their differences are the program's effect.
    ``backend`` is the engine's array library (``"cupy"`` for a GPU); the outcome is
    always in host memory.
    """
    model = LoyaltyModel(spec, economics=economics, seed=seed, backend=backend)
    model.run(burn_in_weeks)
    pop = model.population
    n = pop.n
    cohort = slice(0, n)

    def cohort_active(m: LoyaltyModel) -> int:
        recent = m.population["last_purchase"][cohort] > m.week - ACTIVE_WINDOW_WEEKS
        return int(m.xp.count_nonzero(recent))

    start = {c: to_numpy(pop[c][cohort]).astype(np.float64)
             for c in ("net_revenue", "gross_revenue", "purchases", "program_cost", "margin_pv")}
    model.start_program(policies, reporters={"cohort_active": cohort_active})
    window = min(RESIDUAL_WINDOW_WEEKS, horizon_weeks)
    model.run(horizon_weeks - window)
    margin_then = to_numpy(pop["margin_pv"][cohort]).copy()
    alive_then = to_numpy(pop["alive"][cohort]).copy()
    model.run(window)
    return _outcome(model, start, margin_then, alive_then, window)


def _outcome(model: LoyaltyModel, start: dict[str, np.ndarray], margin_then: np.ndarray,
             alive_then: np.ndarray, window: int) -> ArmOutcome:
    pop = model.population
    n = len(margin_then)
    cohort = slice(0, n)
    economics = model.economics
    factor = (1.0 + economics.annual_discount_rate) ** (-1.0 / 52.0)
    begin = model.program_start
    horizon = model.week - begin

    weekly = model.weekly.copy()
    weekly["week"] -= begin
    weekly["retention"] = weekly.pop("cohort_active") / n
    fixed = weekly["cost_fixed"].to_numpy()
    fixed_total = float(fixed.sum())
    fixed_pv = float((fixed * factor ** weekly["week"].to_numpy()).sum())

    def grown(column: str) -> np.ndarray:
        return to_numpy(pop[column][cohort]).astype(np.float64) - start[column]

    segment = to_numpy(pop["segment"][cohort]).astype(np.int64)
    alive = to_numpy(pop["alive"][cohort])
    margin_now = to_numpy(pop["margin_pv"][cohort])
    # margin_pv is discounted to week 0 of the model; bring it to the program's start.
    margin_pv = (margin_now - start["margin_pv"]) / factor**begin
    weeks = np.arange(model.week - window + 1, model.week + 1)
    rate = (margin_now - margin_then) / float((factor**weeks).sum())
    hazard = _segment_hazard(segment, alive_then, alive, window, len(model.segment_names))
    residual = residual_value(rate, alive, hazard[segment], factor, horizon)

    friends = _referred(model, n, factor**begin)
    gross = grown("gross_revenue") + friends["gross_revenue"]
    cost = grown("program_cost") + friends["program_cost"] + fixed_total / n
    margin_pv += friends["margin_pv"]
    since = model.week - to_numpy(pop["last_purchase"][cohort]).astype(np.int64)
    active = since < ACTIVE_WINDOW_WEEKS
    # Survey answers of the active customers; the others are missing (masked).
    answers = np.zeros(n, dtype=np.int8)
    satisfaction = satisfaction_of(model)
    if satisfaction is not None:
        respondents = np.nonzero(active)[0]
        answers[respondents] = to_numpy(
            satisfaction.survey(model, model.xp.asarray(respondents)))
    surveyed = active if satisfaction is not None else np.zeros(n, dtype=bool)
    frame = pd.DataFrame({
        "segment": pd.Categorical.from_codes(segment, categories=model.segment_names),
        "pre_spend": start["net_revenue"],
        "purchases": grown("purchases").astype(np.int64),
        "gross_revenue": gross,
        "net_revenue": grown("net_revenue") + friends["net_revenue"],
        "referred": friends["referred"],
        "referred_net_revenue": friends["net_revenue"],
        "program_cost": cost,
        "margin": gross * economics.gross_margin - cost,
        "margin_pv": margin_pv - fixed_pv / n,
        "residual": residual,
        "clv": margin_pv + residual,
        "weeks_since_purchase": since,
        "active": active,
        "alive": alive,
        "nps_answer": pd.arrays.IntegerArray(answers, ~surveyed),
    })
    tiers = model.find_policies(TiersPolicy)
    if tiers:
        codes = to_numpy(pop["tier"][cohort]).astype(np.int64)
        frame["tier"] = pd.Categorical.from_codes(codes, [t.name for t in tiers[0].tiers])
    return ArmOutcome(weekly=weekly, customers=frame, fixed_cost=fixed_total,
                      expiry_weeks=model.points.expiry_weeks)


def _referred(model: LoyaltyModel, n: int, discount: float) -> dict[str, np.ndarray]:
    """Money of the customers referred by each of the first ``n`` (the cohort), and how
    many they are, attributed to the cohort customer at the root of each referral chain.

    Referred friends join after the cohort (rows ``n`` and beyond, with their referrer
    in ``referred_by``). Their gross and net revenue, program cost and discounted margin
    (``margin_pv`` brought from week 0 to the program's start by ``discount``) within
    the horizon count for the customer who brought them: the customer referral value
    of Kumar, Petersen & Leone (2010, J. Marketing 74(5)). Their residual after the
    horizon is left out, which keeps the referral value conservative.
    """
    pop = model.population
    columns = ("gross_revenue", "net_revenue", "program_cost", "margin_pv")
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
    for c in columns:
        values = to_numpy(pop[c][n:]).astype(np.float64)[keep]
        out[c] = np.bincount(root[keep], weights=values, minlength=n)
    out["margin_pv"] /= discount
    out["referred"] = np.bincount(root[keep], minlength=n)
    return out


def customer_metrics(customers: pd.DataFrame, segments: Sequence[str] = ()) -> dict[str, float]:
    """Metrics of a group of customers (an arm, or the customers assigned to it).

    ``segments`` adds ``clv_<segment>``, ``retention_<segment>`` and
    ``repurchase_rate_<segment>`` for each named segment.
    """
    c = customers
    purchases = c["purchases"].to_numpy()
    net = float(c["net_revenue"].mean())
    cost = float(c["program_cost"].mean())
    answers = c["nps_answer"].dropna().to_numpy(dtype=np.int64)
    out = {
        "retention": float(c["active"].mean()),
        "churn": 1.0 - float(c["active"].mean()),
        "repurchase_rate": float((purchases >= 2).mean()),
        "purchase_frequency": float(purchases.mean()),
        "average_order_value": _ratio(
            float(c["net_revenue"].sum() - c["referred_net_revenue"].sum()),
            float(purchases.sum())),
        "net_revenue": net,
        "program_cost": cost,
        "margin": float(c["margin"].mean()),
        "cost_to_revenue": _ratio(cost, net),
        "clv": float(c["clv"].mean()),
        "nps": net_promoter_score(answers),
        "referred_customers": float(c["referred"].mean()),
    }
    if segments:
        by = pd.DataFrame({"clv": c["clv"], "retention": c["active"],
                           "repurchase_rate": purchases >= 2}).groupby(
            c["segment"].astype(str)).mean()
        for name in segments:
            for metric in by.columns:
                out[f"{metric}_{name}"] = (
                    float(by.at[name, metric]) if name in by.index else np.nan)
    return out


def program_metrics(outcome: ArmOutcome) -> dict[str, float]:
    """Metrics of the program as a whole, from the weekly series, per cohort customer."""
    w = outcome.weekly
    n = outcome.size
    out = {c: float(w[c].sum()) / n for c in w.columns if c.startswith("cost_")}
    earned = w["points_earned"].to_numpy(dtype=np.float64)
    out["points_liability"] = (
        float(w["points_liability"].iloc[-1]) / n if "points_liability" in w else 0.0)
    out["redemption_rate"] = _ratio(float(w["points_redeemed"].sum()), float(earned.sum()))
    out["breakage"] = breakage(earned, w["points_expired"].to_numpy(dtype=np.float64),
                               outcome.expiry_weeks)
    return out


def breakage(earned: np.ndarray, expired: np.ndarray, expiry_weeks: int | None) -> float:
    """Points expired / points earned in the weeks whose awards have reached expiry.

    Awards of week ``w`` expire in week ``w + expiry_weeks``, so over ``H`` weeks only
    the awards of weeks ``1 .. H - expiry_weeks`` can have expired; every point expired
    so far belongs to them. NaN without expiry or before any award could expire.

    >>> breakage(np.array([100.0, 100.0, 0.0]), np.array([0.0, 0.0, 30.0]), 2)
    0.3
    """
    if expiry_weeks is None:
        return float("nan")
    due = len(earned) - expiry_weeks
    return _ratio(float(expired.sum()), float(earned[:max(due, 0)].sum()))


def incremental_metrics(arm: ArmOutcome, control: ArmOutcome) -> dict[str, float]:
    """Effects that only exist against the control: incremental money, ROI, payback."""
    a, c = arm.customers, control.customers
    d_revenue = float(a["net_revenue"].mean() - c["net_revenue"].mean())
    d_margin = float(a["margin"].mean() - c["margin"].mean())
    d_cost = float(a["program_cost"].mean() - c["program_cost"].mean())
    return {
        "incremental_revenue": d_revenue,
        "incremental_margin": d_margin,
        "incremental_program_cost": d_cost,
        "roi": d_margin / d_cost if d_cost > 0 else float("nan"),
        "payback_week": payback_week(
            arm.weekly["margin"].to_numpy() - control.weekly["margin"].to_numpy()),
    }


def payback_week(incremental_margin: np.ndarray) -> float:
    """First week (from 1) from which the cumulative incremental margin stays >= 0.

    NaN if it is negative at the horizon.

    >>> payback_week(np.array([-5.0, 2.0, 4.0, -0.5, 3.0]))
    3.0
    """
    cumulative = np.cumsum(incremental_margin)
    if len(cumulative) == 0 or cumulative[-1] < 0:
        return float("nan")
    negative = np.nonzero(cumulative < 0)[0]
    return float(negative[-1] + 2) if len(negative) else 1.0


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator != 0 else float("nan")


def arm_metrics(outcome: ArmOutcome, segments: Sequence[str] = ()) -> dict[str, Any]:
    """Every per-arm metric of one replication: customers' and the program's."""
    return {**customer_metrics(outcome.customers, segments), **program_metrics(outcome)}
