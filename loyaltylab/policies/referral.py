"""Referral: "recommend a friend"; when the friend buys, both sides are rewarded.

Each week, every member who bought refers a friend who then joins with a first purchase
with probability ``referral_probability`` (a counter-based draw per buyer and week), up
to ``max_referrals`` friends per member over the run. The friend joins the population at
the end of the week (``LoyaltyModel.add_customers``), in the referrer's segment or in
``friend_segment``, and both sides get the reward: ``reward_points`` each (earned on the
points ledger, so they need a points policy and cost money when redeemed) and/or
``reward_amount`` each, a credit booked as the ``referral`` cost component when granted.

Referred customers are better customers for a while (Schmitt, Skiera & Van den Bulte
2011, J. Marketing 75(1): value about 16% higher, the gap fading over about 2.5 years).
That is how they behave, so it is the behaviour's
(:class:`loyaltylab.agents.terms.ReferralPremium`); the policy publishes who was
referred by whom (``offers.get("referred_by")``: the referrer's row, -1 for none).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, PrivateAttr, model_validator

from loyaltylab.policies.base import MAX_AMOUNT, MAX_POINTS, ParamPolicy
from loyaltylab.policies.points import PointsPolicy
from loyaltylab.policies.registry import register
from loyaltylab.sim import LoyaltyModel, Offers, Sale


@register("referral")
class ReferralPolicy(ParamPolicy):
    """Recommend a friend (see module docstring).

    Attributes
    ----------
    segments : list of str or None
        Segments whose customers may refer (None: everyone).
    referral_probability : float
        Chance per member and purchase week that a referred friend joins, in [0, 1].
    max_referrals : int
        Friends one member can bring over the run.
    friend_segment : str or None
        Segment friends join (None: the referrer's own).
    reward_points : int
        Points to each side when the friend joins (needs a points policy).
    reward_amount : float
        Credit to each side when the friend joins, currency units, booked as cost.
    """

    name: ClassVar[str] = "referral"
    order: ClassVar[int] = 50

    segments: list[str] | None = None
    referral_probability: float = Field(0.02, ge=0, le=1)
    max_referrals: int = Field(5, ge=0, le=255)
    friend_segment: str | None = None
    reward_points: int = Field(0, ge=0, le=MAX_POINTS)
    reward_amount: float = Field(50.0, ge=0, le=MAX_AMOUNT)

    _segment_ids: Any = PrivateAttr(default=None)
    _friend_segment: int | None = PrivateAttr(default=None)
    _sale: Any = PrivateAttr(default=None)
    _joined: int = PrivateAttr(default=0)

    @model_validator(mode="after")
    def _some_reward(self) -> ReferralPolicy:
        if self.reward_points == 0 and self.reward_amount == 0:
            raise ValueError("reward_points, reward_amount: a referral needs a reward; "
                             "both are 0")
        return self

    def setup(self, model: LoyaltyModel) -> None:
        """Resolve the segments; points rewards need a points policy."""
        self._segment_ids = self.segment_ids(model, self.segments, "segments")
        if self.friend_segment is not None:
            self._friend_segment = int(self.segment_ids(
                model, [self.friend_segment], "friend_segment")[0])
        if self.reward_points and not model.find_policies(PointsPolicy):
            raise ValueError("reward_points: points rewards need a points policy in the "
                             "design; use reward_amount for a credit")
        xp = model.xp
        model.population.ensure_column("referrals", xp.uint8, 0)
        model.population.ensure_column("referred_by", xp.int32, -1)

    def make_offers(self, model: LoyaltyModel, offers: Offers, week: int) -> None:
        """Publish who was referred by whom (``referred_by``: a row, -1 for none)."""
        offers.publish("referred_by", model.population["referred_by"])

    def settle(self, model: LoyaltyModel, sale: Sale, week: int) -> None:
        """Keep the week's buyers: they refer at the end of the week, after the update."""
        self._sale = sale

    def end_of_week(self, model: LoyaltyModel, week: int) -> None:
        """Referred friends join; both sides are rewarded."""
        xp = model.xp
        pop = model.population
        sale, self._sale = self._sale, None
        self._joined = 0
        if sale is None or not len(sale) or self.referral_probability == 0:
            return
        rows = sale.rows
        can = pop["alive"][rows] & (pop["referrals"][rows] < self.max_referrals)
        can &= self.in_segments(model, self._segment_ids, rows)
        rows = rows[xp.nonzero(can)[0]]
        draw = model.streams.uniform("referral", week, rows)
        referrers = rows[xp.nonzero(draw < self.referral_probability)[0]]
        if not referrers.shape[0]:
            return
        pop["referrals"][referrers] += xp.uint8(1)
        segment = pop["segment"][referrers]
        if self._friend_segment is not None:
            segment = xp.full(segment.shape, self._friend_segment, dtype=segment.dtype)
        friends, by = [], []
        for s in xp.unique(segment).tolist():  # a loop over segments, not customers
            of_s = referrers[segment == s]
            new = model.add_customers(int(s), int(of_s.shape[0]))
            friends.append(xp.arange(new.start, new.stop))
            by.append(of_s)
        friends = xp.concatenate(friends)
        pop["referred_by"][friends] = xp.concatenate(by).astype(xp.int32)
        both = xp.concatenate((referrers, friends))
        if self.reward_points:
            model.points.earn(both, xp.full(both.shape, self.reward_points, dtype=xp.int64))
        if self.reward_amount:
            model.ledger.add_cost("referral", both, self.reward_amount)
        self._joined = int(friends.shape[0])

    def metrics(self, model: LoyaltyModel) -> dict[str, float]:
        """Friends who joined by referral this week: ``referrals``."""
        return {"referrals": self._joined}
