"""The report's charts as interactive figures: the same numbers, the same charts."""

import numpy as np

from loyaltylab.app import charts
from loyaltylab.experiments.report import CHARTS, payback_curves, retention_curves


def test_a_figure_for_every_chart_of_the_report(strategy_run):
    assert len(charts.FIGURES) == len(CHARTS)
    drawn = [make(strategy_run) for make in charts.FIGURES]
    assert all(fig is not None for fig in drawn)  # a tiered points program: all apply
    assert len(charts.figures(strategy_run)) == 7


def test_the_figures_draw_the_reports_numbers(strategy_run):
    fig = charts.retention_figure(strategy_run)
    lines = {t.name: t for t in fig.data if t.showlegend is not False}
    for arm, curve in retention_curves(strategy_run).items():
        np.testing.assert_allclose(lines[arm].y, 100 * curve["mean"])
        assert lines[arm].legendgroup == arm  # its band toggles with it
    payback = charts.payback_figure(strategy_run)
    curve = payback_curves(strategy_run)["full strategy"]
    margin = next(t for t in payback.data if t.name.endswith("incremental margin"))
    np.testing.assert_allclose(margin.y, curve["margin"])


def test_any_weekly_series_can_be_drawn(strategy_run):
    columns = charts.series_columns(strategy_run)
    assert {"net_revenue", "program_cost", "points_outstanding", "retention"} <= set(columns)
    assert "replication" not in columns and "week" not in columns
    fig = charts.series_figure(strategy_run, "net_revenue")
    means = [t for t in fig.data if t.name in ("no program", "full strategy")]
    weekly = strategy_run.weekly
    expected = weekly[weekly["arm"] == "full strategy"].groupby("week")["net_revenue"].mean()
    np.testing.assert_allclose(means[1].y, expected)


def test_charts_without_their_data_are_left_out(sweep_run):
    assert charts.tier_mix_figure(sweep_run) is None
    assert charts.points_figure(sweep_run) is not None
    assert len(charts.figures(sweep_run)) == 6
