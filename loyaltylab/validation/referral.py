"""The referral study (R1): referred customers are worth more, and the gap fades.

Designed like Schmitt, Skiera & Van den Bulte (2011): customers may refer friends during
the first half year (a credit to both sides); each friend is followed for 30 months
from joining and compared with the cohort's customers of the same segment over their
own first 30 months (matched on segment and tenure; both start right after a first
purchase). Value is spend at list prices, so margin ratios are the same.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from loyaltylab.policies import ReferralPolicy
from loyaltylab.sim import LoyaltyModel
from loyaltylab.validation.design import column, instrumented, per_customer, recorded
from loyaltylab.validation.facts import Fact, Measurement, StudyContext, Totals, group_of, study

#: Friends join during the first this many weeks.
REFERRAL_WEEKS = 26
#: Weeks each customer is followed from joining (30 months).
TENURE_WEEKS = 130
#: Months 25-30 of tenure, in weeks (inclusive).
LATE = (105, 130)

R1 = Fact(
    "R1", "referred customers are worth more",
    "value (spend over 30 months) of referred customers / matched cohort customers",
    1.05, 1.30, "Schmitt, Skiera & Van den Bulte 2011 JM 75(1) (+16%)")
R1_FADE = Fact(
    "R1-fade", "the value gap fades by about 30 months",
    "spend in months 25-30 per customer alive at month 24, referred / matched (ratio; "
    "at most half the 16% gap left)", 0.95, 1.08,
    "Schmitt, Skiera & Van den Bulte 2011 (margin gap gone by ~2.5 years)")


def _grown(values: np.ndarray, n: int) -> np.ndarray:
    """``values`` with zeros for the customers who joined since."""
    return np.concatenate((values, np.zeros(n - values.shape[0])))


class _EarlyReferral(ReferralPolicy):
    """Referral open during the first ``REFERRAL_WEEKS`` weeks only."""

    def end_of_week(self, model: LoyaltyModel, week: int) -> None:
        if week <= REFERRAL_WEEKS:
            super().end_of_week(model, week)


@study("referral", (R1, R1_FADE))
def referral(ctx: StudyContext) -> list[Measurement]:
    """Run the study (module docstring)."""
    model = instrumented(ctx.population, [_EarlyReferral(referral_probability=0.1)],
                         ctx.seed)
    n0 = ctx.size
    value = late = alive_at_24 = np.zeros(0)
    for week in range(1, REFERRAL_WEEKS + TENURE_WEEKS + 1):
        model.step()
        n = model.population.n
        value, late, alive_at_24 = (_grown(a, n) for a in (value, late, alive_at_24))
        tenure = week - column(model, "join_week")
        gross = per_customer(model, recorded(model).gross)
        value += gross * (tenure <= TENURE_WEEKS)
        late += gross * ((tenure >= LATE[0]) & (tenure <= LATE[1]))
        at_24 = tenure == LATE[0] - 1
        alive_at_24[at_24] = column(model, "alive")[at_24]
    n = model.population.n
    join = column(model, "join_week")
    friend = (np.arange(n) >= n0) & (join <= REFERRAL_WEEKS)
    cohort = np.arange(n) < n0
    segment = column(model, "segment")
    # a friend falls in the group of the cohort customer at the root of their chain
    root = np.arange(n)
    referred_by = column(model, "referred_by")
    while (root >= n0).any():
        later = root >= n0
        root[later] = referred_by[root[later]]
    groups = group_of(root)
    totals = Totals()
    segments = range(len(model.segment_names))
    for s in segments:
        for who, mask in (("friend", friend), ("cohort", cohort)):
            m = mask & (segment == s)
            for key, per in (("value", value), ("late", late), ("alive", alive_at_24)):
                totals.add(f"{who} {key} {s}", groups, per * m)
            totals.add(f"{who} n {s}", groups, m)

    def matched(key: str, per: str) -> tuple[list[str], Callable[[np.ndarray], float]]:
        """Totals to read, and the friends' mean of ``key`` per ``per`` over their
        segment's cohort mean, averaged over the friends."""
        cols = [f"{who} {what} {s}" for s in segments for who in ("friend", "cohort")
                for what in (key, per)]

        def stat(t: np.ndarray) -> float:
            num = den = 0.0
            for i in segments:
                fv, fn, cv, cn = t[4 * i: 4 * i + 4]
                if fn > 0 and cv > 0:
                    num += fv / (cv / cn)
                    den += fn
            return num / den if den else np.nan

        return cols, stat

    cols, stat = matched("value", "n")
    r, se = totals.estimate(cols, stat)
    cols, stat = matched("late", "alive")
    f, se_f = totals.estimate(cols, stat)
    details = f"{int(friend.sum()):,} referred customers, {n0:,} in the cohort"
    return [Measurement(R1, r, se, details), Measurement(R1_FADE, f, se_f, details)]
