"""The coupon studies: who redeems a targeted coupon (C1), and what it adds (C3).

*Targeted campaign* (C1; a grocery campaign log kept for acceptance had 6-17% of the
targeted households redeem a coupon worth about 8% of a usual basket within 6 weeks):
after a 26-week run-in without a program, every customer gets one coupon worth 8% of
the population's mean order, valid for 6 weeks; the redemption rate is measured among
the recent shoppers (a purchase in the 8 weeks before the campaign), the customers such
a campaign targets.

*Incrementality* (C3, designed like Milkman & Beshears 2009, an online grocer's $10
coupon): regular shoppers (about one order a week) get a coupon "spend half a usual
order, get a tenth of a usual order off", valid for 4 weeks, and a new one when it is
used or lapses, three in all over 12 weeks; their twins get none. The extra spend (at
list prices, over the 12 weeks, against the twins) per redeemed coupon, as a share of
the coupon's face value, is the coupon's incrementality; the rest of the face value
subsidises purchases that happen anyway.
"""

from __future__ import annotations

import numpy as np

from loyaltylab.policies import CouponPolicy
from loyaltylab.validation.design import (
    column,
    instrumented,
    per_customer,
    recorded,
    regular_buyers,
)
from loyaltylab.validation.facts import Fact, Measurement, StudyContext, Totals, group_of, study

C1 = Fact(
    "C1", "targeted coupons are redeemed by a minority",
    "share of targeted recent shoppers who redeem a coupon worth 8% of a usual order "
    "within its 6 weeks", 0.05, 0.20,
    "NCH 2012 (checkout 8.5%, print-at-home 17.3%); grocery campaign log 6-17%")
C3 = Fact(
    "C3", "a coupon mostly subsidises purchases that happen anyway",
    "extra spend per redeemed coupon / face value, against no-coupon twins (share)",
    0.10, 0.25, "Milkman & Beshears 2009 JEBO 71 ($1.59 per $10 coupon, 16%)")

#: Run-in weeks before the targeted campaign.
RUN_IN_WEEKS = 26
#: A recent shopper bought in the last this many weeks before the campaign.
RECENT_WEEKS = 8


@study("targeted_coupon", (C1,))
def targeted_coupon(ctx: StudyContext) -> list[Measurement]:
    """Run the targeted-campaign study (module docstring)."""
    face = 0.08 * ctx.mean_order()
    coupon = CouponPolicy(amount_off=face, min_spend=0.0, validity_weeks=6,
                          per_customer_limit=1)
    model = instrumented(ctx.population, [coupon], ctx.seed, burn_in_weeks=RUN_IN_WEEKS)
    n = model.population.n
    recent = column(model, "last_purchase") > RUN_IN_WEEKS - RECENT_WEEKS
    used = np.zeros(n, dtype=bool)
    for _ in range(6):
        model.step()
        used |= per_customer(model, recorded(model).coupon >= 0) > 0
    totals = Totals()
    groups = group_of(np.arange(n))
    totals.add("used", groups, used & recent)
    totals.add("targeted", groups, recent)
    value, se = totals.estimate(["used", "targeted"], lambda t: t[0] / t[1])
    return [Measurement(C1, value, se, f"{int(recent.sum()):,} recent shoppers targeted, "
                                       f"coupon {face:,.0f} off")]


#: Weeks of the incrementality study, and coupons per customer.
INCREMENTALITY_WEEKS = 12
COUPONS_PER_CUSTOMER = 3


@study("coupon_incrementality", (C3,))
def coupon_incrementality(ctx: StudyContext) -> list[Measurement]:
    """Run the incrementality study (module docstring)."""
    spec = regular_buyers(ctx.population, orders_per_week=1.0)
    mean_order = ctx.mean_order()
    face = 0.1 * mean_order
    arms = {
        "coupon": instrumented(spec, [CouponPolicy(
            amount_off=face, min_spend=0.5 * mean_order, validity_weeks=4,
            per_customer_limit=COUPONS_PER_CUSTOMER)], ctx.seed),
        "none": instrumented(spec, [], ctx.seed),
    }
    n = spec.size
    gross = {arm: np.zeros(n) for arm in arms}
    used = np.zeros(n)
    for _ in range(INCREMENTALITY_WEEKS):
        for arm, model in arms.items():
            model.step()
            sale = recorded(model)
            gross[arm] += per_customer(model, sale.gross)
            if arm == "coupon":
                used += per_customer(model, sale.coupon >= 0)
    totals = Totals()
    groups = group_of(np.arange(n))
    totals.add("extra", groups, gross["coupon"] - gross["none"])
    totals.add("used", groups, used)
    value, se = totals.estimate(["extra", "used"], lambda t: t[0] / t[1] / face)
    return [Measurement(C3, value, se, f"{int(used.sum()):,} coupons of {face:,.0f} redeemed "
                                       f"by {n:,} regular shoppers")]
