"""How customers use the coupons they hold: attention, top-up, choice at checkout.

A coupon counts only if its holder notices it and keeps it in mind: each coupon issued
is noticed with probability ``attention`` (a counter-based draw of the holder's row in
the week it was issued, in a stream named after the coupon kind, so the same customers
notice the same coupon in every arm). Most targeted coupons go unused: redemption runs
from about 1% for newspaper inserts to 8.5% at checkout and 17% for print-at-home
coupons (NCH 2012); on a grocery campaign log kept for acceptance, 6-17% of the
targeted households redeemed within six weeks (stylized fact C1).

At checkout a buyer looks at the coupons they noticed (Zhou et al.: baskets bunch just
above thresholds):

- an order at or above the minimum spend uses the coupon (a subsidy if it would have
  been bought anyway);
- an order short of it by a share :math:`\\delta` of the order is topped up to the
  threshold with probability :math:`\\max(0, 1 - \\delta / \\tau_s)`, where
  :math:`\\tau_s` is the segment's ``topup_share``: likely for a small shortfall,
  never beyond the segment's tolerance (a uniform of the buyer's week decides);
- among usable coupons the buyer takes the largest discount net of the extra spend.

The same rule gives a coupon's expected worth to a holder before the week
(:meth:`CouponUse.value_share`), which is what prompts extra trips
(:class:`loyaltylab.agents.terms.CouponTrips`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loyaltylab.agents.coefficients import Coefficients, coef
from loyaltylab.sim import common_rows, isin_rows, merge_rows, row_array, without_rows

if TYPE_CHECKING:
    from loyaltylab.sim import CouponOffer, LoyaltyModel, Offers


@dataclass(frozen=True)
class CouponUseCoefficients(Coefficients):
    """Coefficients of coupon use (see module docstring)."""

    attention: float = coef(
        0.15, 0.05, 0.30, "share of issued coupons the holder notices and keeps in mind",
        "C1: NCH 2012 (checkout 8.5%, print-at-home 17.3%); grocery campaign log, 6-17% "
        "of targeted households redeemed within 6 weeks",
        at_most=1.0,
    )


class CouponUse:
    """Attention to coupons and their use at checkout (module docstring).

    Parameters
    ----------
    coefficients : CouponUseCoefficients, optional
        Defaults from :class:`CouponUseCoefficients`.
    """

    def __init__(self, coefficients: CouponUseCoefficients | None = None) -> None:
        self.coefficients = coefficients or CouponUseCoefficients()
        self.behaviour: Any = None
        self._noticed: dict[int, Any] = {}
        self._new: dict[int, tuple[Any, Any]] = {}
        self._week = -1

    def __repr__(self) -> str:
        return f"CouponUse({self.coefficients!r})"

    def setup(self, model: LoyaltyModel, behaviour: Any) -> None:
        """Nobody has noticed anything yet; usual orders come from ``behaviour``."""
        self.behaviour = behaviour
        self._noticed = {}
        self._new = {}
        self._week = -1

    def refresh(self, model: LoyaltyModel, offers: Offers, week: int) -> None:
        """Bring the noticed holders of every coupon offer up to date (once a week).

        A holder keeps a coupon noticed until it is redeemed or expires (the policy drops
        them from the holders); the week's new coupons are noticed or not by a draw, and
        the worth of those noticed is kept for the week (:meth:`new_notices`).
        """
        if self._week == week:
            return
        self._week = week
        xp = model.xp
        kept: dict[int, Any] = {}
        self._new = {}
        for offer in offers.coupons:
            key = id(offer.source)
            old = self._noticed.get(key)
            new = row_array(offer.issued if offer.issued is not None else offer.rows,
                            model.population.n, xp)
            quiet = offer.dropped is not None and not offer.dropped.shape[0]
            if old is not None and offer.issued is not None and quiet and not new.shape[0]:
                kept[key] = old  # nothing issued, nothing dropped
                continue
            if old is not None and offer.issued is not None and old.shape[0]:
                # still held, and not replaced by a coupon issued this week
                if offer.dropped is not None:
                    stay = without_rows(old, offer.dropped, xp)
                else:
                    stay = isin_rows(old, offer.rows, xp)
                stay &= without_rows(old, new, xp)
                rows = old[stay]
            else:
                rows = xp.zeros(0, dtype=xp.int64)
            draw = model.streams.uniform(f"coupon_notice/{offer.key}", week, new)
            seen = new[draw < self.coefficients.attention]
            if seen.shape[0]:
                worth = self.value_share(model, offer, seen, xp.searchsorted(offer.rows, seen),
                                         self.behaviour.usual_order(model, seen))
                self._new[key] = (seen, worth)
                rows = merge_rows(rows, seen, xp)
            kept[key] = rows
        self._noticed = kept

    def noticed(self, offer: CouponOffer) -> Any:
        """Holders of ``offer`` who noticed it (ascending rows), after :meth:`refresh`."""
        return self._noticed[id(offer.source)]

    def new_notices(self, offer: CouponOffer) -> tuple[Any, Any] | None:
        """Holders who noticed ``offer`` this week (ascending rows) and its worth to them
        (:meth:`value_share`), or None."""
        return self._new.get(id(offer.source))

    def value_share(self, model: LoyaltyModel, offer: CouponOffer, rows: Any, holders_at: Any,
                    usual: Any) -> Any:
        """Expected discount of ``offer`` for ``rows`` (holders; positions ``holders_at``
        in ``offer.rows``) as a share of their usual order ``usual``: the discount at the
        order the coupon needs, times the chance of topping the usual order up to it."""
        xp = model.xp
        tolerance = model.segment_params["topup_share"][model.population["segment"][rows]]
        min_spend = _take(offer.min_spend, holders_at, xp)
        order = xp.maximum(usual, min_spend)
        short = (order - usual) / usual
        chance = xp.clip(1.0 - short / xp.maximum(tolerance, 1e-12), 0.0, 1.0)
        discount = _take(offer.amount_off, holders_at, xp) + _take(offer.pct_off, holders_at,
                                                                   xp) * order
        return xp.minimum(discount / usual, 1.0) * chance

    def choose(self, model: LoyaltyModel, buyers: Any, first_order: Any, offers: Offers,
               week: int) -> tuple[Any, Any]:
        """Which coupon each buyer (ascending rows) uses on the week's first order, and
        that order's value after any top-up (module docstring).

        Returns
        -------
        coupon : array of int64
            Index in ``offers.coupons``, -1 for none.
        first_order : array of float64
            The first order's value.
        """
        xp = model.xp
        coupon = xp.full(first_order.shape, -1, dtype=xp.int64)
        if not offers.coupons:
            return coupon, first_order
        self.refresh(model, offers, week)
        pop = model.population
        best = xp.zeros(first_order.shape, dtype=xp.float64)
        chosen = first_order.copy()
        luck = None
        for k, offer in enumerate(offers.coupons):
            held = common_rows(buyers, self.noticed(offer), xp)[0]
            if not held.shape[0]:
                continue
            at = xp.searchsorted(offer.rows, buyers[held])
            order = first_order[held]
            need = xp.maximum(_take(offer.min_spend, at, xp) - order, 0.0)
            usable = need <= 0.0
            short = xp.nonzero(~usable)[0]
            if short.shape[0]:
                if luck is None:
                    luck = model.streams.uniform("coupon_topup", week, buyers)
                tolerance = model.segment_params["topup_share"][
                    pop["segment"][buyers[held[short]]]]
                chance = 1.0 - need[short] / (order[short] * xp.maximum(tolerance, 1e-12))
                usable[short] = luck[held[short]] < chance
            gain = (_take(offer.amount_off, at, xp) + _take(offer.pct_off, at, xp)
                    * (order + need) - need)
            better = usable & (gain > best[held])
            take = held[better]
            best[take] = gain[better]
            coupon[take] = k
            chosen[take] = order[better] + need[better]
        return coupon, chosen


def _take(value: Any, at: Any, xp: Any) -> Any:
    """``value[at]`` for a per-holder array, or the scalar itself."""
    if hasattr(value, "shape") and getattr(value, "ndim", 0) > 0:
        return xp.asarray(value)[at]
    return value
