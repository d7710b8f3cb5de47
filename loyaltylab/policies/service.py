"""Service benefits: a cost per member-week and an effect on dropout.

Dedicated account manager, priority shipping, extended returns, a yearly appreciation
event: each is a service policy for a segment or a tier, with the cost of serving one
member for a week and the factor it puts on the member's dropout probability after a
purchase. Members are the customers of the target segments (and tiers, with a tiers
policy); the cost is charged for members who are active (purchased in the last 26
weeks), the only ones the firm can tell from the churned.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, PrivateAttr

from loyaltylab.policies.base import MAX_AMOUNT, MAX_MULTIPLIER, ParamPolicy
from loyaltylab.policies.registry import register
from loyaltylab.policies.tiers import find_tiers
from loyaltylab.sim import ACTIVE_WINDOW_WEEKS, LoyaltyModel, Offers


@register("service")
class ServicePolicy(ParamPolicy):
    """A service benefit (see module docstring).

    Attributes
    ----------
    benefit : str
        What the benefit is, for reports.
    segments : list of str or None
        Target segments (default: core loyal, as in the strategy); None: all.
    tiers : list of str or None
        Target tiers (needs a tiers policy); None: any tier.
    cost_per_member_week : float
        Cost of serving one active member for one week, currency units.
    dropout_multiplier : float
        Factor on a member's dropout probability after each purchase (< 1 retains).
    """

    name: ClassVar[str] = "service"
    order: ClassVar[int] = 40

    benefit: str = "dedicated account manager"
    segments: list[str] | None = Field(default_factory=lambda: ["core_loyal"])
    tiers: list[str] | None = None
    cost_per_member_week: float = Field(8.0, ge=0, le=MAX_AMOUNT)
    # bounded below: the satisfaction of the service is the log of the multiplier
    dropout_multiplier: float = Field(0.85, ge=1e-6, le=MAX_MULTIPLIER)

    _segment_ids: Any = PrivateAttr(default=None)
    _tier_ids: Any = PrivateAttr(default=None)
    _tiers_policy: Any = PrivateAttr(default=None)

    def setup(self, model: LoyaltyModel) -> None:
        """Resolve the target segments and tiers."""
        self._segment_ids = self.segment_ids(model, self.segments, "segments")
        if self.tiers is not None:
            self._tiers_policy = find_tiers(model, "tiers", "targeting by tier")
            self._tier_ids = self._tiers_policy.tier_ids(model, self.tiers, "tiers")

    def members(self, model: LoyaltyModel) -> Any:
        """Rows of the customers the benefit is for: an ascending array, or a slice when
        they are consecutive (the segments' cached rows, unless tiers decide)."""
        if self._tiers_policy is None:
            return self.segment_rows(model, self._segment_ids)
        mask = self.in_segments(model, self._segment_ids)
        mask &= self._tiers_policy.in_tiers(model, self._tier_ids)
        mask &= self._tiers_policy.members(model)
        return model.xp.nonzero(mask)[0]

    def make_offers(self, model: LoyaltyModel, offers: Offers, week: int) -> None:
        """Members' dropout probability is scaled by the benefit's factor."""
        if self.dropout_multiplier != 1.0:
            offers.scale_dropout(self.members(model), self.dropout_multiplier)

    def end_of_week(self, model: LoyaltyModel, week: int) -> None:
        """Charge the week's cost for active members."""
        if self.cost_per_member_week:
            rows = self.members(model)
            active = model.population["last_purchase"][rows] > week - ACTIVE_WINDOW_WEEKS
            # zero for inactive members keeps the rows contiguous (cheap for the ledger)
            model.ledger.add_cost("service", rows, active * self.cost_per_member_week)
