"""The customers as a structure of arrays: one array per variable, one row per customer."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np


class Population:
    """Customer state stored column-wise, able to grow during a run.

    Each column is one array with a row per customer. Columns are added by whoever owns
    the variable (the segment specification, the behaviour, a policy, the ledger) with a
    dtype as narrow as the values allow. Rows are only ever appended (customers who drop
    out keep their row with ``alive = False``), so a row index identifies a customer for
    the whole run.

    Parameters
    ----------
    xp : module
        Array namespace (numpy or cupy).

    Attributes
    ----------
    meta : dict
        Bookkeeping of the components that own columns (e.g. how many rows of a
        derived column are filled); a component shared by several models keeps its
        per-model state here.

    Examples
    --------
    >>> import numpy as np
    >>> pop = Population(np)
    >>> pop.add_column("lam", np.float32)
    >>> rows = pop.append(3, lam=np.array([0.1, 0.2, 0.3]))
    >>> pop.n, pop["lam"].dtype.name, rows
    (3, 'float32', slice(0, 3, None))
    """

    def __init__(self, xp: ModuleType = np) -> None:
        self.xp = xp
        self._data: dict[str, Any] = {}
        self.meta: dict[str, Any] = {}
        self._fill: dict[str, Any] = {}
        self._n = 0
        self._capacity = 0

    @property
    def n(self) -> int:
        """Number of customers (rows)."""
        return self._n

    def __len__(self) -> int:
        return self._n

    def __contains__(self, name: object) -> bool:
        return name in self._data

    @property
    def columns(self) -> list[str]:
        """Names of the columns, in the order they were added."""
        return list(self._data)

    def add_column(self, name: str, dtype: Any, fill: Any = 0) -> None:
        """Add a column, filling existing and future rows with ``fill`` by default.

        Raises
        ------
        ValueError
            If a column of that name exists already.
        """
        if name in self._data:
            raise ValueError(f"column {name!r} exists already")
        self._data[name] = self.xp.full(self._capacity, fill, dtype=dtype)
        self._fill[name] = fill

    def ensure_column(self, name: str, dtype: Any, fill: Any = 0) -> None:
        """Add the column unless it exists (for components that share a variable)."""
        if name not in self._data:
            self.add_column(name, dtype, fill)

    def __getitem__(self, name: str) -> Any:
        try:
            return self._data[name][: self._n]
        except KeyError:
            raise KeyError(f"no column {name!r}; columns are {self.columns}") from None

    def __setitem__(self, name: str, values: Any) -> None:
        self._data[name][: self._n] = values

    def append(self, k: int, **values: Any) -> slice:
        """Append ``k`` customers; return the slice of their rows.

        Columns not given in ``values`` take their fill value. Capacity grows
        geometrically, so appending one customer at a time stays cheap on average.
        """
        if k < 0:
            raise ValueError(f"k: must be >= 0, got {k}")
        unknown = set(values) - set(self._data)
        if unknown:
            raise KeyError(f"unknown columns {sorted(unknown)}")
        start, stop = self._n, self._n + k
        if stop > self._capacity:
            self._grow(max(stop, int(self._capacity * 1.5) + 16))
        for name, array in self._data.items():
            array[start:stop] = values[name] if name in values else self._fill[name]
        self._n = stop
        return slice(start, stop)

    def _grow(self, capacity: int) -> None:
        for name, old in self._data.items():
            new = self.xp.full(capacity, self._fill[name], dtype=old.dtype)
            new[: self._n] = old[: self._n]
            self._data[name] = new
        self._capacity = capacity

    @property
    def nbytes(self) -> int:
        """Bytes held by the customers' rows (capacity beyond ``n`` excluded)."""
        return sum(a.dtype.itemsize for a in self._data.values()) * self._n

    def bytes_per_customer(self) -> int:
        """Bytes of state per customer: the sum of the columns' item sizes."""
        return sum(a.dtype.itemsize for a in self._data.values())


def as_slice(rows: Any) -> Any:
    """``rows`` as a slice if it is an ascending run of consecutive rows, else unchanged.

    Indexing with a slice gives views instead of gathers and scatters, which matters for
    the large contiguous blocks a segment occupies (customers are stored by segment).
    """
    if getattr(rows, "dtype", None) is None or rows.dtype == bool or rows.ndim != 1:
        return rows
    n = rows.shape[0]
    contiguous = n and int(rows[-1]) - int(rows[0]) + 1 == n and int(rows[0]) >= 0
    if contiguous and (n < 3 or bool((rows[1:] > rows[:-1]).all())):
        return slice(int(rows[0]), int(rows[-1]) + 1)
    return rows


def count_rows(rows: Any, n: int) -> int:
    """Number of rows in ``rows`` (a slice or an array of rows) out of ``n`` rows."""
    return len(range(n)[rows]) if isinstance(rows, slice) else int(rows.shape[0])


