"""The breakage study (B2): points that expire unredeemed, and how point value moves it.

The population's customers join the default points program (1 point per currency unit,
expiry after 52 weeks) and are followed for three years. Breakage is the share of the
points awarded in the first two years (whose expiry has passed by the end) that
expired instead of being redeemed. A twin run with points worth a tenth as much shows
the direction: rewards that take longer to reach are abandoned more often.
"""

from __future__ import annotations

import numpy as np

from loyaltylab.policies import PointsPolicy
from loyaltylab.validation.design import (
    column,
    instrumented,
    per_customer,
    points_balance,
    recorded,
)
from loyaltylab.validation.facts import Fact, Measurement, StudyContext, Totals, group_of, study

#: Weeks followed: three years.
WEEKS = 156
#: Awards of the first ``WEEKS - expiry`` weeks have reached expiry at the end.
EXPIRY_WEEKS = 52

B2 = Fact(
    "B2", "retail points breakage",
    "points expired / points awarded, awards of years 1-2 under 12-month expiry (share)",
    0.20, 0.30, "Bond (retail 20-30%); Colloquy 2011 (~1/3 of US points, B1)")
B2_VALUE = Fact(
    "B2-value", "breakage falls as points are worth more",
    "breakage with points worth a tenth minus breakage at the default value (share)",
    0.0, np.inf, "B2: expiry and the redemption lag drive breakage")


def _breakage(ctx: StudyContext, value_per_point: float, totals: Totals, arm: str) -> None:
    model = instrumented(ctx.population, [PointsPolicy(value_per_point=value_per_point,
                                                       expiry_weeks=EXPIRY_WEEKS)], ctx.seed)
    n0 = model.population.n
    redeemed = np.zeros(n0)
    earned_early = None
    for week in range(1, WEEKS + 1):
        model.step()
        redeemed += per_customer(model, recorded(model).points_redeemed, n0)
        if week == WEEKS - EXPIRY_WEEKS:
            earned_early = column(model, "points_earned")[:n0].astype(float)
    balance = points_balance(model)[:n0]
    expired = column(model, "points_earned")[:n0] - redeemed - balance
    groups = group_of(np.arange(n0))
    totals.add(f"{arm}_expired", groups, expired)
    totals.add(f"{arm}_earned", groups, earned_early)


@study("breakage", (B2, B2_VALUE))
def breakage(ctx: StudyContext) -> list[Measurement]:
    """Run the study (module docstring)."""
    totals = Totals()
    value = PointsPolicy().value_per_point
    _breakage(ctx, value, totals, "default")
    _breakage(ctx, value / 10, totals, "tenth")

    def share(t: np.ndarray) -> float:
        return t[0] / t[1]

    def gap(t: np.ndarray) -> float:
        return t[2] / t[3] - t[0] / t[1]

    b, se = totals.estimate(["default_expired", "default_earned"], share)
    d, se_d = totals.estimate(["default_expired", "default_earned", "tenth_expired",
                               "tenth_earned"], gap)
    return [
        Measurement(B2, b, se, f"{value:g} per point"),
        Measurement(B2_VALUE, d, se_d,
                    f"breakage {b:.1%} at {value:g} per point, {b + d:.1%} at {value / 10:g}"),
    ]
