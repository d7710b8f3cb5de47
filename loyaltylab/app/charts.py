"""The report's charts as interactive plotly figures: values on hover, arms toggled on
and off by clicking the legend.

Each figure draws the same numbers as the report's chart of the same name
(:mod:`loyaltylab.experiments.report`), from the same functions (``retention_curves``,
``payback_curves``, ...), so the page and ``report.html`` cannot disagree. A chart that
does not apply to a run (no points, no tiers) is left out, as in the report.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from loyaltylab.experiments.report import (
    clv_by_segment,
    cost_by_component,
    payback_curves,
    points_curves,
    segment_migration,
    several_replications,
    tier_shares,
    weekly_curves,
)
from loyaltylab.experiments.results import ExperimentResult

#: plotly's default colours, one per arm (an arm keeps its colour in every chart).
COLOURS = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692",
           "#b6e880", "#ff97ff", "#fecb52")


def _colour(result: ExperimentResult, arm: str) -> str:
    names = [a.name for a in result.scenario.arms]
    return COLOURS[names.index(arm) % len(COLOURS)]


def _layout(fig: go.Figure, title: str, xaxis: str, yaxis: str) -> go.Figure:
    fig.update_layout(title=title, xaxis_title=xaxis, yaxis_title=yaxis,
                      hovermode="x unified", margin={"t": 60, "b": 40, "l": 60, "r": 20},
                      legend={"orientation": "h", "y": -0.2}, height=420)
    return fig


def _band(fig: go.Figure, curve: pd.DataFrame, colour: str, arm: str, scale: float,
          **where: int) -> None:
    """The lowest-to-highest replication band of ``curve``, in the arm's legend group."""
    fig.add_trace(go.Scatter(
        x=list(curve.index) + list(curve.index[::-1]),
        y=list(scale * curve["high"]) + list(scale * curve["low"][::-1]),
        fill="toself", fillcolor=colour, opacity=0.2, line={"width": 0},
        hoverinfo="skip", showlegend=False, legendgroup=arm), **where)


def series_figure(result: ExperimentResult, column: str) -> go.Figure:
    """The weekly series ``column`` of every arm (mean over replications, with the band
    from the lowest to the highest replication when there are several)."""
    scale = 100.0 if column == "retention" else 1.0
    fig = go.Figure()
    for arm, curve in weekly_curves(result, column).items():
        colour = _colour(result, arm)
        if several_replications(result):
            _band(fig, curve, colour, arm, scale)
        fig.add_trace(go.Scatter(x=curve.index, y=scale * curve["mean"], name=arm,
                                 legendgroup=arm, line={"color": colour}))
    unit = " (%)" if scale == 100.0 else ""
    return _layout(fig, f"{column} by week (mean over replications)", "week of the program",
                   column + unit)


def retention_figure(result: ExperimentResult) -> go.Figure | None:
    """Retention curves by arm, as the report's retention chart."""
    fig = series_figure(result, "retention")
    return fig.update_layout(title="Retention: share of the cohort with a purchase in the "
                                   "last 26 weeks", yaxis_title="customers active (%)")


def payback_figure(result: ExperimentResult) -> go.Figure | None:
    """Cumulative incremental margin and program cost per customer of each treatment arm."""
    curves = payback_curves(result)
    if not curves:
        return None
    fig = go.Figure()
    for arm, curve in curves.items():
        colour = _colour(result, arm)
        fig.add_trace(go.Scatter(x=curve.index, y=curve["margin"], legendgroup=arm,
                                 name=f"{arm}: cumulative incremental margin",
                                 line={"color": colour}))
        fig.add_trace(go.Scatter(x=curve.index, y=curve["cost"], legendgroup=arm,
                                 name=f"{arm}: cumulative incremental program cost",
                                 line={"color": colour, "dash": "dash"}))
    fig.add_hline(y=0, line_color="black", line_width=1)
    currency = result.scenario.economics.currency
    return _layout(fig, "Payback: incremental margin (after program cost) against cost",
                   "week of the program", f"{currency} per customer")


def cost_figure(result: ExperimentResult) -> go.Figure | None:
    """Program cost per customer of each arm, stacked by component."""
    table = cost_by_component(result)
    if table.empty:
        return None
    fig = go.Figure([go.Bar(y=table.index, x=table[c], name=c, orientation="h")
                     for c in table.columns])
    fig.update_layout(barmode="stack")
    currency = result.scenario.economics.currency
    return _layout(fig, "Program cost by component", f"{currency} per customer over the "
                   "horizon", "arm").update_layout(hovermode="closest")


