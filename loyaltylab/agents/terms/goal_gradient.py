"""The goal gradient: members buy faster as they near their next reward (GG1), slow
down after it (GG3), but not back to where they started (GG4).

Progress is the share of the way to the next reward, a block of :math:`b` points, in
the balance :math:`B_{it}`: :math:`\\pi_{it} = (B_{it} \\bmod b) / b`, and 1 once the
balance has reached the member's redemption goal (the next block for spenders, several
for stockpilers: :mod:`loyaltylab.agents.redemption`), when the reward is in hand and
waits to be claimed. Points are redeemed before the order earns new ones,
so progress falls back at a redemption. The pull of a reward grows with what it is
worth to the customer, its value relative to their usual order
:math:`x_i = b v / O_i`:

.. math::

    L = \\log\\big(1 + g\\, w(x_i)\\, \\min(\\pi_{it} + c_{it}, 1)\\big), \\qquad
    w(x) = \\frac{(1 + k)\\, x}{x + k},

so a reward worth one usual order (a free coffee on a coffee card) pulls with strength
:math:`g` (Kivetz, Urminsky & Zheng 2006: the interval between purchases falls about
20% from the first stamp to the last), one worth a few percent of an order barely
pulls, and one worth nothing not at all (their non-redeemable control card), while
very large rewards saturate at :math:`(1 + k) g`.

After a reward the drive does not vanish at once: :math:`c_{it} = c\\,
e^{-\\lambda_i (t - t_r) / n}`, a share :math:`c` of the full pull decaying over
:math:`n` of the customer's own inter-purchase intervals since the reward week
:math:`t_r` (0 before any reward). So the interval right after a reward is longer than
the last one before it (post-reward resetting, GG3), and the first one of the next card
is between the first and the last of the previous card (resetting is partial, GG4;
Nunes & Drèze 2010). The order right after a reward also carries a higher dropout
risk, scaled by the reward's worth (churn risk is highest right after redemption, GG3).

State: ``last_reward_week`` (int16, -1 for never), added at the first redemption. The
pull of every customer (fixed for a reward size) is kept as a per-customer bound for the
fast purchase draw.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loyaltylab.agents.coefficients import Coefficients, coef
from loyaltylab.agents.row_cache import RowCache
from loyaltylab.agents.terms.base import ResponseTerm, RowBound

if TYPE_CHECKING:
    from loyaltylab.sim import LoyaltyModel, Offers, Sale

#: Column of the week of the customer's last redemption.
COLUMN = "last_reward_week"


@dataclass(frozen=True)
class GoalGradientCoefficients(Coefficients):
    """Coefficients of :class:`GoalGradient` (module docstring)."""

    strength: float = coef(
        0.7, 0.45, 0.95, "g: the rate rises by g at the goal of a reward worth one usual "
        "order (deal-prone customers)",
        "GG1: Kivetz, Urminsky & Zheng 2006 JMR 43:39-58, Study 1, interval -20% from "
        "first to last stamp (the stylized facts' g = 0.25 averages all customers; "
        "calibrated on the stamp-card study with the default sensitivities)",
    )
    half_value: float = coef(
        0.5, 0.25, 1.0, "reward worth, in usual orders, at which the pull is 2/3 of g",
        "GG1 control: a reward worth nothing moves nobody; shape U",
        positive=True,
    )
    carry: float = coef(
        0.7, 0.4, 0.9, "share of the pull at the goal kept right after a reward",
        "GG4: Nunes & Dreze 2010 ACR 37, resetting is partial; size U",
        at_most=1.0,
    )
    carry_intervals: float = coef(
        2.0, 1.0, 3.0, "inter-purchase intervals over which the kept pull fades (e-fold)",
        "stylized facts: post-reward resetting lasts 1-2 intervals (U)",
        positive=True,
    )
    post_reward_dropout: float = coef(
        0.2, 0.0, 0.5, "rise of dropout at the first order after a reward worth one order",
        "GG3: churn risk highest right after redemption (qualitative; size U)",
    )


class GoalGradient(ResponseTerm):
    """Goal gradient with partial post-reward resetting (module docstring)."""

    name = "goal_gradient"
    coefficients_class = GoalGradientCoefficients

    def setup(self, model: LoyaltyModel, behaviour: Any) -> None:
        """No pull known yet."""
        super().setup(model, behaviour)
        self._bounds = RowCache(self._bounds_of)

    def _worth(self, model: LoyaltyModel, rows: Any, key: Hashable) -> Any:
        """:math:`w(x)` of ``rows`` for ``key = (block, value per point)``: the weight of
        the next reward, whatever the strength of its pull."""
        c = self.coefficients
        block, value = key
        x = (block * value) / self.behaviour.usual_order(model, rows)
        return (1.0 + c.half_value) * x / (x + c.half_value)

    def _bounds_of(self, model: LoyaltyModel, rows: slice, key: Hashable) -> Any:
        """``log(1 + g w(x))`` of ``rows`` for ``key = (block, value per point)``."""
        pull = self.coefficients.strength * self._worth(model, rows, key)
        return model.xp.log1p(pull).astype(model.xp.float32)

    def _bound(self, model: LoyaltyModel, offers: Offers) -> RowBound:
        points = offers.points
        key = (points.redemption_block, points.value_per_point)
        return RowBound(self._bounds.get(model, key), key)

    def upper_bound(self, model: LoyaltyModel, offers: Offers,
                    week: int) -> float | RowBound | None:
        """``log(1 + g w(x_i))`` per customer: full progress towards their reward."""
        if offers.points is None:
            return 0.0
        return self._bound(model, offers)

    def pull(self, model: LoyaltyModel, rows: Any, offers: Offers) -> Any:
        """The pull :math:`g\\,w(x_i)` of the next reward on ``rows`` (float32)."""
        return model.xp.expm1(self._bound(model, offers).values[rows])

    def progress(self, model: LoyaltyModel, rows: Any, offers: Offers) -> Any:
        """Progress of ``rows`` towards their next reward (float32, in [0, 1])."""
        xp = model.xp
        points = offers.points
        block = points.redemption_block
        balance = points.balance[rows]
        goal = self.behaviour.redemption.goal(model, rows, points)
        # the reward in hand (goal reached) counts as a full block
        held = xp.where(balance >= goal, block, balance % block).astype(xp.float32)
        held *= xp.float32(1.0 / block)
        return held

    def log_lift(self, model: LoyaltyModel, rows: Any, offers: Offers, week: int) -> Any:
        """``log(1 + g w(x) min(progress + carry, 1))`` of ``rows``."""
        if offers.points is None:
            return None
        xp = model.xp
        c = self.coefficients
        progress = self.progress(model, rows, offers)
        pop = model.population
        if COLUMN in pop:
            last = pop[COLUMN][rows]
            since = (week - last).astype(xp.float32) * pop["lam"][rows]
            kept = xp.exp(since * xp.float32(-1.0 / c.carry_intervals)) * xp.float32(c.carry)
            progress += kept * (last >= 0)
            xp.minimum(progress, 1.0, out=progress)
        progress *= self.pull(model, rows, offers)
        return xp.log1p(progress, out=progress)

    def log_dropout(self, model: LoyaltyModel, buyers: Any, offers: Offers, week: int) -> Any:
        """``log(1 + zeta w(x))`` at the first order after a reward."""
        pop = model.population
        if offers.points is None or COLUMN not in pop:
            return None
        xp = model.xp
        c = self.coefficients
        # rows never rewarded have -1 there, which is no purchase week
        first = xp.nonzero(pop["last_purchase"][buyers] == pop[COLUMN][buyers])[0]
        out = xp.zeros(buyers.shape, dtype=xp.float64)
        if first.shape[0]:
            # w(x) itself, not the pull over g: no goal gradient (g = 0) still has w(x)
            key = (offers.points.redemption_block, offers.points.value_per_point)
            worth = self._worth(model, buyers[first], key)
            out[first] = xp.log1p(c.post_reward_dropout * worth)
        return out

    def update(self, model: LoyaltyModel, rows: Any, sale: Sale, offers: Offers,
               week: int) -> None:
        """Remember the week of each buyer's reward."""
        xp = model.xp
        rewarded = xp.nonzero(sale.points_redeemed > 0)[0]
        if not rewarded.shape[0]:
            return
        pop = model.population
        pop.ensure_column(COLUMN, xp.int16, -1)
        pop[COLUMN][sale.rows[rewarded]] = week
