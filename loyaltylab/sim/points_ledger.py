"""The points ledger: integer points, earned, redeemed and expired oldest first.

Points are integers and the ledger balances exactly at every moment::

    earned = redeemed + expired + outstanding

Per customer it keeps the running total of points earned and the balance; points
*consumed* (redeemed or expired) are their difference. Expiry is per award: points earned in week
``w`` expire in week ``w + expiry_weeks`` unless consumed before, oldest first (FIFO).
Under FIFO the points of awards up to week ``w`` still outstanding in week ``t`` are
``max(0, earned_through(w) - consumed(t))``, so the ledger only has to remember, for each
week, the customers who earned that week and their running total after it: a sparse log
whose size is the number of earning customers, not the number of customers.
"""

from __future__ import annotations

from typing import Any

from loyaltylab.sim.population import Population, as_slice


class PointsLedger:
    """Integer points of every customer, with per-award expiry.

    Parameters
    ----------
    population : Population
        The customers; the columns ``points_earned`` (running total) and
        ``points_balance`` (int32) are added when the first points are earned.

    Attributes
    ----------
    expiry_weeks : int or None
        Points expire this many weeks after the week they were earned; ``None``: never.
        Set by the points policy before the first award.
    """

    def __init__(self, population: Population) -> None:
        self.population = population
        self.xp = population.xp
        self.expiry_weeks: int | None = None
        self._log: dict[int, list[tuple[Any, Any]]] = {}
        self.total_earned = 0
        self.total_redeemed = 0
        self.total_expired = 0
        self.begin_week(0)

    def begin_week(self, week: int) -> None:
        """Reset the week's totals."""
        self.week = week
        self.earned = 0
        self.redeemed = 0
        self.expired = 0

    @property
    def outstanding(self) -> int:
        """Points earned and neither redeemed nor expired."""
        return self.total_earned - self.total_redeemed - self.total_expired

    def _columns(self) -> tuple[Any, Any]:
        pop = self.population
        pop.ensure_column("points_earned", self.xp.int32, 0)
        pop.ensure_column("points_balance", self.xp.int32, 0)
        return pop["points_earned"], pop["points_balance"]

    def balance(self, rows: Any = slice(None)) -> Any:
        """Outstanding points of ``rows`` (a view for a slice: do not write to it)."""
        return self._columns()[1][rows]

    def _set_balance(self, rows: Any, balance: Any) -> None:
        """Write the new ``balance`` of ``rows``."""
        self._columns()[1][rows] = balance

    def _amounts(self, rows: Any, points: Any, what: str) -> tuple[Any, Any]:
        xp = self.xp
        rows = xp.array(rows)  # kept in the records, and the caller may reuse its array
        points = xp.broadcast_to(xp.asarray(points, dtype=xp.int64), rows.shape)
        if points.size and int(points.min()) < 0:
            raise ValueError(f"points: {what} must be >= 0")
        return rows, points

    def earn(self, rows: Any, points: Any) -> None:
        """Award ``points`` (>= 0 integers) to ``rows`` (unique) in the current week."""
        xp = self.xp
        rows, points = self._amounts(rows, points, "awards")
        earned, balance = self._columns()
        award = points.astype(xp.int32)
        at = as_slice(rows)  # consecutive rows (sign-up of a whole cohort) as views
        after = earned[at] + award  # running totals after the award
        earned[at] = after
        self._set_balance(at, balance[at] + award)
        total = int(points.sum())
        self.earned += total
        self.total_earned += total
        if self.expiry_weeks is not None:
            awarded = points > 0
            if bool(awarded.all()):
                logged = rows, after
            else:
                keep = xp.nonzero(awarded)[0]
                logged = rows[keep], after[keep]
            self._log.setdefault(self.week, []).append(logged)

    def redeem(self, rows: Any, points: Any) -> None:
        """Burn ``points`` from ``rows`` (unique); never more than the balance."""
        xp = self.xp
        rows, points = self._amounts(rows, points, "redemptions")
        balance = self.balance(rows)
        if bool(xp.any(points > balance)):
            raise ValueError("points: cannot redeem more than the balance")
        self._set_balance(rows, balance - points.astype(xp.int32))
        total = int(points.sum())
        self.redeemed += total
        self.total_redeemed += total

    def expire(self) -> Any:
        """Expire this week what is left of the awards made ``expiry_weeks`` ago.

        Returns
        -------
        (rows, points) : tuple of arrays
            Customers who lost points and how many.
        """
        xp = self.xp
        if self.expiry_weeks is None:
            return xp.zeros(0, dtype=xp.int64), xp.zeros(0, dtype=xp.int64)
        parts = self._log.pop(self.week - self.expiry_weeks, None)
        if parts is None:
            return xp.zeros(0, dtype=xp.int64), xp.zeros(0, dtype=xp.int64)
        rows, earned_then = parts[0]
        if len(parts) > 1:
            # Several awards that week: keep each customer's running total after the last
            # (a stable sort by row keeps a customer's awards in the order they were made;
            # the parts are ascending runs, which a stable sort merges in linear time).
            rows = xp.concatenate([p[0] for p in parts])
            earned_then = xp.concatenate([p[1] for p in parts])
            order = xp.argsort(rows, kind="stable")
            rows, earned_then = rows[order], earned_then[order]
            last = xp.ones(rows.shape[0], dtype=bool)
            last[:-1] = rows[1:] != rows[:-1]
            rows, earned_then = rows[last], earned_then[last]
        balance = self.balance(rows)
        consumed = self._columns()[0][rows].astype(xp.int64) - balance
        lost = xp.maximum(earned_then.astype(xp.int64) - consumed, 0)
        self._set_balance(rows, balance - lost.astype(xp.int32))
        total = int(lost.sum())
        self.expired += total
        self.total_expired += total
        return rows, lost

    def check_balance(self) -> None:
        """Raise if the books do not balance exactly (a broken policy)."""
        if self.outstanding < 0:
            raise AssertionError(f"points: outstanding is negative ({self.outstanding})")
        earned_total = per_customer = 0
        if "points_earned" in self.population:
            earned, balance = self._columns()
            earned_total = int(earned.sum(dtype=self.xp.int64))
            per_customer = int(balance.sum(dtype=self.xp.int64))
            if bool(self.xp.any(balance < 0)) or bool(self.xp.any(balance > earned)):
                raise AssertionError("points: a customer has a negative balance")
        if per_customer != self.outstanding or earned_total != self.total_earned:
            raise AssertionError(
                f"points: customer balances ({per_customer}) do not match the ledger "
                f"({self.outstanding})"
            )

    def week_totals(self) -> dict[str, int]:
        """The week's points totals, for the weekly table."""
        return {
            "points_earned": self.earned,
            "points_redeemed": self.redeemed,
            "points_expired": self.expired,
            "points_outstanding": self.outstanding,
        }
