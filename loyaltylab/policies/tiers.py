"""Tiers: status levels earned by spend and purchases, with benefits per tier.

Members (customers of ``segments``; everyone by default) hold one tier each, starting in
the base tier (the first). A tier is reached by meeting its thresholds over the
qualification window: net spend >= ``min_spend`` (currency units) and purchases >=
``min_purchases``, and, for a rank tier, being among the ``top_share`` of members with
the highest window spend. Each week, for members:

1. offers: enrolment, tier status ``tier / (n_tiers - 1)`` in [0, 1] (0 with a single
   tier), the tier's earn multiplier (read by the points policy, order 30) and its
   member discount as a rebate share;
2. settle (order 10, before coupons and points): buyers in a tier with ``discount_pct``
   get ``discount_pct x gross`` off every order, booked as ``tier_discounts``;
3. end of week: the week's purchases enter the window; upgrades; reviews; resets; service
   cost of the tiers' benefits.

Qualifying metrics
    Spend is what the member paid: ``sale.gross - sale.discount`` after every policy has
    settled (tier discounts, coupons, points redeemed), read at the end of the week from
    the sale kept at settle time (later policies mutate it in place). Purchases are
    ``sale.purchases`` (orders). Thresholds are met with a tolerance of 1e-6 currency
    units, which absorbs the rounding of rolling sums.
Windows (``window``; ``window_weeks`` = W weeks, also the review period)
    ``"rolling"``: exact sums over the last W weeks (weeks ``t-W+1 .. t``), kept with a
    sparse per-week log of (buyers, spend, purchases) whose entries are subtracted when
    they leave the window. ``"calendar"``: sums since the last review; every member's
    sums are reset right after the review at weeks ``t % W == 0``. ``"anniversary"``:
    each member's year runs from their ``join_week``; the member is reviewed at ``t``
    with ``(t - join_week) % W == 0`` and ``t > join_week``, then their sums are reset.
    Rolling and calendar windows are reviewed at ``t % W == 0`` (W = 52: once a year).
Upgrades
    Immediate: at the end of every week, member buyers whose window metrics meet the
    thresholds of a higher tier move up at once (only buyers' metrics rise, so only
    buyers are checked). Rank tiers (``top_share``) are granted only at reviews.
Reviews
    Each reviewed member's qualified tier is the highest tier whose conditions they meet;
    rank tiers rank the alive members by window spend (ties by row, so exactly
    ``floor(top_share x alive members)`` members are in the top share). A member above
    the qualified tier drops one step (``downgrade="one_step"``) or to the qualified tier
    (``"to_base"``: to the base tier unless they qualify for more), never below the
    qualified tier; a member below it moves up to it. Extension: a member of
    ``extension.tier`` who would drop but made >= ``extension.min_purchases`` purchases
    in the window keeps the tier until ``t + extension.weeks``, when they are reviewed
    again (without a further extension): kept if they re-qualified, dropped otherwise.
    An upgrade ends a running extension; a regular review that comes first (extension
    longer than the review period) replaces it.
Service cost
    ``service_cost_per_week`` (currency units per member-week) is charged, after the
    week's qualification, for each member of the tier who is active (purchased in the
    last 26 weeks), booked as ``service``: the firm cannot tell dropped-out customers
    from quiet ones.

Per-customer state: ``tier`` (int8), ``tier_spend`` (float64, currency units),
``tier_purchases`` (int32) and ``tier_hold_until`` (int16, week an extension ends, -1
for none). Weekly metrics ``tier_<name>``: alive members in each tier.

Examples
--------
>>> TiersPolicy().tier_names
['Regular', 'Silver', 'Gold', 'Diamond']
>>> TiersPolicy().tier_index("Gold")
2
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from loyaltylab.policies.base import MAX_AMOUNT, MAX_MULTIPLIER, ParamPolicy
from loyaltylab.policies.registry import register
from loyaltylab.sim import (
    ACTIVE_WINDOW_WEEKS,
    LoyaltyModel,
    Offers,
    Sale,
    count_rows,
    merge_rows,
    row_array,
    rows_where,
    unique_rows,
)

#: Tolerance on spend thresholds, currency units (rounding of rolling sums).
SPEND_TOLERANCE = 1e-6
#: Latest week an int16 week column can hold.
_LAST_WEEK = 32767


class Tier(BaseModel):
    """One status level and its benefits.

    Attributes
    ----------
    name : str
        Tier name (``"Gold"``); the weekly metric is ``tier_<name lowercased>``.
    min_spend : float
        Net spend over the qualification window needed, currency units, >= 0.
    min_purchases : int
        Purchases (orders) over the qualification window needed, >= 0.
    top_share : float or None
        Rank rule: the member must also be in this top share of alive members by
        window spend, in (0, 1] ("top 10% by spend": 0.1). Granted at reviews only.
    earn_multiplier : float
        Factor on the points earn rate, >= 0 (1.25: 25% more points).
    discount_pct : float
        Member discount on every order, share of the order value, in [0, 1).
    service_cost_per_week : float
        Cost of the tier's service benefits (lounge access), currency units per active
        member-week, >= 0.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    min_spend: float = Field(0.0, ge=0, le=MAX_AMOUNT, allow_inf_nan=False)
    min_purchases: int = Field(0, ge=0)
    top_share: float | None = Field(None, gt=0, le=1)
    earn_multiplier: float = Field(1.0, ge=0, le=MAX_MULTIPLIER, allow_inf_nan=False)
    discount_pct: float = Field(0.0, ge=0, lt=1)
    service_cost_per_week: float = Field(0.0, ge=0, le=MAX_AMOUNT, allow_inf_nan=False)


