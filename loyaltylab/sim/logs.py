"""Logs of a simulation in the form a firm keeps them: transactions and coupon campaigns.

A model built with ``record=True`` keeps, each week, a compact record of its buyers
(row, week, orders, value of the first order, gross value, discount, coupon used) and of
the coupons issued (row, week, coupon kind, validity, amount off, percentage off,
minimum spend); :class:`LogRecorder` holds it. Recording only reads the week's sale and
offers, so a recorded run is the same run as an unrecorded one, bit for bit.

From the record, :func:`transaction_log` writes the log :func:`loyaltylab.agents.
read_transactions` reads (one row per order: ``customer_id``, ``date``, ``amount``) and
:func:`campaign_log` the campaign file :func:`loyaltylab.agents.read_campaigns` reads
(one row per coupon issued, with the date it was redeemed, if it was). The export turns
the engine's weeks into calendar days:

- week ``w`` covers days ``7 w .. 7 w + 6`` after ``start_date``; every customer's
  joining purchase (week 0 for the initial population, the join week for customers
  who join later) is on the last day of the join week, so the week-1 orders of an
  initial customer fall 1 to 7 days after it, as BG/NBD's clock wants;
- a buyer's ``k`` orders of a week are on ``k`` distinct days of the week, chosen at
  random (a counter-based draw of the buyer's row and week, purpose ``log_day``), the
  first order (the one a coupon applies to) on the earliest; orders beyond seven in
  one week share the last day, where :func:`loyaltylab.agents.summarise` merges them
  into one occasion;
- the first order's value is the engine's; the week's other orders split the rest of
  the gross value by Dirichlet(:math:`p_s, \\dots, p_s`) weights (independent
  Gamma(:math:`p_s`) draws, purpose ``log_order/<j>``, over their sum), which makes them
  exactly independent Gamma(:math:`p_s`, :math:`\\nu_i`) orders given their sum, as the
  Gamma-Gamma model has them;
- the joining purchase is worth a Gamma(:math:`p_s`, :math:`\\nu_i`) draw of the
  customer (purpose ``log_join``);
- amounts are net of discounts: the week's discount comes off the first order (a coupon
  is used on it) and whatever exceeds that order's value off the others, in proportion;
- customer ids are ``"c"`` and the row number, zero-padded to six digits or more.

Every draw is addressed by purpose, week and row, so an export is reproducible, and
the logs of two arms of a replication differ only where the arms' customers do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from loyaltylab.sim.backend import to_numpy
from loyaltylab.sim.variates import standard_gamma

if TYPE_CHECKING:
    from loyaltylab.sim.model import LoyaltyModel
    from loyaltylab.sim.offers import Offers
    from loyaltylab.sim.policy import Policy
    from loyaltylab.sim.sale import Sale

#: Days per simulated week.
DAYS_PER_WEEK = 7
#: Default first day of an exported log (week 0 starts on it).
START_DATE = "2024-01-01"
#: Columns of :func:`campaign_log`, in order.
CAMPAIGN_COLUMNS = ("customer_id", "campaign", "start", "end", "amount_off", "pct_off",
                    "min_spend", "redeemed")


@dataclass
class LogRecorder:
    """The weekly record of a model's buyers and coupons (module docstring).

    Attributes
    ----------
    keys : list of str
        Coupon kinds seen so far (``CouponOffer.key``); codes in the record index it.
    buyers : dict of str to list of arrays
        Per week: ``rows`` (uint32), ``week`` (int16), ``orders`` (int16), ``first``,
        ``gross``, ``discount`` (float32, currency units), ``coupon`` (int16 code, -1
        for none).
    issues : dict of str to list of arrays
        Per week: ``rows`` (uint32), ``week``, ``coupon``, ``validity`` (int16, weeks),
        ``amount_off``, ``min_spend`` (float32, currency units), ``pct_off`` (float32,
        share of the order).
    """

    keys: list[str] = field(default_factory=list)
    buyers: dict[str, list[Any]] = field(default_factory=dict)
    issues: dict[str, list[Any]] = field(default_factory=dict)

    def _code(self, key: str) -> int:
        if key not in self.keys:
            self.keys.append(key)
        return self.keys.index(key)

    def record(self, model: LoyaltyModel, offers: Offers, sale: Sale, week: int) -> None:
        """Keep the week's buyers and the coupons issued this week (after settling)."""
        xp = model.xp
        codes = xp.asarray([self._code(o.key) for o in offers.coupons] + [-1], dtype=xp.int16)
        k = len(sale)
        _append(self.buyers, rows=sale.rows.astype(xp.uint32),
                week=xp.full(k, week, dtype=xp.int16),
                orders=xp.minimum(sale.purchases, 2**15 - 1).astype(xp.int16),
                first=sale.first_order.astype(xp.float32),
                gross=sale.gross.astype(xp.float32),
                discount=sale.discount.astype(xp.float32),
                coupon=codes[sale.coupon])  # -1 picks the last entry, -1
        for offer, code in zip(offers.coupons, codes[:-1].tolist(), strict=True):
            # a policy that says nothing of issues holds each coupon for one week
            issued = offer.rows if offer.issued is None else offer.issued
            validity = 1 if offer.issued is None else offer.validity_weeks
            n = int(issued.shape[0])
            if not n:
                continue
            at = xp.searchsorted(offer.rows, issued)
            _append(self.issues, rows=xp.asarray(issued).astype(xp.uint32),
                    week=xp.full(n, week, dtype=xp.int16),
                    coupon=xp.full(n, code, dtype=xp.int16),
                    validity=xp.full(n, validity, dtype=xp.int16),
                    **{name: _per_holder(getattr(offer, name), at, n, xp)
                       for name in ("amount_off", "pct_off", "min_spend")})

    def table(self, which: str, xp: Any) -> dict[str, Any]:
        """The record ``"buyers"`` or ``"issues"`` as one array per column."""
        parts = getattr(self, which)
        return {name: xp.concatenate(arrays) for name, arrays in parts.items()}

    @property
    def nbytes(self) -> int:
        """Bytes held by the record."""
        return sum(int(a.nbytes) for part in (self.buyers, self.issues)
                   for arrays in part.values() for a in arrays)


