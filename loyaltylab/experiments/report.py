"""The planner's ROI report: one self-contained HTML file per results folder.

``report.html`` holds the headline table per arm (estimates and effects against the
control with 95% intervals), a design sweep's or a design search's charts when the run
has one, the strategy's targets with their evidence, charts
(retention curves, the payback picture, program cost by component, points and
breakage, tier mix, CLV by segment, segment migration) and the assumptions needed to
reproduce the run. Charts are matplotlib PNGs embedded as data URIs; the page loads
nothing from the network and runs no script.

Every number of the headline table carries its unrounded value in ``data-value`` so
tests (and readers' tools) can check it against ``summary.csv``.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from loyaltylab.agents import (
    SEGMENT_NAMES,
    CustomerBehaviour,
    SatisfactionCoefficients,
)
from loyaltylab.experiments.arm import observed_segments
from loyaltylab.experiments.atomic import atomic_path
from loyaltylab.experiments.metrics import (
    against_control,
    format_cell,
    format_value,
    headline,
    lookup,
)
from loyaltylab.experiments.stats import CONFIDENCE
from loyaltylab.experiments.sweep import Sweep, Value, arm_name
from loyaltylab.experiments.targets import change_text

if TYPE_CHECKING:
    from loyaltylab.experiments.results import ExperimentResult

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px;
       color: #222; line-height: 1.4; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: left; }
table.num td, table.num th { text-align: right; }
table.num td:first-child, table.num th:first-child { text-align: left; }
th { background: #f3f3f3; }
.met { color: #11772d; font-weight: bold; } .not-met { color: #b3261e; font-weight: bold; }
.uncertain { color: #8a6d00; font-weight: bold; }
.ci { color: #666; font-size: 0.85em; }
figure { margin: 1.5em 0; } figcaption { color: #555; font-size: 0.9em; }
img { max-width: 100%; }
pre { background: #f7f7f7; padding: 1em; overflow-x: auto; font-size: 0.85em; }
"""


# ---------------------------------------------------------------------- formatting
def _cell(arm: str, metric: str, kind: str, value: float, low: float, high: float) -> str:
    text, interval = format_cell(metric, value, low, high, effect=kind == "effect")
    if interval:
        text += f'<br><span class="ci">{interval}</span>'
    return (f'<td data-arm="{html.escape(arm)}" data-metric="{metric}" data-kind="{kind}" '
            f'data-value="{float(value)!r}">{text}</td>')


def _table(frame: pd.DataFrame, digits: int = 6) -> str:
    return frame.to_html(index=False, float_format=lambda v: f"{v:,.{digits}g}",
                         border=0, na_rep="-")


def _figure(fig: plt.Figure, caption: str) -> str:
    """``fig`` as a ``<figure>`` with an inline PNG and ``caption``; closes ``fig``."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


# ---------------------------------------------------------------------- sections
def headline_section(result: ExperimentResult) -> str:
    """The headline table: each arm's estimates and effects with their intervals."""
    currency = result.scenario.economics.currency
    summary = result.summary.set_index(["arm", "metric"])
    control = result.scenario.control.name
    arms = [a.name for a in result.scenario.arms]
    head = "".join(
        f"<th>{html.escape(a)}{' (control)' if a == control else ''}</th>"
        + ("" if a == control else f"<th>{html.escape(a)} - control</th>") for a in arms)
    rows = []
    for metric, label in headline(result.scenario.repurchase_period_weeks):
        cells = []
        for arm in arms:
            row = summary.loc[(arm, metric)] if (arm, metric) in summary.index else None
            if row is None:
                cells.append("<td>-</td>" + ("" if arm == control else "<td>-</td>"))
                continue
            cells.append(_cell(arm, metric, "estimate", row["estimate"], row["ci_low"],
                               row["ci_high"]))
            if arm != control:
                cells.append(_cell(arm, metric, "effect", row["effect_vs_control"],
                                   row["effect_ci_low"], row["effect_ci_high"]))
        unit = f" ({currency})" if lookup(metric)[0].unit.startswith("currency") else ""
        rows.append(f"<tr><td>{html.escape(label + unit)}</td>"
                    f"{''.join(cells)}</tr>")
    mode = result.scenario.mode
    note = ("Effects are paired differences from the control in the same replication "
            "(twin worlds: same customers, same luck)." if mode == "twin" else
            "Effects are the mean estimate of the simulated pilots (field trials), "
            "with the mean of their intervals.")
    return (f"<h2>Headline</h2><p>Per customer of the cohort at the program's start, over "
            f"{result.scenario.horizon_weeks} weeks; {CONFIDENCE:.0%} intervals in "
            f"brackets. {note}</p><table class=\"num\"><tr><th>metric</th>{head}</tr>"
            f"{''.join(rows)}"
            f"</table>")


def _difference_axis(metric: str, currency: str) -> tuple[float, str]:
    """Scale and axis label of a metric's difference from the control in charts."""
    unit = lookup(metric)[0].unit
    labels = {"share": (100.0, "percentage points"), "currency": (1.0, currency),
              "currency_fine": (1.0, currency), "score": (1.0, "points")}
    return labels.get(unit, (1.0, unit))


