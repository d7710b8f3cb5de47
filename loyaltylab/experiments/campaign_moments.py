"""Moments of a coupon campaign log: what customers did with the coupons they were sent.

From a transaction log and a campaign file (:func:`loyaltylab.agents.read_campaigns`)
:func:`campaign_data` builds, for every exposure (a coupon sent to a customer who had
bought before its ``start``), the customer's history before the coupon and what
happened while it was valid; :func:`moments` turns them into the statistics that
identify the coupon response (:mod:`loyaltylab.experiments.campaign_fit`):

``redeem_reach``, ``redeem_near``, ``redeem_far``
    Share of exposures redeemed, by the coupon's minimum spend relative to the
    customer's usual order (mean purchase occasion before ``start``): at most the usual
    order; up to :data:`NEAR` times it; more. Redemption where the threshold is within
    reach measures attention; its fall beyond the usual order, the top-up tolerance.
``topped_share``
    Share of the redemptions of coupons with a minimum spend made on an order within
    :data:`TOPPED` of it (gross value: the paid amount plus the discount): baskets
    bunched at the threshold are top-ups.
``trip_lift``
    Purchase occasions while the coupon was valid, exposed customers minus unexposed
    ones of the same campaign and history class
    (:func:`loyaltylab.policies.replay.history_class`): the extra trips coupons prompt.

Every moment is a ratio of sums over customers, so :func:`moments` takes a weight per
customer: resampling weights give its bootstrap distribution without recomputing the
table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loyaltylab.policies.replay import HISTORY_CLASSES, history_class

#: Names of the moments, in the order of :func:`moments`.
MOMENT_NAMES = ("redeem_reach", "redeem_near", "redeem_far", "topped_share", "trip_lift")
#: Upper bound of ``redeem_near``: minimum spend up to this many usual orders.
NEAR = 1.25
#: A redemption on an order within this share above the minimum spend is a top-up.
TOPPED = 0.01
#: Columns that make a campaign group: exposures sent together on the same terms.
GROUP_COLUMNS = ("campaign", "start", "end", "amount_off", "pct_off", "min_spend")
_CLASSES = len(HISTORY_CLASSES) + 1


@dataclass(frozen=True)
class CampaignData:
    """Exposures and their comparison customers, as arrays (module docstring).

    Attributes
    ----------
    customers : int
        Customers of the transaction log (codes ``0 .. customers - 1``).
    exposure : dict of str to array
        Per exposure: ``customer`` (code), ``cell`` (campaign group x history class),
        ``bin`` (0 reach, 1 near, 2 far), ``redeemed``, ``threshold`` (the coupon has a
        minimum spend) and ``topped`` (0/1),
        ``window`` (purchase occasions while valid).
    control : dict of str to array
        Per (group, unexposed customer who had bought before the start): ``customer``,
        ``cell``, ``window``.
    groups : pandas.DataFrame
        One row per campaign group: :data:`GROUP_COLUMNS`, ``exposures`` used,
        ``eligible`` (customers of each history class who had bought before the start)
        and ``shares`` (the share of them sent the coupon).
    left_out : int
        Exposures of customers unknown to the log or without a purchase before the start.
    """

    customers: int
    exposure: dict[str, np.ndarray]
    control: dict[str, np.ndarray]
    groups: pd.DataFrame
    left_out: int

    @property
    def cells(self) -> int:
        """Number of (campaign group, history class) cells."""
        return len(self.groups) * _CLASSES


def _occasions(transactions: pd.DataFrame) -> pd.DataFrame:
    """Purchase occasions (a customer's purchases of one day, amounts summed), by
    customer code and day number, sorted."""
    days = pd.to_datetime(transactions["date"]).dt.normalize()
    occ = (pd.DataFrame({"customer_id": transactions["customer_id"].astype(str),
                         "day": days, "amount": transactions["amount"].astype(float)})
           .groupby(["customer_id", "day"], sort=True)["amount"].sum().reset_index())
    return occ


def _day_number(dates: Any) -> np.ndarray:
    return (pd.to_datetime(pd.Series(dates)).to_numpy().astype("datetime64[D]")
            .astype(np.int64))


def campaign_data(transactions: pd.DataFrame, campaigns: pd.DataFrame) -> CampaignData:
    """The exposures and comparison customers of a campaign log (module docstring).

    Parameters
    ----------
    transactions : pandas.DataFrame
        ``customer_id``, ``date``, ``amount`` (:func:`loyaltylab.agents.read_transactions`).
    campaigns : pandas.DataFrame
        A campaign table (:func:`loyaltylab.agents.read_campaigns`).
    """
    occ = _occasions(transactions)
    ids, code = np.unique(occ["customer_id"].to_numpy(), return_inverse=True)
    n = len(ids)
    day = _day_number(occ["day"])
    amount = occ["amount"].to_numpy()
    # (code, day) keys of the occasions, ascending: the order of the grouping
    occ_key = code.astype(np.int64) * 2**32 + (day - day.min())

    groups = campaigns.groupby(list(GROUP_COLUMNS), sort=True, dropna=False)
    exposure: dict[str, list[np.ndarray]] = {}
    control: dict[str, list[np.ndarray]] = {}
    rows = []
    left_out = 0
    for g, (terms, part) in enumerate(groups):  # a loop over campaign groups
        terms = dict(zip(GROUP_COLUMNS, terms, strict=True))
        start, end = _day_number([terms["start"], terms["end"]])
        before = day < start
        pre_n = np.bincount(code[before], minlength=n)
        pre_sum = np.bincount(code[before], amount[before], minlength=n)
        window = np.bincount(code[(day >= start) & (day <= end)], minlength=n)
        cls = history_class(pre_n, np)
        sent = np.searchsorted(ids, part["customer_id"].astype(str).to_numpy())
        known = (sent < n) & (ids[np.minimum(sent, n - 1)] == part["customer_id"].astype(
            str).to_numpy())
        known &= pre_n[np.minimum(sent, n - 1)] > 0
        left_out += int((~known).sum())
        part, sent = part[known], sent[known]
        usual = pre_sum[sent] / pre_n[sent]
        ratio = terms["min_spend"] / usual
        redeemed = part["redeemed"].notna().to_numpy()
        topped = np.zeros(len(part), dtype=bool)
        if redeemed.any() and terms["min_spend"] > 0:
            used = np.flatnonzero(redeemed)
            key = sent[used].astype(np.int64) * 2**32 + (
                _day_number(part["redeemed"].iloc[used]) - day.min())
            at = np.minimum(np.searchsorted(occ_key, key), len(occ_key) - 1)
            paid = np.where(occ_key[at] == key, amount[at], np.nan)
            gross = (paid + terms["amount_off"]) / (1.0 - terms["pct_off"])
            topped[used] = gross <= terms["min_spend"] * (1.0 + TOPPED)
        _extend(exposure, customer=sent, cell=g * _CLASSES + cls[sent],
                bin=np.digitize(ratio, [1.0, NEAR], right=True),
                redeemed=redeemed.astype(float), topped=topped.astype(float),
                threshold=np.full(len(sent), float(terms["min_spend"] > 0)),
                window=window[sent].astype(float))
        others = np.ones(n, dtype=bool)
        others[sent] = False
        others &= pre_n > 0
        peers = np.flatnonzero(others)
        _extend(control, customer=peers, cell=g * _CLASSES + cls[peers],
                window=window[peers].astype(float))
        eligible = np.bincount(cls[pre_n > 0], minlength=_CLASSES)
        chosen = np.bincount(cls[sent], minlength=_CLASSES)
        rows.append({**terms, "exposures": len(sent), "eligible": eligible.tolist(),
                     "shares": (chosen / np.maximum(eligible, 1)).tolist()})
    return CampaignData(
        customers=n,
        exposure={k: np.concatenate(v) for k, v in exposure.items()},
        control={k: np.concatenate(v) for k, v in control.items()},
        groups=pd.DataFrame(rows), left_out=left_out,
    )


def _extend(table: dict[str, list[np.ndarray]], **columns: np.ndarray) -> None:
    for name, values in columns.items():
        table.setdefault(name, []).append(values)


def moments(data: CampaignData, weights: np.ndarray | None = None) -> np.ndarray:
    """The moments :data:`MOMENT_NAMES` of ``data``, NaN where nothing measures one.

    Parameters
    ----------
    weights : array of float, optional
        One per customer code (a bootstrap resample's counts); all 1 by default.
    """
    e, c = data.exposure, data.control
    w = np.ones(data.customers) if weights is None else np.asarray(weights, dtype=float)
    we, wc = w[e["customer"]], w[c["customer"]]
    with np.errstate(invalid="ignore", divide="ignore"):
        by_bin = (np.bincount(e["bin"], we * e["redeemed"], minlength=3)
                  / np.bincount(e["bin"], we, minlength=3))
        topped = np.sum(we * e["topped"]) / np.sum(we * e["redeemed"] * e["threshold"])
        peers = (np.bincount(c["cell"], wc * c["window"], minlength=data.cells)
                 / np.bincount(c["cell"], wc, minlength=data.cells))[e["cell"]]
        has = np.isfinite(peers)
        lift = np.sum((we * (e["window"] - np.where(has, peers, 0.0)))[has]) / np.sum(we[has])
    return np.array([*by_bin, topped, lift])