def _append(table: dict[str, list[Any]], **columns: Any) -> None:
    for name, values in columns.items():
        table.setdefault(name, []).append(values)


def _per_holder(value: Any, at: Any, n: int, xp: Any) -> Any:
    """A coupon's value (a scalar, or one per holder) for the issued holders at ``at``."""
    if getattr(value, "ndim", 0) > 0:
        return xp.asarray(value)[at].astype(xp.float32)
    return xp.full(n, float(value), dtype=xp.float32)


def _recorder(model: LoyaltyModel) -> LogRecorder:
    logs = getattr(model, "logs", None)
    if logs is None:
        raise ValueError("model: build it with record=True to export its logs")
    return logs


def customer_ids(rows: Any, n: int) -> pd.Series:
    """Customer ids of ``rows`` (host array of ints) in a population of ``n`` rows:
    ``"c"`` and the row, zero-padded to six digits or the width of ``n - 1``."""
    width = max(6, len(str(max(n - 1, 0))))
    return "c" + pd.Series(to_numpy(rows)).astype(str).str.zfill(width)


def order_days(model: LoyaltyModel, rows: Any, orders: Any, week: int) -> Any:
    """Day of the week (0-6) of each order of the ``rows`` who bought in ``week``.

    Returns an int8 array of shape ``(max(orders), len(rows))``: entry ``[j, i]`` is the
    day of order ``j`` of row ``i``, ascending in ``j`` (orders beyond the first seven on
    the last of them; entries ``j >= orders[i]`` are meaningless). Each row's days are
    the first ``min(orders, 7)`` of a random permutation of the week's days, sorted.
    """
    xp = model.xp
    u = xp.stack(model.streams.uniforms("log_day", week, rows, 0, DAYS_PER_WEEK))
    rank = xp.argsort(xp.argsort(u, axis=0), axis=0)  # rank of each day in the permutation
    taken = rank < xp.minimum(orders, DAYS_PER_WEEK)[None, :]
    # the chosen days in ascending order: cumulative count gives each its order number
    slot = xp.cumsum(taken, axis=0) - 1
    most = int(orders.max()) if orders.shape[0] else 0
    days = xp.full((max(most, 1), rows.shape[0]), DAYS_PER_WEEK - 1, dtype=xp.int8)
    day, col = xp.nonzero(taken)
    days[slot[day, col], col] = day.astype(xp.int8)
    # orders beyond seven: on the last chosen day
    last = xp.minimum(orders, DAYS_PER_WEEK) - 1
    if most > DAYS_PER_WEEK:
        days[DAYS_PER_WEEK:] = days[last, xp.arange(rows.shape[0])][None, :]
    return days