class Extension(BaseModel):
    """Soft landing: members of ``tier`` with enough purchases keep it a while longer.

    Attributes
    ----------
    tier : str
        Name of the tier the rule protects.
    min_purchases : int
        Purchases in the window needed to keep the tier, >= 1.
    weeks : int
        Weeks the tier is kept before the member is reviewed again, >= 1.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    tier: str
    min_purchases: int = Field(ge=1)
    weeks: int = Field(ge=1, le=_LAST_WEEK)


def _default_tiers() -> list[Tier]:
    return [
        Tier(name="Regular"),
        Tier(name="Silver", min_spend=3000.0, min_purchases=2, earn_multiplier=1.25),
        Tier(name="Gold", min_spend=10000.0, min_purchases=5, earn_multiplier=1.5,
             discount_pct=0.02),
        Tier(name="Diamond", min_spend=30000.0, min_purchases=12, earn_multiplier=2.0,
             discount_pct=0.05, service_cost_per_week=5.0),
    ]


def _num(x: float) -> str:
    return f"{x:.15g}"


@register("tiers")
class TiersPolicy(ParamPolicy):
    """A tiered status program (see module docstring for the rules).

    Attributes
    ----------
    tiers : list of Tier
        The tiers from the base tier up; thresholds are non-decreasing. Default: the
        strategy's Regular, Silver (3000 yuan, 2 purchases), Gold (10000 yuan, 5
        purchases, 2% off) and Diamond (30000 yuan, 12 purchases, 5% off, 5 yuan per
        active member-week of service).
    window : {"rolling", "calendar", "anniversary"}
        Qualification window (module docstring).
    window_weeks : int
        Length of the window and review period, weeks (52: a year).
    downgrade : {"one_step", "to_base"}
        How far a member who failed to requalify drops at a review.
    extension : Extension or None
        Soft-landing rule (default: a Gold member with >= 6 purchases in the window
        keeps Gold 13 more weeks); None: no extension.
    segments : list of str or None
        Members of the program: customers of these segments (None: everyone).
    """

    name: ClassVar[str] = "tiers"
    order: ClassVar[int] = 10

    tiers: list[Tier] = Field(default_factory=_default_tiers)
    window: Literal["rolling", "calendar", "anniversary"] = "rolling"
    window_weeks: int = Field(52, ge=1, le=_LAST_WEEK)
    downgrade: Literal["one_step", "to_base"] = "one_step"
    extension: Extension | None = Field(
        default_factory=lambda: Extension(tier="Gold", min_purchases=6, weeks=13)
    )
    segments: list[str] | None = None

    _segment_ids: Any = PrivateAttr(default=None)
    _member_cache: Any = PrivateAttr(default=None)
    _upper: Any = PrivateAttr(default=None)
    _tables: dict[str, Any] = PrivateAttr(default_factory=dict)
    _offer: dict[str, Any] = PrivateAttr(default_factory=dict)
    _sale: Any = PrivateAttr(default=None)
    _status_changes: list[Any] | None = PrivateAttr(default=None)
    _log: Any = PrivateAttr(default_factory=deque)
    _holds: dict[int, list[Any]] = PrivateAttr(default_factory=dict)
    _buckets: dict[int, list[Any]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _check_tiers(self) -> TiersPolicy:
        tiers = self.tiers
        if not tiers:
            raise ValueError("tiers: at least one tier is needed (the base tier)")
        if len(tiers) > 127:
            raise ValueError(f"tiers: at most 127 tiers, got {len(tiers)}")
        names = [t.name for t in tiers]
        lowered = [n.lower() for n in names]
        if len(set(lowered)) != len(lowered):
            raise ValueError(f"tiers: names must be unique (ignoring case), got {names}")
        base = tiers[0]
        if base.min_spend != 0 or base.min_purchases != 0 or base.top_share is not None:
            raise ValueError(
                f"tiers[0]: the base tier {base.name!r} must have min_spend 0, "
                "min_purchases 0 and no top_share"
            )
        for i in range(1, len(tiers)):
            prev, cur = tiers[i - 1], tiers[i]
            for field in ("min_spend", "min_purchases"):
                a, b = getattr(prev, field), getattr(cur, field)
                if b < a:
                    raise ValueError(
                        f"tiers[{i}].{field}: must be >= tiers[{i - 1}].{field} "
                        f"({_num(a)}), got {_num(b)}"
                    )
        if self.extension is not None and self.extension.tier not in names:
            raise ValueError(
                f"extension.tier: unknown tier {self.extension.tier!r}; tiers are {names}"
            )
        return self

    # ------------------------------------------------------------------ public helpers
    @property
    def tier_names(self) -> list[str]:
        """Names of the tiers, from the base tier up."""
        return [t.name for t in self.tiers]

    def tier_ids(self, model: LoyaltyModel, names: list[str], field: str) -> Any:
        """Indices of the tiers ``names`` (int8), with an error naming ``field``."""
        unknown = [n for n in names if n not in self.tier_names]
        if unknown:
            raise ValueError(f"{field}: unknown tier(s) {unknown}; the tiers are "
                             f"{self.tier_names}")
        return model.xp.asarray([self.tier_names.index(n) for n in names], dtype=model.xp.int8)

    def tier_index(self, name: str) -> int:
        """Index of the tier called ``name`` (0 = base tier).

        Raises
        ------
        ValueError
            If no tier has that name.
        """
        names = self.tier_names
        if name not in names:
            raise ValueError(f"tier: unknown tier {name!r}; tiers are {names}")
        return names.index(name)

    def tier_of(self, model: LoyaltyModel, rows: Any = slice(None)) -> Any:
        """Current tier index (int8, 0 = base) of ``rows``; non-members are at 0."""
        return model.population["tier"][rows].copy()

    def members(self, model: LoyaltyModel, rows: Any = slice(None)) -> Any:
        """Boolean mask over ``rows``: the customer is a member of the tier program."""
        return self.in_segments(model, self._segment_ids, rows)

    def in_tiers(self, model: LoyaltyModel, tier_ids: Any, rows: Any = slice(None)) -> Any:
        """Boolean mask over ``rows``: the customer's tier is one of ``tier_ids``."""
        table = model.xp.zeros(128, dtype=bool)  # tiers are int8 >= 0
        table[tier_ids] = True
        return table[model.population["tier"][rows]]

    def upper_rows(self, model: LoyaltyModel) -> Any:
        """Members above the base tier (ascending rows), cached: upgrades are merged in,
        reviews and joins rebuild them."""
        if self._upper is None:
            mask = model.population["tier"] > 0
            if self._segment_ids is not None:
                mask &= self.members(model)
            self._upper = model.xp.nonzero(mask)[0]
        return self._upper

    def next_tier_progress(self, model: LoyaltyModel, rows: Any = slice(None)) -> Any:
        """Window spend over the next tier's ``min_spend``, capped at 1 (float32).

        1 for members at the top tier or whose next tier needs no spend; 0 for
        non-members.
        """
        xp = model.xp
        pop = model.population
        tables = self._tables
        tier = pop["tier"][rows].astype(xp.int64)
        top = len(self.tiers) - 1
        need = tables["min_spend"][xp.minimum(tier + 1, top)]
        spend = pop["tier_spend"][rows]
        ratio = spend / xp.where(need > 0, need, 1.0)
        progress = xp.where((need > 0) & (tier < top), xp.minimum(ratio, 1.0), 1.0)
        if self._segment_ids is not None:
            progress = xp.where(self.members(model, rows), progress, 0.0)
        return progress.astype(xp.float32)

    # ------------------------------------------------------------------ hooks
    def setup(self, model: LoyaltyModel) -> None:
        """Check there is one tiers policy; resolve segments; add the tier columns."""
        if len(model.find_policies(TiersPolicy)) > 1:
            raise ValueError("policies: a model can run one tiers policy (one tier per member)")
        xp = model.xp
        self._segment_ids = self.segment_ids(model, self.segments, "segments")
        pop = model.population
        pop.add_column("tier", xp.int8, 0)
        pop.add_column("tier_spend", xp.float64, 0.0)
        pop.add_column("tier_purchases", xp.int32, 0)
        pop.add_column("tier_hold_until", xp.int16, -1)
        n_tiers = len(self.tiers)
        self._tables = {
            "min_spend": xp.asarray([t.min_spend for t in self.tiers], dtype=xp.float64),
            "status": xp.asarray(
                [i / (n_tiers - 1) if n_tiers > 1 else 0.0 for i in range(n_tiers)],
                dtype=xp.float32,
            ),
            "earn": xp.asarray([t.earn_multiplier for t in self.tiers], dtype=xp.float32),
            "discount": xp.asarray([t.discount_pct for t in self.tiers], dtype=xp.float64),
            "service": xp.asarray(
                [t.service_cost_per_week for t in self.tiers], dtype=xp.float64
            ),
        }
        self._member_cache = None
        self._offer = {}
        self._status_changes = None
        self._sale = None
        self._log = deque()
        self._holds = {}
        self._buckets = {}
        self._enter(model, slice(0, pop.n))
        if self.window == "anniversary" and pop.n:
            self._add_to_buckets(model, slice(0, pop.n))

    def on_join(self, model: LoyaltyModel, rows: Any) -> None:
        """New customers enter; schedule their anniversary reviews."""
        self._enter(model, rows)
        if self.window == "anniversary":
            self._add_to_buckets(model, rows)

    def _enter(self, model: LoyaltyModel, rows: slice) -> None:
        """New members start in the highest tier that asks for nothing (the base tier,
        unless tiers above it have zero thresholds)."""
        self._upper = None
        entry = max(i for i, t in enumerate(self.tiers)
                    if t.min_spend <= SPEND_TOLERANCE and t.min_purchases == 0
                    and t.top_share is None)
        if entry:
            tier = model.population["tier"]
            tier[rows] = model.xp.where(self.members(model, rows), entry, 0)

    def make_offers(self, model: LoyaltyModel, offers: Offers, week: int) -> None:
        """Enrolment, status, earn multiplier and member-discount rebate of members.

        Base-tier members have status 0, multiplier 1 and no discount (the defaults of
        the offers), so only members above the base tier are touched. The values are
        kept per row across weeks and lent to the offers (they change only with tiers).
        """
        rows = self._member_rows(model)
        offers.enrol(rows)
        upper = self.upper_rows(model)
        offer = self._offer_arrays(model)
        changes, self._status_changes = self._status_changes, []
        changed = None
        if changes is not None:
            xp = model.xp
            changed = (unique_rows(xp.concatenate([row_array(c, model.population.n, xp)
                                                   for c in changes]), xp)
                       if changes else xp.zeros(0, dtype=xp.int64))
        # status is offered even when nobody is above the base tier: a demotion to base
        # must still register with the customers' memory of their status
        if not offers.lend("status", offer["status"], changed=changed):
            offers.set_status(upper, offer["status"][upper])
        if not upper.size:
            return
        if any(t.earn_multiplier != 1.0 for t in self.tiers) and not offers.lend(
                "earn_multiplier", offer["earn"]):
            offers.scale_earn(upper, offer["earn"][upper])
        if any(t.discount_pct > 0 for t in self.tiers) and not offers.lend(
                "rebate_share", offer["discount"]):
            offers.add_rebate(upper, offer["discount"][upper])

    def _offer_arrays(self, model: LoyaltyModel) -> dict[str, Any]:
        """Status, earn multiplier and member discount of every row (float32), extended
        when customers join and kept up to date by :meth:`_tiers_changed`."""
        n = model.population.n
        xp = model.xp
        defaults = {"status": 0.0, "earn": 1.0, "discount": 0.0}
        if not self._offer:
            self._offer = {k: xp.full(n, v, dtype=xp.float32) for k, v in defaults.items()}
            self._tiers_changed(model, self.upper_rows(model))
        elif self._offer["status"].shape[0] != n:
            old = self._offer["status"].shape[0]
            self._offer = {k: xp.concatenate((a, xp.full(n - old, defaults[k], dtype=xp.float32)))
                           for k, a in self._offer.items()}
            self._tiers_changed(model, slice(old, n))
        return self._offer

    def _tiers_changed(self, model: LoyaltyModel, rows: Any) -> None:
        """Bring the offer arrays of ``rows`` up to date with their (new) tiers (the base
        tier has the offers' defaults), and record them as changed for the next week's
        offers."""
        if self._status_changes is not None:
            self._status_changes.append(rows)
        if not self._offer:
            return
        xp = model.xp
        tier = model.population["tier"][rows]
        base = xp.arange(len(self.tiers)) == 0
        for name, default in (("status", 0.0), ("earn", 1.0), ("discount", 0.0)):
            self._offer[name][rows] = xp.where(base, default, self._tables[name])[tier]

    def settle(self, model: LoyaltyModel, sale: Sale, week: int) -> None:
        """Member discounts at checkout; keep the sale to read its final net amounts."""
        xp = model.xp
        self._sale = sale
        if not len(sale) or not any(t.discount_pct > 0 for t in self.tiers):
            return
        pct = self._tables["discount"][model.population["tier"][sale.rows]]
        if self._segment_ids is not None:
            pct = xp.where(self.members(model, sale.rows), pct, 0.0)
        pos = xp.nonzero(pct > 0)[0]
        if pos.size:
            sale.apply_discount("tier_discounts", pct[pos] * sale.gross[pos], where=pos)

    def end_of_week(self, model: LoyaltyModel, week: int) -> None:
        """Window update, upgrades, reviews and resets, then service cost."""
        self._record_week(model, week)
        self._review_due(model, week)
        self._charge_service(model, week)

    def metrics(self, model: LoyaltyModel) -> dict[str, float]:
        """Alive members in each tier: ``tier_<name lowercased>``."""
        xp = model.xp
        pop = model.population
        alive = pop["alive"]
        members = alive if self._segment_ids is None else alive & self.members(model)
        upper = self.upper_rows(model)
        tier = pop["tier"][upper] * alive[upper]  # dead members in no tier above the base
        # a count per tier beats a bincount (and a compress of the alive) for a few tiers
        counts = [int(xp.count_nonzero(tier == i)) for i in range(1, len(self.tiers))]
        counts.insert(0, int(xp.count_nonzero(members)) - sum(counts))
        return {f"tier_{t.name.lower()}": c for t, c in zip(self.tiers, counts, strict=True)}

    # ------------------------------------------------------------------ internals
    def _member_rows(self, model: LoyaltyModel) -> Any:
        """Rows of the members: ``slice(None)`` for everyone, else an array (cached)."""
        if self._segment_ids is None:
            return slice(None)
        n = model.population.n
        if self._member_cache is None or self._member_cache[0] != n:
            self._member_cache = (n, model.xp.nonzero(self.members(model))[0])
        return self._member_cache[1]

    def _add_to_buckets(self, model: LoyaltyModel, rows: slice) -> None:
        """File member ``rows`` under their anniversary phase ``join_week % W``."""
        xp = model.xp
        idx = xp.arange(rows.start, rows.stop, dtype=xp.int64)
        if self._segment_ids is not None:
            idx = idx[self.members(model, idx)]
        if not idx.size:
            return
        phase = model.population["join_week"][idx].astype(xp.int64) % self.window_weeks
        for p in xp.unique(phase).tolist():
            self._buckets.setdefault(int(p), []).append(idx[phase == p])

    def _record_week(self, model: LoyaltyModel, week: int) -> None:
        """Add the week's member purchases to the windows; upgrade qualifying buyers."""
        xp = model.xp
        pop = model.population
        sale, self._sale = self._sale, None
        spend_col, purch_col = pop["tier_spend"], pop["tier_purchases"]
        if sale is not None and len(sale):
            rows = sale.rows
            net = sale.gross - sale.discount
            purchases = sale.purchases
            if self._segment_ids is not None:
                keep = xp.nonzero(self.members(model, rows))[0]
                rows, net, purchases = rows[keep], net[keep], purchases[keep]
            purchases = purchases.astype(xp.int32)
            sums: Any = (spend_col[rows] + net, purch_col[rows] + purchases)
            spend_col[rows], purch_col[rows] = sums
            if self.window == "rolling":
                self._log.append((week, rows, net, purchases))
        else:
            rows, sums = xp.zeros(0, dtype=xp.int64), None
        if self.window == "rolling":
            while self._log and self._log[0][0] <= week - self.window_weeks:
                sums = None  # purchases left the window: the buyers' sums must be read again
                _, old_rows, old_net, old_purchases = self._log.popleft()
                left = purch_col[old_rows] - old_purchases
                purch_col[old_rows] = left
                # times "purchases left" (0 or 1) rather than a select on a scattered mask
                spend_col[old_rows] = xp.maximum(spend_col[old_rows] - old_net, 0.0) * (left > 0)
        if rows.size:
            qualified = self._qualified(model, rows, ranks=None, sums=sums)
            current = pop["tier"][rows]
            up = xp.nonzero(qualified > current)[0]
            moved = rows[up]
            pop["tier"][moved] = qualified[up]
            pop["tier_hold_until"][moved] = -1
            self._tiers_changed(model, moved)
            entering = rows_where(moved, current[up] == 0, xp)
            if self._upper is not None and entering.size:
                # rows are unique, so the new upper rows are not among the cached ones
                self._upper = merge_rows(self._upper, entering, xp)

    def _review_due(self, model: LoyaltyModel, week: int) -> None:
        """Reviews at period end and at the end of extensions; resets after them."""
        xp = model.xp
        pop = model.population
        ranks: Any = None
        due: Any = None
        if self.window == "anniversary":
            parts = self._buckets.get(week % self.window_weeks, [])
            if parts:
                due = xp.concatenate(parts)
                due = due[pop["join_week"][due] < week]
        elif week % self.window_weeks == 0:
            due = self.segment_rows(model, self._segment_ids)  # a slice for consecutive rows
        reviewed = due is not None and count_rows(due, pop.n) > 0
        if reviewed:
            ranks = self._ranks(model)
            self._review(model, due, week, ranks, extend=True)
        ending = self._holds.pop(week, None)
        if ending:
            rows = xp.concatenate(ending)
            rows = rows[pop["tier_hold_until"][rows] == week]
            if rows.size:
                if ranks is None:
                    ranks = self._ranks(model)
                self._review(model, rows, week, ranks, extend=False)
        if reviewed:
            if self.window == "calendar":
                pop["tier_spend"][:] = 0.0
                pop["tier_purchases"][:] = 0
            elif self.window == "anniversary":
                pop["tier_spend"][due] = 0.0
                pop["tier_purchases"][due] = 0

    def _ranks(self, model: LoyaltyModel) -> tuple[Any, int] | None:
        """Rank (1 = highest window spend) of alive members and their count, if needed."""
        if all(t.top_share is None for t in self.tiers):
            return None
        xp = model.xp
        pop = model.population
        ranked = pop["alive"]
        if self._segment_ids is not None:
            ranked = ranked & self.members(model)
        idx = xp.nonzero(ranked)[0]
        order = xp.argsort(-pop["tier_spend"][idx], kind="stable")
        rank = xp.full(pop.n, np.iinfo(np.int64).max, dtype=xp.int64)
        rank[idx[order]] = xp.arange(1, idx.size + 1, dtype=xp.int64)
        return rank, int(idx.size)

    def _qualified(self, model: LoyaltyModel, rows: Any, ranks: tuple[Any, int] | None,
                   sums: tuple[Any, Any] | None = None) -> Any:
        """Highest tier whose conditions ``rows`` meet (int8); rank tiers need ``ranks``.

        ``sums``: the window spend and purchases of ``rows`` if at hand (else read).
        """
        xp = model.xp
        pop = model.population
        if sums is None:
            sums = pop["tier_spend"][rows], pop["tier_purchases"][rows]
        spend, purchases = sums
        qualified = xp.zeros(spend.shape, dtype=xp.int8)
        for i, tier in enumerate(self.tiers[1:], start=1):
            if tier.top_share is not None and ranks is None:
                continue
            ok = (spend >= tier.min_spend - SPEND_TOLERANCE) & (purchases >= tier.min_purchases)
            if tier.top_share is not None:
                rank, alive = ranks
                ok &= rank[rows] <= math.floor(tier.top_share * alive + 1e-9)
            # the highest tier met: tiers are checked from the base up
            xp.maximum(qualified, ok * xp.int8(i), out=qualified)
        return qualified

    def _review(
        self, model: LoyaltyModel, rows: Any, week: int, ranks: Any, extend: bool
    ) -> None:
        """Move ``rows`` to their reviewed tier (module docstring, Reviews)."""
        xp = model.xp
        pop = model.population
        current = pop["tier"][rows]
        qualified = self._qualified(model, rows, ranks)
        if self.downgrade == "one_step":
            down = xp.maximum(current - 1, qualified).astype(xp.int8)
        else:
            down = qualified
        new = xp.where(qualified >= current, qualified, down)
        pop["tier_hold_until"][rows] = -1
        if extend and self.extension is not None:
            ext = self.extension
            keep = (
                (current == self.tier_index(ext.tier))
                & (qualified < current)
                & (pop["tier_purchases"][rows] >= ext.min_purchases)
            )
            kept = rows_where(rows, keep, xp)
            if kept.size:
                new = xp.where(keep, current, new)
                until = min(week + ext.weeks, _LAST_WEEK)
                pop["tier_hold_until"][kept] = until
                self._holds.setdefault(until, []).append(kept)
        changed = rows_where(rows, new != current, xp)  # before: ``current`` may be a view
        pop["tier"][rows] = new
        if changed.size:
            self._tiers_changed(model, changed)
            self._upper = None

    def _charge_service(self, model: LoyaltyModel, week: int) -> None:
        """Service cost per active member-week of the tiers that have one."""
        if not any(t.service_cost_per_week > 0 for t in self.tiers):
            return
        xp = model.xp
        pop = model.population
        upper = self.upper_rows(model)
        served = rows_where(upper, (self._tables["service"] > 0)[pop["tier"][upper]], xp)
        active = rows_where(served, pop["last_purchase"][served] > week - ACTIVE_WINDOW_WEEKS, xp)
        if active.size:
            model.ledger.add_cost("service", active, self._tables["service"][pop["tier"][active]])


def find_tiers(model: LoyaltyModel, field: str, why: str) -> TiersPolicy:
    """The model's tiers policy, or an error naming ``field``: ``{field}: {why} needs a
    tiers policy``."""
    found = model.find_policies(TiersPolicy)
    if not found:
        raise ValueError(f"{field}: {why} needs a tiers policy in the design")
    return found[0]