def points_figure(result: ExperimentResult) -> go.Figure | None:
    """Points outstanding, liability and the share of points expired, by arm."""
    curves = points_curves(result)
    if not curves:
        return None
    currency = result.scenario.economics.currency
    panels = (("outstanding", "Points outstanding (per customer)"),
              ("liability", f"Points liability ({currency} per customer)"),
              ("expired_share", "Points expired / earned so far (%)"))
    fig = make_subplots(rows=1, cols=3, subplot_titles=[title for _, title in panels])
    for arm, curve in curves.items():
        for k, (column, _) in enumerate(panels):
            if column in curve:
                fig.add_trace(go.Scatter(x=curve.index, y=curve[column], name=arm,
                                         legendgroup=arm, showlegend=k == 0,
                                         line={"color": _colour(result, arm)}),
                              row=1, col=k + 1)
    return _layout(fig, "Points", "week of the program", "")


def tier_mix_figure(result: ExperimentResult) -> go.Figure | None:
    """Share of the alive members in each tier over time, one panel per tiered arm."""
    mixes = tier_shares(result)
    if not mixes:
        return None
    fig = make_subplots(rows=1, cols=len(mixes), subplot_titles=list(mixes))
    for k, shares in enumerate(mixes.values()):
        for j, tier in enumerate(shares.columns):
            fig.add_trace(go.Scatter(x=shares.index, y=shares[tier], name=tier,
                                     stackgroup=f"mix{k}", legendgroup=tier,
                                     showlegend=k == 0,
                                     line={"color": COLOURS[j % len(COLOURS)]}),
                          row=1, col=k + 1)
    return _layout(fig, "Tier mix (% of alive members)", "week of the program", "%")


def clv_figure(result: ExperimentResult) -> go.Figure | None:
    """CLV per customer by segment and arm, with 95% intervals."""
    table = clv_by_segment(result)
    if not table:
        return None
    fig = go.Figure()
    for arm, rows in table.items():
        error = None
        if rows["ci_high"].notna().any():
            error = {"type": "data", "array": rows["ci_high"] - rows["estimate"],
                     "arrayminus": rows["estimate"] - rows["ci_low"]}
        fig.add_trace(go.Bar(x=rows.index, y=rows["estimate"], name=arm, error_y=error,
                             marker_color=_colour(result, arm)))
    currency = result.scenario.economics.currency
    return _layout(fig, "CLV by segment and arm (with the residual after the horizon)",
                   "segment", f"CLV per customer ({currency}, discounted)").update_layout(
        barmode="group", hovermode="closest")


def migration_figure(result: ExperimentResult) -> go.Figure | None:
    """Segment migration in replication 0: % of each starting segment in each segment
    at the horizon, one heatmap per arm."""
    migration = segment_migration(result)
    if migration is None:
        return None
    fig = make_subplots(rows=1, cols=len(migration), subplot_titles=list(migration))
    for k, matrix in enumerate(migration.values()):
        fig.add_trace(go.Heatmap(z=matrix.to_numpy(), x=list(matrix.columns),
                                 y=list(matrix.index), zmin=0, zmax=100,
                                 colorscale="Blues", showscale=k == 0,
                                 text=matrix.round(0).to_numpy(), texttemplate="%{text}",
                                 hovertemplate="%{y} -> %{x}: %{z:.1f}%<extra></extra>"),
                      row=1, col=k + 1)
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, "Segment migration (% of each starting segment)",
                   "segment at the horizon", "segment at the start").update_layout(
        hovermode="closest")


#: The report's charts, in its order: each returns its figure, or None when the chart
#: does not apply to the run.
FIGURES: tuple[Callable[[ExperimentResult], go.Figure | None], ...] = (
    retention_figure, payback_figure, cost_figure, points_figure, tier_mix_figure,
    clv_figure, migration_figure,
)


def figures(result: ExperimentResult) -> list[go.Figure]:
    """Every chart of :data:`FIGURES` that applies to ``result``, in order."""
    return [fig for make in FIGURES if (fig := make(result)) is not None]


def series_columns(result: ExperimentResult) -> list[str]:
    """The weekly series a run recorded for every arm (columns of ``weekly``)."""
    weekly = result.weekly
    numeric = weekly.select_dtypes("number").columns
    return [c for c in numeric if c not in ("replication", "week")
            and weekly[c].notna().any()]