def _positions(values: Sequence[Value]) -> tuple[np.ndarray, bool]:
    """Where ``values`` go on an axis, and whether it is a log scale: the numbers
    themselves (log when all are positive and span a factor of 10 or more), else 0, 1,
    ... labelled with the values."""
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        x = np.asarray(values, dtype=np.float64)
        return x, bool((x > 0).all() and x.max() >= 10 * x.min())
    return np.arange(len(values), dtype=np.float64), False


def _panel_grid(count: int, columns: int = 3) -> tuple[plt.Figure, list[plt.Axes]]:
    """A figure of ``count`` panels in rows of ``columns``; unused panels are hidden."""
    rows = math.ceil(count / columns)
    fig, axes = plt.subplots(rows, min(count, columns), squeeze=False,
                             figsize=(4.4 * min(count, columns), 3.3 * rows))
    flat = list(axes.ravel())
    for ax in flat[count:]:
        ax.set_visible(False)
    return fig, flat[:count]


def _error_bars(values: np.ndarray) -> np.ndarray | None:
    """``[value - low, high - value]`` of rows (value, low, high), or None without
    intervals (one replication)."""
    err = np.vstack([values[:, 0] - values[:, 1], values[:, 2] - values[:, 0]])
    return None if np.isnan(err).all() else err


def sweep_chart(result: ExperimentResult, sweep: Sweep) -> str:
    """Each headline metric's difference from the control against the swept values.

    Parameters
    ----------
    result : ExperimentResult
        Its ``summary`` rows of the sweep's arms: the effect against the control (for a
        metric that is a difference already, such as ROI, its estimate) with its 95%
        interval over replications.
    sweep : Sweep
        The sweep: its first parameter is the x axis, with one line per combination of
        the values of the others.

    Returns
    -------
    str
        The figure, one panel per headline metric with a difference for some arm of the
        sweep, or "" when none has one.
    """
    summary = result.summary.set_index(["arm", "metric"])
    first, *others = list(sweep.grid)
    x, log = _positions(sweep.grid[first])
    lines = [dict(zip(others, combination, strict=True))
             for combination in itertools.product(*(sweep.grid[k] for k in others))]
    panels = []
    for metric, label in headline(result.scenario.repurchase_period_weeks):
        columns = list(against_control(metric))
        table = np.array([[
            summary.loc[key, columns].to_numpy(dtype=np.float64)
            if (key := (arm_name(sweep.arm, {first: value, **line}), metric)) in summary.index
            else np.full(3, np.nan) for value in sweep.grid[first]] for line in lines])
        if np.isfinite(table[:, :, 0]).any():
            panels.append((metric, label, table))
    if not panels:
        return ""
    fig, axes = _panel_grid(len(panels))
    for ax, (metric, label, table) in zip(axes, panels, strict=True):
        scale, unit = _difference_axis(metric, result.scenario.economics.currency)
        for line, values in zip(lines, table * scale, strict=True):
            ax.errorbar(x, values[:, 0], yerr=_error_bars(values), marker="o", capsize=3,
                        label=", ".join(f"{k}={v}" for k, v in line.items()) or None)
        ax.axhline(0, color="black", linewidth=0.8)
        if log:
            ax.set_xscale("log")
        ax.set_xticks(x, [str(v) for v in sweep.grid[first]])
        ax.minorticks_off()
        ax.set_title(label, fontsize=10)
        ax.set_xlabel(first)
        ax.set_ylabel(f"difference ({unit})")
    if others:
        axes[0].legend(fontsize=7)
    fig.tight_layout()
    by = f"; one line per {', '.join(others)}" if others else ""
    return _figure(fig, f"Sweep of {sweep.arm!r}: each headline metric's difference from "
                        f"the control, with {CONFIDENCE:.0%} intervals over replications, by "
                        f"{first}{by}.")


def sweep_section(result: ExperimentResult) -> str:
    """The design sweeps of the run (``manifest["sweep"]``), if any."""
    sweeps = [Sweep.model_validate(s) for s in result.manifest.get("sweep", [])]
    if not sweeps:
        return ""
    return ("<h2>Design sweep</h2><p>Each arm of a sweep is its template arm with one "
            "combination of the grid's values, run against the control on the same "
            "customers with the same luck. The charts show each headline metric's "
            "difference from the control (for incremental margin, ROI, customers retained "
            "and payback, which are differences already, the metric itself); a metric "
            "without a difference, such as breakage when the control has no points, is "
            "left out.</p>" + "".join(sweep_chart(result, s) for s in sweeps))


