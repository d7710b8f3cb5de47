"""Tier status: members buy more and stay longer as their status rises (T1, T2); a lost
status hurts twice as much as it helped, and the hurt fades (T4).

With status :math:`\\sigma_{it}` in [0, 1] (0 for the base tier, 1 for the top one)
and the remembered loss :math:`\\ell_{it}`,

.. math::

    L = \\beta_s (\\sigma_{it} - w\\,\\ell_{it}), \\qquad
    D = \\gamma_s (w\\,\\ell_{it} - \\sigma_{it}),

so a demoted member ends below one never promoted (Wagner, Hennig-Thurau & Rudolph
2009) while the memory lasts. A demotion from :math:`\\sigma` to :math:`\\sigma'` adds
:math:`\\sigma - \\sigma'` to the loss; regaining status repairs it by as much; between
changes it halves every ``loss_half_life_weeks``.

State: ``status_seen`` (uint8, status in 255ths as last seen), ``status_loss``
(float16) and ``status_loss_week`` (int16), added when a status is first offered. A
tier policy that lends the status array and says which rows changed
(``offers.lend("status", array, changed=rows)``) spares the term a look at every row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loyaltylab.agents.coefficients import Coefficients, coef
from loyaltylab.agents.terms.base import ResponseTerm, largest
from loyaltylab.sim import count_rows, row_array, take_rows

if TYPE_CHECKING:
    from loyaltylab.sim import LoyaltyModel, Offers, Sale

#: Steps of the remembered status (uint8).
_LEVELS = 255


@dataclass(frozen=True)
class StatusCoefficients(Coefficients):
    """Coefficients of :class:`Status` (module docstring)."""

    status_lift: float = coef(
        0.15, 0.05, 0.39, "log-lift at top status",
        "T2: Tanford 2013 IJHM, share of nights 53% base vs 78% elite, log(78/53) = 0.39 "
        "includes self-selection, so the causal default is lower (U)",
    )
    status_dropout: float = coef(
        0.30, 0.10, 0.50, "log-reduction of dropout at top status",
        "T1/T2: switching cost rises with status (Orhun, Guo & Hagemann); size U",
    )
    demotion_loss_weight: float = coef(
        2.0, 1.5, 2.5, "loss per unit of status lost / gain per unit held",
        "T4: Wagner, Hennig-Thurau & Rudolph 2009 JM 73(3), demoted end below "
        "never-promoted; weight ~2x (U)",
    )
    loss_half_life_weeks: float = coef(
        26.0, 13.0, 52.0, "weeks (half-life of the memory of a lost status)",
        "T4: the hurt of a demotion fades; size U",
        positive=True,
    )


class Status(ResponseTerm):
    """Status lift and the fading hurt of a demotion (module docstring)."""

    name = "status"
    coefficients_class = StatusCoefficients

    def setup(self, model: LoyaltyModel, behaviour: Any) -> None:
        """No status seen yet."""
        super().setup(model, behaviour)
        self._watching = False
        self._losses = False  # no loss recorded yet
        self._top = 0.0       # an upper bound of the status offered

    def upper_bound(self, model: LoyaltyModel, offers: Offers, week: int) -> float | None:
        """``beta`` times the highest status offered (a loss only lowers the lift)."""
        if offers.status is None:
            return 0.0
        status = offers.status
        changed = offers.changed("status")
        if changed is None or self._top == 0.0:
            self._top = largest(status)
        else:  # the highest can only have risen where the status changed
            self._top = max(self._top, largest(status[changed]))
        return self.coefficients.status_lift * self._top

    def loss(self, model: LoyaltyModel, rows: Any, week: int) -> Any:
        """Remembered status loss of ``rows`` this week (float32; 0 without a memory)."""
        xp = model.xp
        pop = model.population
        if not self._losses:
            return xp.float32(0.0)
        age = (week - pop["status_loss_week"][rows]).astype(xp.float32)
        age *= xp.float32(-1.0 / self.coefficients.loss_half_life_weeks)
        xp.exp2(age, out=age)
        age *= pop["status_loss"][rows]
        return age

    def log_lift(self, model: LoyaltyModel, rows: Any, offers: Offers, week: int) -> Any:
        """``beta (status - w loss)`` of ``rows``."""
        if offers.status is None:
            return None
        xp = model.xp
        c = self.coefficients
        lift = offers.status[rows] - xp.float32(c.demotion_loss_weight) * self.loss(
            model, rows, week)
        return (lift * xp.float32(c.status_lift)).astype(xp.float32, copy=False)

    def log_dropout(self, model: LoyaltyModel, buyers: Any, offers: Offers, week: int) -> Any:
        """``gamma (w loss - status)`` of ``buyers``."""
        if offers.status is None:
            return None
        c = self.coefficients
        return c.status_dropout * (c.demotion_loss_weight * self.loss(model, buyers, week)
                                   - offers.status[buyers]).astype(model.xp.float64)

    def update(self, model: LoyaltyModel, rows: Any, sale: Sale, offers: Offers,
               week: int) -> None:
        """Remember the status of customers whose status changed; a fall adds to their
        loss, a rise repairs it."""
        if offers.status is None:
            return
        xp = model.xp
        pop = model.population
        first = not self._watching
        if first:
            pop.ensure_column("status_seen", xp.uint8, 0)
            pop.ensure_column("status_loss", xp.float16, 0.0)
            pop.ensure_column("status_loss_week", xp.int16, 0)
            self._watching = True
        changed = None if first else offers.changed("status")
        if changed is None:
            look = rows
        elif isinstance(rows, slice) and rows == slice(None):
            look = changed
        else:
            own = row_array(rows, pop.n, xp)
            look = xp.intersect1d(row_array(changed, pop.n, xp), own, assume_unique=True)
        if not count_rows(look, pop.n):
            return
        now = xp.rint(offers.status[look] * xp.float32(_LEVELS)).astype(xp.uint8)
        seen = pop["status_seen"][look]
        moved = xp.nonzero(now != seen)[0]
        if not moved.shape[0]:
            return
        at = take_rows(look, moved)
        if first:  # the status customers start with is no change
            pop["status_seen"][at] = now[moved]
            return
        drop = (seen[moved].astype(xp.float32) - now[moved].astype(xp.float32)) / _LEVELS
        if self._losses or bool((drop > 0).any()):  # a rise alone repairs nothing
            loss = xp.maximum(self.loss(model, at, week) + drop, 0.0)
            pop["status_loss"][at] = loss.astype(xp.float16)
            self._losses = True
        pop["status_loss_week"][at] = week
        pop["status_seen"][at] = now[moved]
