"""Transaction logs: reading, validating and summarising them per customer.

A transaction log has one row per purchase: a customer id, a date (or a datetime) and
the amount spent, optionally with a count of interactions (app visits, check-ins). It
is the raw material of calibration (:mod:`loyaltylab.agents.calibration`).

Conventions (those of the "buy till you die" literature, so that published fits can be
reproduced):

- Purchases by one customer on the same calendar day are one purchase occasion; their
  amounts are summed.
- Each customer's clock starts at his or her own first purchase; only later occasions
  are *repeat* purchases.
- Times are in weeks, measured between calendar days (days / 7).
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loyaltylab.agents.segments import WEEKS_PER_MONTH, WEEKS_PER_YEAR
from loyaltylab.errors import InputError, input_file

#: Most bad rows listed in a :class:`TransactionError` message (all are in ``.errors``).
MAX_LISTED_ERRORS = 20
#: Days per week, the unit of every time in a summary.
DAYS_PER_WEEK = 7.0
#: Dates a log may hold: the span of nanosecond timestamps, whole years.
FIRST_DATE, LAST_DATE = pd.Timestamp("1678-01-01"), pd.Timestamp("2262-01-01")
#: What :func:`read_transactions` can do with a negative amount (a return).
RETURNS = ("net", "drop", "error")


class TransactionError(InputError):
    """A transaction log that cannot be used, with every bad row.

    Attributes
    ----------
    errors : list of str
        One entry per problem, e.g. ``"row 17: date: cannot parse '1997-13-45'"``;
        rows are numbered from 1 for the first data row of the file (the header is not
        counted). The message lists the first :data:`MAX_LISTED_ERRORS` of them.
    """

    def __init__(self, errors: list[str], source: str = "transactions") -> None:
        self.errors = list(errors)
        listed = self.errors[:MAX_LISTED_ERRORS]
        more = len(self.errors) - len(listed)
        lines = [f"{source}: {len(self.errors)} bad row(s)", *(f"  {e}" for e in listed)]
        if more:
            lines.append(f"  ... and {more} more")
        self.source = source
        super().__init__("\n".join(lines))

    def lines(self) -> list[str]:
        """One ``"source: row N: field: reason"`` line per problem (the first
        :data:`MAX_LISTED_ERRORS`, then how many more)."""
        listed = [f"{self.source}: {e}" for e in self.errors[:MAX_LISTED_ERRORS]]
        more = len(self.errors) - len(listed)
        return [*listed, f"{self.source}: ... and {more} more bad row(s)"] if more else listed


def read_table(path: Path) -> pd.DataFrame:
    """The raw table; CSV cells are kept as text so that validation sees what was written.

    Raises
    ------
    InputError
        If the path is not a regular file, the text is not UTF-8, the table cannot be
        parsed, or a column name appears twice (pandas would rename the second copy and
        the first would be used without a word).
    """
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".pq", ".csv", ".txt", ".gz"):
        raise InputError(f"path: expected a .csv or .parquet file, got {path.name!r}")
    input_file(path)
    try:
        if suffix in (".parquet", ".pq"):
            table = pd.read_parquet(path)
        else:
            # the header alone first: a refused file is not read in full
            header = pd.read_csv(path, dtype=str, header=None, nrows=1).iloc[0]
            twice = sorted({str(n) for n in header[header.duplicated()]})
            if twice:
                raise InputError(f"{path}: column(s) {twice} appear more than once in the "
                                 "header; which one is meant?")
            table = pd.read_csv(path, dtype=str, keep_default_na=False,
                                skipinitialspace=True)
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (it holds the byte "
                         f"{exc.object[exc.start]:#04x}, as UTF-16 or Latin-1 files do); "
                         "save the file as UTF-8") from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InputError(f"{path}: cannot read: {reason}") from None
    except InputError:
        raise
    except ValueError as exc:  # pandas' and pyarrow's parse errors
        reason = " ".join(str(exc).split())
        raise InputError(f"{path}: cannot parse: {reason}") from None
    return table


def blank_cells(values: pd.Series) -> np.ndarray:
    """Cells that are empty: NaN/None, or blank text."""
    missing = pd.isna(values).to_numpy(dtype=bool).copy()  # pandas may hand out a view
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        text = values.astype("string")
        missing |= (text.str.strip() == "").fillna(False).to_numpy(dtype=bool)
    return missing


def parse_dates(values: pd.Series) -> pd.Series:
    """Dates or datetimes as naive ``datetime64[ns]``; NaT where a cell cannot be parsed."""
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        # ISO 8601 in all its forms (1997-01-01, 1997-01-01T10:00, 1997-01-01 10:00:00Z)
        # and the compact 19970101 of the CDNOW files; anything else is an error, since a
        # silently misread day-month order would shift customers by months.
        text = values.astype("string").str.strip()
        # pandas reads words such as "today" or "now" as dates; a log's dates are digits
        numeric = text.str.match(r"^\d").fillna(False)
        parsed = pd.to_datetime(text.where(numeric), format="ISO8601", errors="coerce",
                                utc=True)
        compact = parsed.isna() & numeric & (text.str.len() == 8).fillna(False)
        if compact.any():
            parsed[compact] = pd.to_datetime(
                text[compact], format="%Y%m%d", errors="coerce", utc=True)
    if getattr(parsed.dtype, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    # Nanosecond timestamps span the years 1678-2261; a date outside (0001-01-01) is a
    # placeholder or a typing error, and would overflow below.
    inside = parsed.isna() | ((parsed >= FIRST_DATE) & (parsed < LAST_DATE))
    return parsed.where(inside).astype("datetime64[ns]")


class RowChecks:
    """The bad rows of a table, checked column by column and listed in row order.

    Each check adds ``(row, column order, "field: reason")`` for the rows it fails (rows
    numbered from 1, the first data row); :meth:`raise_if_any` raises them all at once,
    so a user fixes a file in one go.
    """

    def __init__(self) -> None:
        self.problems: list[tuple[int, int, str]] = []

    def add(self, mask: Any, order: int, field: str, reason: Any) -> None:
        """Report the rows of ``mask``; ``reason(i)`` (or a text) says why."""
        for i in np.flatnonzero(np.asarray(mask)):
            text = reason(i) if callable(reason) else reason
            self.problems.append((int(i) + 1, order, f"{field}: {text}"))

    def dates(self, raw: pd.Series, order: int, field: str, required: bool = True
              ) -> pd.Series:
        """Parse a column of dates (:func:`parse_dates`), reporting blank (if
        ``required``) and unparseable cells."""
        dates = parse_dates(raw)
        blank = blank_cells(raw)
        if required:
            self.add(blank, order, field, "missing")
        self.add(dates.isna().to_numpy() & ~blank, order, field,
                 lambda i: f"cannot parse {raw.iloc[i]!r}")
        return dates

    def numbers(self, raw: pd.Series, order: int, field: str, *, blank_ok: bool = False,
                negative_ok: bool = False) -> pd.Series:
        """Parse a column of numbers, reporting blank (unless ``blank_ok``: then 0),
        non-numeric, infinite and (unless ``negative_ok``) negative cells."""
        values = pd.to_numeric(raw, errors="coerce").astype(float)
        blank = blank_cells(raw)
        if blank_ok:
            values = values.where(~blank, 0.0)
        else:
            self.add(blank, order, field, "missing")
        self.add(values.isna().to_numpy() & ~blank, order, field,
                 lambda i: f"not a number: {raw.iloc[i]!r}")
        finite = values.to_numpy()
        self.add(np.isinf(finite), order, field, lambda i: f"not finite: {raw.iloc[i]!r}")
        if not negative_ok:
            self.add(np.nan_to_num(finite, nan=0.0) < 0, order, field,
                     lambda i: f"negative ({finite[i]:g})")
        return values

    def raise_if_any(self, error: type[TransactionError], source: str) -> None:
        """Raise ``error`` listing every problem, in row order, if there is one."""
        if self.problems:
            self.problems.sort()
            raise error([f"row {r}: {m}" for r, _, m in self.problems], source=source)


def read_transactions(
    path: str | PathLike[str],
    customer_id: str = "customer_id",
    date: str = "date",
    amount: str = "amount",
    interactions: str | None = None,
    returns: str = "net",
) -> pd.DataFrame:
    """Read and validate a transaction log (CSV or Parquet).

    Parameters
    ----------
    path : str or path-like
        A ``.csv`` file with a header line, or a ``.parquet`` file.
    customer_id, date, amount : str
        Names of the columns holding the customer id (any text), the purchase date
        (ISO 8601 date or datetime, or ``YYYYMMDD``) and the amount spent (currency
        units, >= 0).
    interactions : str, optional
        Name of a column of interaction counts (>= 0) per row; blank cells count 0.
    returns : {"net", "drop", "error"}
        What a negative amount (a return) does: ``"net"`` nets it against the same
        customer's purchases (:func:`net_returns`), ``"drop"`` leaves it out, ``"error"``
        makes it a bad row.

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id`` (str), ``date`` (datetime64, naive; time-zone aware
        datetimes are converted to UTC), ``amount`` (float, >= 0) and, if asked,
        ``interactions`` (float), in the order of the file (returns netted or dropped).
        ``attrs["notes"]`` lists what was done to the returns.

    Raises
    ------
    TransactionError
        If a column is missing, or listing every bad row by its number (1 = first data
        row) and reason: missing id, unparseable date, missing or non-numeric amount,
        negative amount (with ``returns="error"``), bad interactions count; or if no
        purchase is left.

    Examples
    --------
    >>> from pathlib import Path
    >>> log = read_transactions(Path(__file__).parents[2] / "data" / "cdnow_sample.csv")
    >>> len(log), log["customer_id"].nunique()
    (6919, 2357)
    """
    if returns not in RETURNS:
        raise InputError(f"returns: expected one of {', '.join(RETURNS)}, got {returns!r}")
    path = Path(path)
    table = read_table(path)
    wanted = {"customer_id": customer_id, "date": date, "amount": amount}
    if interactions is not None:
        wanted["interactions"] = interactions
    absent = [f"{role}: no column {name!r}" for role, name in wanted.items()
              if name not in table.columns]
    if absent:
        raise TransactionError(
            [*absent, f"columns found: {list(table.columns)}"], source=str(path))

    checks = RowChecks()
    ids = table[customer_id]
    checks.add(blank_cells(ids), 0, "customer_id", "missing")
    dates = checks.dates(table[date], 1, "date")
    amounts = checks.numbers(table[amount], 2, "amount", negative_ok=returns != "error")
    out = {"customer_id": ids.astype("string").str.strip().astype(str),
           "date": dates, "amount": amounts}
    if interactions is not None:
        out["interactions"] = checks.numbers(table[interactions], 3, "interactions",
                                             blank_ok=True)
    checks.raise_if_any(TransactionError, str(path))
    # with returns="error" there is no return left to net: the notes are empty
    log = net_returns(pd.DataFrame(out).reset_index(drop=True), drop=returns == "drop")
    if log.empty:  # nothing to start the weeks from, nobody to fit
        why = "the file has a header and no rows" if table.empty else (
            "none is left once the returns are netted (returns='net')" if returns == "net"
            else "every row is a return (returns='drop')")
        raise TransactionError([f"no purchases: {why}"], source=str(path))
    return log


def net_returns(transactions: pd.DataFrame, *, drop: bool = False) -> pd.DataFrame:
    """Net return lines (negative amounts) against the same customer's purchases.

    A return refers to something bought before it: each return line is taken off the
    customer's latest purchase line on or before its date, and what that purchase cannot
    absorb is taken off the purchase before it, and so on. A purchase returned in full
    (netted to 0 or less) is no longer a purchase, so it leaves the log; a return with
    no earlier purchase by the customer, or more than everything the customer bought
    before, is left out for the part that finds nothing to net against. With ``drop``
    return lines are simply left out.

    Parameters
    ----------
    transactions : pandas.DataFrame
        ``customer_id``, ``date``, ``amount`` (negative: a return), and any other columns
        (kept for the purchases).
    drop : bool
        Leave returns out instead of netting them.

    Returns
    -------
    pandas.DataFrame
        The purchases (amount > 0, or 0 for lines that were 0 in the log), in the log's
        order, ``attrs["notes"]`` saying what was done.

    Examples
    --------
    >>> log = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...                     "date": pd.to_datetime(["2024-01-01", "2024-01-08",
    ...                                             "2024-01-09", "2024-01-02"]),
    ...                     "amount": [30.0, 20.0, -25.0, -5.0]})
    >>> out = net_returns(log)
    >>> out["amount"].tolist()
    [25.0]
    >>> print(out.attrs["notes"][0])  # doctest: +NORMALIZE_WHITESPACE
    returns: 2 return line(s) worth 30 in all; 25 netted against the same customer's
    earlier purchases (1 purchase(s) returned in full and left out); 5 found no earlier
    purchase to net against and were left out
    """
    amount = transactions["amount"].to_numpy(dtype=float)
    is_return = amount < 0
    n_returns = int(is_return.sum())
    if n_returns == 0:
        out = transactions.copy()
        out.attrs["notes"] = []
        return out
    total = float(-amount[is_return].sum())
    head = f"returns: {n_returns:,} return line(s) worth {total:,.6g} in all"
    if drop:
        out = transactions.loc[~is_return].reset_index(drop=True)
        out.attrs["notes"] = [f"{head}; left out (--returns drop)"]
        return out

    # Purchases in (customer, date, position) order; each return finds the last purchase
    # of its customer on or before its date by a binary search on that order.
    customer = pd.factorize(transactions["customer_id"])[0].astype(np.int64)
    day = pd.to_datetime(transactions["date"]).to_numpy().astype("datetime64[ns]").astype(
        np.int64)
    buys = np.flatnonzero(~is_return)
    order = buys[np.lexsort((buys, day[buys], customer[buys]))]
    keys = np.rec.fromarrays([customer[order], day[order]])
    rets = np.flatnonzero(is_return)
    at = np.searchsorted(keys, np.rec.fromarrays([customer[rets], day[rets]]),
                         side="right") - 1
    matched = at >= 0
    matched[matched] = customer[order][at[matched]] == customer[rets][matched]
    left = amount[order].copy()
    np.add.at(left, at[matched], amount[rets][matched])
    unmatched = float(-amount[rets][~matched].sum())
    # What a purchase cannot absorb moves to the customer's purchase before it; a loop
    # over the depth of the spill (a few steps), not over customers.
    first_of_customer = np.ones(len(order), dtype=bool)
    first_of_customer[1:] = customer[order][1:] != customer[order][:-1]
    while True:
        over = np.flatnonzero((left < 0) & ~first_of_customer)
        if not over.size:
            break
        # emptied before the spill is added: a purchase both spilling and receiving in
        # this step keeps what it receives
        spill = left[over]
        left[over] = 0.0
        left[over - 1] += spill
    excess = float(-left[left < 0].sum())
    returned = (left <= 0) & (amount[order] > 0)
    keep = np.zeros(len(amount), dtype=bool)
    keep[order[~returned]] = True
    out = transactions.loc[keep].copy()
    netted = np.empty(len(amount))
    netted[order] = left
    out["amount"] = np.maximum(netted[keep], 0.0)
    out = out.reset_index(drop=True)
    note = (f"{head}; {total - unmatched - excess:,.6g} netted against the same customer's "
            f"earlier purchases ({int(returned.sum()):,} purchase(s) returned in full and "
            "left out)")
    if unmatched or excess:
        note += (f"; {unmatched + excess:,.6g} found no earlier purchase to net against and "
                 "were left out")
    out.attrs["notes"] = [note]
    return out


def _rank_score(values: np.ndarray, higher_is_better: bool = True) -> np.ndarray:
    """Quintile score 1-5 by rank; ties share the score of their lowest rank.

    ``pandas.qcut`` fails on the heavy ties of purchase counts (most customers never buy
    again), so scores come from ranks: the customers below the 20th percentile score 1,
    and so on; a block of ties is never split between two scores.
    """
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    key = values if higher_is_better else -values
    ranks = pd.Series(key).rank(method="min").to_numpy()  # 1..n
    return (1 + np.floor(5 * (ranks - 1) / n)).astype(np.int8)


def summarise(
    transactions: pd.DataFrame,
    calibration_end: Any = None,
    *,
    warm_up_weeks: int = 0,
) -> pd.DataFrame:
    """Per-customer summary of a transaction log, up to the end of a calibration period.

    Parameters
    ----------
    transactions : pandas.DataFrame
        As returned by :func:`read_transactions` (``customer_id``, ``date``, ``amount``,
        optionally ``interactions``).
    calibration_end : date-like, optional
        Last day of the period summarised, inclusive; later transactions are ignored, and
        customers whose first purchase is later are left out. Default: the last date in
        the log.
    warm_up_weeks : int
        A log that starts in the middle of its customers' relationships (left-truncated)
        shows an existing customer's first purchase in the log, not their first. The
        customers first seen in the first ``warm_up_weeks`` weeks are taken as existing
        customers with unknown history: their clock starts at the log's start (the
        start of its first day), every occasion in the log counts (``frequency`` is
        their number, not one less), and ``truncation_weeks`` records the window that
        selected them (the fit conditions on a purchase in it). 0: every customer is new
        at their first purchase (a cohort log such as CDNOW).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` (sorted), with columns:

        - ``first_purchase``, ``last_purchase``: dates of the first and last occasions;
        - ``frequency``: repeat purchase occasions (same-day purchases merged), the ``x``
          of BG/NBD;
        - ``recency``: weeks from the first to the last occasion (``t_x``);
        - ``T``: weeks from the first occasion to ``calibration_end`` (the customer's age);
        - ``weeks_since_purchase``: ``T - recency``, weeks;
        - ``transactions``: rows of the log (before merging);
        - ``total_spend``: all spend, first purchase included, currency units;
        - ``repeat_spend``: spend on repeat occasions, currency units;
        - ``mean_repeat_spend``: mean value of a repeat occasion (the Gamma-Gamma input;
          NaN without repeat purchases), currency units;
        - ``sd_repeat_spend``: standard deviation (n - 1 denominator) of the repeat
          occasions' values, the within-customer spread that Gamma-Gamma's ``p`` must
          match (NaN with fewer than two repeat purchases), currency units;
        - ``annual_spend``, ``purchases_per_year``: spend and occasions in the last 52
          weeks before ``calibration_end`` (a customer younger than a year counts what
          he or she did so far; nothing is extrapolated), currency units and occasions;
        - ``interactions``, ``interactions_per_month`` (only if the log has
          interactions): the total, and per month of age (age at least one week);
        - ``r_score``, ``f_score``, ``m_score``: RFM quintiles 1-5, 5 best (most recent,
          most repeat occasions, highest total spend); ties share a score;
        - ``rfm``: the three scores as one number, e.g. 534;
        - ``existing``: first seen in the warm-up window (see ``warm_up_weeks``);
        - ``truncation_weeks``: ``warm_up_weeks`` for existing customers, else 0.

        For existing customers times run from the log's start and an occasion on day
        ``d`` of the log is at ``(d + 1/2) / 7`` weeks; ``T`` is ``(days + 1) / 7``.

    Examples
    --------
    >>> log = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...                     "date": pd.to_datetime(["2024-01-01", "2024-01-01",
    ...                                             "2024-01-15", "2024-01-08"]),
    ...                     "amount": [10.0, 5.0, 20.0, 7.0]})
    >>> s = summarise(log, calibration_end="2024-01-29")
    >>> s[["frequency", "recency", "T", "mean_repeat_spend"]]  # doctest: +NORMALIZE_WHITESPACE
                 frequency  recency    T  mean_repeat_spend
    customer_id
    a                    1      2.0  4.0               20.0
    b                    0      0.0  3.0                NaN
    """
    missing = {"customer_id", "date", "amount"} - set(transactions.columns)
    if missing:
        raise ValueError(f"transactions: missing columns {sorted(missing)}")
    if not isinstance(warm_up_weeks, int | np.integer) or warm_up_weeks < 0:
        raise InputError(f"warm_up_weeks: must be an integer >= 0, got {warm_up_weeks!r}")
    log = transactions
    days = pd.to_datetime(log["date"]).dt.normalize()
    log_start = days.min()
    end = days.max() if calibration_end is None else pd.Timestamp(calibration_end).normalize()
    warm_up_end = log_start + pd.Timedelta(days=7 * int(warm_up_weeks))
    if warm_up_weeks and warm_up_end > end:
        raise InputError(f"warm_up_weeks: {warm_up_weeks} weeks reach past the calibration "
                         f"period's end {end.date()}")
    keep = (days <= end).to_numpy()
    has_interactions = "interactions" in log.columns
    frame = pd.DataFrame({
        "customer_id": log["customer_id"].astype(str).to_numpy()[keep],
        "day": days.to_numpy()[keep],
        "amount": log["amount"].to_numpy(dtype=float)[keep],
        "rows": 1,
    })
    if has_interactions:
        frame["interactions"] = log["interactions"].to_numpy(dtype=float)[keep]
    if frame.empty:
        raise InputError(f"transactions: no transaction on or before {end.date()}")

    # Same-day purchases are one occasion: BG/NBD counts purchase occasions, and a
    # basket split over two tills is one trip.
    occasions = frame.groupby(["customer_id", "day"], sort=True).sum().reset_index()
    occasions["k"] = occasions.groupby("customer_id").cumcount()  # 0 = first purchase
    by = occasions.groupby("customer_id", sort=True)
    first = by["day"].min()
    last = by["day"].max()
    count = by.size()
    total = by["amount"].sum()
    first_amount = occasions.loc[occasions["k"] == 0].set_index("customer_id")["amount"]
    existing = (first < warm_up_end).to_numpy()
    # An existing customer's first occasion in the log is a repeat purchase like any
    # other: their relationship started before the log did.
    repeat_spend = total - first_amount.reindex(total.index).where(~existing, 0.0)
    frequency = (count - 1 + existing).astype(np.int64)

    week = pd.Timedelta(days=1) * DAYS_PER_WEEK
    half_day = pd.Timedelta(hours=12)
    recency = ((last - first) / week).where(~existing, (last - log_start + half_day) / week)
    age = ((end - first) / week).where(~existing, (end - log_start + 2 * half_day) / week)
    # Gamma-Gamma convention: the mean value of the repeat occasions only; the first
    # purchase is left out because it often differs (a first order is a trial).
    mean_repeat = pd.Series(np.nan, index=total.index)
    has_repeat = frequency > 0
    mean_repeat[has_repeat] = repeat_spend[has_repeat] / frequency[has_repeat]
    sd_repeat = (occasions[occasions["k"] > 0].groupby("customer_id")["amount"].std(ddof=1)
                 .reindex(total.index))

    year_start = end - pd.Timedelta(weeks=WEEKS_PER_YEAR) + pd.Timedelta(days=1)
    in_year = occasions[occasions["day"] >= year_start].groupby("customer_id")
    annual_spend = in_year["amount"].sum().reindex(total.index, fill_value=0.0)
    per_year = in_year.size().reindex(total.index, fill_value=0).astype(np.int64)

    out = pd.DataFrame({
        "first_purchase": first,
        "last_purchase": last,
        "frequency": frequency,
        "recency": recency.astype(float),
        "T": age.astype(float),
        "weeks_since_purchase": (age - recency).astype(float),
        "transactions": by["rows"].sum().astype(np.int64),
        "total_spend": total.astype(float),
        "repeat_spend": repeat_spend.astype(float),
        "mean_repeat_spend": mean_repeat.astype(float),
        "sd_repeat_spend": sd_repeat.astype(float),
        "annual_spend": annual_spend.astype(float),
        "purchases_per_year": per_year,
    })
    if has_interactions:
        out["interactions"] = by["interactions"].sum().astype(float)
        months = np.maximum(out["T"].to_numpy(), 1.0) / WEEKS_PER_MONTH
        out["interactions_per_month"] = out["interactions"] / months
    out["r_score"] = _rank_score(out["weeks_since_purchase"].to_numpy(), False)
    out["f_score"] = _rank_score(out["frequency"].to_numpy(dtype=float))
    out["m_score"] = _rank_score(out["total_spend"].to_numpy())
    out["rfm"] = (100 * out["r_score"].astype(int) + 10 * out["f_score"].astype(int)
                  + out["m_score"].astype(int))
    out["existing"] = existing
    out["truncation_weeks"] = np.where(existing, float(warm_up_weeks), 0.0)
    out.index.name = "customer_id"
    return out


#: Customers first seen in week 1 who buy this many times as often as those first seen
#: in weeks 4-13 make a log look left-truncated (:func:`truncation_sign`).
TRUNCATION_RATIO = 1.5


def truncation_sign(summary: pd.DataFrame, min_customers: int = 30) -> str | None:
    """A warning when a log looks left-truncated, or None.

    In a log that starts mid-relationship the customers seen in its first week are
    mostly existing, frequent customers, while those first seen weeks later are rarer
    buyers and truly new ones; in a cohort log the two groups buy alike. Compares the
    repeat purchases per week of the new customers (``existing`` False) first seen in
    week 1 with those first seen in weeks 4-13.
    """
    new = summary[~summary["existing"]] if "existing" in summary else summary
    if new.empty:
        return None
    start = summary["first_purchase"].min()
    week = ((new["first_purchase"] - start).dt.days // 7).to_numpy()
    rate = new["frequency"].to_numpy(dtype=float) / np.maximum(new["T"].to_numpy(), 1.0)
    early, later = rate[week == 0], rate[(week >= 3) & (week < 13)]
    if min(len(early), len(later)) < min_customers or later.mean() <= 0:
        return None
    ratio = early.mean() / later.mean()
    if ratio < TRUNCATION_RATIO:
        return None
    return (f"the log looks left-truncated: customers first seen in its first week buy "
            f"{early.mean():.3g} times a week, those first seen in weeks 4-13 "
            f"{later.mean():.3g} ({ratio:.1f}x), as when existing customers' first "
            "purchase in the log is not their first; consider --warm-up-weeks")