def search_chart(result: ExperimentResult) -> str:
    """The trials of a design search: each objective by trial, or the two objectives
    against each other with the Pareto front.

    Parameters
    ----------
    result : ExperimentResult
        Its ``search`` table (one row per trial: the objectives' differences from the
        control with their 95% intervals over the search's replications, ``feasible``,
        ``selected``, ``pareto``) and ``manifest["search"]`` (objectives, directions).

    Returns
    -------
    str
        The figure, or "" when no trial was scored.
    """
    search = result.search
    info = result.manifest["search"]
    assert search is not None  # search_section checks it
    done = search[search["state"] == "complete"]
    if done.empty:
        return ""
    currency = result.scenario.economics.currency
    goals = info["objectives"]
    feasible = done["feasible"].astype(bool)
    chosen = done["selected"].astype(bool)
    fig, (ax,) = _panels(1, 7, 4.5)
    if len(goals) == 1:
        scale, unit = _difference_axis(goals[0], currency)
        values = scale * done[[goals[0], f"{goals[0]}_ci_low", f"{goals[0]}_ci_high"]
                              ].to_numpy(dtype=np.float64)
        for mask, style, label in ((feasible, "o", "feasible"),
                                   (~feasible, "x", "infeasible")):
            if mask.any():
                ax.errorbar(done["trial"][mask], values[mask.to_numpy(), 0],
                            yerr=_error_bars(values[mask.to_numpy()]), fmt=style,
                            capsize=2, label=label)
        best = values[:, 0].copy()
        best[~feasible.to_numpy()] = np.nan
        running = (pd.Series(best).cummax() if info["directions"][0] == "maximize"
                   else pd.Series(best).cummin()).ffill()  # infeasible trials keep the best
        ax.step(done["trial"], running, where="post", color="black", linewidth=1,
                label="best feasible so far")
        ax.set_xlabel("trial")
        ax.set_ylabel(f"{goals[0]}: difference ({unit})")
        target = values[chosen.to_numpy(), 0]
        ax.scatter(done["trial"][chosen], target, s=160, facecolors="none",
                   edgecolors="red", label="re-run")
    else:
        (sx, ux), (sy, uy) = (_difference_axis(g, currency) for g in goals)
        x, y = sx * done[goals[0]].to_numpy(), sy * done[goals[1]].to_numpy()
        f = feasible.to_numpy()
        ax.scatter(x[f], y[f], label="feasible")
        ax.scatter(x[~f], y[~f], marker="x", color="grey", label="infeasible")
        front = done["pareto"].astype(bool).to_numpy()
        order = np.argsort(x[front])
        ax.plot(x[front][order], y[front][order], color="black", linewidth=1,
                label="Pareto front (feasible)")
        ax.scatter(x[chosen.to_numpy()], y[chosen.to_numpy()], s=160, facecolors="none",
                   edgecolors="red", label="re-run")
        ax.set_xlabel(f"{goals[0]}: difference ({ux}), {info['directions'][0]}")
        ax.set_ylabel(f"{goals[1]}: difference ({uy}), {info['directions'][1]}")
    ax.axhline(0, color="black", linewidth=0.5)
    ax.legend(fontsize=8)
    return _figure(fig, "The trials of the design search: differences from the control over "
                        f"the search's {info['replications']} replications (bars: "
                        f"{CONFIDENCE:.0%} intervals); circled: the designs re-run.")


def search_section(result: ExperimentResult) -> str:
    """The design search whose best designs the run re-ran, if any."""
    search = result.search
    info = result.manifest.get("search")
    if search is None or info is None:
        return ""
    goals = info["objectives"]
    limits = ", ".join(info["constraints"])
    rule = {"best": f"the best {len(info['selected'])} feasible trial(s)",
            "pareto": "the Pareto front of the feasible trials",
            "closest": "<b>no trial met the constraints</b>: the trials closest to "
                       "meeting them (the smallest total violation)"}[info["selection"]]
    chosen = search[search["selected"].astype(bool)]
    shown = chosen[["trial", "arm", *info["space"], *goals]].copy()
    for goal in goals:
        effect = against_control(goal)[0] == "effect_vs_control"
        shown[goal] = [format_value(goal, v, effect=effect) for v in shown[goal]]
    objectives = " and ".join(f"{g} ({d})" for g, d in zip(goals, info["directions"],
                                                              strict=True))
    return (f"<h2>Design search</h2><p>{info['trials']} designs of "
            f"{html.escape(repr(info['arm']))} over {html.escape(', '.join(info['space']))}"
            f", proposed by Optuna's {info['sampler']} in batches of {info['batch']}; each "
            f"batch ran as one experiment against the control ({info['replications']} "
            "replications, on worlds seeded apart from this run's). Objectives: "
            f"{html.escape(objectives)}, as differences from the control"
            + (f"; constraints: {html.escape(limits)}, {info['feasible']} trial(s) met "
               "them" if limits else "")
            + f". Re-run here with {result.scenario.replications} replications: {rule}. "
            "All trials are in <code>search_trials.csv</code>.</p>"
            + search_chart(result) + _table(shown))


