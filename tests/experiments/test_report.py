"""The ROI report: self-contained, renders in headless Chromium, numbers as summary.csv."""

import dataclasses
import math
import re

import pandas as pd
import pytest
from helpers import ARGS, CHROMIUM, need_chromium

from loyaltylab.experiments import read_results, run, validate_scenario
from loyaltylab.experiments.metrics import format_value
from loyaltylab.experiments.report import (
    CHARTS,
    charts_section,
    clv_by_segment_chart,
    cost_chart,
    migration_chart,
    payback_chart,
    points_chart,
    render_report,
    retention_chart,
    segment_migration,
    tier_mix_chart,
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "run"
    run(validate_scenario({
        "name": "report", "population": {"size": 3000}, "horizon_weeks": 30,
        "replications": 3, "seed": 4, "economics": {"fixed_cost_per_week": 500},
        "arms": [{"name": "no program", "control": True},
                 {"name": "full strategy", "design": "full_strategy"}]}), out=out)
    return out


def test_the_report_is_self_contained(folder):
    text = (folder / "report.html").read_text()
    assert "<script" not in text
    assert not re.search(r"(src|href)=\"(http|//)", text)
    assert text.count("data:image/png;base64,") == 7  # every chart of a tiered points program


@pytest.fixture(scope="module")
def plain():
    """Two arms without a program: no program cost, no points, no tiers."""
    return run(validate_scenario({
        "name": "plain", "population": {"size": 500}, "horizon_weeks": 12,
        "replications": 2, "seed": 4,
        "arms": [{"name": "no program", "control": True}, {"name": "no program either"}]}),
        facts=False)


def figures(text):
    return text.count("<figure>")


def test_every_chart_draws_one_figure_for_a_tiered_points_program(folder):
    result = read_results(folder)
    drawn = [chart(result) for chart in CHARTS]
    assert [figures(text) for text in drawn] == [1] * 7
    assert all(text.startswith("<figure>") and text.endswith("</figure>") for text in drawn)
    section = charts_section(result)
    assert section == "<h2>Charts</h2>" + "".join(drawn)  # in the order of CHARTS
    assert figures(section) == len(CHARTS) == 7


def test_charts_without_their_data_are_left_out(plain):
    assert cost_chart(plain) == points_chart(plain) == tier_mix_chart(plain) == ""
    for chart in (retention_chart, payback_chart, clv_by_segment_chart, migration_chart):
        assert figures(chart(plain)) == 1, chart.__name__
    assert figures(charts_section(plain)) == 4


def test_payback_needs_a_treatment_arm(plain):
    control = plain.scenario.control.name
    alone = dataclasses.replace(
        plain, scenario=plain.scenario.model_copy(update={"arms": [plain.scenario.control]}),
        summary=plain.summary[plain.summary["arm"] == control],
        weekly=plain.weekly[plain.weekly["arm"] == control],
        customers=plain.customers[plain.customers["arm"] == control])
    assert payback_chart(alone) == ""
    for chart in (retention_chart, clv_by_segment_chart, migration_chart):
        assert figures(chart(alone)) == 1, chart.__name__
    assert figures(charts_section(alone)) == 3


def test_an_arm_without_a_redemption_forecast_is_charted(plain):
    # (once: a KeyError from the payback chart; with too few weeks for a redemption
    # forecast, an arm's accrual margin and program cost are NaN in every week)
    weekly = plain.weekly.copy()
    treated = weekly["arm"] != plain.scenario.control.name
    weekly.loc[treated, ["margin", "program_cost"]] = math.nan
    blank = dataclasses.replace(plain, weekly=weekly)
    assert figures(payback_chart(blank)) == 1
    assert figures(charts_section(blank)) == 4


def test_clv_and_migration_charts_need_their_data(plain):
    summary = plain.summary
    no_clv = dataclasses.replace(plain, summary=summary[~summary["metric"].str.startswith("clv_")])
    assert clv_by_segment_chart(no_clv) == ""
    assert migration_chart(dataclasses.replace(plain, customers=plain.customers.iloc[:0])) == ""


def test_segment_migration_rows_sum_to_100(folder):
    migration = segment_migration(read_results(folder))
    for matrix in migration.values():
        sums = matrix.sum(axis=1)
        # each starting segment with customers is spread over 100%; an empty one is all 0
        assert (((sums - 100).abs() < 1e-9) | (sums == 0)).all()
        assert (sums > 0).any()


def test_headline_cells_carry_the_summary_values(folder):
    result = read_results(folder)
    text = render_report(result)
    cells = re.findall(r'data-arm="([^"]+)" data-metric="([^"]+)" data-kind="([^"]+)" '
                       r'data-value="([^"]+)"', text)
    assert len(cells) > 10
    summary = result.summary.set_index(["arm", "metric"])
    for arm, metric, kind, value in cells:
        column = "estimate" if kind == "estimate" else "effect_vs_control"
        expected = summary.loc[(arm.replace("&amp;", "&"), metric), column]
        assert float(value) == pytest.approx(expected, rel=1e-12) or (
            math.isnan(float(value)) and math.isnan(expected))


def test_report_renders_in_headless_chromium(folder):
    need_chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    summary = pd.read_csv(folder / "summary.csv").set_index(["arm", "metric"])
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page()
            errors = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            requests = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto((folder / "report.html").as_uri())
            page.wait_for_load_state("load")
            images = page.evaluate(
                "[...document.images].map(i => i.complete && i.naturalWidth > 0)")
            cells = page.evaluate(
                "[...document.querySelectorAll('td[data-metric]')].map(td => "
                "[td.dataset.arm, td.dataset.metric, td.dataset.kind, td.dataset.value, "
                "td.innerText])")
        finally:
            browser.close()
    assert errors == []
    assert len(images) == 7 and all(images)
    assert all(url.startswith(("file:", "data:")) for url in requests)
    shown = 0
    for arm, metric, kind, value, text in cells:
        column = "estimate" if kind == "estimate" else "effect_vs_control"
        expected = summary.loc[(arm, metric), column]
        if math.isnan(expected):
            assert text.strip() == "-"
            continue
        assert float(value) == pytest.approx(expected, rel=1e-12)
        # the shown number is the estimate in the metric's unit (effects of shares in pp)
        assert text.split("\n")[0] == format_value(metric, expected, kind == "effect")
        shown += 1
    assert shown > 10


def test_the_segment_table_shows_cost_and_roi_by_segment(folder):
    from loyaltylab.experiments.report import segments_section

    result = read_results(folder)
    text = segments_section(result)
    summary = result.summary.set_index(["arm", "metric"])
    # no burn-in: the simulation's labels; one table for the treatment arm
    assert "by the simulation's label" in text and text.count("<table") == 1
    for segment in ("core_loyal", "dormant"):
        assert f"<td>{segment}</td>" in text
        roi = summary.at[("full strategy", f"roi_{segment}"), "estimate"]
        assert f"<td>{format_value('roi', roi)}</td>" in text


def test_the_cost_chart_stacks_rewards_once(folder, monkeypatch):
    from loyaltylab.experiments import report

    stacked = []
    barh = report.plt.Axes.barh

    def record(self, y, width, **kw):
        stacked.append(kw["label"])
        return barh(self, y, width, **kw)

    monkeypatch.setattr(report.plt.Axes, "barh", record)
    report.cost_chart(read_results(folder))
    assert "rewards" in stacked and "rewards_cash" not in stacked


def test_words_with_dollar_signs_are_not_tex():
    # (once, an arm or currency such as "$\frac{$" ran the whole experiment, then the
    # report failed in matplotlib's mathtext)
    result = run(validate_scenario({
        "name": "dollars", "population": {"size": 300}, "horizon_weeks": 6,
        "replications": 2, "economics": {"currency": "$\\frac{$"},
        "arms": [{"name": "$\\frac{$ none"},
                 {"name": "$5 off $", "policies": [{"type": "points"}]}]}), facts=False)
    text = render_report(result)
    assert "$5 off $" in text and text.count("data:image/png;base64,") >= 3