def _split_rest(model: LoyaltyModel, rows: Any, orders: Any, rest: Any, shape: Any,
                week: int) -> list[Any]:
    """Values of orders ``1 .. max(orders) - 1`` of each row: ``rest`` split by
    Dirichlet(shape, ..., shape) weights over the row's other orders (0 past them)."""
    xp = model.xp
    most = int(orders.max()) if orders.shape[0] else 0
    weights = []
    total = xp.zeros(rows.shape[0], dtype=xp.float64)
    for j in range(1, most):  # a loop over order numbers, not customers
        has = xp.nonzero(orders > j)[0]
        w = xp.zeros(rows.shape[0], dtype=xp.float64)
        w[has] = standard_gamma(shape[has], model.streams, f"log_order/{j}", week, rows[has])
        total += w
        weights.append(w)
    total = xp.where(total > 0, total, 1.0)
    return [w / total * rest for w in weights]


def transaction_log(model: LoyaltyModel, start_date: Any = START_DATE) -> pd.DataFrame:
    """The model's transactions as a log: one row per order (module docstring).

    Parameters
    ----------
    model : LoyaltyModel
        A model built with ``record=True``.
    start_date : date-like
        First day of week 0.

    Returns
    -------
    pandas.DataFrame
        ``customer_id`` (str), ``date`` (datetime64, a day), ``amount`` (float, currency
        units, net of discounts), sorted by customer and date.
    """
    logs = _recorder(model)
    xp = model.xp
    pop = model.population
    n = pop.n
    shape_of = model.segment_params["spend_shape"]
    everyone = xp.arange(n, dtype=xp.int64)
    nu = pop["spend_rate"].astype(xp.float64)
    shape_all = shape_of[pop["segment"]]
    join_amount = standard_gamma(shape_all, model.streams, "log_join", 0, everyone) / nu
    parts_rows = [everyone]
    parts_days = [pop["join_week"].astype(xp.int64) * DAYS_PER_WEEK + DAYS_PER_WEEK - 1]
    parts_amount = [join_amount]
    weekly = (logs.buyers.get(c, []) for c in ("rows", "week", "orders", "first", "gross",
                                                "discount"))
    # the record keeps one array per week: a loop over weeks
    for rows, weeks, orders, first, gross, discount in zip(*weekly, strict=True):
        if not rows.shape[0]:
            continue
        week = int(weeks[0])
        rows = rows.astype(xp.int64)
        orders = orders.astype(xp.int64)
        first, gross, discount = (v.astype(xp.float64) for v in (first, gross, discount))
        rest = xp.maximum(gross - first, 0.0)
        off_first = xp.minimum(discount, first)
        # the discount beyond the first order comes off the others in proportion (they
        # are worth nothing when rest is 0, whatever the factor)
        keep_rest = xp.clip(1.0 - (discount - off_first) / xp.where(rest > 0, rest, 1.0),
                            0.0, 1.0)
        others = _split_rest(model, rows, orders, rest, shape_all[rows], week)
        days = order_days(model, rows, orders, week).astype(xp.int64) + week * DAYS_PER_WEEK
        amounts = [first - off_first, *(o * keep_rest for o in others)]
        for j, amount in enumerate(amounts):
            has = xp.nonzero(orders > j)[0]
            parts_rows.append(rows[has])
            parts_days.append(days[j, has])
            parts_amount.append(amount[has])
    rows = to_numpy(xp.concatenate(parts_rows))
    days = to_numpy(xp.concatenate(parts_days))
    frame = pd.DataFrame({
        "customer_id": customer_ids(rows, n),
        "date": pd.Timestamp(start_date).normalize() + pd.to_timedelta(days, unit="D"),
        "amount": to_numpy(xp.concatenate(parts_amount)).astype(float),
        "_row": rows,
    })
    frame = frame.sort_values(["_row", "date"], kind="stable").drop(columns="_row")
    return frame.reset_index(drop=True)