def targets_section(result: ExperimentResult) -> str:
    """The targets, each with its evidence (see :mod:`loyaltylab.experiments.targets`)."""
    if result.targets.empty:
        return ""
    summary = result.summary.set_index(["arm", "metric"])
    control = result.scenario.control.name
    rows = []
    for t in result.targets.itertuples(index=False):
        levels = ""
        if (t.arm, t.metric) in summary.index and (control, t.metric) in summary.index:
            level = {a: format_value(t.metric, summary.loc[(a, t.metric), "estimate"])
                     for a in (control, t.arm)}
            levels = f"control {level[control]}, arm {level[t.arm]}"
        css = t.status.replace(" ", "-")
        change, interval, threshold = change_text(t)
        side = "at least" if t.direction == ">=" else "at most"
        evidence = (f"{t.change} change {change} ({CONFIDENCE:.0%} CI {interval or '-'}); "
                    f"met needs the whole interval {side} {threshold}")
        if isinstance(t.note, str) and t.note:
            evidence += f". {t.note}"
        rows.append(f"<tr><td>{html.escape(t.target)}</td><td>{html.escape(t.arm)}</td>"
                    f"<td>{html.escape(evidence)}</td><td>{html.escape(levels)}</td>"
                    f'<td class="{css}">{t.status}</td></tr>')
    return ("<h2>Targets</h2><p>Set in the scenario's <code>[[targets]]</code> (default: "
            "the strategy's four); segments as the firm sees them at launch.</p>"
            "<table><tr><th>target</th><th>arm</th>"
            "<th>evidence</th><th>levels</th><th>status</th></tr>"
            f"{''.join(rows)}</table>")


#: Columns of the per-segment table: (metric, heading).
SEGMENT_COLUMNS = (
    ("program_cost", "program cost"), ("incremental_program_cost", "incremental cost"),
    ("incremental_margin", "incremental margin"), ("roi", "ROI"),
    ("retention", "retention"), ("retained_per_1000", "retained per 1,000"),
    ("clv", "CLV"),
)


def segments_section(result: ExperimentResult) -> str:
    """Program cost, margin, ROI and retention by segment, for each treatment arm: where
    the program is worth its cost. Segments as the firm sees them at launch if it had a
    history, else the simulation's labels."""
    summary = result.summary.set_index(["arm", "metric"])
    control = result.scenario.control.name
    observed = bool(result.summary["metric"].str.endswith("_observed").any())
    suffix = "_observed" if observed else ""
    names = (list(SEGMENT_NAMES) if observed
             else result.scenario.population.spec(10).segment_names)
    tables = []
    for arm in [a.name for a in result.scenario.arms if a.name != control]:
        rows = []
        for segment in names:
            cells = []
            for metric, _ in SEGMENT_COLUMNS:
                key = (arm, f"{metric}_{segment}{suffix}")
                value = summary.at[key, "estimate"] if key in summary.index else np.nan
                cells.append(f"<td>{format_value(key[1], value)}</td>")
            rows.append(f"<tr><td>{html.escape(segment)}</td>{''.join(cells)}</tr>")
        if rows:
            head = "".join(f"<th>{label}</th>" for _, label in SEGMENT_COLUMNS)
            tables.append(f"<h3>{html.escape(arm)}</h3><table class=\"num\"><tr>"
                          f"<th>segment</th>{head}</tr>{''.join(rows)}</table>")
    if not tables:
        return ""
    basis = ("as the firm sees them at launch (the strategy's rules on the 12 months "
             "before)" if observed else "by the simulation's label")
    return (f"<h2>By segment</h2><p>Per customer of each segment, {basis}; effects "
            "against the control in the same replication, accrual basis.</p>"
            + "".join(tables))


def power_section(result: ExperimentResult) -> str:
    """Field mode: what the simulated pilots detect."""
    if result.trials is None or "power" not in result.summary:
        return ""
    power = result.summary.dropna(subset=["power"])[
        ["arm", "metric", "twin_effect", "effect_vs_control", "effect_ci_low",
         "effect_ci_high", "p_value", "power", "wrong_sign"]]
    return (f"<h2>Pilot power</h2><p>Share of {result.scenario.replications} simulated "
            f"pilots of {result.scenario.population.customers:,} customers in which the effect "
            "is significant (Holm-corrected, alpha 0.05) in the direction of the twin-world "
            "truth; wrong_sign: the share significant in the opposite direction.</p>"
            + _table(power))


def _by_week(weekly: pd.DataFrame, column: str) -> pd.DataFrame:
    """Mean over replications of a weekly column: index week, one column per arm (all
    NaN where the arm's column is, as the accrual costs of points when too few weeks
    allow a redemption forecast)."""
    return weekly.pivot_table(index="week", columns="arm", values=column, aggfunc="mean",
                              sort=False, dropna=False)


def _panels(count: int, width: float, height: float) -> tuple[plt.Figure, list[plt.Axes]]:
    """A figure of ``count`` side-by-side panels, each ``width`` by ``height`` inches."""
    fig, axes = plt.subplots(1, count, figsize=(width * count, height), squeeze=False)
    return fig, list(axes[0])


def _weekly_axes(ax: plt.Axes, title: str, ylabel: str) -> None:
    """Title and axis labels of a panel over the weeks of the program."""
    ax.set_title(title)
    ax.set_xlabel("week of the program")
    ax.set_ylabel(ylabel)


def _arm_names(result: ExperimentResult) -> list[str]:
    """The arms' names, in the scenario's order."""
    return [a.name for a in result.scenario.arms]


def several_replications(result: ExperimentResult) -> bool:
    """Whether the run has more than one replication (charts then show their spread)."""
    return bool(result.weekly["replication"].nunique() > 1)


