"""The purchases of one week: one entry per customer who buys."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from loyaltylab.sim.ledger import Ledger


@dataclass
class Sale:
    """This week's purchases, one entry per buying customer.

    The behaviour fills the customer's side in step 2 of the weekly pipeline (who buys,
    how often, basket values, which coupon, whether to redeem points, dropout); the
    policies settle the program's side in step 3 through :meth:`apply_discount` and the
    points fields.

    Attributes
    ----------
    rows : array of int64
        Buyers' rows.
    purchases : array of int64
        Orders placed this week (>= 1).
    first_order : array of float64
        Value of the first order at list prices (coupons apply to it), currency units.
    gross : array of float64
        Value of all the week's orders at list prices, currency units.
    coupon : array of int64
        Index in ``offers.coupons`` of the coupon the customer uses, -1 for none.
    redeem : array of bool
        The customer wants to redeem points if the balance allows.
    dropout : array of bool
        The customer drops out right after this week's last order (BG/NBD).
    discount : array of float64
        Discounts granted at checkout so far, currency units.
    points_earned, points_redeemed : array of int64
        Points awarded and burned this week.
    interaction_rows, interaction_counts : array of int64 or None
        Customers who interacted this week (visits, check-ins) and how often; reported
        only for the rows in ``offers.interaction_rows``.
    """

    rows: Any
    purchases: Any
    first_order: Any
    gross: Any
    coupon: Any
    redeem: Any
    dropout: Any
    discount: Any = None
    points_earned: Any = None
    points_redeemed: Any = None
    interaction_rows: Any = None
    interaction_counts: Any = None
    ledger: Ledger | None = field(default=None, repr=False)
    xp: Any = field(default=np, repr=False)

    def __post_init__(self) -> None:
        xp = self.xp
        k = self.rows.shape[0]
        if self.discount is None:
            self.discount = xp.zeros(k, dtype=xp.float64)
        if self.points_earned is None:
            self.points_earned = xp.zeros(k, dtype=xp.int64)
        if self.points_redeemed is None:
            self.points_redeemed = xp.zeros(k, dtype=xp.int64)

    def __len__(self) -> int:
        return int(self.rows.shape[0])

    @property
    def net(self) -> Any:
        """Amount paid: gross value minus discounts."""
        return self.gross - self.discount

    def apply_discount(self, component: str, amount: Any, where: Any = slice(None)) -> None:
        """Grant a discount at checkout and book it as program cost.

        Parameters
        ----------
        component : str
            Cost component (see :data:`loyaltylab.sim.ledger.COST_COMPONENTS`).
        amount : array of float
            Discount per selected buyer, currency units; capped at what is still to pay.
        where : index, optional
            Selects buyers (positions in this sale); all by default.
        """
        if self.ledger is None:
            raise RuntimeError("sale is not bound to a ledger")
        xp = self.xp
        amount = xp.minimum(xp.asarray(amount, dtype=xp.float64),
                            self.gross[where] - self.discount[where])
        self.discount[where] += amount
        self.ledger.add_cost(component, self.rows[where], amount)

    def select(self, where: Any) -> Sale:
        """The part of the sale at positions ``where`` (arrays are copies)."""
        return Sale(
            rows=self.rows[where],
            purchases=self.purchases[where],
            first_order=self.first_order[where],
            gross=self.gross[where],
            coupon=self.coupon[where],
            redeem=self.redeem[where],
            dropout=self.dropout[where],
            discount=self.discount[where],
            points_earned=self.points_earned[where],
            points_redeemed=self.points_redeemed[where],
            interaction_rows=self.interaction_rows,
            interaction_counts=self.interaction_counts,
            ledger=self.ledger,
            xp=self.xp,
        )

    @classmethod
    def concat(cls, parts: list[Sale]) -> Sale:
        """Join the sales of several behaviour groups into one."""
        if len(parts) == 1:
            return parts[0]
        xp = parts[0].xp
        names = ("rows", "purchases", "first_order", "gross", "coupon", "redeem", "dropout",
                 "discount", "points_earned", "points_redeemed")
        joined = {k: xp.concatenate([getattr(p, k) for p in parts]) for k in names}
        for k in ("interaction_rows", "interaction_counts"):
            present = [getattr(p, k) for p in parts if getattr(p, k) is not None]
            joined[k] = xp.concatenate(present) if present else None
        return cls(**joined, ledger=parts[0].ledger, xp=xp)
