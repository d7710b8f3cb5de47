"""The launch study: how a points program's lift evolves after enrolment (LP3, LP7) and
who responds (LP1).

After a 26-week run-in without a program (the pre-period that tells heavy buyers from
light ones), every customer is enrolled in the default points program at once; their
twins stay without a program. Purchases are compared month by month for a year.
"""

from __future__ import annotations

import numpy as np

from loyaltylab.policies import PointsPolicy
from loyaltylab.validation.design import column, instrumented, per_customer, recorded
from loyaltylab.validation.facts import Fact, Measurement, StudyContext, Totals, group_of, study

#: Pre-period weeks.
RUN_IN_WEEKS = 26
#: Weeks followed after the launch.
WEEKS = 52
#: Heavy buyers: the top share of customers by pre-period purchases.
HEAVY_SHARE = 0.2
#: Periods compared, weeks since launch (inclusive).
PERIODS = {"month 1": (1, 4), "months 7-9": (27, 39), "year": (1, 52)}

LP3 = Fact(
    "LP3", "program effects erode 6-9 months after joining",
    "lift in purchases in months 7-9 after enrolment, points program vs twins (share)",
    -0.03, 0.03, "Meyer-Waarden 2007 J Retailing 83(2)")
LP7 = Fact(
    "LP7", "a launch brings a short-lived spike",
    "lift in month 1 minus lift in months 7-9 (share)", 0.0, np.inf,
    "Lin 2020 CEIBS working paper")
LP1 = Fact(
    "LP1", "heavy buyers do not change",
    "lift in the year's purchases of the top 20% by pre-period purchases (share)",
    -0.05, 0.05, "Liu 2007 JM 71(4):19-35")


@study("launch", (LP3, LP7, LP1))
def launch(ctx: StudyContext) -> list[Measurement]:
    """Run the study (module docstring)."""
    arms = {"points": instrumented(ctx.population, [PointsPolicy()], ctx.seed, RUN_IN_WEEKS),
            "none": instrumented(ctx.population, [], ctx.seed, RUN_IN_WEEKS)}
    n = ctx.size
    pre = column(arms["none"], "purchases")[:n]
    order = np.argsort(-pre, kind="stable")
    heavy = np.zeros(n, dtype=bool)
    heavy[order[: round(HEAVY_SHARE * n)]] = True
    bought = {(arm, p): np.zeros(n) for arm in arms for p in PERIODS}
    for week in range(1, WEEKS + 1):
        for arm, model in arms.items():
            model.step()
            orders = per_customer(model, recorded(model).purchases, n)
            for p, (first, last) in PERIODS.items():
                if first <= week <= last:
                    bought[(arm, p)] += orders
    totals = Totals()
    groups = group_of(np.arange(n))
    for (arm, p), values in bought.items():
        totals.add(f"{arm} {p}", groups, values)
        totals.add(f"{arm} {p} heavy", groups, values * heavy)

    def lift(t: np.ndarray) -> float:
        return t[0] / t[1] - 1.0

    def spike(t: np.ndarray) -> float:
        return t[0] / t[1] - t[2] / t[3]

    late, se_late = totals.estimate(["points months 7-9", "none months 7-9"], lift)
    first, _ = totals.estimate(["points month 1", "none month 1"], lift)
    s, se_s = totals.estimate(["points month 1", "none month 1", "points months 7-9",
                               "none months 7-9"], spike)
    h, se_h = totals.estimate(["points year heavy", "none year heavy"], lift)
    year, _ = totals.estimate(["points year", "none year"], lift)
    return [
        Measurement(LP3, late, se_late, f"lift in month 1: {first:+.1%}; over the year: "
                                        f"{year:+.1%}"),
        Measurement(LP7, s, se_s, f"lift in month 1 {first:+.1%}, months 7-9 {late:+.1%}"),
        Measurement(LP1, h, se_h, f"all customers over the year: {year:+.1%}"),
    ]