def weekly_curves(result: ExperimentResult, column: str) -> dict[str, pd.DataFrame]:
    """A weekly column of each arm over replications.

    Parameters
    ----------
    result : ExperimentResult
        Its ``weekly`` series, per replication and arm.
    column : str
        A column of ``weekly`` (``retention``, ``net_revenue``, ...).

    Returns
    -------
    dict
        Per arm, in the scenario's order: the mean over replications and the lowest and
        highest replication (columns ``mean``, ``low``, ``high``), indexed by week.
    """
    weekly = result.weekly
    out = {}
    for arm in _arm_names(result):
        per = weekly[weekly["arm"] == arm].pivot(index="week", columns="replication",
                                                 values=column)
        out[arm] = pd.DataFrame({"mean": per.mean(axis=1), "low": per.min(axis=1),
                                 "high": per.max(axis=1)})
    return out


def retention_curves(result: ExperimentResult) -> dict[str, pd.DataFrame]:
    """Retention (share of the cohort with a purchase in the last 26 weeks) of each arm:
    :func:`weekly_curves` of ``retention``."""
    return weekly_curves(result, "retention")


def retention_chart(result: ExperimentResult) -> str:
    """Retention curve of each arm.

    Parameters
    ----------
    result : ExperimentResult
        Its ``weekly`` ``retention`` column (share of the cohort with a purchase in the
        last 26 weeks), per replication and arm.

    Returns
    -------
    str
        The figure: the mean over replications per arm, with a band from the lowest to
        the highest replication when there are several. Every run has one.
    """
    fig, (ax,) = _panels(1, 8, 4)
    for arm, curve in retention_curves(result).items():
        ax.plot(curve.index, 100 * curve["mean"], label=arm)
        if several_replications(result):
            ax.fill_between(curve.index, 100 * curve["low"], 100 * curve["high"], alpha=0.2)
    _weekly_axes(ax, "Retention: share of the cohort with a purchase in the last 26 weeks",
                 "customers active (%)")
    ax.legend()
    return _figure(fig, "Retention curves by arm (mean over replications; band: lowest to "
                        "highest replication).")


def payback_curves(result: ExperimentResult) -> dict[str, pd.DataFrame]:
    """Cumulative incremental margin (after program cost) and program cost per customer
    of each treatment arm against the control, means over replications.

    Returns
    -------
    dict
        Per treatment arm: columns ``margin`` and ``cost``, indexed by week; empty when
        the scenario has no arm besides the control.
    """
    weekly = result.weekly
    control = result.scenario.control.name
    size = result.scenario.population.customers
    margin = _by_week(weekly, "margin")
    cost = _by_week(weekly, "program_cost")
    return {arm: pd.DataFrame({"margin": (margin[arm] - margin[control]).cumsum() / size,
                               "cost": (cost[arm] - cost[control]).cumsum() / size})
            for arm in _arm_names(result) if arm != control}


def payback_chart(result: ExperimentResult) -> str:
    """Cumulative incremental margin and program cost of each treatment arm.

    Parameters
    ----------
    result : ExperimentResult
        Its ``weekly`` ``margin`` (after program cost) and ``program_cost`` columns,
        averaged over replications, less the control's, per customer.

    Returns
    -------
    str
        The figure, or "" when the scenario has no arm besides the control.
    """
    curves = payback_curves(result)
    if not curves:
        return ""
    fig, (ax,) = _panels(1, 8, 4)
    for arm, curve in curves.items():
        ax.plot(curve.index, curve["margin"], label=f"{arm}: cumulative incremental margin")
        ax.plot(curve.index, curve["cost"], linestyle="--",
                label=f"{arm}: cumulative incremental program cost")
    ax.axhline(0, color="black", linewidth=0.8)
    _weekly_axes(ax, "Payback: incremental margin (after program cost) against cost",
                 f"{result.scenario.economics.currency} per customer")
    ax.legend(fontsize=8)
    return _figure(fig, "The payback picture: the program pays back from the week the "
                        "cumulative incremental margin stays above 0.")


def cost_by_component(result: ExperimentResult) -> pd.DataFrame:
    """Program cost per customer of each arm by component (the summary's ``cost_*``
    estimates, rewards on the accrual basis), for the components some arm spends on.

    Returns
    -------
    DataFrame
        One row per arm, one column per component (``rewards``, ``coupons``, ...);
        empty when no arm spends on any.
    """
    summary = result.summary
    costs = summary[summary["metric"].str.startswith("cost_")
                    & ~summary["metric"].isin(["cost_to_revenue", "cost_rewards_cash"])]
    table = costs.pivot_table(index="arm", columns="metric", values="estimate", sort=False)
    table = table.loc[:, (table > 0).any()]
    return table.rename(columns=lambda c: c[5:])


def cost_chart(result: ExperimentResult) -> str:
    """Program cost per customer of each arm, stacked by component.

    Parameters
    ----------
    result : ExperimentResult
        Its ``summary`` estimates of the ``cost_*`` metrics (but ``cost_to_revenue``,
        and ``cost_rewards_cash``: the rewards are stacked on the accrual basis): means
        over replications, per customer over the horizon.

    Returns
    -------
    str
        The figure with the components some arm spends on, or "" when no arm spends
        on any.
    """
    table = cost_by_component(result)
    if table.empty:
        return ""
    fig, (ax,) = _panels(1, 8, 1.2 + 0.6 * len(table))
    left = np.zeros(len(table))
    for column in table.columns:
        ax.barh(table.index, table[column], left=left, label=column)
        left += table[column].to_numpy()
    ax.set_xlabel(f"{result.scenario.economics.currency} per customer over the horizon")
    ax.set_title("Program cost by component")
    ax.legend(fontsize=8, ncol=3)
    return _figure(fig, "Program cost by component, per customer (mean over replications).")


