"""Points: earn on net spend, redeem in blocks at checkout, expire per award.

Each week, for members (customers of the target segments):

1. offers: the members' balances and the reward size (:class:`loyaltylab.sim.PointsOffer`:
   customers respond to their progress towards a reward, and decide when to redeem),
   the rebate share ``earn_per_currency x multipliers x value_per_point`` (the value
   returned per currency unit spent; a campaign's extra as a bonus rebate), enrolment,
   and (with check-in points) a request to report interactions;
2. settle, after tier discounts and coupons: a buyer who wants to redeem burns whole
   blocks of ``redemption_block`` points, as many as the balance allows and the order's
   net amount can absorb; the value comes off the order as a ``rewards`` discount. Then
   the buyer earns ``floor(net x earn_per_currency x tier multiplier x campaign
   multiplier)`` points on what is left to pay, plus ``earn_per_order`` points per order
   (stamps: "buy 10, get 1 free" is ``earn_per_currency = 0``, ``earn_per_order = 1``,
   ``redemption_block = 10``), plus ``checkin_points`` per interaction, capped at
   ``earn_cap_per_week`` points per customer and week;
3. end of week: the sign-up bonus for members who joined this week, then expiry of the
   points earned ``expiry_weeks`` ago that are still unused (oldest first).

Campaign weeks are weeks of the year (1-52), so a campaign repeats every year.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from loyaltylab.policies.base import (
    MAX_MULTIPLIER,
    MAX_POINTS,
    MAX_POINTS_RATE,
    MAX_REBATE_SHARE,
    MIN_POINT_VALUE,
    ParamPolicy,
)
from loyaltylab.policies.registry import register
from loyaltylab.policies.tiers import TiersPolicy
from loyaltylab.sim import LoyaltyModel, Offers, PointsOffer, Sale, rows_where, take_rows


class Campaign(BaseModel):
    """A bonus-points campaign: earn ``multiplier`` times the points in ``weeks``.

    Attributes
    ----------
    weeks : list of int
        Weeks of the year (1-52) the campaign runs.
    multiplier : float
        Factor on the earn rate (2.0 = double points).
    segments : list of str or None
        Segments it applies to (None: all members), e.g. dormant customers only.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    weeks: list[int] = Field(min_length=1)
    multiplier: float = Field(2.0, gt=0, le=MAX_MULTIPLIER)
    segments: list[str] | None = None

    @model_validator(mode="after")
    def _weeks_of_year(self) -> Campaign:
        bad = [w for w in self.weeks if not 1 <= w <= 52]
        if bad:
            raise ValueError(f"weeks: weeks of the year are 1-52, got {bad}")
        return self


