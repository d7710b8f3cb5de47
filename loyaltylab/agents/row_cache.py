"""Per-customer values derived from fixed traits, computed once and for joiners only."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loyaltylab.sim import LoyaltyModel


class RowCache:
    """One value per customer row, derived from traits that never change (a usual
    order, a drawn saving target) and a ``key`` (what the program offers, e.g. the
    size of a points reward).

    Values are computed for all rows the first time, then only for the rows of
    customers who join; a new key starts afresh. The buffer grows geometrically, so
    joins cost no copy of the whole array.

    Parameters
    ----------
    compute : callable
        ``compute(model, rows, key)``: the values of ``rows`` (a slice).
    """

    def __init__(self, compute: Callable[[LoyaltyModel, slice, Hashable], Any]) -> None:
        self._compute = compute
        self._key: Hashable = None
        self._buffer: Any = None
        self._n = 0

    def get(self, model: LoyaltyModel, key: Hashable) -> Any:
        """The values of every row under ``key`` (a view: do not write to it)."""
        xp = model.xp
        n = model.population.n
        if key != self._key or self._buffer is None:
            self._key, self._buffer, self._n = key, None, 0
        if self._n < n:
            new = self._compute(model, slice(self._n, n), key)
            if self._buffer is None or self._buffer.shape[0] < n:
                grown = xp.empty(max(n, int(self._n * 1.5) + 16), dtype=new.dtype)
                if self._buffer is not None:
                    grown[: self._n] = self._buffer[: self._n]
                self._buffer = grown
            self._buffer[self._n : n] = new
            self._n = n
        return self._buffer[:n]