def campaign_log(model: LoyaltyModel, start_date: Any = START_DATE) -> pd.DataFrame:
    """The coupons the model issued, one row per coupon, with its redemption date.

    Parameters
    ----------
    model : LoyaltyModel
        A model built with ``record=True``.
    start_date : date-like
        First day of week 0 (as for :func:`transaction_log`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CAMPAIGN_COLUMNS`: ``customer_id``; ``campaign`` (the coupon
        kind, ``CouponOffer.key``); ``start`` and ``end``, the first and last day the
        coupon could be used (the first day of the week of issue and the last day of
        its last valid week); ``amount_off`` (currency units), ``pct_off`` (share of
        the order), ``min_spend`` (currency units, 0 for none); ``redeemed``, the day
        of the order it was used on (the first order of that week), NaT if it was not.
    """
    logs = _recorder(model)
    xp = model.xp
    start = pd.Timestamp(start_date).normalize()
    if not logs.issues:
        return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in CAMPAIGN_COLUMNS})
    issues = logs.table("issues", xp)
    rows = issues["rows"].astype(xp.int64)
    week = issues["week"].astype(xp.int64)
    code = issues["coupon"].astype(xp.int64)
    redeemed = xp.full(rows.shape[0], -1, dtype=xp.int64)  # day, -1 for none
    if logs.buyers:
        buyers = logs.table("buyers", xp)
        used = xp.nonzero(buyers["coupon"] >= 0)[0]
        if used.shape[0]:
            _match_redemptions(model, issues, buyers, used, redeemed)
    n = model.population.n
    last_day = (week + issues["validity"].astype(xp.int64)) * DAYS_PER_WEEK - 1
    redeemed_host = to_numpy(redeemed)
    frame = pd.DataFrame({
        "customer_id": customer_ids(to_numpy(rows), n),
        "campaign": pd.Series(logs.keys, dtype=object).to_numpy()[to_numpy(code)],
        "start": start + pd.to_timedelta(to_numpy(week * DAYS_PER_WEEK), unit="D"),
        "end": start + pd.to_timedelta(to_numpy(last_day), unit="D"),
        "amount_off": to_numpy(issues["amount_off"]).astype(float),
        "pct_off": to_numpy(issues["pct_off"]).astype(float),
        "min_spend": to_numpy(issues["min_spend"]).astype(float),
        "redeemed": (start + pd.to_timedelta(redeemed_host, unit="D")).where(
            redeemed_host >= 0),
    })
    return frame.astype({c: _dtype(c) for c in ("start", "end", "redeemed")})


def _dtype(column: str) -> str:
    if column in ("start", "end", "redeemed"):
        return "datetime64[ns]"
    return "float64" if column in ("amount_off", "pct_off", "min_spend") else "object"


def _match_redemptions(model: LoyaltyModel, issues: dict[str, Any], buyers: dict[str, Any],
                       used: Any, redeemed: Any) -> None:
    """Write into ``redeemed`` (one entry per issue) the day each coupon was used.

    A customer holds at most one coupon of a kind at a time, so a use in week ``w``
    redeems the customer's latest coupon of that kind issued at or before ``w``.
    """
    xp = model.xp
    n = model.population.n + 1

    def key(code: Any, rows: Any, week: Any) -> Any:
        return (code.astype(xp.int64) * n + rows.astype(xp.int64)) * 2**16 + week.astype(
            xp.int64)

    issue_key = key(issues["coupon"], issues["rows"], issues["week"])
    order = xp.argsort(issue_key, kind="stable")
    sorted_key = issue_key[order]
    rows = buyers["rows"][used].astype(xp.int64)
    week = buyers["week"][used].astype(xp.int64)
    use_key = key(buyers["coupon"][used], rows, week)
    at = xp.searchsorted(sorted_key, use_key, side="right") - 1
    found = at >= 0
    at = xp.maximum(at, 0)
    same = found & (sorted_key[at] // 2**16 == use_key // 2**16)
    hit = order[at]
    first_day = xp.zeros(rows.shape[0], dtype=xp.int64)
    for w in to_numpy(xp.unique(week)).tolist():  # a loop over weeks
        these = xp.nonzero(week == w)[0]
        orders = buyers["orders"][used][these].astype(xp.int64)
        first_day[these] = order_days(model, rows[these], orders, w)[0].astype(xp.int64)
        first_day[these] += w * DAYS_PER_WEEK
    redeemed[hit[same]] = first_day[same]


def simulate_logs(
    population: Any,
    policies: Iterable[Policy] = (),
    weeks: int = 52,
    seed: int = 0,
    *,
    start_date: Any = START_DATE,
    burn_in: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame, LoyaltyModel]:
    """Simulate a customer base and export its logs, as a firm would hand them over.

    Parameters
    ----------
    population : CustomerSource
        Who the customers are (:class:`loyaltylab.agents.PopulationSpec`).
    policies : iterable of Policy
        The program, launched after ``burn_in`` weeks without one.
    weeks : int
        Weeks simulated after the burn-in.
    seed : int
        Seed of the model.
    start_date : date-like
        First day of week 0.
    burn_in : int
        Weeks without a program first (a history before the campaigns).

    Returns
    -------
    transactions : pandas.DataFrame
        :func:`transaction_log`.
    campaigns : pandas.DataFrame
        :func:`campaign_log`.
    model : LoyaltyModel
        The model, for the truth behind the logs.
    """
    from loyaltylab.sim.model import LoyaltyModel  # the model imports this module

    model = LoyaltyModel(population, seed=seed, record=True)
    model.run(burn_in)
    model.start_program(list(policies))
    model.run(weeks)
    return (transaction_log(model, start_date), campaign_log(model, start_date), model)