@register("points")
class PointsPolicy(ParamPolicy):
    """A points program (see module docstring).

    Attributes
    ----------
    earn_per_currency : float
        Points per currency unit of net spend (1 point per yuan).
    earn_per_order : int
        Points per order placed, whatever its value (a stamp card); multiplied like the
        spend points by tier and campaign multipliers.
    value_per_point : float
        Currency value of one point at redemption (0.1: "100 points = 10 yuan";
        0.01: "100 points = 1 yuan").
    redemption_block : int
        Points are redeemed in whole blocks of this many; also the minimum to redeem.
    expiry_weeks : int or None
        Points expire this many weeks after the week they were earned (52: 12 months);
        None: never.
    campaigns : list of Campaign
        Bonus campaigns (default: double points in weeks 6 and 46).
    signup_bonus : int
        Points given to each member in the week they join the program.
    checkin_points : int
        Points per interaction (check-in) of members in ``checkin_segments``.
    checkin_segments : list of str or None
        Segments whose check-ins earn points (None: all members).
    earn_cap_per_week : int or None
        Most points a customer can earn in a week (fraud control: 5000 a day = 35000).
    segments : list of str or None
        Members of the program (None: every customer).
    """

    name: ClassVar[str] = "points"
    order: ClassVar[int] = 30

    earn_per_currency: float = Field(1.0, ge=0, le=MAX_POINTS_RATE)
    earn_per_order: int = Field(0, ge=0, le=int(MAX_POINTS_RATE))
    value_per_point: float = Field(0.1, ge=MIN_POINT_VALUE, le=MAX_POINTS_RATE)
    redemption_block: int = Field(100, ge=1, le=MAX_POINTS)
    expiry_weeks: int | None = Field(52, ge=1, le=32767)
    campaigns: list[Campaign] = Field(default_factory=lambda: [Campaign(weeks=[6, 46])])
    signup_bonus: int = Field(100, ge=0, le=MAX_POINTS)
    checkin_points: int = Field(0, ge=0, le=MAX_POINTS)
    checkin_segments: list[str] | None = None
    earn_cap_per_week: int | None = Field(35_000, ge=1, le=MAX_POINTS)
    segments: list[str] | None = None

    _members: Any = PrivateAttr(default=None)
    _checkin: Any = PrivateAttr(default=None)
    _campaign_segments: list[Any] = PrivateAttr(default_factory=list)
    _multiplier: Any = PrivateAttr(default=None)
    _earn_multiplier: Any = PrivateAttr(default=None)
    _new_members: list[Any] = PrivateAttr(default_factory=list)
    _checkin_cache: Any = PrivateAttr(default=None)

    def setup(self, model: LoyaltyModel) -> None:
        """Check there is one points program and that its rebate, with the largest tier
        and campaign multipliers, is at most :data:`MAX_REBATE_SHARE`; resolve segments;
        schedule sign-up bonuses."""
        if len(model.find_policies(PointsPolicy)) > 1:
            raise ValueError("policies: a model can run one points program (one points ledger)")
        multipliers = [t.earn_multiplier for p in model.find_policies(TiersPolicy)
                       for t in p.tiers]
        most = (self.earn_per_currency * self.value_per_point * max(multipliers, default=1.0)
                * max((c.multiplier for c in self.campaigns if c.multiplier > 1), default=1.0))
        if most > MAX_REBATE_SHARE:
            raise ValueError(
                f"earn_per_currency: with value_per_point {self.value_per_point:g} and the "
                f"largest tier and campaign multipliers a member gets {most:.6g} back per "
                f"currency unit spent; at most {MAX_REBATE_SHARE:g}")
        self._members = self.segment_ids(model, self.segments, "segments")
        self._checkin = self.segment_ids(model, self.checkin_segments, "checkin_segments")
        self._campaign_segments = [
            self.segment_ids(model, c.segments, f"campaigns[{i}].segments")
            for i, c in enumerate(self.campaigns)
        ]
        model.points.expiry_weeks = self.expiry_weeks
        self._new_members = [slice(0, model.population.n)]

    def on_join(self, model: LoyaltyModel, rows: Any) -> None:
        """Joiners get the sign-up bonus at the end of the week."""
        self._new_members.append(rows)

    def _member_mask(self, model: LoyaltyModel, rows: Any = slice(None)) -> Any:
        return self.in_segments(model, self._members, rows)

    def make_offers(self, model: LoyaltyModel, offers: Offers, week: int) -> None:
        """Balances and reward size, rebate share and enrolment of members; campaign
        multipliers."""
        xp = model.xp
        members = slice(None) if self._members is None else self.segment_rows(
            model, self._members)
        week_of_year = (week - 1) % 52 + 1
        multiplier = None
        for campaign, seg_ids in zip(self.campaigns, self._campaign_segments, strict=True):
            if week_of_year in campaign.weeks:
                if multiplier is None:
                    multiplier = xp.ones(model.population.n, dtype=xp.float32)
                multiplier[self.in_segments(model, seg_ids)] *= campaign.multiplier
        self._multiplier = multiplier
        offers.points = PointsOffer(
            balance=model.points.balance(), redemption_block=self.redemption_block,
            value_per_point=self.value_per_point)
        rate = self.earn_per_currency * self.value_per_point
        if offers.earn_multiplier is not None:
            rate = rate * offers.earn_multiplier[members]
        offers.add_rebate(members, rate)
        if multiplier is not None:  # the campaign's extra, a temporary bonus
            offers.add_rebate(members, rate * (multiplier[members] - 1.0), bonus=True)
        offers.enrol(members)
        if self.checkin_points:
            offers.request_interactions(self._checkin_rows(model))
        self._earn_multiplier = offers.earn_multiplier

    def settle(self, model: LoyaltyModel, sale: Sale, week: int) -> None:
        """Redeem blocks at checkout, then earn on the net amount (and check-ins)."""
        xp = model.xp
        # positions of the member buyers in the sale (all of them without target segments)
        pos: Any = slice(None) if self._members is None else xp.nonzero(
            self._member_mask(model, sale.rows))[0]
        rows = sale.rows[pos]
        if rows.size:
            self._redeem(model, sale, pos, rows)
        base = sale.net[pos] * self.earn_per_currency
        if self.earn_per_order:
            base = base + sale.purchases[pos] * self.earn_per_order
        points = xp.floor(base * self._earn_rate(model, rows)).astype(xp.int64)
        if self.earn_cap_per_week is not None:
            points = xp.minimum(points, self.earn_cap_per_week)
        model.points.earn(rows, points)
        sale.points_earned[pos] += points
        if self.checkin_points and sale.interaction_rows is not None:
            self._checkin_award(model, sale, rows, points)

    def _checkin_award(self, model: LoyaltyModel, sale: Sale, rows: Any, points: Any) -> None:
        """Check-in points, within what the weekly cap leaves after purchase points."""
        xp = model.xp
        award = sale.interaction_counts * self.checkin_points
        cap = self.earn_cap_per_week
        most = (int(award.max()) if award.size else 0) + (int(points.max()) if rows.size else 0)
        if cap is not None and most > cap:  # else nobody's check-ins can reach the cap
            room = xp.full(award.shape, cap, dtype=xp.int64)
            order = xp.argsort(rows)
            at = xp.minimum(xp.searchsorted(rows[order], sale.interaction_rows),
                            max(len(rows) - 1, 0))
            if len(rows):
                bought = rows[order][at] == sale.interaction_rows
                room[bought] -= points[order][at][bought]
            award = xp.minimum(award, room)
        model.points.earn(sale.interaction_rows, award)

    def _checkin_rows(self, model: LoyaltyModel) -> Any:
        """Members whose check-ins earn points (cached until customers join)."""
        n = model.population.n
        if self._checkin_cache is None or self._checkin_cache[0] != n:
            mask = self._member_mask(model) & self.in_segments(model, self._checkin)
            self._checkin_cache = (n, model.xp.nonzero(mask)[0])
        return self._checkin_cache[1]

    def _earn_rate(self, model: LoyaltyModel, rows: Any) -> Any:
        """Factor of tier and campaign multipliers on the base points of ``rows``."""
        rate = model.xp.ones(rows.shape, dtype=model.xp.float64)
        if self._multiplier is not None:
            rate *= self._multiplier[rows]
        if self._earn_multiplier is not None:
            rate *= self._earn_multiplier[rows]
        return rate

    def _redeem(self, model: LoyaltyModel, sale: Sale, pos: Any, rows: Any) -> None:
        xp = model.xp
        block_value = self.redemption_block * self.value_per_point
        available = model.points.balance(rows) // self.redemption_block
        affordable = xp.floor(sale.net[pos] / block_value + 1e-9).astype(xp.int64)
        # times the wish (0 or 1) rather than a select, which is slow on a random mask
        blocks = xp.minimum(available, affordable) * sale.redeem[pos]
        burn = xp.nonzero(blocks > 0)[0]
        if not burn.size:
            return
        points = blocks[burn] * self.redemption_block
        model.points.redeem(rows[burn], points)
        where = take_rows(pos, burn)
        sale.points_redeemed[where] += points
        sale.apply_discount("rewards", points * self.value_per_point, where=where)

    def end_of_week(self, model: LoyaltyModel, week: int) -> None:
        """Sign-up bonuses for this week's new members, then expiry."""
        xp = model.xp
        if self.signup_bonus:
            for joined in self._new_members:
                members = rows_where(joined, self._member_mask(model, joined), xp)
                model.points.earn(members, self.signup_bonus)
        self._new_members = []
        model.points.expire()