def points_curves(result: ExperimentResult) -> dict[str, pd.DataFrame]:
    """Points outstanding and liability per customer, and the % of the points earned so
    far that expired, of each arm that awards points (means over replications).

    Returns
    -------
    dict
        Per arm with points: columns ``outstanding``, ``liability`` (when recorded) and
        ``expired_share`` (%), indexed by week; empty when no arm awards points.
    """
    weekly = result.weekly
    if not (weekly["points_earned"] > 0).any():
        return {}
    size = result.scenario.population.customers
    outstanding = _by_week(weekly, "points_outstanding")
    liability = (_by_week(weekly, "points_liability") if "points_liability" in weekly
                 else pd.DataFrame())
    earned = _by_week(weekly, "points_earned").cumsum()
    expired = _by_week(weekly, "points_expired").cumsum()
    out = {}
    for arm in _arm_names(result):
        if not (earned[arm] > 0).any():
            continue
        curve = pd.DataFrame({"outstanding": outstanding[arm] / size})
        if arm in liability:
            curve["liability"] = liability[arm] / size
        curve["expired_share"] = 100 * np.where(
            earned[arm] > 0, expired[arm] / earned[arm].where(earned[arm] > 0, 1.0), np.nan)
        out[arm] = curve
    return out


def points_chart(result: ExperimentResult) -> str:
    """Points outstanding, points liability and expiry so far of each arm with points.

    Parameters
    ----------
    result : ExperimentResult
        Its ``weekly`` ``points_outstanding``, ``points_liability`` (if recorded),
        ``points_earned`` and ``points_expired`` columns, averaged over replications;
        arms that never award points are left out.

    Returns
    -------
    str
        The figure, or "" when no arm awards points.
    """
    curves = points_curves(result)
    if not curves:
        return ""
    fig, axes = _panels(3, 4, 3.6)
    for arm, curve in curves.items():
        axes[0].plot(curve.index, curve["outstanding"], label=arm)
        if "liability" in curve:
            axes[1].plot(curve.index, curve["liability"], label=arm)
        axes[2].plot(curve.index, curve["expired_share"], label=arm)
    _weekly_axes(axes[0], "Points outstanding", "points per customer")
    _weekly_axes(axes[1], "Points liability",
                 f"{result.scenario.economics.currency} per customer")
    _weekly_axes(axes[2], "Points expired / points earned so far", "%")
    for ax in axes:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return _figure(fig, "Points outstanding, liability (outstanding x value per point x "
                        "expected redemption share) and expiry so far (breakage counts "
                        "only awards past their expiry).")


def tier_shares(result: ExperimentResult) -> dict[str, pd.DataFrame]:
    """% of the alive members in each tier, by week, of each tiered arm (means over
    replications; an arm is tiered when every ``tier_*`` column is recorded for it).

    Returns
    -------
    dict
        Per tiered arm: one column per tier (base first), indexed by week.
    """
    weekly = result.weekly
    tier_columns = [c for c in weekly.columns if c.startswith("tier_")]
    out = {}
    for arm in _arm_names(result):
        rows = weekly[weekly["arm"] == arm]
        if tier_columns and rows[tier_columns].notna().all().all():
            mix = rows.groupby("week")[tier_columns].mean()
            out[arm] = (100 * mix.div(mix.sum(axis=1), axis=0)).rename(
                columns=lambda c: c[5:])
    return out


def tier_mix_chart(result: ExperimentResult) -> str:
    """Share of the alive members in each tier over time, one panel per tiered arm.

    Parameters
    ----------
    result : ExperimentResult
        Its ``weekly`` ``tier_*`` columns (alive members per tier), averaged over
        replications; an arm is tiered when they are all recorded for it.

    Returns
    -------
    str
        The figure, or "" when no arm has tiers.
    """
    mixes = tier_shares(result)
    if not mixes:
        return ""
    fig, axes = _panels(len(mixes), 6, 3.6)
    for ax, (arm, shares) in zip(axes, mixes.items(), strict=True):
        ax.stackplot(shares.index, shares.T.to_numpy(), labels=list(shares.columns))
        _weekly_axes(ax, f"Tier mix: {arm}", "% of alive members")
        ax.legend(fontsize=8, loc="lower left")
    return _figure(fig, "Tier mix over time (alive members, mean over replications).")


def clv_by_segment(result: ExperimentResult) -> dict[str, pd.DataFrame]:
    """CLV per customer of each population segment: the summary's ``clv_<segment>``
    rows, estimate and interval over replications.

    Returns
    -------
    dict
        Per arm: columns ``estimate``, ``ci_low``, ``ci_high``, indexed by segment; empty
        when the summary has no CLV by segment.
    """
    segments = result.scenario.population.spec(10).segment_names
    metrics = [f"clv_{s}" for s in segments]
    clv = result.summary[result.summary["metric"].isin(metrics)]
    if clv.empty:
        return {}
    return {arm: clv[clv["arm"] == arm].set_index("metric").reindex(metrics)[
        ["estimate", "ci_low", "ci_high"]].set_axis(segments) for arm in _arm_names(result)}


