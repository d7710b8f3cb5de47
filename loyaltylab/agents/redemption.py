"""When members redeem points: a personal goal, reached and remembered at checkout.

Members differ in how they use points (Smith & Sparks 2009 found "savers" and
"spenders" in UK retail programs; Drèze & Nunes 2004 on saving for bigger rewards). Each
member has a redemption *goal*, the balance they intend to reach before they redeem:

- spenders (a share ``1 - stockpiler_share``) redeem as soon as a whole block is
  available;
- stockpilers save for a reward worth :math:`\\theta_i` of their usual orders, with
  :math:`\\theta_i` exponential with mean ``stockpile_orders``.

In points the goal is whole blocks, :math:`G_i = b \\max(1, \\lceil \\theta_i O_i /
(b v) \\rceil)` for block :math:`b`, value per point :math:`v` and usual order
:math:`O_i`. A buyer whose balance has reached the goal redeems with the segment's
``redeem_propensity`` (whether they think of it at checkout), as many blocks as the
balance and the order allow.

So breakage is not a parameter: points expire when a goal takes longer to reach than
the points last (a light buyer saving for a big reward, a member who leaves), and it
falls as points are worth more, because goals are reached sooner (stylized fact B2).
The goal is also what the goal gradient measures progress towards
(:class:`loyaltylab.agents.terms.GoalGradient`).

A member's :math:`\\theta_i` is a counter-based draw of their row (purpose
``"redemption_goal"``): the same in every arm. The goals in blocks are kept per customer
(uint16) for the program's reward size, computed once and for joiners only.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loyaltylab.agents.coefficients import Coefficients, coef
from loyaltylab.agents.row_cache import RowCache

if TYPE_CHECKING:
    from loyaltylab.sim import LoyaltyModel, PointsOffer


@dataclass(frozen=True)
class RedemptionCoefficients(Coefficients):
    """Coefficients of the redemption decision (see module docstring)."""

    stockpiler_share: float = coef(
        0.5, 0.3, 0.7, "share of members who save for a bigger reward",
        "Smith & Sparks 2009 Int Rev Retail 19(3), savers and spenders; size U",
        at_most=1.0,
    )
    stockpile_orders: float = coef(
        1.0, 0.5, 2.0, "usual orders' worth a stockpiler saves for (mean)",
        "B2: retail breakage 20-30% under 12-month expiry (calibrated); U",
    )


class Redemption:
    """Members' redemption goals and checkout decisions (module docstring).

    Parameters
    ----------
    coefficients : RedemptionCoefficients, optional
        Defaults from :class:`RedemptionCoefficients`.
    """

    def __init__(self, coefficients: RedemptionCoefficients | None = None) -> None:
        self.coefficients = coefficients or RedemptionCoefficients()
        self.behaviour: Any = None
        self._blocks = RowCache(self._goal_blocks)

    def __repr__(self) -> str:
        return f"Redemption({self.coefficients!r})"

    def setup(self, model: LoyaltyModel, behaviour: Any) -> None:
        """Per-model state: no goal known yet; usual orders come from ``behaviour``."""
        self.behaviour = behaviour
        self._blocks = RowCache(self._goal_blocks)

    def saving_target(self, model: LoyaltyModel, rows: Any) -> Any:
        """:math:`\\theta_i` of ``rows``: the reward a member saves for, in usual orders
        (0 for spenders)."""
        xp = model.xp
        c = self.coefficients
        u = model.streams.uniform("redemption_goal", 0, rows)
        spender = 1.0 - c.stockpiler_share
        # the conditional uniform of stockpilers, (u - spender) / share, is exponential
        # through -log(1 - .), which is -log((1 - u) / share)
        theta = -c.stockpile_orders * xp.log(xp.maximum(1.0 - u, 1e-300)
                                             / max(c.stockpiler_share, 1e-300))
        return xp.where(u < spender, 0.0, theta)

    def _goal_blocks(self, model: LoyaltyModel, rows: slice, key: Hashable) -> Any:
        """Goals of ``rows`` in blocks (uint16, at least 1) for ``key = (block, value)``."""
        xp = model.xp
        block, value = key
        usual = self.behaviour.usual_order(model, rows)
        blocks = xp.ceil(self.saving_target(model, xp.arange(rows.start, rows.stop))
                         * usual / (block * value))
        return xp.clip(blocks, 1.0, 65535.0).astype(xp.uint16)

    def goal(self, model: LoyaltyModel, rows: Any, points: PointsOffer) -> Any:
        """Redemption goal of ``rows`` in points (int64): whole blocks, at least one."""
        key = (points.redemption_block, points.value_per_point)
        blocks = self._blocks.get(model, key)[rows]
        return blocks.astype(model.xp.int64) * points.redemption_block

    def wish(self, model: LoyaltyModel, buyers: Any, points: PointsOffer, week: int) -> Any:
        """Whether each buyer redeems now: their balance has reached their goal and they
        think of it at checkout (the segment's ``redeem_propensity``)."""
        pop = model.population
        balance = points.balance[buyers]
        reached = balance >= self.goal(model, buyers, points)
        propensity = model.segment_params["redeem_propensity"][pop["segment"][buyers]]
        return reached & (model.streams.uniform("redemption", week, buyers) < propensity)
