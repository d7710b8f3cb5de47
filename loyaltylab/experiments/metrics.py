"""The metrics: one small documented function per metric, registered by name.

Every table of loyaltylab (``summary.csv``, the command line's table, the report, the
README's metric table) is generated from :data:`METRICS`, the way Mesa's
``DataCollector`` takes named reporters. A metric is one of three kinds:

- ``customers``: a function of a group of cohort customers (:class:`Groups` gives sums
  and means per group), so it is computed for the whole cohort and, if ``segmented``,
  for each segment: ``<name>_<segment>`` by the simulation's label and
  ``<name>_<segment>_observed`` by the segment the firm sees at launch (the strategy's
  rules on the trailing 12 months);
- ``program``: a function of an arm's :class:`~loyaltylab.experiments.arm.ArmOutcome`
  as a whole (points, cost components);
- ``effect``: a function of the :class:`Groups` of a treatment arm and of the control
  in the same replication (ROI), so it can be segmented too;
- ``program_effect``: a function of a treatment arm's and the control's outcomes as a
  whole (payback, from the weekly series).

Money is per cohort customer over the horizon, in currency units; shares are fractions
(reported effects of shares are percentage points, of NPS points).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from loyaltylab.experiments.arm import ArmOutcome

Kind = Literal["customers", "program", "effect", "program_effect"]
#: Units and how a value and an effect (difference from the control) read.
UNITS: dict[str, tuple[str, str]] = {
    "share": ("{:.1%}", "{:+.1f} pp"),
    "currency": ("{:,.0f}", "{:+,.0f}"),
    "currency_fine": ("{:,.1f}", "{:+,.1f}"),
    "count": ("{:.2f}", "{:+.2f}"),
    "score": ("{:+.1f}", "{:+.1f} pts"),
    "ratio": ("{:+.2f}", "{:+.2f}"),
    "week": ("{:.0f}", "{:+.0f}"),
    "per_1000": ("{:.2f}", "{:+.2f}"),
}
#: Format of relative changes (``*_rel_change``).
RELATIVE_FORMAT = "{:+.1%}"


@dataclass(frozen=True)
class Metric:
    """A registered metric.

    Attributes
    ----------
    name : str
        Its name in ``summary.csv`` (``{p}`` stands for a repurchase period in weeks).
    compute : callable
        ``customers``: ``f(groups) -> array`` (one value per group); ``program``:
        ``f(outcome) -> float``; ``effect``: ``f(arm_groups, control_groups) -> array``;
        ``program_effect``: ``f(arm, control) -> float``.
    kind : {"customers", "program", "effect", "program_effect"}
    unit : str
        A key of :data:`UNITS`.
    label : str
        Words for tables.
    relative, segmented, headline : bool
        Also report the change relative to the control (``<name>_rel_change``); also per
        segment; show in the headline tables.
    """

    name: str
    compute: Callable[..., Any]
    kind: Kind
    unit: str
    label: str
    relative: bool = False
    segmented: bool = False
    headline: bool = False

    @property
    def definition(self) -> str:
        """The first paragraph of the function's docstring, on one line."""
        doc = (self.compute.__doc__ or "").strip().split("\n\n")[0]
        doc = re.sub(r":\w+:`~?([^`]+)`", r"`\1`", doc).replace("``", "`")
        return " ".join(doc.split())

    def format(self, value: float, effect: bool = False) -> str:
        """``value`` in the metric's unit ("-" if missing); an effect in pp or points."""
        if value is None or not np.isfinite(value):
            return "-"
        level, difference = UNITS[self.unit]
        if effect and self.unit == "share":
            return difference.format(100 * value)
        return (difference if effect else level).format(value)


#: Every metric by name, in the order of the tables.
METRICS: dict[str, Metric] = {}