def clv_by_segment_chart(result: ExperimentResult) -> str:
    """CLV per customer of each population segment and arm.

    Parameters
    ----------
    result : ExperimentResult
        Its ``summary`` ``clv_<segment>`` rows (discounted, with the residual after the
        horizon): estimate and interval over replications.

    Returns
    -------
    str
        The figure (bars with their intervals where there are several replications),
        or "" when the summary has no CLV by segment.
    """
    table = clv_by_segment(result)
    if not table:
        return ""
    arms = list(table)
    segments = list(next(iter(table.values())).index)
    fig, (ax,) = _panels(1, 8, 4)
    width = 0.8 / len(arms)
    x = np.arange(len(segments))
    for k, (arm, rows) in enumerate(table.items()):
        err = np.vstack([rows["estimate"] - rows["ci_low"], rows["ci_high"] - rows["estimate"]])
        ax.bar(x + k * width, rows["estimate"], width, label=arm,
               yerr=None if np.isnan(err).all() else err, capsize=3)
    ax.set_xticks(x + width * (len(arms) - 1) / 2, segments)
    ax.set_ylabel(f"CLV per customer ({result.scenario.economics.currency}, discounted)")
    ax.set_title("CLV by segment and arm (with the residual after the horizon)")
    ax.legend(fontsize=8)
    return _figure(fig, f"CLV by segment, {CONFIDENCE:.0%} intervals over replications.")


def migration_chart(result: ExperimentResult) -> str:
    """Segment migration matrix of each arm, in replication 0.

    Parameters
    ----------
    result : ExperimentResult
        Its ``customers`` (per-customer outcomes of replication 0), through
        :func:`segment_migration`: % of each starting segment in each segment at the
        horizon by the strategy's rules.

    Returns
    -------
    str
        The figure, or "" when :func:`segment_migration` does not apply (no
        per-customer outcomes, or segments other than the default four).
    """
    migration = segment_migration(result)
    if migration is None:
        return ""
    fig, axes = _panels(len(migration), 5.5, 4.2)
    for ax, (arm, matrix) in zip(axes, migration.items(), strict=True):
        ax.imshow(matrix.to_numpy(), cmap="Blues", vmin=0, vmax=100)
        ax.set_xticks(range(matrix.shape[1]), matrix.columns, rotation=30, ha="right")
        ax.set_yticks(range(matrix.shape[0]), matrix.index)
        for (i, j), v in np.ndenumerate(matrix.to_numpy()):
            ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=8,
                    color="white" if v > 60 else "black")
        ax.set_title(f"{arm}")
        ax.set_xlabel("segment at the horizon (rules)")
        ax.set_ylabel("segment at the start")
    fig.tight_layout()
    return _figure(fig, "Segment migration in replication 0: % of each starting segment in "
                        "each segment at the horizon, by the strategy's rules (annualised "
                        "spend and purchases, recency).")


#: The report's charts, in order: each takes the result and returns its figure's HTML,
#: or "" when it does not apply.
CHARTS: tuple[Callable[[ExperimentResult], str], ...] = (
    retention_chart, payback_chart, cost_chart, points_chart, tier_mix_chart,
    clv_by_segment_chart, migration_chart,
)


def charts_section(result: ExperimentResult) -> str:
    """Every chart of :data:`CHARTS` that applies to ``result``, in order."""
    return "<h2>Charts</h2>" + "".join(chart(result) for chart in CHARTS)


def segment_migration(result: ExperimentResult) -> dict[str, pd.DataFrame] | None:
    """Start segment against the rule-based segment at the horizon, % of each start row.

    Needs the default four segments (the rules define them) and per-customer outcomes.
    """
    c = result.customers
    needed = {"segment", "net_revenue", "purchases", "weeks_since_purchase", "arm"}
    if c.empty or not needed <= set(c.columns):
        return None
    names = list(SEGMENT_NAMES)
    if set(c["segment"].astype(str).unique()) - set(names):
        return None
    end = observed_segments(c["net_revenue"].to_numpy(), c["purchases"].to_numpy(),
                            c["weeks_since_purchase"].to_numpy(),
                            result.scenario.horizon_weeks)
    frame = pd.DataFrame({"arm": c["arm"].to_numpy(),
                          "start": pd.Categorical(c["segment"].astype(str), names),
                          "end": pd.Categorical(np.asarray(names)[end], names)})
    out = {}
    for arm in [a.name for a in result.scenario.arms]:
        rows = frame[frame["arm"] == arm]
        if rows.empty:
            continue
        counts = pd.crosstab(rows["start"], rows["end"], dropna=False)
        out[arm] = 100 * counts.div(counts.sum(axis=1).replace(0, 1), axis=0)
    return out


