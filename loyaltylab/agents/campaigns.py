"""Campaign logs: which customers were sent which coupon, and whether they used it.

A campaign file has one row per coupon sent to a customer (an *exposure*)::

    customer_id,campaign,start,end,amount_off,pct_off,min_spend,redeemed
    c000017,spring_500,2024-03-04,2024-03-31,500,0,3000,2024-03-16
    c000018,spring_500,2024-03-04,2024-03-31,500,0,3000,

- ``customer_id``: as in the transaction log;
- ``campaign``: any name; exposures of one campaign may have different dates;
- ``start``, ``end``: the first and last day the coupon could be used (ISO dates);
- ``amount_off`` (currency units), ``pct_off`` (share of the order, in [0, 1)) and
  ``min_spend`` (the order value needed, currency units): blank cells count 0, and at
  least one of ``amount_off`` and ``pct_off`` must be positive;
- ``redeemed``: the day the coupon was used, blank if it was not; within
  ``start .. end``, and a day with a purchase in the transaction log.

One file rather than exposures and redemptions apart: a redemption belongs to one
exposure, which a second file could only name again (customer, campaign and a date in
the window), and the blank cell of an unused coupon is what most campaign tools export.
:func:`loyaltylab.sim.campaign_log` writes this format from a simulation.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

import pandas as pd

from loyaltylab.agents.transactions import RowChecks, TransactionError, blank_cells, read_table
from loyaltylab.sim.logs import CAMPAIGN_COLUMNS

#: Columns of a campaign file, in the order :func:`read_campaigns` returns them: those
#: :func:`loyaltylab.sim.campaign_log` writes.
COLUMNS = CAMPAIGN_COLUMNS
_REQUIRED = ("customer_id", "campaign", "start", "end")
_MONEY = ("amount_off", "pct_off", "min_spend")


class CampaignError(TransactionError):
    """A campaign file that cannot be used, with every bad row (``.errors``); rows are
    numbered from 1 for the first data row."""


def read_campaigns(path: str | PathLike[str]) -> pd.DataFrame:
    """Read and validate a campaign file (CSV or Parquet; module docstring).

    Parameters
    ----------
    path : str or path-like
        A ``.csv`` file with a header line, or a ``.parquet`` file.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`: ``customer_id`` and ``campaign`` (str), ``start``,
        ``end`` and ``redeemed`` (datetime64, days; ``redeemed`` NaT when unused),
        ``amount_off``, ``min_spend`` (float, currency units) and ``pct_off`` (float,
        share), in the order of the file.

    Raises
    ------
    CampaignError
        If a required column is missing (``customer_id``, ``campaign``, ``start``,
        ``end``, one of ``amount_off`` and ``pct_off``), or listing every bad row by
        number, field and reason.
    """
    path = Path(path)
    table = read_table(path)
    absent = [f"{name}: no column {name!r}" for name in _REQUIRED if name not in table]
    if "amount_off" not in table and "pct_off" not in table:
        absent.append("amount_off: no column 'amount_off' or 'pct_off'")
    if absent:
        raise CampaignError([*absent, f"columns found: {list(table.columns)}"],
                            source=str(path))
    checks = RowChecks()

    def report(mask: Any, column: str, reason: str) -> None:
        checks.add(mask, COLUMNS.index(column), column, reason)

    def column(name: str) -> pd.Series:
        return table[name] if name in table else pd.Series("", index=table.index)

    out: dict[str, pd.Series] = {}
    for name in ("customer_id", "campaign"):
        report(blank_cells(table[name]), name, "missing")
        out[name] = table[name].astype("string").str.strip().astype(str)
    for name in ("start", "end", "redeemed"):
        out[name] = checks.dates(column(name), COLUMNS.index(name), name,
                                 required=name != "redeemed").dt.normalize()
    for name in _MONEY:
        out[name] = checks.numbers(column(name), COLUMNS.index(name), name, blank_ok=True)

    start, end, redeemed = out["start"], out["end"], out["redeemed"]
    report((end < start).to_numpy(), "end", "before start")
    report(((redeemed < start) | (redeemed > end)).to_numpy(), "redeemed",
           "outside the coupon's start .. end")
    amount, pct, spend = out["amount_off"], out["pct_off"], out["min_spend"]
    report(((amount <= 0) & (pct <= 0)).to_numpy(), "amount_off",
           "amount_off or pct_off must be > 0")
    report((pct >= 1).to_numpy(), "pct_off", "must be below 1 (a share of the order)")
    report(((amount > 0) & (spend > 0) & (spend <= amount)).to_numpy(), "min_spend",
           "must be greater than amount_off")
    checks.raise_if_any(CampaignError, str(path))
    return pd.DataFrame({name: out[name] for name in COLUMNS}).reset_index(drop=True)
