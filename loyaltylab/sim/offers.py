"""What the program puts in front of customers in one week.

Policies write offers in step 1 of the weekly pipeline; behaviours read them in step 2.
Every field is ``None`` until a policy sets it, so a week without a program costs nothing
here. Dense fields hold one value per customer row; coupons are sparse (their holders);
the points program publishes its balances and reward size (:class:`PointsOffer`).

The set is open: a new incentive publishes whatever its customers respond to under a
name of its own (:meth:`Offers.publish`, e.g. a streak bonus's weeks in a row), and the
response term that reads it (:meth:`Offers.get`) is the only other code that knows the
name. The engine never does.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

#: Offer fields with one value per customer row.
_DENSE_FIELDS = ("rebate_share", "bonus_rebate_share", "status", "enrolled",
                 "dropout_multiplier", "reminded", "earn_multiplier")


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
    key : str
        Stable name of the coupon kind (the issuing policy's key, the same in every arm
        of an experiment): customers' attention to it is drawn from a stream of this name.
    issued : array of int or None
        Holders whose coupon was issued this week (ascending); ``None``: every holder's
        (a coupon held for this week only).
    dropped : array of int or None
        Last week's holders who no longer hold it (redeemed or expired), ascending;
        ``None``: not recorded (then ``rows`` tells).
    validity_weeks : int
        Weeks a coupon issued now can be used, this one included (for the record of
        :mod:`loyaltylab.sim.logs`).
    """

    rows: Any
    min_spend: Any
    amount_off: Any
    pct_off: Any
    source: object
    key: str = "coupon"
    issued: Any = None
    dropped: Any = None
    validity_weeks: int = 1


@dataclass
class PointsOffer:
    """The points program as its members see it this week.

    Attributes
    ----------
    balance : array of int32
        Every customer row's outstanding points (the ledger's own column: read only).
    redemption_block : int
        Points are redeemed in whole blocks of this many.
    value_per_point : float
        Currency value of a point at redemption.
    """

    balance: Any
    redemption_block: int
    value_per_point: float


class Offers:
    """The offers of one week, for ``n`` customer rows.

    Attributes
    ----------
    rebate_share : array of float32 or None
        Value returned to the customer per currency unit spent (points value, member
        discount), e.g. 0.01 for 1 point per yuan at 0.01 yuan per point, campaigns
        included.
    bonus_rebate_share : array of float32 or None
        The part of ``rebate_share`` that is a temporary campaign (double points).
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
    points : PointsOffer or None
        The points program's balances and reward size.

    Notes
    -----
    A policy that keeps a field's values up to date across weeks (tier status changes
    only when a tier does) can :meth:`lend` its array instead of writing the field every
    week; the field is then that array, read-only, and the first later write to the
    field works on a copy. So the offers of a week are valid during that week: copy them
    to keep them. A lender may say which rows changed since the week before
    (:meth:`changed`), so that a behaviour that remembers the field's values looks at
    those rows only.
    """

    def __init__(self, n: int, xp: ModuleType) -> None:
        self.n = n
        self.xp = xp
        self.rebate_share: Any = None
        self.bonus_rebate_share: Any = None
        self.status: Any = None
        self.enrolled: Any = None
        self.dropout_multiplier: Any = None
        self.reminded: Any = None
        self.earn_multiplier: Any = None
        self.interaction_rows: Any = None
        self.coupons: list[CouponOffer] = []
        self.points: PointsOffer | None = None
        self._lent: set[str] = set()
        self._changed: dict[str, Any] = {}
        self._published: dict[str, Any] = {}

    def publish(self, name: str, value: Any) -> None:
        """Publish ``value`` (any object: an array over customer rows, a table) under
        ``name`` for the response terms that read it; a second publication replaces it."""
        if not name or name in _DENSE_FIELDS or hasattr(self, name):
            raise ValueError(f"name: {name!r} is an offer field; publish under a new name")
        self._published[name] = value

    def get(self, name: str, default: Any = None) -> Any:
        """What a policy published under ``name`` this week, or ``default``."""
        return self._published.get(name, default)

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

    def lend(self, name: str, array: Any, changed: Any = None) -> bool:
        """Make ``array`` (one value per customer row, of the field's dtype) the field
        ``name`` (e.g. ``"status"``) without copying it, if the field is still unset.

        The field becomes a read-only view and the caller keeps the array up to date for
        later weeks. ``changed``: the rows (an array, or a slice) whose values changed
        since the array was lent the week before; ``None`` if unknown. Returns False,
        lending nothing, if the field is set already: the caller then writes its values
        with the field's setter.
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
        if changed is not None:
            self._changed[name] = changed
        return True

    def changed(self, name: str) -> Any:
        """Rows whose value of the dense field ``name`` changed since last week, as its
        lender declared them; ``None`` when unknown (the field was written, not lent, or
        its lender keeps no record): then any row may have changed."""
        if name not in self._lent:
            return None
        return self._changed.get(name)

    def _set(self, name: str, dtype: Any, fill: Any, rows: Any, values: Any) -> None:
        """``field[rows] = values``; a first write to every row builds the array at once."""
        if getattr(self, name) is None and isinstance(rows, slice) and rows == slice(None):
            setattr(self, name, self.xp.array(
                self.xp.broadcast_to(self.xp.asarray(values, dtype=dtype), (self.n,))))
        else:
            self._dense(name, dtype, fill)[rows] = values

    def add_rebate(self, rows: Any, share: Any, bonus: bool = False) -> None:
        """Add ``share`` (value per currency unit spent) to the rebate of ``rows``;
        ``bonus``: a temporary campaign's extra, also added to ``bonus_rebate_share``."""
        if bonus:
            self._dense("bonus_rebate_share", self.xp.float32, 0.0)[rows] += share
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
        self, rows: Any, min_spend: Any, amount_off: Any, pct_off: Any, source: object,
        key: str = "coupon", issued: Any = None, dropped: Any = None,
        validity_weeks: int = 1,
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
        self.coupons.append(
            CouponOffer(rows, min_spend, amount_off, pct_off, source, key, issued, dropped,
                        validity_weeks))
        return len(self.coupons) - 1