def assumptions_section(result: ExperimentResult) -> str:
    """Population, behaviour coefficients, economics, seed and versions."""
    scenario = result.scenario
    spec = scenario.population.spec()
    segments = pd.DataFrame([
        {"segment": s.name, "share": share,
         "orders per year (mean)": 52 * s.bgnbd.r / s.bgnbd.alpha,
         "dropout per order (mean)": s.bgnbd.a / (s.bgnbd.a + s.bgnbd.b),
         "r": s.bgnbd.r, "alpha (weeks)": s.bgnbd.alpha, "a": s.bgnbd.a, "b": s.bgnbd.b,
         "mean order": s.gamma_gamma.p * s.gamma_gamma.gamma / (s.gamma_gamma.q - 1)
         if s.gamma_gamma.q > 1 else float("nan"),
         "p": s.gamma_gamma.p, "q": s.gamma_gamma.q, "gamma": s.gamma_gamma.gamma,
         "incentive sensitivity": s.incentive_sensitivity,
         "satisfaction mean": s.satisfaction_mean}
        for s, share in zip(spec.segments, spec.shares, strict=True)])
    behaviours = [b for b in spec.behaviours() if isinstance(b, CustomerBehaviour)]
    behaviour = behaviours[0] if behaviours else CustomerBehaviour()
    response = behaviour.describe()
    satisfaction = SatisfactionCoefficients.describe(behaviour.satisfaction.coefficients)
    economics = pd.DataFrame([scenario.economics.model_dump()])
    run = pd.DataFrame([{k: result.manifest.get(k) for k in (
        "name", "mode", "seed", "replications", "size", "horizon_weeks", "burn_in_weeks",
        "executor", "started", "run_seconds")}])
    versions = pd.DataFrame([result.manifest.get("versions", {})])
    programs = "".join(
        f"<li><b>{html.escape(a.name)}</b>: "
        f"{html.escape(a.design or ', '.join(p.type for p in a.policies) or 'no program')}"
        "</li>" for a in scenario.arms)
    scenario_json = html.escape(pd.Series(result.manifest.get("scenario", {})).to_json(
        indent=2))
    return ("<h2>Assumptions</h2><h3>Run</h3>" + _table(run)
            + facts_table(result)
            + f"<h3>Arms</h3><ul>{programs}</ul>"
            + "<h3>Population (segments)</h3>" + _table(segments)
            + "<h3>Economics</h3>" + _table(economics)
            + "<h3>Incentive response coefficients</h3>" + _table(response)
            + "<h3>Satisfaction (NPS) coefficients</h3>" + _table(satisfaction)
            + "<h3>Package versions</h3>" + _table(versions)
            + f"<h3>Scenario as run</h3><pre>{scenario_json}</pre>")


def facts_table(result: ExperimentResult) -> str:
    """The stylized facts checked for the population and behaviour in use, if any."""
    facts = result.facts
    if facts is None or facts.empty:
        return ""
    rows = pd.DataFrame({
        "fact": facts["fact"], "claim": facts["claim"],
        "measured": [f"{v:.3g}" for v in facts["value"]],
        "95% interval": [f"[{lo:.3g}, {hi:.3g}]" for lo, hi in
                         zip(facts["ci_low"], facts["ci_high"], strict=True)],
        "band": [f"[{lo:.3g}, {hi:.3g}]" for lo, hi in
                 zip(facts["low"], facts["high"], strict=True)],
        "status": facts["status"], "measure": facts["measure"], "source": facts["source"],
    })
    passed = int((facts["status"] == "pass").sum())
    return ("<h3>Stylized facts for the coefficients in use</h3>"
            f"<p>{passed} of {len(facts)} published effects reproduced by small simulated "
            "studies of these customers (loyaltylab.validation; pass: the whole 95% "
            "interval inside the published band).</p>" + _table(rows))


def render_report(result: ExperimentResult, sections: Sequence[Callable[[ExperimentResult],
                  str]] | None = None) -> str:
    """The report as one HTML page."""
    scenario = result.scenario
    from loyaltylab.experiments.uncertainty_report import uncertainty_section

    sections = sections or (headline_section, sweep_section, search_section,
                            targets_section, uncertainty_section, segments_section,
                            power_section, charts_section, assumptions_section)
    intro = (f"{html.escape(scenario.description or scenario.name)}. "
             f"{scenario.population.customers:,} customers, {len(scenario.arms)} arms, "
             f"{scenario.replications} replications of {scenario.horizon_weeks} weeks "
             f"({scenario.mode} mode), seed {scenario.seed}; control: "
             f"{html.escape(scenario.control.name)}.")
    with plain_text():
        body = "".join(section(result) for section in sections)
    return page(f"loyaltylab: {scenario.name}", intro, body)


def plain_text() -> Any:
    """Charts whose labels are the user's words as written: an arm called "$5 off" or a
    currency "$" is not TeX, and must not break the report (matplotlib's mathtext)."""
    return plt.rc_context({"text.parse_math": False})


def page(title: str, intro: str, body: str) -> str:
    """A self-contained HTML page: ``title``, an ``intro`` paragraph and the ``body``
    (both HTML)."""
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p>{intro}</p>{body}</body></html>")


def write_report(result: ExperimentResult, path: Path) -> Path:
    """Write ``report.html`` (or ``path`` if a file name) atomically; return the path."""
    path = Path(path)
    if path.is_dir():
        path = path / "report.html"
    text = render_report(result)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