def row_array(rows: Any, n: int, xp: ModuleType) -> Any:
    """``rows`` (a slice, a boolean mask or an array of rows) out of ``n`` rows as an
    array of rows (int64); a slice becomes its own range, without building all ``n``
    rows, and an array of rows is returned as it is."""
    if isinstance(rows, slice):
        return xp.arange(*rows.indices(n), dtype=xp.int64)
    rows = xp.asarray(rows)
    if rows.dtype == bool:
        return xp.nonzero(rows)[0]
    return rows.astype(xp.int64, copy=False)


def take_rows(rows: Any, local: Any) -> Any:
    """``rows[local]`` for ``rows`` a slice (of step 1) or an array of rows: the rows at
    positions ``local`` (an array of int)."""
    if isinstance(rows, slice):
        return local + rows.start if rows.start else local
    return rows[local]


def rows_where(rows: Any, mask: Any, xp: ModuleType) -> Any:
    """The rows of ``rows`` (a slice or an ascending array of rows) where ``mask`` is true.

    ``mask`` is a boolean array over ``rows``; the result is an ascending array of rows.
    Gathering at the positions of the true values is several times faster on the CPU
    than boolean indexing when the mask is scattered (a share of true values far from 0
    and 1), so use it for any array, not just rows; a mask of almost only true values
    is faster as a boolean index.
    """
    return take_rows(rows, xp.nonzero(mask)[0])


def add_at(column: Any, rows: Any, values: Any, xp: ModuleType) -> None:
    """``column[rows] += values`` for unique ``rows`` (a slice, a boolean mask or an array
    of rows); ``values`` of the column's dtype.

    At scattered rows numpy's ``ufunc.at`` adds in one pass over them, where ``+=``
    gathers them and then scatters them back (a third slower when the column is not in
    cache); the result is the same, one addition per row. A slice is added to in place,
    and other namespaces (CuPy) use ``+=``, which their devices scatter natively.
    """
    if isinstance(rows, slice) or rows.dtype == bool or xp is not np:
        column[rows] += values
    else:
        xp.add.at(column, rows, values)


def merge_rows(rows: Any, more: Any, xp: ModuleType) -> Any:
    """The union of two ascending arrays of rows that have no row in common, ascending.

    A stable sort (timsort on the CPU) merges the two runs in linear time.
    """
    return xp.sort(xp.concatenate((rows, more)), kind="stable")


def isin_rows(rows: Any, table: Any, xp: ModuleType) -> Any:
    """Boolean mask over ``rows``: each is in ``table`` (both ascending arrays of unique
    rows), by binary search of the rows in the table."""
    if not table.shape[0] or not rows.shape[0]:
        return xp.zeros(rows.shape, dtype=bool)
    pos = xp.minimum(xp.searchsorted(table, rows), table.shape[0] - 1)
    return table[pos] == rows


def common_rows(a: Any, b: Any, xp: ModuleType) -> tuple[Any, Any]:
    """Positions in ``a`` and in ``b`` (ascending arrays of unique rows) of the rows in
    both, ascending; the shorter array is looked up in the longer one.

    Examples
    --------
    >>> import numpy as np
    >>> common_rows(np.array([1, 4, 6, 9]), np.array([2, 4, 9]), np)
    (array([1, 3]), array([1, 2]))
    """
    if not (a.shape[0] and b.shape[0]):
        none = xp.zeros(0, dtype=xp.int64)
        return none, none
    if a.shape[0] <= b.shape[0]:
        pos = xp.minimum(xp.searchsorted(b, a), b.shape[0] - 1)
        hit = xp.nonzero(b[pos] == a)[0]
        return hit, pos[hit]
    pos = xp.minimum(xp.searchsorted(a, b), a.shape[0] - 1)
    hit = xp.nonzero(a[pos] == b)[0]
    return pos[hit], hit


def without_rows(rows: Any, drop: Any, xp: ModuleType) -> Any:
    """Boolean mask over ``rows``: the row is not in ``drop`` (both ascending, unique)."""
    keep = xp.ones(rows.shape, dtype=bool)
    keep[common_rows(rows, drop, xp)[0]] = False
    return keep


def unique_rows(rows: Any, xp: ModuleType) -> Any:
    """The distinct rows of ``rows``, ascending (a sort, then the first of each run)."""
    rows = xp.sort(rows)
    if rows.shape[0] < 2:
        return rows
    first = xp.ones(rows.shape, dtype=bool)
    first[1:] = rows[1:] != rows[:-1]
    return rows[first]


def union_rows(rows: Any, more: Any, xp: ModuleType) -> Any:
    """The union of two ascending arrays of unique rows, ascending (a linear merge of the
    rows of ``more`` not already in ``rows``)."""
    return merge_rows(rows, more[without_rows(more, rows, xp)], xp)
