"""Coupons: "spend 3000, get 500 off", first-order welcome discounts, win-back offers.

A coupon policy issues coupons of one kind (a fixed amount and/or a percentage off the
first order of a week, above a minimum spend) to the customers of its target segments
(and tiers) when its trigger fires:

- ``always``: whenever the customer is targeted and does not hold one;
- ``first_purchase``: customers who have not bought again since joining (welcome
  discount for new customers);
- ``inactive``: no purchase for ``inactive_weeks`` weeks (win-back);
- ``birthday``: the customer's birthday week of the year;
- ``near_tier``: the customer has covered at least ``near_tier_share`` of the way to
  the next tier of the tiers policy (and is not at the top tier).

A coupon issued in week ``t`` can be used in weeks ``t .. t + validity_weeks - 1``; a
customer holds at most one coupon of a policy at a time. Whether a holder notices it and
uses it is the customer's decision (:mod:`loyaltylab.agents.coupon_use`: attention and
the threshold top-up rule); the policy grants the discount and books it as program cost
``coupons`` only when a coupon is redeemed.

Eligibility does not look at latent dropout (the firm cannot see it): churned customers
are sent coupons too, which cost nothing unless redeemed. What the firm can do is predict
it: with ``target_by`` the eligible customers are narrowed to those whose P(alive) or
predicted CLV, computed from their observed purchase history with their segment's
BG/NBD and Gamma-Gamma parameters (:mod:`loyaltylab.policies.targeting`), lies in
``[target_min, target_max]``, then to the ``target_top_share`` of them with the highest
score: win-back coupons for customers who may be slipping away (P(alive) between 0.2
and 0.6), or rewards for the most valuable tenth.

Budget: each issued coupon commits its face value ``amount_off + pct_off * min_spend``.
Each week the eligible customers are served in a random priority order, and issuance
stops as soon as spent (redeemed discounts) + committed (face value of the outstanding
coupons) + the next coupon's face value would exceed the budget. An expired coupon
releases its commitment; a redeemed one replaces it by the actual discount. With
fixed-amount coupons the budget is never exceeded; a percentage discount on an order
above the minimum spend can cost more than its face value.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, PrivateAttr, model_validator

from loyaltylab.policies.base import MAX_AMOUNT, ParamPolicy
from loyaltylab.policies.registry import register
from loyaltylab.policies.targeting import SegmentModels, TargetBy, score
from loyaltylab.policies.tiers import find_tiers
from loyaltylab.sim import (
    MAX_CUSTOMERS,
    MAX_WEEKS,
    LoyaltyModel,
    Offers,
    Sale,
    as_slice,
    count_rows,
    merge_rows,
    row_array,
    rows_where,
)

#: Weeks in a year of the birthday calendar (week of year is ``(week - 1) % 52 + 1``).
WEEKS_PER_YEAR = 52
#: Shared per-customer column: the customer's birthday week of the year, 1..52 (uint8).
BIRTHDAY_COLUMN = "birthday_week"

Trigger = Literal["always", "first_purchase", "inactive", "birthday", "near_tier"]
Names = Annotated[list[str], Field(min_length=1)]


def week_of_year(week: int) -> int:
    """Week of the year, 1..52, of simulation week ``week`` (week 1 is week 1 of a year)."""
    return (week - 1) % WEEKS_PER_YEAR + 1


def ensure_birthdays(model: LoyaltyModel, rows: Any = slice(None)) -> None:
    """Draw the birthday week (1..52) of ``rows`` into the shared ``birthday_week`` column.

    A customer has one birthday whatever the policies, so the column is shared by every
    policy that needs it; the draw is counter-based (purpose ``"birthday"``, week 0, the
    customer's row), so it is the same in every arm and for customers who join later.
    """
    xp = model.xp
    pop = model.population
    pop.ensure_column(BIRTHDAY_COLUMN, xp.uint8, 0)
    idx = row_array(rows, pop.n, xp)
    u = model.streams.uniform("birthday", 0, idx)
    day = xp.minimum(xp.floor(u * WEEKS_PER_YEAR), WEEKS_PER_YEAR - 1) + 1
    pop[BIRTHDAY_COLUMN][idx] = day.astype(xp.uint8)


@register("coupons")
class CouponPolicy(ParamPolicy):
    """Coupons of one kind for a target group (see module docstring).

    Attributes
    ----------
    amount_off : float
        Fixed discount, currency units (>= 0).
    pct_off : float
        Percentage discount as a share of the first order's value, in [0, 1).
    min_spend : float
        Order value needed to use the coupon, currency units (>= 0; 0: none). Must be
        greater than ``amount_off`` when both are positive.
    segments : list of str or None
        Target segments; None: all customers.
    tiers : list of str or None
        Target tiers (needs a tiers policy in the model); None: any tier.
    trigger : {"always", "first_purchase", "inactive", "birthday", "near_tier"}
        When a targeted customer gets a coupon.
    inactive_weeks : int
        Weeks without a purchase that make a customer inactive (trigger ``inactive``).
    near_tier_share : float
        Share of the way to the next tier, in (0, 1] (trigger ``near_tier``).
    validity_weeks : int
        Weeks a coupon can be used, counting the week it is issued (>= 1).
    per_customer_limit : int or None
        Coupons issued to one customer over the run (>= 1); None: no limit.
    budget : float or None
        Most the coupons may cost over the run, currency units (> 0); None: no cap.
    target_by : {"p_alive", "clv"} or None
        Narrow the eligible customers by a prediction from their observed history
        (:mod:`loyaltylab.policies.targeting`): ``"p_alive"``, the BG/NBD probability of
        being alive, in [0, 1]; ``"clv"``, the predicted residual value (gross margin x
        expected order x discounted expected residual transactions at the scenario's
        rates), currency units. Needs a population with BG/NBD (and, for ``"clv"``,
        Gamma-Gamma) parameters per segment. None: no narrowing.
    target_min, target_max : float or None
        Keep customers whose score is >= ``target_min`` and <= ``target_max`` (P(alive)
        in [0, 1]; CLV in currency units); None: no bound.
    target_top_share : float or None
        Then keep this share, in (0, 1], of the remaining customers, those with the
        highest scores (rounded up; ties by row); None: all.

    Examples
    --------
    >>> CouponPolicy(min_spend=200, amount_off=100, trigger="inactive").face_value
    100.0
    """

    name: ClassVar[str] = "coupons"
    order: ClassVar[int] = 20

    amount_off: float = Field(500.0, ge=0, le=MAX_AMOUNT, allow_inf_nan=False)
    pct_off: float = Field(0.0, ge=0, lt=1)
    min_spend: float = Field(3000.0, ge=0, le=MAX_AMOUNT, allow_inf_nan=False)
    segments: Names | None = None
    tiers: Names | None = None
    trigger: Trigger = "always"
    inactive_weeks: int = Field(26, ge=1, le=MAX_WEEKS)
    near_tier_share: float = Field(0.8, gt=0, le=1)
    validity_weeks: int = Field(4, ge=1, le=MAX_WEEKS)
    per_customer_limit: int | None = Field(1, ge=1)
    budget: float | None = Field(None, gt=0, le=MAX_AMOUNT, allow_inf_nan=False)
    target_by: TargetBy | None = None
    target_min: float | None = Field(None, allow_inf_nan=False)
    target_max: float | None = Field(None, allow_inf_nan=False)
    target_top_share: float | None = Field(None, gt=0, le=1)

    _key: str = PrivateAttr(default="")
    _segment_ids: Any = PrivateAttr(default=None)
    _tier_ids: Any = PrivateAttr(default=None)
    _tiers: Any = PrivateAttr(default=None)
    _index: int = PrivateAttr(default=-1)
    _outstanding: int = PrivateAttr(default=0)
    _spent: float = PrivateAttr(default=0.0)
    _week: dict[str, int] = PrivateAttr(default_factory=dict)
    _pool: Any = PrivateAttr(default=None)
    _exhausted: int = PrivateAttr(default=0)
    _holders: Any = PrivateAttr(default=None)
    _issued_in: dict[int, Any] = PrivateAttr(default_factory=dict)
    _dropped: list[Any] = PrivateAttr(default_factory=list)
    _targeting: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_discount(self) -> CouponPolicy:
        if self.amount_off <= 0 and self.pct_off <= 0:
            raise ValueError("amount_off: at least one of amount_off and pct_off must be > 0")
        if self.min_spend > 0 and self.amount_off > 0 and self.min_spend <= self.amount_off:
            raise ValueError(
                f"min_spend: must be greater than amount_off ({self.amount_off:g}), "
                f"got {self.min_spend:g}"
            )
        bounds = {"target_min": self.target_min, "target_max": self.target_max,
                  "target_top_share": self.target_top_share}
        given = [k for k, v in bounds.items() if v is not None]
        if self.target_by is None and given:
            raise ValueError(f"{given[0]}: needs target_by ('p_alive' or 'clv')")
        if self.target_by is not None and not given:
            raise ValueError(f"target_by: {self.target_by!r} needs target_min, target_max "
                             "or target_top_share")
        if self.target_by == "p_alive":
            for k in ("target_min", "target_max"):
                if bounds[k] is not None and not 0 <= bounds[k] <= 1:
                    raise ValueError(f"{k}: a P(alive) must be in [0, 1], got {bounds[k]:g}")
        if (self.target_min is not None and self.target_max is not None
                and self.target_max <= self.target_min):
            raise ValueError(f"target_max: must be greater than target_min "
                             f"({self.target_min:g}), got {self.target_max:g}")
        return self

    # ------------------------------------------------------------------ properties
    @property
    def face_value(self) -> float:
        """Value one coupon commits against the budget, currency units."""
        return self.amount_off + self.pct_off * self.min_spend

    @property
    def spent(self) -> float:
        """Discounts granted so far (redeemed coupons), currency units."""
        return self._spent

    @property
    def outstanding(self) -> int:
        """Coupons issued and neither redeemed nor expired."""
        return self._outstanding

    @property
    def committed(self) -> float:
        """Face value of the outstanding coupons, currency units."""
        return self._outstanding * self.face_value

    def column(self, model: LoyaltyModel, what: str) -> str:
        """Name of this policy's per-customer column ``what`` (prefixed by its key)."""
        return f"{model.policy_key(self)}_{what}"

    # ------------------------------------------------------------------ hooks
    def setup(self, model: LoyaltyModel) -> None:
        """Resolve targets and add the columns ``<key>_issued_week`` (int16, -1: none held)
        and, with a limit, ``<key>_issued`` (uint16: coupons issued to the customer)."""
        xp = model.xp
        pop = model.population
        self._key = model.policy_key(self)
        self._segment_ids = self.segment_ids(model, self.segments, "segments")
        if self.tiers is not None:
            self._tiers = find_tiers(model, "tiers", "targeting by tier")
            self._tier_ids = self._tiers.tier_ids(model, self.tiers, "tiers")
        if self.trigger == "near_tier":
            self._tiers = find_tiers(model, "trigger", "trigger='near_tier'")
        pop.add_column(f"{self._key}_issued_week", xp.int16, -1)
        if self.per_customer_limit is not None:
            pop.add_column(f"{self._key}_issued", xp.uint16, 0)
        if self.trigger == "birthday":
            ensure_birthdays(model)
        self._targeting = None
        if self.target_by is not None:
            if self.target_by == "clv" and model.economics.annual_discount_rate <= 0:
                raise ValueError("target_by: 'clv' needs economics.annual_discount_rate > 0 "
                                 "(an undiscounted lifetime value has no finite horizon)")
            self._targeting = SegmentModels.of(model, "target_by", self.target_by == "clv")
        self._index = -1
        self._outstanding = 0
        self._spent = 0.0
        self._week = dict.fromkeys(("issued", "redeemed", "expired", "holders"), 0)
        self._pool = None
        self._exhausted = 0
        self._holders = xp.zeros(0, dtype=xp.int64)
        self._issued_in = {}
        self._dropped = []

    def on_join(self, model: LoyaltyModel, rows: Any) -> None:
        """Joiners hold no coupon (column defaults); draw their birthdays if needed."""
        if self.trigger == "birthday":
            ensure_birthdays(model, rows)

    def eligible(self, model: LoyaltyModel, week: int) -> Any:
        """Rows (ascending) of the customers who are targeted, triggered, hold no coupon
        of this policy, are under the limit and pass ``target_by`` (the budget is applied
        by :meth:`make_offers`)."""
        xp = model.xp
        pop = model.population
        trigger = self.trigger
        cut = week - self.inactive_weeks  # "inactive": last purchase at or before this week
        if trigger == "inactive" and cut < 0:
            return xp.zeros(0, dtype=xp.int64)
        rows = self._candidates(model)
        if trigger == "birthday":  # a birthday week is one week in 52: test the rest on these
            rows = rows_where(rows, pop[BIRTHDAY_COLUMN][rows] == week_of_year(week), xp)
        mask = pop[f"{self._key}_issued_week"][rows] < 0
        if self.per_customer_limit is not None:
            mask &= pop[f"{self._key}_issued"][rows] < self.per_customer_limit
        if self._segment_ids is not None and self._upper_tiers_only:  # else rows are targets
            mask &= self.in_segments(model, self._segment_ids, rows)
        if self._tier_ids is not None:
            mask &= self._tiers.in_tiers(model, self._tier_ids, rows)
        if trigger == "first_purchase":
            mask &= pop["purchases"][rows] == 0
        elif trigger == "inactive":
            mask &= pop["last_purchase"][rows] <= cut
        elif trigger == "near_tier":
            tier = self._tiers.tier_of(model, rows)
            progress = self._tiers.next_tier_progress(model, rows)
            top = len(self._tiers.tier_names) - 1
            mask &= (tier < top) & (progress >= self.near_tier_share)
        rows = rows_where(rows, mask, xp)
        return self._predicted(model, rows, week) if self._targeting is not None else rows

    def _predicted(self, model: LoyaltyModel, rows: Any, week: int) -> Any:
        """The rows (ascending) whose P(alive) or CLV passes the target's band and share;
        scored after every other test, so the prediction is made for few rows."""
        xp = model.xp
        if not rows.shape[0]:
            return rows
        value = score(model, rows, week, self.target_by, self._targeting)
        keep = xp.ones(rows.shape[0], dtype=bool)
        if self.target_min is not None:
            keep &= value >= self.target_min
        if self.target_max is not None:
            keep &= value <= self.target_max
        rows, value = rows[keep], value[keep]
        if self.target_top_share is not None and rows.shape[0]:
            top = math.ceil(self.target_top_share * rows.shape[0] - 1e-9)
            rows = xp.sort(rows[xp.argsort(-value, kind="stable")[:top]])
        return rows

    def _candidates(self, model: LoyaltyModel) -> Any:
        """Rows that :meth:`eligible` needs to look at (a slice or an ascending array).

        Coupons for tiers above the base tier can only go to the tiers policy's upper
        rows. Otherwise the pool of the targeted customers still under the limit (of
        the target segments only); a
        customer who reaches the limit never becomes eligible again, so the pool only
        shrinks. It is rebuilt when customers join, or when a quarter of it has reached
        the limit since it was built.
        """
        xp = model.xp
        if self._upper_tiers_only:
            return self._tiers.upper_rows(model)
        n = model.population.n
        if self._pool is None or self._pool[0] != n or 4 * self._exhausted > self._pool[2]:
            rows = self.segment_rows(model, self._segment_ids)
            if self.per_customer_limit is not None:
                issued = model.population[f"{self._key}_issued"][rows]
                rows = as_slice(rows_where(rows, issued < self.per_customer_limit, xp))
            self._pool = (n, rows, count_rows(rows, n))
            self._exhausted = 0
        return self._pool[1]

    @property
    def _upper_tiers_only(self) -> bool:
        """Targets tiers above the base tier only (requires a model: after setup)."""
        return self._tier_ids is not None and 0 not in self._tier_ids.tolist()

    def _affordable(self) -> int | None:
        """Coupons the budget still allows this week (None: no cap)."""
        if self.budget is None:
            return None
        room = self.budget - self._spent - self.committed
        if self.face_value <= 0:
            return None if room >= 0 else 0
        count = room / self.face_value + 1e-9
        # more coupons than any population holds (a tiny face value: inf) is no cap
        return max(math.floor(count), 0) if count < MAX_CUSTOMERS else None

    def make_offers(self, model: LoyaltyModel, offers: Offers, week: int) -> None:
        """Issue this week's coupons and put every valid coupon in front of its holder."""
        xp = model.xp
        pop = model.population
        self._week = dict.fromkeys(("issued", "redeemed", "expired", "holders"), 0)
        new = self.eligible(model, week)
        room = self._affordable()
        if room is not None and room < new.shape[0]:
            priority = model.streams.uniform("coupon_priority", week, new)
            new = xp.sort(new[xp.argsort(priority)[:room]])
        if new.shape[0]:
            pop[f"{self._key}_issued_week"][new] = week
            if self.per_customer_limit is not None:
                issued = pop[f"{self._key}_issued"]
                issued[new] += xp.uint16(1)
                self._exhausted += int(xp.count_nonzero(issued[new] >= self.per_customer_limit))
            self._outstanding += int(new.shape[0])
            self._issued_in[week] = new
            # holders and new rows are disjoint (holders are not eligible)
            self._holders = merge_rows(self._holders, new, xp)
        self._week["issued"] = int(new.shape[0])
        self._week["holders"] = int(self._holders.shape[0])
        dropped = (xp.sort(xp.concatenate(self._dropped)) if self._dropped
                   else xp.zeros(0, dtype=xp.int64))
        self._dropped = []
        self._index = offers.add_coupon(
            self._holders, self.min_spend, self.amount_off, self.pct_off, source=self,
            key=self._key, issued=new, dropped=dropped, validity_weeks=self.validity_weeks,
        )

    def settle(self, model: LoyaltyModel, sale: Sale, week: int) -> None:
        """Grant the discount on the first order of the buyers who use this coupon."""
        if self._index < 0 or len(sale) == 0:
            return
        xp = model.xp
        # the top-up rule makes the order exactly the minimum spend, up to rounding
        reached = sale.first_order >= self.min_spend * (1.0 - 1e-12)
        pos = xp.nonzero((sale.coupon == self._index) & reached)[0]
        if not pos.shape[0]:
            return
        first = sale.first_order[pos]
        before = sale.discount[pos].copy()
        sale.apply_discount(
            "coupons", xp.minimum(self.amount_off + self.pct_off * first, first), where=pos
        )
        self._spent += float(xp.sum(sale.discount[pos] - before))
        model.population[f"{self._key}_issued_week"][sale.rows[pos]] = -1
        self._dropped.append(sale.rows[pos])
        self._outstanding -= int(pos.shape[0])
        self._week["redeemed"] = int(pos.shape[0])

    def end_of_week(self, model: LoyaltyModel, week: int) -> None:
        """Expire the coupons whose last valid week was this week; drop the holders who
        redeemed or lost theirs."""
        issued_week = model.population[f"{self._key}_issued_week"]
        last_issue = week - self.validity_weeks + 1  # coupons issued then expire now
        rows = self._issued_in.pop(last_issue, None)
        if rows is not None:
            # earlier issues expired in earlier weeks; a row whose coupon was redeemed may
            # hold a newer one
            expired = rows[issued_week[rows] == last_issue]
            issued_week[expired] = -1
            self._dropped.append(expired)
            self._outstanding -= int(expired.shape[0])
            self._week["expired"] = int(expired.shape[0])
        if self._week["expired"] or self._week["redeemed"]:
            # almost every holder stays: a boolean mask beats gathering at positions
            self._holders = self._holders[issued_week[self._holders] >= 0]

    def metrics(self, model: LoyaltyModel) -> dict[str, float]:
        """Coupons issued, redeemed and expired this week, and customers holding one."""
        key = model.policy_key(self)
        return {f"{key}_{k}": self._week.get(k, 0)
                for k in ("issued", "redeemed", "expired", "holders")}
