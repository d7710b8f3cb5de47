"""The stamp-card study: goal gradient (GG1), post-reward resetting (GG3, GG4).

Designed like Kivetz, Urminsky & Zheng (2006, Study 1): a "buy 10, get 1 free" card
(one stamp per order, the reward a free usual order of the average customer) against a
twin card that is worth nothing, on the same customers with the same luck. The
customers are the population's segments made regular buyers (about one order every
two weeks, nobody drops out), so each completes several cards.

Purchase rates are measured by the number of stamps held at the start of a week
(orders in weeks that start at that count, per such week). The interval from stamp
*k* to the next is the inverse of the rate at *k* stamps. On the first card a line is
fitted to the log-rates at stamps 1-9 (weighted by orders, the inverse of their
Poisson variance), and the fall of the interval from the first stamp to the last is
``1 - rate(1) / rate(9)`` on that line: all nine stamps inform it, not two. The second
card's first stamp (the weeks right after the first reward) is placed against the
line.
"""

from __future__ import annotations

import math

import numpy as np

from loyaltylab.policies import PointsPolicy
from loyaltylab.validation.design import (
    instrumented,
    per_customer,
    points_balance,
    recorded,
    regular_buyers,
)
from loyaltylab.validation.facts import (
    GROUPS,
    Fact,
    Measurement,
    StudyContext,
    Totals,
    group_of,
    study,
)

#: Stamps per card.
STAMPS = 10
#: Mean orders per week of the study's customers.
ORDERS_PER_WEEK = 0.5
#: Weeks simulated (about four cards).
WEEKS = 80

GG1 = Fact(
    "GG1", "the goal gradient: purchases accelerate towards a reward",
    "fall of the inter-purchase interval from the first to the last stamp of a 10-stamp "
    "card (share)", 0.12, 0.28,
    "Kivetz, Urminsky & Zheng 2006 JMR 43:39-58, Study 1 (~20%)")
GG1_CONTROL = Fact(
    "GG1-control", "a reward worth nothing moves nobody",
    "the same fall on a twin card that is worth nothing (share)", -0.05, 0.05,
    "Kivetz, Urminsky & Zheng 2006, Study 1: no acceleration on a non-redeemable card")
GG3 = Fact(
    "GG3", "post-reward resetting: purchases slow down after the reward",
    "interval right after the reward / last interval before it (ratio)", 1.0, np.inf,
    "Kivetz, Urminsky & Zheng 2006 (qualitative)")
GG4 = Fact(
    "GG4", "resetting is partial",
    "rate at the first stamp of the next cards, placed between the first card's first "
    "stamp (0) and last stamp (1)", 0.0, 1.0,
    "Nunes & Dreze 2010 ACR 37 (qualitative)")

_LEVELS = 32  # stamps held, capped, per phase
_PHASES = 2   # before the first reward; after it


def _cell(rewards: np.ndarray, level: np.ndarray) -> np.ndarray:
    return np.minimum(rewards, _PHASES - 1) * _LEVELS + np.minimum(level, _LEVELS - 1)


@study("stamp_card", (GG1, GG1_CONTROL, GG3, GG4))
def stamp_card(ctx: StudyContext) -> list[Measurement]:
    """Run the study (module docstring)."""
    spec = regular_buyers(ctx.population, ORDERS_PER_WEEK)
    reward = ctx.mean_order()
    card = dict(earn_per_currency=0.0, earn_per_order=1, redemption_block=STAMPS,
                expiry_weeks=None, campaigns=[], signup_bonus=0, earn_cap_per_week=None)
    arms = {
        "card": instrumented(spec, [PointsPolicy(value_per_point=reward / STAMPS, **card)],
                             ctx.seed),
        "worthless": instrumented(
            spec, [PointsPolicy(value_per_point=reward / STAMPS * 1e-9, **card)], ctx.seed),
    }
    totals = Totals()
    n = spec.size
    groups = group_of(np.arange(n))
    for arm, model in arms.items():
        rewards = np.zeros(n, dtype=np.int64)
        cells = _PHASES * _LEVELS
        weeks_at = np.zeros(cells * GROUPS)
        orders_at = np.zeros(cells * GROUPS)
        for _ in range(WEEKS):
            level = points_balance(model)
            cell = _cell(rewards, level) * GROUPS + groups
            model.step()
            sale = recorded(model)
            weeks_at += np.bincount(cell, minlength=cells * GROUPS)
            orders_at += np.bincount(cell, weights=per_customer(model, sale.purchases),
                                     minlength=cells * GROUPS)
            rewards += per_customer(model, sale.points_redeemed) > 0
        weeks_at = weeks_at.reshape(cells, GROUPS)
        orders_at = orders_at.reshape(cells, GROUPS)
        for level in range(1, STAMPS):  # the first card
            totals.sums[f"{arm}_orders_{level}"] = orders_at[level]
            totals.sums[f"{arm}_weeks_{level}"] = weeks_at[level]
        # the first stamp of any later card (after a reward)
        totals.sums[f"{arm}_orders_next"] = orders_at[_LEVELS + 1]
        totals.sums[f"{arm}_weeks_next"] = weeks_at[_LEVELS + 1]

    def names(arm: str) -> list[str]:
        return [f"{arm}_{what}_{level}" for level in [*range(1, STAMPS), "next"]
                for what in ("orders", "weeks")]

    def fitted(t: np.ndarray) -> tuple[float, float, float]:
        """Rates at stamps 1 and 9 on the first card's line, and at the next card's first."""
        orders, weeks = t[0:-2:2], t[1:-2:2]
        level = np.arange(1, STAMPS, dtype=float)
        slope, intercept = np.polyfit(level, np.log(orders / weeks), 1, w=np.sqrt(orders))
        return (math.exp(intercept + slope), math.exp(intercept + slope * (STAMPS - 1)),
                t[-2] / t[-1] if t[-1] > 0 else math.nan)

    def fall(t: np.ndarray) -> float:
        first, last, _ = fitted(t)
        return 1.0 - first / last

    def reset_ratio(t: np.ndarray) -> float:
        _, last, nxt = fitted(t)
        return last / nxt

    def position(t: np.ndarray) -> float:
        first, last, nxt = fitted(t)
        return (nxt - first) / (last - first)

    out = []
    for fact, arm, stat in ((GG1, "card", fall), (GG1_CONTROL, "worthless", fall),
                            (GG3, "card", reset_ratio), (GG4, "card", position)):
        value, se = totals.estimate(names(arm), stat)
        first, last, nxt = fitted(np.array([totals.get(k).sum() for k in names(arm)]))
        details = (f"orders per week at stamp 1: {first:.3f}, stamp 9: {last:.3f} (fitted); "
                   f"first stamp of the next card: {nxt:.3f}")
        out.append(Measurement(fact, value, se, details))
    return out
