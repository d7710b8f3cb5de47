"""The points ledger: integer points, earned, redeemed and expired oldest first.

Points are integers and the ledger balances exactly at every moment::

    earned = redeemed + expired + outstanding

Per customer it keeps the running total of points earned and the balance; points
*consumed* (redeemed or expired) are their difference. Expiry is per award: points earned in week
``w`` expire in week ``w + expiry_weeks`` unless consumed before, oldest first (FIFO).
Under FIFO the points of awards up to week ``w`` still outstanding in week ``t`` are
``max(0, earned_through(w) - consumed(t))``, so the ledger only has to remember, for each
week, the customers who earned that week, their running total after the award and the
award: a sparse log whose size is the number of earning customers, not the number of
customers.

Award cohorts
-------------
The log also tells what became of each week's awards, the *award cohort* of that week
(:meth:`PointsLedger.cohorts`). An award is an interval ``[before, after)`` of the
customer's cumulative points earned (several awards in a week, purchase points then
check-in points or a sign-up bonus, are consecutive intervals). Points are consumed
oldest first, so of an award, ``clip(consumed - before, 0, award)`` points are consumed;
until the award expires they can only have been redeemed (an expiry consumes the points
of older awards only). So for each award week and group of customers (the population's
``segment`` column) the ledger observes:

- *open* cohorts, still in the log: at age ``week - w``, the points awarded and the points
  of them redeemed so far, computed when asked, from the log;
- *resolved* cohorts: when the awards expire, the points awarded, redeemed and expired
  (everything not redeemed by then);
- without expiry the log is kept for the :data:`DEVELOPMENT_WEEKS` latest award weeks
  only; an older cohort leaves it with its points redeemed by age
  :data:`DEVELOPMENT_WEEKS`, and what its outstanding points become afterwards is not
  followed.

The log holds one row index (int32), one running total (int32) and one award (uint16,
or int32 for awards over 65,535 points) per award: 10 bytes per award, where it held 12
(an int64 row and the running total) before it kept the award.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from loyaltylab.sim.backend import to_numpy
from loyaltylab.sim.population import Population, as_slice

#: Award weeks the log keeps without expiry, to observe how award cohorts are redeemed.
DEVELOPMENT_WEEKS = 52
#: Columns of :meth:`PointsLedger.cohorts`.
COHORT_COLUMNS = ("award_week", "age", "group", "awarded", "redeemed", "expired", "resolved")

_INT32_MAX = 2**31 - 1
_UINT16_MAX = 2**16 - 1


class PointsLedger:
    """Integer points of every customer, with per-award expiry.

    Parameters
    ----------
    population : Population
        The customers; the columns ``points_earned`` (running total) and
        ``points_balance`` (int32) are added when the first points are earned.
    groups : str
        Integer column of ``population`` (customers never change group) by which award
        cohorts are broken down; without such a column every customer is in group 0.

    Attributes
    ----------
    expiry_weeks : int or None
        Points expire this many weeks after the week they were earned; ``None``: never.
        Set by the points policy before the first award.
    development_weeks : int
        Without expiry, award weeks kept in the log (:data:`DEVELOPMENT_WEEKS`).
    """

    def __init__(self, population: Population, groups: str = "segment") -> None:
        self.population = population
        self.xp = population.xp
        self.groups = groups
        self.expiry_weeks: int | None = None
        self.development_weeks = DEVELOPMENT_WEEKS
        # award week -> parts (rows, running total after the award, award)
        self._log: dict[int, list[tuple[Any, Any, Any]]] = {}
        # cohorts out of the log: (award week, age, resolved, awarded, redeemed, expired),
        # the last three by group (host arrays)
        self._closed: list[tuple[int, int, bool, Any, Any, Any]] = []
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
        if not rows.size:
            return
        awarded = points > 0
        if not bool(awarded.all()):
            keep = xp.nonzero(awarded)[0]
            rows, after, award = rows[keep], after[keep], award[keep]
        if rows.size:
            if self.population.n <= _INT32_MAX:
                rows = rows.astype(xp.int32)
            if int(award.max()) <= _UINT16_MAX:
                award = award.astype(xp.uint16)
            self._log.setdefault(self.week, []).append((rows, after, award))

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

    def _concat(self, parts: list[tuple[Any, Any, Any]]) -> tuple[Any, Any, Any]:
        """The rows, running totals after the award and awards of log ``parts``, one
        after the other, as int64 (rows as int64 need no conversion at each gather)."""
        xp = self.xp
        if len(parts) == 1:
            columns = parts[0]
        else:
            columns = tuple(xp.concatenate([p[i] for p in parts]) for i in range(3))
        rows, after, award = (c.astype(xp.int64) for c in columns)
        return rows, after, award

    def _take(self, last_week: int) -> tuple[list[tuple[int, int]], int, Any, Any, Any]:
        """Remove the award weeks up to ``last_week`` from the log, oldest first.

        Returns the weeks with their number of awards, the number of parts, and the
        awards' rows, running totals after the award and amounts (:meth:`_concat`).
        """
        weeks = sorted(w for w in self._log if w <= last_week)
        taken = [self._log.pop(w) for w in weeks]
        sizes = [(w, sum(int(p[0].shape[0]) for p in ps))
                 for w, ps in zip(weeks, taken, strict=True)]
        parts = [p for ps in taken for p in ps]
        return (sizes, len(parts), *self._concat(parts))

    def _redeemed(self, rows: Any, after: Any, award: Any) -> tuple[Any, Any, Any]:
        """Points of each award consumed so far (oldest first), with the customers'
        balances and points consumed."""
        xp = self.xp
        earned, balance = self._columns()
        balance = balance[rows]
        consumed = earned[rows].astype(xp.int64) - balance
        return xp.minimum(xp.maximum(consumed - (after - award), 0), award), balance, consumed

    def _group_of(self, rows: Any) -> Any:
        """Group of each of ``rows``."""
        if self.groups in self.population:
            return self.population[self.groups][rows]
        return self.xp.zeros(rows.shape, dtype=self.xp.uint8)

    def _observe(self, sizes: list[tuple[int, int]], rows: Any, award: Any, redeemed: Any,
                 resolved: bool, into: list[tuple[int, int, bool, Any, Any, Any]]) -> None:
        """Append each award week's cohort to ``into``: points awarded and redeemed by
        group (host arrays, int64), and, if ``resolved``, expired (the rest)."""
        xp = self.xp
        groups = self._group_of(rows)
        start = 0
        for week, size in sizes:
            at = slice(start, start + size)
            # sums by group, exact in float64 below 2**53 points
            awarded, spent = (
                to_numpy(xp.bincount(groups[at], weights=v[at].astype(xp.float64)))
                .round().astype("int64") for v in (award, redeemed))
            lost = awarded - spent if resolved else awarded * 0
            into.append((week, self.week - week, resolved, awarded, spent, lost))
            start += size

    def expire(self) -> Any:
        """Expire what is left of the awards made ``expiry_weeks`` ago (or earlier and
        not yet expired), recording their cohorts as resolved.

        Without expiry, the cohorts that leave the development window are recorded
        instead (and nothing expires).

        Returns
        -------
        (rows, points) : tuple of arrays
            Customers who lost points and how many.
        """
        xp = self.xp
        none = xp.zeros(0, dtype=xp.int64), xp.zeros(0, dtype=xp.int64)
        window = self.development_weeks if self.expiry_weeks is None else self.expiry_weeks
        if not any(w <= self.week - window for w in self._log):
            return none
        sizes, parts, rows, earned_then, award = self._take(self.week - window)
        redeemed, balance, consumed = self._redeemed(rows, earned_then, award)
        self._observe(sizes, rows, award, redeemed, self.expiry_weeks is not None, self._closed)
        if self.expiry_weeks is None:
            return none
        if parts > 1:
            # Several awards of a customer: keep the running total after the last (a
            # stable sort by row keeps a customer's awards in the order they were made;
            # the parts are ascending runs, which a stable sort merges in linear time).
            order = xp.argsort(rows, kind="stable")
            rows, earned_then = rows[order], earned_then[order]
            balance, consumed = balance[order], consumed[order]
            last = xp.ones(rows.shape[0], dtype=bool)
            last[:-1] = rows[1:] != rows[:-1]
            if not bool(last.all()):
                rows, earned_then = rows[last], earned_then[last]
                balance, consumed = balance[last], consumed[last]
        lost = xp.maximum(earned_then - consumed, 0)
        self._set_balance(rows, balance - lost.astype(xp.int32))
        total = int(lost.sum())
        self.expired += total
        self.total_expired += total
        return rows, lost

    def cohorts(self) -> pd.DataFrame:
        """What became of each award week's points, by group (module docstring).

        Call it at the horizon: open cohorts are observed as they are now. Cost:
        proportional to the awards in the log.

        Returns
        -------
        pandas.DataFrame
            One row per award week and group with points awarded, sorted by award week
            and group. Columns: ``award_week``; ``age`` (weeks from the award to the
            observation: now for open cohorts, the expiry or the end of the development
            window for the others); ``group`` (int); ``awarded``, ``redeemed``,
            ``expired`` (points, int64; ``expired`` is 0 unless resolved); ``resolved``
            (the awards have expired: what is not redeemed expired). Points outstanding
            are ``awarded - redeemed - expired``.
        """
        observed = list(self._closed)
        for week, parts in sorted(self._log.items()):
            rows, after, award = self._concat(parts)
            redeemed = self._redeemed(rows, after, award)[0]
            self._observe([(week, int(rows.shape[0]))], rows, award, redeemed, False, observed)
        records = [
            (week, age, group, int(awarded[group]), int(redeemed[group]),
             int(expired[group]), resolved)
            for week, age, resolved, awarded, redeemed, expired in observed
            for group in awarded.nonzero()[0].tolist()
        ]
        frame = pd.DataFrame.from_records(records, columns=list(COHORT_COLUMNS))
        frame = frame.astype({c: "int64" for c in COHORT_COLUMNS[:-1]} | {"resolved": bool})
        return frame.sort_values(["award_week", "group"], ignore_index=True)

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
