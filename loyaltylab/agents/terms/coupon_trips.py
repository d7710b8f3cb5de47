"""Coupon trips: a coupon the holder noticed prompts an extra purchase occasion.

A noticed coupon prompts one extra occasion after a waiting time that is exponential
with a rate proportional to what the coupon is worth to the holder, its expected
discount as a share of their usual order
(:meth:`loyaltylab.agents.coupon_use.CouponUse.value_share`: zero when the threshold is
out of reach), times their incentive sensitivity:

.. math::

    T \\sim \\text{Exponential}(\\kappa\\, s_i\\, x_i) \\text{ weeks after the coupon
    arrives,}

if they still hold it then (a coupon used or expired prompts nothing). The occasion is
added to the customer's regular ones rather than multiplying them, so a coupon matters
most to those who rarely buy (a win-back offer) and adds little to a weekly shopper's
trips: the extra spend per redeemed coupon is a small share of its face value, most of
which subsidises purchases that happen anyway (Milkman & Beshears 2009: $1.59 per $10
coupon, C3). A prompted occasion may still end without the coupon (an order short of
the threshold), so part of the lift falls on non-redeemers (Venkatesan & Farris 2012,
C4).

The waiting time is drawn once, when the coupon is noticed (a counter-based draw of the
holder in the week of issue, in a stream named after the coupon kind): the same in every
arm, and nothing to draw for the holders in the weeks between.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loyaltylab.agents.coefficients import Coefficients, coef
from loyaltylab.agents.terms.base import ResponseTerm
from loyaltylab.sim import common_rows, row_array, union_rows

if TYPE_CHECKING:
    from loyaltylab.sim import LoyaltyModel, Offers

#: Prompted occasions further away than this many weeks are not kept: a coupon valid for
#: longer than two years prompts its occasion within the first two or not at all.
HORIZON_WEEKS = 104


@dataclass(frozen=True)
class CouponTripsCoefficients(Coefficients):
    """Coefficients of :class:`CouponTrips` (module docstring)."""

    trip_rate: float = coef(
        0.15, 0.05, 0.30, "rate (per week) of the prompted occasion per unit of coupon "
        "value / usual order",
        "C3: Milkman & Beshears 2009 JEBO 71, extra spend 16% of face value (calibrated "
        "on the incrementality study); C4: Venkatesan & Farris 2012 JM",
    )


class CouponTrips(ResponseTerm):
    """An extra purchase occasion prompted by a noticed coupon (module docstring)."""

    name = "coupon_trips"
    coefficients_class = CouponTripsCoefficients

    def setup(self, model: LoyaltyModel, behaviour: Any) -> None:
        """No trip scheduled yet."""
        super().setup(model, behaviour)
        self._due: dict[int, list[tuple[int, Any]]] = {}  # week -> (coupon source, rows)

    def extra_purchases(self, model: LoyaltyModel, rows: Any, offers: Offers,
                        week: int) -> tuple[Any, Any] | None:
        """Holders among ``rows`` whose prompted occasion falls in this week (one each)."""
        xp = model.xp
        use = self.behaviour.coupons
        if offers.coupons:
            use.refresh(model, offers, week)
            self._schedule(model, offers, week)
        due = self._due.pop(week, None)
        if not due:
            return None
        holders = {id(o.source): use.noticed(o) for o in offers.coupons}
        found = None
        for source, some in due:
            still = holders.get(source)
            if still is None or not still.shape[0]:
                continue
            some = some[common_rows(some, still, xp)[0]]
            found = some if found is None else union_rows(found, some, xp)
        if found is None or not found.shape[0]:
            return None
        if not (isinstance(rows, slice) and rows == slice(None)):
            found = found[common_rows(found, row_array(rows, model.population.n, xp), xp)[0]]
        return found, xp.ones(found.shape, dtype=xp.int64)

    def _schedule(self, model: LoyaltyModel, offers: Offers, week: int) -> None:
        """Draw when the coupons noticed this week prompt their occasion."""
        xp = model.xp
        use = self.behaviour.coupons
        for offer in offers.coupons:
            new = use.new_notices(offer)
            if new is None:
                continue
            rows, worth = new
            rate = worth * model.population["sensitivity"][rows] * self.coefficients.trip_rate
            keep = xp.nonzero(rate > 0)[0]
            rows, rate = rows[keep], rate[keep]
            u = model.streams.uniform(f"coupon_trip/{offer.key}", week, rows)
            wait = xp.floor(-xp.log1p(-u) / rate)
            soon = xp.nonzero(wait < HORIZON_WEEKS)[0]
            if not soon.shape[0]:
                continue
            wait = wait[soon].astype(xp.int64)
            order = xp.argsort(wait, kind="stable")  # rows stay ascending within a week
            wait, rows = wait[order], rows[soon][order]
            starts = xp.nonzero(xp.diff(wait, prepend=-1))[0].tolist()
            for a, b in zip(starts, [*starts[1:], int(wait.shape[0])], strict=True):
                # a loop over weeks, not customers
                self._due.setdefault(week + int(wait[a]), []).append(
                    (id(offer.source), rows[a:b]))

