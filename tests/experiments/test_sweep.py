"""Design sweeps: a grid turns an arm into one arm per combination, checked value by value,
run like arms written by hand, with the parameters in the results and the report."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loyaltylab.experiments import (
    Scenario,
    ScenarioError,
    load_scenario,
    read_results,
    run,
    validate_scenario,
)
from loyaltylab.experiments.report import render_report, sweep_section
from loyaltylab.experiments.sweep import MAX_ARMS

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
POINTS = {"type": "points", "value_per_point": 0.1, "expiry_weeks": 52}
COUPONS = {"type": "coupons", "min_spend": 1200, "amount_off": 150}


def scenario_data(sweep, arms=None, **extra):
    return {"name": "sweep", "population": {"size": 1000}, "horizon_weeks": 30,
            "replications": 2, "seed": 5, "targets": [],
            "arms": arms or [{"name": "none", "control": True},
                             {"name": "points", "policies": [POINTS, COUPONS]},
                             {"name": "coupons", "policies": [COUPONS]}],
            "sweep": sweep, **extra}


GRID = {"value_per_point": [0.01, 0.05], "coupons.min_spend": [1000, 2000]}


def errors_of(data):
    with pytest.raises(ScenarioError) as info:
        validate_scenario(data)
    return info.value.errors


def test_the_template_becomes_one_arm_per_combination_in_grid_order():
    scenario = validate_scenario(scenario_data([{"arm": "points", "grid": GRID}]))
    names = [a.name for a in scenario.arms]
    assert names == ["none",
                     "points (value_per_point=0.01, min_spend=1000)",
                     "points (value_per_point=0.01, min_spend=2000)",
                     "points (value_per_point=0.05, min_spend=1000)",
                     "points (value_per_point=0.05, min_spend=2000)",
                     "coupons"]
    arm = scenario.arms[3]
    assert arm.design_point == {"value_per_point": 0.05, "coupons.min_spend": 1000}
    points, coupons = scenario.policies(arm)
    # the swept values are set, the template's other parameters kept
    assert (points.value_per_point, points.expiry_weeks) == (0.05, 52)
    assert (coupons.min_spend, coupons.amount_off) == (1000, 150)
    assert not any(a.control for a in scenario.arms[1:])
    # the scenario's dump holds the arms it made and validates again to the same arms
    again = validate_scenario(scenario.model_dump(mode="json"))
    assert again.arms == scenario.arms and again.sweep == []
    assert Scenario.model_validate(scenario.model_dump()).arms == scenario.arms


def test_several_sweeps_and_a_repeated_type_addressed_by_position():
    arms = [{"name": "none", "control": True},
            {"name": "points", "policies": [POINTS]},
            {"name": "two coupons", "policies": [COUPONS, {**COUPONS, "min_spend": 3000}]}]
    scenario = validate_scenario(scenario_data(
        [{"arm": "points", "grid": {"value_per_point": [0.01, 0.02, 0.05]}},
         {"arm": "two coupons", "grid": {"coupons[1].min_spend": [2500, 3500],
                                         "coupons[0].min_spend": [1000]}}], arms=arms))
    names = [a.name for a in scenario.arms]
    # two parameters named alike keep their full keys in the name
    assert names[4:] == [
        "two coupons (coupons[1].min_spend=2500, coupons[0].min_spend=1000)",
        "two coupons (coupons[1].min_spend=3500, coupons[0].min_spend=1000)"]
    first, second = scenario.policies(scenario.arms[5])
    assert (first.min_spend, second.min_spend) == (1000, 3500)
    assert len(scenario.sweep) == 2


def test_a_list_valued_parameter_can_be_swept():
    scenario = validate_scenario(scenario_data(
        [{"arm": "coupons", "grid": {"segments": [["basic"], ["basic", "dormant"]]}}]))
    assert [a.name for a in scenario.arms[-2:]] == [
        "coupons (segments=['basic'])", "coupons (segments=['basic', 'dormant'])"]
    assert scenario.policies(scenario.arms[-1])[0].segments == ["basic", "dormant"]


TOO_MANY = {"value_per_point": [0.01 * k for k in range(1, 41)],
            "coupons.min_spend": [1000, 2000, 3000, 4000, 5000, 6000]}


@pytest.mark.parametrize("sweep,expected", [
    ([{"arm": "pionts", "grid": GRID}],
     "sweep[0].arm: unknown arm 'pionts'; the arms are ['none', 'points', 'coupons']"),
    ([{"arm": "none", "grid": GRID}], "sweep[0].arm: 'none' is the control"),
    ([{"arm": "points", "grid": {"earn_rate": [1, 2]}}],
     "sweep[0].grid.earn_rate: unknown parameter 'earn_rate'; the arm's policies have points:"),
    ([{"arm": "points", "grid": {"segments": [["basic"]]}}],
     "sweep[0].grid.segments: ambiguous: a parameter of 2 of the arm's policies; write "
     "'points.segments' or 'coupons.segments'"),
    ([{"arm": "points", "grid": {"tiers.window": ["calendar"]}}],
     "sweep[0].grid.tiers.window: the arm has no 'tiers' policy"),
    ([{"arm": "points", "grid": {"coupons[1].min_spend": [1000]}}],
     "sweep[0].grid.coupons[1].min_spend: the arm has 1 'coupons' policy; no index 1"),
    ([{"arm": "points", "grid": {"value_per_point": []}}],
     "sweep[0].grid.value_per_point: empty list; give at least one value"),
    ([{"arm": "points", "grid": {"value_per_point": [0.1, 0.1]}}],
     "sweep[0].grid.value_per_point: 0.1 appears twice"),
    ([{"arm": "points", "grid": {"value_per_point": 0.1}}],
     "sweep[0].grid.value_per_point: Input should be a valid list"),
    ([{"arm": "points", "grid": {}}], "sweep[0].grid: give at least one parameter"),
    ([{"arm": "points", "grid": {"": []}}],
     "sweep[0].grid['']: empty list; give at least one value"),
    ([{"arm": "points", "grid": {"a b": [1]}}], "sweep[0].grid['a b']: expected a parameter"),
    ([{"arm": "points", "grid": {"coupons.min_spend": [2000, 1000, 100]}}],
     "sweep[0].grid.coupons.min_spend[2]: must be greater than amount_off (150), got 100"),
    ([{"arm": "points", "grid": {"value_per_point": [0.1, -1]}}],
     "sweep[0].grid.value_per_point[1]: Input should be greater than or equal to "
     "0.000000000001"),
    ([{"arm": "coupons", "grid": {"segments": [["basic"], ["vip"]]}}],
     "sweep[0].grid.segments[1]: unknown segment(s) ['vip']"),
    ([{"arm": "points", "grid": {"coupons.amount_off": [100, 200],
                                 "coupons.min_spend": [180, 1000]}}],
     "sweep[0].grid: the combination 'points (amount_off=200, min_spend=180)': "
     "min_spend: must be greater than amount_off (200), got 180"),
    ([{"arm": "points", "grid": TOO_MANY}],
     f"sweep[0].grid: 40 x 6 = 240 combinations; a scenario has at most {MAX_ARMS} arms"),
    ([{"arm": "points", "grid": {"value_per_point": [0.01 * k for k in range(1, 101)]}},
      {"arm": "coupons", "grid": {"min_spend": list(range(1000, 1100))}}],
     f"sweep: the sweeps make 201 arms; a scenario has at most {MAX_ARMS}"),
    ([{"arm": "points", "grid": {"value_per_point": [0.01]}},
      {"arm": "points", "grid": {"expiry_weeks": [26]}}],
     "sweep[1].arm: 'points' is swept by sweep[0] already"),
])
def test_bad_sweeps_name_the_path_and_the_reason(sweep, expected):
    errors = errors_of(scenario_data(sweep))
    assert any(e.startswith(expected) for e in errors), errors


def test_a_design_arm_or_a_taken_name_cannot_be_swept():
    design = [{"name": "none", "control": True}, {"name": "full", "design": "full_strategy"}]
    assert errors_of(scenario_data([{"arm": "full", "grid": {"value_per_point": [0.1]}}],
                                   arms=design)) == [
        "sweep[0].arm: 'full' names a design ('full_strategy'); choose an arm that lists "
        "its policies"]
    taken = [{"name": "none", "control": True}, {"name": "p", "policies": [POINTS]},
             {"name": "p (value_per_point=0.1)", "policies": [POINTS]}]
    assert errors_of(scenario_data([{"arm": "p", "grid": {"value_per_point": [0.1]}}],
                                   arms=taken)) == [
        "sweep: the swept arms' names ['p (value_per_point=0.1)'] are taken by other arms"]


def test_a_design_point_written_by_hand_is_checked_against_the_policies():
    arms = [{"name": "none", "control": True},
            {"name": "p", "policies": [POINTS], "design_point": {"value_per_point": 0.1}},
            {"name": "q", "policies": [POINTS],
             "design_point": {"value_per_point": 0.2, "earn": 1}}]
    assert errors_of(scenario_data([], arms=arms)) == [
        "arms[2].design_point.value_per_point: the arm's points policy has 0.1, not 0.2",
        "arms[2].design_point.earn: unknown parameter 'earn'; the arm's policies have "
        "points: " + ", ".join(
            ["earn_per_currency", "earn_per_order", "value_per_point", "redemption_block",
             "expiry_weeks", "campaigns", "signup_bonus", "checkin_points",
             "checkin_segments", "earn_cap_per_week", "segments"])]


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "run"
    scenario = validate_scenario(scenario_data(
        [{"arm": "points", "grid": GRID}],
        targets=[{"metric": "retention", "change": "absolute", "threshold": 0}]))
    return run(scenario, out=out, facts=False), out


def test_a_swept_arm_is_bit_identical_to_the_same_design_written_by_hand(swept):
    result, _ = swept
    name = "points (value_per_point=0.05, min_spend=2000)"
    by_hand = validate_scenario(scenario_data([], arms=[
        {"name": "none", "control": True},
        {"name": "written out", "policies": [{**POINTS, "value_per_point": 0.05},
                                             {**COUPONS, "min_spend": 2000}]}]))
    plain = run(by_hand, facts=False)
    columns = ["metric", "estimate", "ci_low", "ci_high", "effect_vs_control",
               "effect_ci_low", "effect_ci_high", "p_value"]
    mine = result.summary[result.summary["arm"] == name][columns].reset_index(drop=True)
    theirs = plain.summary[plain.summary["arm"] == "written out"][columns]
    assert len(mine) > 100 and mine["effect_vs_control"].notna().sum() > 50
    pd.testing.assert_frame_equal(mine, theirs.reset_index(drop=True))


def test_results_carry_the_parameters_and_the_manifest_the_sweep(swept):
    result, out = swept
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns[:3]) == ["arm", "value_per_point", "coupons.min_spend"]
    rows = summary.drop_duplicates("arm").set_index("arm")
    assert rows.loc["points (value_per_point=0.01, min_spend=2000)",
                    ["value_per_point", "coupons.min_spend"]].tolist() == [0.01, 2000]
    assert rows.loc[["none", "coupons"], "value_per_point"].isna().all()
    assert rows["coupons.min_spend"].dropna().tolist() == [1000, 2000, 1000, 2000]
    targets = pd.read_csv(out / "targets.csv")
    assert targets["arm"].iloc[-1] == "coupons"
    assert targets["value_per_point"].iloc[:4].tolist() == [0.01, 0.01, 0.05, 0.05]
    assert np.isnan(targets["value_per_point"].iloc[-1])
    assert result.manifest["sweep"] == [{"arm": "points", "grid": GRID}]
    assert "sweep" not in result.manifest["scenario"]


def test_the_report_has_a_design_sweep_section_only_with_a_sweep(swept):
    _, out = swept
    page = render_report(read_results(out))
    start = page.index("<h2>Design sweep</h2>")
    section = page[start:page.index("<h2>", start + 1)]
    assert section.count("<img") == 1
    assert re.search(r"by value_per_point; one line per coupons\.min_spend", section)
    plain = run(validate_scenario(scenario_data([])), replications=1, facts=False)
    assert sweep_section(plain) == ""
    assert "Design sweep" not in render_report(plain)


def test_the_shipped_sweep_loads():
    scenario = load_scenario(SCENARIOS / "point_value_sweep.toml")
    assert (SCENARIOS / "point_value_sweep.toml").read_text().startswith("# Question:")
    assert len(scenario.arms) == 9 and scenario.control.name == "no program"
    values = [(a.design_point["value_per_point"], a.design_point["expiry_weeks"])
              for a in scenario.arms[1:]]
    assert values == [(v, e) for v in (0.01, 0.02, 0.05, 0.1) for e in (26, 52)]
    assert scenario.policies(scenario.arms[1])[0].value_per_point == 0.01