def metric(kind: Kind, unit: str, label: str, *, name: str | None = None,
           relative: bool = False, segmented: bool = False, headline: bool = False
           ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as a metric (named after it unless ``name``)."""
    if unit not in UNITS:
        raise ValueError(f"unit: unknown unit {unit!r}; known: {sorted(UNITS)}")

    def register(compute: Callable[..., Any]) -> Callable[..., Any]:
        key = name or compute.__name__
        METRICS[key] = Metric(key, compute, kind, unit, label, relative, segmented, headline)
        return compute

    return register


# ---------------------------------------------------------------------- groups
class Groups:
    """Cohort customers split into groups: all customers first, then one per segment.

    Metric functions ask for per-group sums and means of columns (or of arrays over the
    customers) and get one value per group: a metric is computed for every group in a
    few ``bincount`` calls.

    Parameters
    ----------
    customers : DataFrame
        Per-customer outcomes (:class:`~loyaltylab.experiments.arm.ArmOutcome`).
    codes : array of int, optional
        Group of each customer (0 .. k-1; -1 for none); None: the whole cohort only.
    k : int
        Number of groups in ``codes``.
    """

    def __init__(self, customers: pd.DataFrame, codes: np.ndarray | None = None,
                 k: int = 0) -> None:
        self.frame = customers
        n = len(customers)
        if codes is None:
            self.codes, self.k = np.zeros(n, dtype=np.int64), 1
        else:
            codes = np.asarray(codes, dtype=np.int64)
            # group 0 is everyone: each customer counts there and in their own group
            self.codes, self.k = np.where(codes >= 0, codes + 1, -1), k + 1
        self._all = codes is not None

    def __getitem__(self, column: str) -> np.ndarray:
        return self.frame[column].to_numpy()

    def sum(self, values: np.ndarray | str) -> np.ndarray:
        """Per-group sum of a column or of an array over the customers."""
        x = np.asarray(self[values] if isinstance(values, str) else values, dtype=np.float64)
        keep = self.codes >= 0
        out = np.bincount(self.codes[keep], weights=x[keep], minlength=self.k)
        if self._all:
            out[0] = x.sum()
        return out

    def count(self) -> np.ndarray:
        """Customers per group."""
        return self.sum(np.ones(len(self.frame)))

    def mean(self, values: np.ndarray | str) -> np.ndarray:
        """Per-group mean (NaN for an empty group)."""
        return ratio(self.sum(values), self.count())


def ratio(numerator: Any, denominator: Any) -> Any:
    """``numerator / denominator``, NaN where the denominator is 0.

    >>> ratio(np.array([1.0, 1.0]), np.array([2.0, 0.0])).tolist()
    [0.5, nan]
    """
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan)
    return out if out.ndim else float(out)


# ---------------------------------------------------------------------- customers
@metric("customers", "share", "retention at the horizon", relative=True, segmented=True,
        headline=True)
def retention(g: Groups) -> np.ndarray:
    """Share of the cohort active (a purchase in the last 26 weeks) at the horizon."""
    return g.mean("active")


@metric("customers", "share", "churn", relative=True, segmented=True, headline=True)
def churn(g: Groups) -> np.ndarray:
    """1 − retention: share of the cohort without a purchase in the last 26 weeks."""
    return 1.0 - g.mean("active")


@metric("customers", "share", "repurchase rate over the horizon", relative=True,
        segmented=True)
def repurchase_rate(g: Groups) -> np.ndarray:
    """Share of the cohort with ≥ 2 purchases over the whole horizon."""
    return g.mean(g["purchases"] >= 2)


@metric("customers", "share", "repurchase rate per {p}-week period",
        name="repurchase_rate_{p}w", relative=True, segmented=True, headline=True)
def repurchase_rate_period(g: Groups, period: int) -> np.ndarray:
    """Repurchase rate per period (复购率): over the complete periods of the horizon,
    customers with ≥ 2 purchases in a period / customers with ≥ 1 purchase in it
    (summed over the periods)."""
    return ratio(g.sum(f"periods_repeat_{period}w"), g.sum(f"periods_bought_{period}w"))


@metric("customers", "count", "purchases per customer", relative=True, headline=True)
def purchase_frequency(g: Groups) -> np.ndarray:
    """Purchases per customer over the horizon."""
    return g.mean("purchases")


@metric("customers", "currency", "average order value (gross)", relative=True,
        headline=True)
def average_order_value(g: Groups) -> np.ndarray:
    """The cohort's own gross revenue (basket value at list prices, before discounts and
    points) / purchases."""
    return ratio(g.sum("gross_revenue") - g.sum("referred_gross_revenue"), g.sum("purchases"))


@metric("customers", "currency", "average order value (net)", relative=True)
def average_order_value_net(g: Groups) -> np.ndarray:
    """The cohort's own net revenue (what customers paid, after discounts and points
    redeemed) / purchases."""
    return ratio(g.sum("net_revenue") - g.sum("referred_net_revenue"), g.sum("purchases"))


@metric("customers", "currency", "net revenue per customer", relative=True,
        segmented=True, headline=True)
def net_revenue(g: Groups) -> np.ndarray:
    """Net revenue (gross − discounts) per customer, undiscounted, with the revenue of
    the friends they referred."""
    return g.mean("net_revenue")


@metric("customers", "currency", "program cost per customer (accrual)", segmented=True,
        headline=True)
def program_cost(g: Groups) -> np.ndarray:
    """Program cost per customer on the accrual basis: points cost their value × their
    expected redemption share when earned (redeemed points their value, expired points
    nothing, held points their expected redemption); other costs when incurred; an
    equal share of the fixed cost."""
    return g.mean("program_cost")


@metric("customers", "currency", "program cost per customer (cash)")
def program_cost_cash(g: Groups) -> np.ndarray:
    """Program cost per customer with points counted only when redeemed (cash view)."""
    return g.mean("program_cost_cash")


@metric("customers", "currency", "margin per customer", relative=True, segmented=True,
        headline=True)
def margin(g: Groups) -> np.ndarray:
    """Gross revenue × gross margin − program cost (accrual), per customer,
    undiscounted."""
    return g.mean("margin")


@metric("customers", "currency", "margin per customer (cash)")
def margin_cash(g: Groups) -> np.ndarray:
    """Gross revenue × gross margin − program cost (cash view), per customer."""
    return g.mean("margin_cash")


@metric("customers", "share", "cost-to-revenue", headline=True)
def cost_to_revenue(g: Groups) -> np.ndarray:
    """Program cost (accrual) / net revenue."""
    return ratio(g.sum("program_cost"), g.sum("net_revenue"))


@metric("customers", "currency", "CLV per customer", relative=True, segmented=True,
        headline=True)
def clv(g: Groups) -> np.ndarray:
    """Margin (accrual, without the fixed-cost share) discounted weekly to the program's
    start, plus the expected residual after the horizon from the recurring margin
    (:mod:`loyaltylab.experiments.residual`)."""
    return g.mean("clv")


@metric("customers", "score", "NPS", segmented=True, headline=True)
def nps(g: Groups) -> np.ndarray:
    """Net promoter score of the cohort customers active at the horizon: % promoters
    (9-10) − % detractors (0-6), on −100..100; effects are differences in points."""
    answers = g.frame["nps_answer"]
    asked = answers.notna().to_numpy()
    values = answers.fillna(7).to_numpy(dtype=np.int64)
    score = np.where(values >= 9, 100.0, np.where(values <= 6, -100.0, 0.0))
    return ratio(g.sum(np.where(asked, score, 0.0)), g.sum(asked))


@metric("customers", "count", "friends referred per customer")
def referred_customers(g: Groups) -> np.ndarray:
    """Friends who joined by referral per cohort customer (friends of friends
    included)."""
    return g.mean("referred")


# ---------------------------------------------------------------------- program
@metric("program", "currency", "program cost by component", name="cost_{component}")
def cost_components(outcome: ArmOutcome) -> dict[str, float]:
    """Program cost by component per customer (rewards on the accrual basis,
    ``cost_rewards_cash`` as redeemed; coupons, tier_discounts, service, referral,
    fixed, and plugins' components)."""
    w = outcome.weekly
    return {c: float(w[c].sum()) / outcome.size for c in w.columns if c.startswith("cost_")}


@metric("program", "currency_fine", "points liability per customer", headline=True)
def points_liability(outcome: ArmOutcome) -> float:
    """Outstanding points at the horizon × value per point × the share of them expected
    to be redeemed, per customer (IFRS 15)."""
    if outcome.points is None:
        return 0.0
    return _points(outcome, "expected_redemptions") * outcome.value_per_point / outcome.size


@metric("program", "share", "expected redemption share")
def redemption_share(outcome: ArmOutcome) -> float:
    """Ultimate redemption rate of the horizon's awards: (points redeemed + expected
    future redemptions of points held) / points earned
    (:mod:`loyaltylab.experiments.breakage`)."""
    return _points(outcome, "urr")


@metric("program", "share", "breakage (realised and forecast)", headline=True)
def breakage(outcome: ArmOutcome) -> float:
    """1 − expected redemption share: the share of the horizon's points that expire
    unused, realised for awards past their expiry and forecast for the others."""
    return _points(outcome, "expected_breakage")


@metric("program", "share", "breakage realised")
def breakage_realised(outcome: ArmOutcome) -> float:
    """Points expired / points earned among the awards that have reached their expiry
    (missing when none has)."""
    return _points(outcome, "realised_breakage")


@metric("program", "share", "points redeemed / earned so far")
def redemption_rate(outcome: ArmOutcome) -> float:
    """Points redeemed / points earned over the horizon."""
    return ratio(_points(outcome, "redeemed"), _points(outcome, "awarded"))


def _points(outcome: ArmOutcome, column: str) -> float:
    """The redemption forecast's ``column`` for all members; NaN without points."""
    if outcome.points is None:
        return float("nan")
    return float(outcome.points.at["all", column])


# ---------------------------------------------------------------------- effects
def _difference(a: Groups, c: Groups, column: str) -> np.ndarray:
    return a.mean(column) - c.mean(column)


@metric("effect", "currency", "incremental net revenue per customer", segmented=True)
def incremental_revenue(a: Groups, c: Groups) -> np.ndarray:
    """Net revenue per customer − the control's."""
    return _difference(a, c, "net_revenue")


@metric("effect", "currency", "incremental margin per customer", segmented=True,
        headline=True)
def incremental_margin(a: Groups, c: Groups) -> np.ndarray:
    """Margin (accrual) per customer − the control's."""
    return _difference(a, c, "margin")


@metric("effect", "currency", "incremental program cost per customer", segmented=True)
def incremental_program_cost(a: Groups, c: Groups) -> np.ndarray:
    """Program cost (accrual) per customer − the control's."""
    return _difference(a, c, "program_cost")


@metric("effect", "ratio", "ROI", segmented=True, headline=True)
def roi(a: Groups, c: Groups) -> np.ndarray:
    """Incremental margin / incremental program cost, accrual basis (margin is net of
    program cost, so this is (incremental margin before cost − incremental cost) /
    incremental cost); missing when the arm costs no more than the control."""
    cost = _difference(a, c, "program_cost")
    return np.where(cost > 0, ratio(_difference(a, c, "margin"), cost), np.nan)


@metric("effect", "ratio", "ROI (cash view)")
def roi_cash(a: Groups, c: Groups) -> np.ndarray:
    """ROI with points counted only when redeemed: flatters points, whose cost is
    partly still on the books."""
    cost = _difference(a, c, "program_cost_cash")
    return np.where(cost > 0, ratio(_difference(a, c, "margin_cash"), cost), np.nan)


@metric("effect", "per_1000", "customers retained per 1,000 of program cost",
        segmented=True, headline=True)
def retained_per_1000(a: Groups, c: Groups) -> np.ndarray:
    """Incremental customers active at the horizon per 1,000 currency units of
    incremental program cost (accrual): 1000 × Δretention / Δcost per customer; missing
    when the arm costs no more than the control."""
    cost = _difference(a, c, "program_cost")
    return np.where(cost > 0, ratio(1000.0 * _difference(a, c, "active"), cost), np.nan)


@metric("program_effect", "week", "payback week", headline=True)
def payback_week(arm: ArmOutcome, control: ArmOutcome) -> float:
    """First week (from 1) from which the cumulative incremental margin (accrual) stays
    ≥ 0 to the horizon; missing if it is negative at the horizon or nothing was
    invested (incremental program cost ≤ 0)."""
    if not _invested(arm, control):
        return float("nan")
    return first_week_paid_back(arm.weekly["margin"].to_numpy()
                                - control.weekly["margin"].to_numpy())


@metric("program_effect", "share", "share of replications that pay back")
def paid_back(arm: ArmOutcome, control: ArmOutcome) -> float:
    """1 if the cumulative incremental margin (accrual) is ≥ 0 at the horizon, else 0;
    its mean over replications is the share that pays back. Missing if nothing was
    invested."""
    if not _invested(arm, control):
        return float("nan")
    return float(np.sum(arm.weekly["margin"].to_numpy()
                        - control.weekly["margin"].to_numpy()) >= 0)


def _invested(arm: ArmOutcome, control: ArmOutcome) -> bool:
    return float(arm.weekly["program_cost"].sum() - control.weekly["program_cost"].sum()) > 0


def first_week_paid_back(incremental_margin: np.ndarray) -> float:
    """First week (from 1) from which the cumulative incremental margin stays >= 0.

    NaN if it is negative at the horizon.

    >>> first_week_paid_back(np.array([-5.0, 2.0, 4.0, -0.5, 3.0]))
    3.0
    """
    cumulative = np.cumsum(incremental_margin)
    if len(cumulative) == 0 or cumulative[-1] < 0:
        return float("nan")
    negative = np.nonzero(cumulative < 0)[0]
    return float(negative[-1] + 2) if len(negative) else 1.0


# ---------------------------------------------------------------------- computing
def _segmentations(outcome: ArmOutcome) -> Iterator[tuple[str, str]]:
    """(suffix, column): the simulation's labels, and the segments seen at launch if the
    firm had a history."""
    yield "", "segment"
    if outcome.customers["segment_observed"].notna().any():
        yield "_observed", "segment_observed"


def _names(m: Metric, period: int | None) -> str:
    return m.name.format(p=period) if period is not None else m.name


def _customer_values(m: Metric, g: Groups, periods: Sequence[int]) -> Iterator[
        tuple[int | None, np.ndarray]]:
    if "{p}" in m.name:
        for period in periods:
            yield period, np.atleast_1d(m.compute(g, period))
    else:
        yield None, np.atleast_1d(m.compute(g))


def _grouped(metrics: Sequence[Metric], outcomes: Sequence[ArmOutcome],
             compute: Callable[[Metric, list[Groups], Sequence[int]],
                               Iterator[tuple[int | None, np.ndarray]]]
             ) -> dict[str, float]:
    """Values of ``metrics`` for the cohort and, for segmented ones, each segment."""
    out: dict[str, float] = {}
    periods = outcomes[0].periods
    whole = [Groups(o.customers) for o in outcomes]
    splits = []
    for suffix, column in _segmentations(outcomes[0]):
        names = list(outcomes[0].customers[column].cat.categories)
        splits.append((suffix, names, [
            Groups(o.customers, o.customers[column].cat.codes.to_numpy(), len(names))
            for o in outcomes]))
    for m in metrics:
        for period, values in compute(m, whole, periods):
            out[_names(m, period)] = float(values[0])
        if not m.segmented:
            continue
        for suffix, names, groups in splits:
            for period, values in compute(m, groups, periods):
                for name, value in zip(names, values[1:], strict=True):
                    out[f"{_names(m, period)}_{name}{suffix}"] = float(value)
    return out


def _chosen(kind: str, only: Collection[str] | None) -> list[Metric]:
    return [m for m in METRICS.values() if m.kind == kind and (only is None or m.name in only)]


def arm_metrics(outcome: ArmOutcome, only: Collection[str] | None = None) -> dict[str, float]:
    """Every per-arm metric of one replication: customers' (with segments) and the
    program's; ``only``: just the registered metrics of these names."""
    out = _grouped(_chosen("customers", only), [outcome],
                   lambda m, groups, periods: _customer_values(m, groups[0], periods))
    for m in _chosen("program", only):
        value = m.compute(outcome)
        out.update(value if isinstance(value, dict) else {m.name: float(value)})
    return out


def effect_metrics(arm: ArmOutcome, control: ArmOutcome,
                   only: Collection[str] | None = None) -> dict[str, float]:
    """Every metric that only exists against the control, in the same replication
    (``only``: just the registered metrics of these names)."""
    out = _grouped(_chosen("effect", only), [arm, control],
                   lambda m, groups, _: iter([(None, np.atleast_1d(m.compute(*groups)))]))
    for m in _chosen("program_effect", only):
        out[m.name] = float(m.compute(arm, control))
    return out


def lookup(name: str) -> tuple[Metric, bool]:
    """The registered metric behind a summary row's name, and whether the row is a
    relative change (``clv_core_loyal_observed_rel_change`` -> (clv, True)).

    >>> lookup("repurchase_rate_13w_core_loyal_rel_change")[0].name
    'repurchase_rate_{p}w'
    """
    relative = name.endswith("_rel_change")
    base = name.removesuffix("_rel_change")
    if base in METRICS:
        return METRICS[base], relative
    found = [(len(re.sub(r"\{\w+\}", "", m.name)), m) for m in METRICS.values()
             if _pattern(m).fullmatch(base)]
    if not found:
        raise KeyError(f"metric: no registered metric for {name!r}")
    return max(found, key=lambda f: f[0])[1], relative


def own_effect(name: str) -> bool:
    """Whether a summary row's own value is the arm's effect: a metric that exists only
    against the control (incremental margin, ROI) or that measures the program itself
    (points liability, breakage), which a control without one lacks.

    >>> own_effect("roi"), own_effect("retention")
    (True, False)
    """
    return lookup(name)[0].kind in ("effect", "program_effect", "program")


def against_control(name: str) -> tuple[str, str, str]:
    """The ``summary.csv`` columns of a row's difference from the control and its 95%
    interval: the effect of a per-arm metric, the estimate of one that is its own effect
    (:func:`own_effect`: ``roi``, ``incremental_margin``, ``payback_week``, breakage).

    >>> against_control("retention"), against_control("roi")[0]
    (('effect_vs_control', 'effect_ci_low', 'effect_ci_high'), 'estimate')
    """
    if own_effect(name):
        return "estimate", "ci_low", "ci_high"
    return "effect_vs_control", "effect_ci_low", "effect_ci_high"


def _pattern(m: Metric) -> re.Pattern[str]:
    text = re.escape(m.name).replace(r"\{p\}", r"\d+").replace(r"\{component\}", r"\w+")
    return re.compile(text + (r"(_\w+)?" if m.segmented else ""))


def format_value(name: str, value: float, effect: bool = False) -> str:
    """A summary row's value as tables show it (relative changes as signed %)."""
    m, relative = lookup(name)
    if relative:
        return "-" if value is None or not np.isfinite(value) else RELATIVE_FORMAT.format(value)
    return m.format(value, effect)


def format_cell(name: str, value: float, low: float, high: float, effect: bool = False
                ) -> tuple[str, str]:
    """A summary row's value and its interval (``""`` if missing) as tables show them."""
    text = format_value(name, value, effect)
    if not (np.isfinite(low) and np.isfinite(high)):
        return text, ""
    return text, f"[{format_value(name, low, effect)}, {format_value(name, high, effect)}]"


def headline(period: int) -> list[tuple[str, str]]:
    """(summary name, label) of the headline metrics, repurchase over ``period`` weeks."""
    return [(m.name.format(p=period), m.label.format(p=period))
            for m in METRICS.values() if m.headline]


def metric_table() -> str:
    """The README's metric table (Markdown), generated from :data:`METRICS`."""
    against = {"customers": "arm", "program": "arm", "effect": "vs control",
               "program_effect": "vs control"}
    rows = ["| metric | unit | of | definition |", "|---|---|---|---|"]
    for m in METRICS.values():
        extra = []
        if m.segmented:
            extra.append("per segment: `_<segment>`, `_<segment>_observed`")
        if m.relative:
            extra.append("`_rel_change` against the control")
        note = f" ({'; '.join(extra)})" if extra else ""
        rows.append(f"| `{m.name}` | {m.unit} | {against[m.kind]} | {m.definition}{note} |")
    return "\n".join(rows)
