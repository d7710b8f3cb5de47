"""The launch response: a new program's pull fades as members get used to it (LP3, LP7).

When a customer joins a program they respond to its novelty and to the value it
returns per currency unit spent, the rebate :math:`\\rho_{it}` (points value, member
discount; a stamp card's reward, earned only by completing the card, is a goal, not a
rebate: :class:`loyaltylab.agents.terms.GoalGradient`). Both fade as the program
becomes part of the routine: the rebate a member has got used to is their new
reference, as in adaptation-level models of reference prices (Kalyanaram & Winer
1995). A campaign's temporary extra :math:`\\beta_{it}` (double points) is news every
time it runs:

.. math::

    L = (\\nu + \\epsilon\\,(\\rho_{it} - \\beta_{it}))\\, e^{-(t - t^0_i)/\\tau}
        + \\epsilon\\,\\beta_{it}

for members enrolled since week :math:`t^0_i`. Program effects are small and erode
6-9 months after joining (Meyer-Waarden 2007), after a short-lived launch spike (Lin
2020); light and moderate buyers respond more than heavy ones (Liu 2007), through the
customers' incentive sensitivity.

State: ``enrol_week`` (int16, -1 before enrolment), added at the first enrolment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loyaltylab.agents.coefficients import Coefficients, coef
from loyaltylab.agents.terms.base import ResponseTerm, largest
from loyaltylab.sim import count_rows, take_rows

if TYPE_CHECKING:
    from loyaltylab.sim import LoyaltyModel, Offers, Sale

#: Column of the week each customer enrolled.
COLUMN = "enrol_week"


@dataclass(frozen=True)
class LaunchCoefficients(Coefficients):
    """Coefficients of :class:`Launch` (module docstring)."""

    novelty_lift: float = coef(
        0.05, 0.0, 0.15, "log-lift in the week of enrolment",
        "LP7: Lin 2020 (launch spike, short-lived); size U",
    )
    rebate_elasticity: float = coef(
        1.0, 0.5, 2.6, "log-lift per unit of rebate share (value returned per unit spent)",
        "P1: Bijmolt, van Heerde & Pieters 2005 JMR 42(2), mean price elasticity -2.62 "
        "(upper bound: a deferred reward is less salient than a price cut; U)",
    )
    adaptation_weeks: float = coef(
        8.0, 4.0, 13.0, "weeks (e-folding time of the launch response)",
        "LP3: Meyer-Waarden 2007 J Retailing 83(2), effects ~0 by month 6-9 (8 weeks "
        "leaves 4% at month 6)",
        positive=True,
    )


class Launch(ResponseTerm):
    """Novelty and rebate response of new members, fading (module docstring)."""

    name = "launch"
    coefficients_class = LaunchCoefficients

    def setup(self, model: LoyaltyModel, behaviour: Any) -> None:
        """No enrolment recorded yet."""
        super().setup(model, behaviour)
        self._recorded = 0       # customers whose enrolment week is known
        self._complete = -1      # the population size when every week was known, or -1
        self._latest = -1        # latest week anyone enrolled

    def upper_bound(self, model: LoyaltyModel, offers: Offers, week: int) -> float | None:
        """The youngest enrolment's novelty and the largest rebates."""
        if offers.enrolled is None:
            return 0.0
        c = self.coefficients
        regular = largest(offers.rebate_share)
        bonus = largest(offers.bonus_rebate_share)
        fresh = 1.0
        if self._complete == model.population.n:  # nobody joined since
            fresh = math.exp(-(week - self._latest) / c.adaptation_weeks)
        return (c.novelty_lift + c.rebate_elasticity * regular) * fresh + (
            c.rebate_elasticity * bonus)

    def log_lift(self, model: LoyaltyModel, rows: Any, offers: Offers, week: int) -> Any:
        """Fading novelty and rebate response of enrolled ``rows`` plus campaign bonuses."""
        if offers.enrolled is None:
            return None
        xp = model.xp
        c = self.coefficients
        eps = xp.float32(c.rebate_elasticity)
        drive = xp.full(count_rows(rows, model.population.n), c.novelty_lift,
                        dtype=xp.float32)
        bonus = None
        if offers.rebate_share is not None:
            drive += offers.rebate_share[rows] * eps
        if offers.bonus_rebate_share is not None:
            bonus = offers.bonus_rebate_share[rows] * eps
            drive -= bonus
        drive *= self._freshness(model, rows, week)
        drive *= offers.enrolled[rows]
        if bonus is not None:
            drive += bonus
        return drive

    def _freshness(self, model: LoyaltyModel, rows: Any, week: int) -> Any:
        """``exp(-(t - t0) / tau)`` of ``rows`` by enrolment week (a table lookup); 1 for
        customers who enrol this week."""
        xp = model.xp
        pop = model.population
        if COLUMN not in pop:
            return xp.float32(1.0)
        age = week - xp.arange(-1, week + 1)
        age[0] = 0  # index -1: not yet recorded, enrols this week
        table = xp.exp(-age / self.coefficients.adaptation_weeks).astype(xp.float32)
        return table[pop[COLUMN][rows] + 1]

    def update(self, model: LoyaltyModel, rows: Any, sale: Sale, offers: Offers,
               week: int) -> None:
        """Record the enrolment week of customers enrolled for the first time."""
        xp = model.xp
        pop = model.population
        if offers.enrolled is None:
            return
        if self._recorded < count_rows(rows, pop.n):
            pop.ensure_column(COLUMN, xp.int16, -1)
            enrol = pop[COLUMN]
            local = xp.nonzero(offers.enrolled[rows] & (enrol[rows] < 0))[0]
            if local.shape[0]:
                enrol[take_rows(rows, local)] = week
                self._recorded += int(local.shape[0])
                self._latest = week
        self._complete = pop.n if self._recorded >= count_rows(rows, pop.n) else -1

