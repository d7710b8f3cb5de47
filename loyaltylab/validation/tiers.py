"""The demotion study (T4): demoted members end below never-promoted ones, and the hurt
fades.

Designed like Wagner, Hennig-Thurau & Rudolph (2009), who compared customers demoted
to a tier with customers who had always been in it: every customer holds the second of
four tiers (status 1/3) for a year and is then moved down to the base tier (status 0);
the twins, the same customers with the same luck, are never promoted. Demotion is by
design, not by the customers' own spending, so the comparison selects nobody.

Purchases are compared per week alive (the simulator knows who dropped out), so the
demoted members' extra dropout, which accumulates, does not mask how their purchase
rate recovers as the memory of the loss fades.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from loyaltylab.sim import LoyaltyModel, Offers, Policy
from loyaltylab.validation.design import column, instrumented, per_customer, recorded
from loyaltylab.validation.facts import Fact, Measurement, StudyContext, Totals, group_of, study

#: Members are demoted at the end of this week.
DEMOTION_WEEK = 52
#: Status held before the demotion: the second of four tiers.
STATUS = 1.0 / 3.0
#: Weeks after the demotion compared: the next quarter, and a quarter half a year later.
EARLY = (DEMOTION_WEEK + 1, DEMOTION_WEEK + 13)
LATE = (DEMOTION_WEEK + 27, DEMOTION_WEEK + 39)

T4 = Fact(
    "T4", "demoted members end below never-promoted ones",
    "lift in purchases per week alive in the quarter after a demotion to the base tier, "
    "against never-promoted twins (share)", -np.inf, 0.0,
    "Wagner, Hennig-Thurau & Rudolph 2009 JM 73(3)")
T4_MEMORY = Fact(
    "T4-memory", "the hurt of a demotion fades",
    "that lift half a year later minus the lift in the quarter after the demotion (share)",
    0.0, np.inf, "T4; a loss memory with a half-life (U)")


class _Status(Policy):
    """Offers every customer a tier status: ``held`` until the demotion, then 0."""

    name = "status_script"

    def __init__(self, held: float = 0.0) -> None:
        self.held = held

    def make_offers(self, model: LoyaltyModel, offers: Offers, week: int) -> None:
        offers.enrol(slice(None))
        offers.set_status(slice(None), self.held if week <= DEMOTION_WEEK else 0.0)

    def get_params(self) -> dict[str, Any]:
        return {"held": self.held}


@study("demotion", (T4, T4_MEMORY))
def demotion(ctx: StudyContext) -> list[Measurement]:
    """Run the study (module docstring)."""
    arms = {"demoted": instrumented(ctx.population, [_Status(STATUS)], ctx.seed),
            "never": instrumented(ctx.population, [_Status(0.0)], ctx.seed)}
    n = ctx.size
    totals = Totals()
    groups = group_of(np.arange(n))
    for week in range(1, LATE[1] + 1):
        for arm, model in arms.items():
            alive = column(model, "alive")[:n]
            model.step()
            for p, (first, last) in (("early", EARLY), ("late", LATE)):
                if first <= week <= last:
                    totals.add(f"{arm} {p} orders", groups,
                               per_customer(model, recorded(model).purchases, n))
                    totals.add(f"{arm} {p} alive", groups, alive)

    def lift(t: np.ndarray, i: int = 0) -> float:
        return (t[i] / t[i + 1]) / (t[i + 2] / t[i + 3]) - 1.0

    def recovery(t: np.ndarray) -> float:
        return lift(t, 4) - lift(t, 0)

    names = [f"{arm} {p} {what}" for p in ("early", "late") for arm in ("demoted", "never")
             for what in ("orders", "alive")]
    early, se_e = totals.estimate(names[:4], lift)
    late, _ = totals.estimate(names[4:], lift)
    r, se_r = totals.estimate(names, recovery)
    details = f"lift {early:+.1%} in the quarter after the demotion, {late:+.1%} half a year later"
    return [Measurement(T4, early, se_e, details), Measurement(T4_MEMORY, r, se_r, details)]
