"""Replayed coupons: a campaign sent to the shares of customers a campaign log shows.

To simulate a past campaign the model must send its coupon to customers like those who
got it. A customer base simulated from a calibrated population has no customer ids of
the log, so :class:`ReplayedCoupons` sends the coupon in the weeks the log has it, to
the same share of customers in each class of purchase history (purchases so far,
:func:`history_class`), chosen at random within the class: the replay assumes the firm
chose whom to send it to by that history alone (selection on observables), which holds
exactly for a randomised campaign and approximately for one targeted on recency or
frequency.

The coupon's terms, use and expiry are those of :class:`loyaltylab.policies.coupons.
CouponPolicy`; only who gets it, and when, differs.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field, model_validator

from loyaltylab.policies.coupons import CouponPolicy
from loyaltylab.sim import LoyaltyModel, rows_where

#: Upper bounds of the classes of purchase occasions so far (the first purchase
#: included): 1, 2, 3-4, 5 or more.
HISTORY_CLASSES = (1, 2, 4)

Shares = Annotated[list[Annotated[float, Field(ge=0, le=1)]],
                   Field(min_length=len(HISTORY_CLASSES) + 1, max_length=len(HISTORY_CLASSES) + 1)]


def history_class(occasions: Any, xp: Any) -> Any:
    """Class (0-3) of each customer's purchase occasions so far, first one included."""
    return xp.searchsorted(xp.asarray(HISTORY_CLASSES), occasions, side="left")


class ReplayedCoupons(CouponPolicy):
    """A coupon sent in given weeks to given shares of each history class.

    Attributes
    ----------
    schedule : dict of int to list of float
        Week of issue -> share of the customers of each :func:`history_class` who get
        the coupon that week (four shares in [0, 1]); other weeks send nothing.
    (other attributes)
        The coupon's terms, as :class:`loyaltylab.policies.coupons.CouponPolicy`
        (``per_customer_limit`` is off: the schedule decides). The schedule decides who
        gets it, so the targeting fields (``segments``, ``tiers``, ``trigger``,
        ``target_by``) are refused rather than ignored.
    """

    name: ClassVar[str] = "replay"

    schedule: dict[int, Shares]
    per_customer_limit: int | None = None

    @model_validator(mode="after")
    def _no_targeting(self) -> ReplayedCoupons:
        given = [n for n in ("segments", "tiers", "target_by") if getattr(self, n) is not None]
        if self.trigger != "always":
            given.append("trigger")
        if given:
            raise ValueError(f"{given[0]}: a replayed campaign goes to whom its schedule "
                             "says; targeting does not apply")
        return self

    def eligible(self, model: LoyaltyModel, week: int) -> Any:
        """Customers not holding the coupon, each with the share of their class (a
        draw of the row in the week, purpose ``replay/<key>``: the same in every run
        with the model's seed)."""
        shares = self.schedule.get(week)
        xp = model.xp
        if shares is None:
            return xp.zeros(0, dtype=xp.int64)
        pop = model.population
        key = self._key
        rows = xp.nonzero(pop[f"{key}_issued_week"] < 0)[0]
        occasions = pop["purchases"][rows] + 1  # the joining purchase is one
        share = xp.asarray(shares, dtype=xp.float64)[history_class(occasions, xp)]
        luck = model.streams.uniform(f"replay/{key}", week, rows)
        return rows_where(rows, luck < share, xp)
