"""What the program puts in front of customers in one week.

Policies write offers in step 1 of the weekly pipeline; behaviours read them in step 2.
Every field is ``None`` until a policy sets it, so a week without a program costs nothing
here. Dense fields hold one value per customer row; coupons are sparse (their holders).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

#: Offer fields with one value per customer row.
_DENSE_FIELDS = ("goal_progress", "rebate_share", "status", "enrolled", "dropout_multiplier",
                 "reminded", "earn_multiplier")


@dataclass
class CouponOffer:
    """A coupon held by some customers this week.

    Attributes
    ----------
    rows : array of int
        Holders' rows, ascending and unique.
    min_spend : float or array
        Order value needed to use it (currency units; 0 for none).
    amount_off : float or array
        Fixed discount (currency units).
    pct_off : float or array
        Percentage discount as a share of the order value, in [0, 1].
    source : object
        The policy that issued it; it settles the redemption.
    """

    rows: Any
    min_spend: Any
    amount_off: Any
    pct_off: Any
    source: object


class Offers:
    """The offers of one week, for ``n`` customer rows.

    Attributes
    ----------
    goal_progress : array of float32 or None
        Share of the distance to the next reward already covered, in [0, 1].
    rebate_share : array of float32 or None
        Value returned to the customer per currency unit spent (points value, member
        discount), e.g. 0.01 for 1 point per yuan at 0.01 yuan per point.
    status : array of float32 or None
        Tier status in [0, 1] (0 = base tier, 1 = top tier).
    enrolled : array of bool or None
        Member of the program this week.
    dropout_multiplier : array of float32 or None
        Factor on the dropout probability (service benefits; 1 = no effect).
    reminded : array of bool or None
        Received a repurchase reminder this week.
    earn_multiplier : array of float32 or None
        Factor on the points earn rate (tier multipliers); read by the points policy.
    interaction_rows : array of int or None
        Customers whose interactions (check-ins) a policy rewards this week, ascending;
        the behaviour reports theirs in ``sale.interaction_rows`` /
        ``sale.interaction_counts``.
    coupons : list of CouponOffer
        Coupons held this week.

    Notes
    -----
    A policy that keeps a field's values up to date across weeks (tier status changes
    only when a tier does) can :meth:`lend` its array instead of writing the field every
    week; the field is then that array, read-only, and the first later write to the
    field works on a copy. So the offers of a week are valid during that week: copy them
    to keep them.
    """

    def __init__(self, n: int, xp: ModuleType) -> None:
        self.n = n
        self.xp = xp
        self.goal_progress: Any = None
        self.rebate_share: Any = None
        self.status: Any = None
        self.enrolled: Any = None
        self.dropout_multiplier: Any = None
        self.reminded: Any = None
        self.earn_multiplier: Any = None
        self.interaction_rows: Any = None
        self.coupons: list[CouponOffer] = []
        self._lent: set[str] = set()

    def _dense(self, name: str, dtype: Any, fill: Any) -> Any:
        """The field's array, to write to: built on first use, copied if it is lent."""
        array = getattr(self, name)
        if array is None:
            array = self.xp.full(self.n, fill, dtype=dtype)
            setattr(self, name, array)
        elif name in self._lent:
            self._lent.discard(name)
            array = array.copy()
            setattr(self, name, array)
        return array

    def lend(self, name: str, array: Any) -> bool:
        """Make ``array`` (one value per customer row, of the field's dtype) the field
        ``name`` (e.g. ``"status"``) without copying it, if the field is still unset.

        The field becomes a read-only view and the caller keeps the array up to date for
        later weeks. Returns False, lending nothing, if the field is set already: the
        caller then writes its values with the field's setter.
        """
        if name not in _DENSE_FIELDS:
            raise ValueError(f"name: no dense offer field {name!r}; fields are {_DENSE_FIELDS}")
        if getattr(self, name) is not None:
            return False
        view = array.view()
        if isinstance(view, np.ndarray):  # CuPy arrays cannot be made read-only
            view.flags.writeable = False
        setattr(self, name, view)
        self._lent.add(name)
        return True

    def _set(self, name: str, dtype: Any, fill: Any, rows: Any, values: Any) -> None:
        """``field[rows] = values``; a first write to every row builds the array at once."""
        if getattr(self, name) is None and isinstance(rows, slice) and rows == slice(None):
            setattr(self, name, self.xp.array(
                self.xp.broadcast_to(self.xp.asarray(values, dtype=dtype), (self.n,))))
        else:
            self._dense(name, dtype, fill)[rows] = values

    def set_goal_progress(self, rows: Any, progress: Any) -> None:
        """Set the goal progress (share in [0, 1]) of ``rows`` (``slice(None)`` for all)."""
        self._set("goal_progress", self.xp.float32, 0.0, rows, progress)

    def add_rebate(self, rows: Any, share: Any) -> None:
        """Add ``share`` (value per currency unit spent) to the rebate of ``rows``."""
        if self.rebate_share is None:
            self._set("rebate_share", self.xp.float32, 0.0, rows, share)
        elif "rebate_share" in self._lent and isinstance(rows, slice) and rows == slice(None):
            # the sum in a new array, rather than a copy of the lent one and the sum in it
            lent = self.rebate_share
            self.rebate_share = self.xp.add(lent, share, out=self.xp.empty_like(lent))
            self._lent.discard("rebate_share")
        else:
            self._dense("rebate_share", self.xp.float32, 0.0)[rows] += share

    def set_status(self, rows: Any, status: Any) -> None:
        """Set the tier status (in [0, 1]) of ``rows``."""
        self._set("status", self.xp.float32, 0.0, rows, status)

    def enrol(self, rows: Any) -> None:
        """Mark ``rows`` as program members this week."""
        self._set("enrolled", bool, False, rows, True)

    def scale_dropout(self, rows: Any, factor: Any) -> None:
        """Multiply the dropout probability of ``rows`` by ``factor``."""
        self._dense("dropout_multiplier", self.xp.float32, 1.0)[rows] *= factor

    def remind(self, rows: Any) -> None:
        """Send ``rows`` a repurchase reminder this week."""
        self._dense("reminded", bool, False)[rows] = True

    def request_interactions(self, rows: Any) -> None:
        """Ask the behaviour to report the interactions of ``rows`` (ascending, unique)."""
        if self.interaction_rows is None:
            self.interaction_rows = rows
        else:
            self.interaction_rows = self.xp.union1d(self.interaction_rows, rows)

    def scale_earn(self, rows: Any, factor: Any) -> None:
        """Multiply the points earn rate of ``rows`` by ``factor``."""
        self._dense("earn_multiplier", self.xp.float32, 1.0)[rows] *= factor

    def add_coupon(
        self, rows: Any, min_spend: Any, amount_off: Any, pct_off: Any, source: object
    ) -> int:
        """Give ``rows`` (ascending, unique) a coupon; see :class:`CouponOffer`.

        Returns
        -------
        int
            Index of the offer in :attr:`coupons` (``sale.coupon`` refers to it), or -1
            if nobody holds it.
        """
        if not len(rows):
            return -1
        self.coupons.append(CouponOffer(rows, min_spend, amount_off, pct_off, source))
        return len(self.coupons) - 1
