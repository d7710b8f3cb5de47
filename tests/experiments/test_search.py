"""The design search: a small search end to end, trials that do not depend on the workers,
constraints, and best designs whose re-run is the design run as an ordinary arm."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loyaltylab.errors import InputError
from loyaltylab.experiments import load_scenario, optimise, read_results, run, validate_scenario
from loyaltylab.experiments.report import render_report
from loyaltylab.experiments.search import Constraint, Objective, select

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
POINTS = {"type": "points", "value_per_point": 0.05, "expiry_weeks": 52}
SPACE = {"value_per_point": {"low": 0.005, "high": 0.1, "log": True},
         "expiry_weeks": {"low": 13, "high": 52, "step": 13}}


def scenario(search=True, **extra):
    data = {"name": "search", "population": {"size": 1000}, "horizon_weeks": 30,
            "replications": 2, "seed": 8, "targets": [],
            "arms": [{"name": "none", "control": True},
                     {"name": "points", "policies": [POINTS]}], **extra}
    if search:
        data["search"] = {"arm": "points", "space": SPACE}
    return validate_scenario(data)


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    out = tmp_path_factory.mktemp("search") / "run"
    result = optimise(scenario(), ["incremental_margin"], trials=6, batch=3, replications=2,
                      top=2, out=out, facts=False)
    return result, out


def test_a_small_search_runs_end_to_end(searched):
    result, out = searched
    trials = result.search
    assert trials["trial"].tolist() == list(range(6))
    assert trials["batch"].tolist() == [0, 0, 0, 1, 1, 1]
    assert (trials["state"] == "complete").all() and trials["feasible"].all()
    assert trials["value_per_point"].between(0.005, 0.1).all()
    assert set(trials["expiry_weeks"]) <= {13, 26, 39, 52}
    # the best two by the objective (a difference from the control) are re-run
    best = trials.sort_values("incremental_margin", ascending=False)["trial"].head(2)
    assert trials.loc[trials["selected"], "trial"].tolist() == sorted(best)
    assert result.scenario.arms[0].name == "none"
    for arm in result.scenario.arms[1:]:
        row = trials[trials["arm"] == arm.name].iloc[0]
        assert arm.name.startswith(f"points trial {row['trial']} (value_per_point=")
        assert arm.design_point == {"value_per_point": row["value_per_point"],
                                    "expiry_weeks": row["expiry_weeks"]}
    info = result.manifest["search"]
    assert (info["sampler"], info["selection"], info["feasible"]) == ("TPESampler", "best", 6)
    assert info["objectives"] == ["incremental_margin"] and info["directions"] == ["maximize"]
    for name in ("summary.csv", "targets.csv", "report.html", "search_trials.csv",
                 "manifest.json"):
        assert (out / name).is_file()
    back = read_results(out)
    pd.testing.assert_frame_equal(back.search, trials, check_dtype=False)
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns[:3]) == ["arm", "value_per_point", "expiry_weeks"]
    page = render_report(back)
    start = page.index("<h2>Design search</h2>")
    section = page[start:page.index("<h2>", start + 1)]
    assert section.count("<img") == 1
    assert "TPESampler" in section and "search_trials.csv" in section


def test_the_best_design_rerun_equals_that_design_as_an_ordinary_arm(searched):
    result, _ = searched
    best = result.scenario.arms[1]
    written = validate_scenario({
        "name": "by hand", "population": {"size": 1000}, "horizon_weeks": 30,
        "replications": 2, "seed": 8, "targets": [],
        "arms": [{"name": "none", "control": True},
                 {"name": "by hand", "policies": [{**POINTS, **best.design_point}]}]})
    plain = run(written, facts=False)
    columns = ["metric", "estimate", "effect_vs_control", "effect_ci_low", "effect_ci_high"]
    mine = result.summary[result.summary["arm"] == best.name][columns]
    theirs = plain.summary[plain.summary["arm"] == "by hand"][columns]
    assert mine["effect_vs_control"].notna().sum() > 50
    pd.testing.assert_frame_equal(mine.reset_index(drop=True), theirs.reset_index(drop=True))


@pytest.mark.parametrize("objectives", [["incremental_margin"], ["retention", "program_cost"]])
def test_the_trials_do_not_depend_on_the_number_of_workers(objectives):
    """Two batches: TPE's second batch comes from its model, NSGA-II's from the first."""
    s = scenario()
    one = optimise(s, objectives, trials=8, batch=4, replications=1, top=1, workers=1,
                   facts=False)
    two = optimise(s, objectives, trials=8, batch=4, replications=1, top=1, workers=2,
                   facts=False)
    pd.testing.assert_frame_equal(one.search, two.search)
    pd.testing.assert_frame_equal(one.summary, two.summary)
    assert one.search["value_per_point"].nunique() > 4  # the trials do differ
    if len(objectives) == 2:
        assert one.manifest["search"]["sampler"] == "NSGAIISampler"
        assert one.search["pareto"].any()
        assert one.manifest["search"]["directions"] == ["maximize", "minimize"]


def test_an_infeasible_constraint_marks_every_trial_and_says_so():
    # a program costs more than none: its cost difference is never below -1,000
    result = optimise(scenario(), ["retention"], constraints=["program_cost <= -1000"],
                      trials=4, batch=4, replications=1, top=2, facts=False)
    trials = result.search
    assert not trials["feasible"].any()
    assert (trials["violation"] == trials["program_cost"] + 1000).all()
    assert result.manifest["search"]["selection"] == "closest"
    assert result.manifest["search"]["feasible"] == 0
    closest = trials.sort_values("violation")["trial"].head(2)
    assert trials.loc[trials["selected"], "trial"].tolist() == sorted(closest)
    assert "no trial met the constraints" in render_report(result)


def test_a_met_constraint_keeps_the_trials_feasible():
    result = optimise(scenario(), ["retention"], constraints=["program_cost >= 0"],
                      trials=3, batch=3, replications=1, top=1, facts=False)
    assert result.search["feasible"].all() and (result.search["violation"] == 0).all()
    assert result.manifest["search"]["constraints"] == ["program_cost >= 0"]


def table(rows):
    return pd.DataFrame(rows).assign(state="complete")


def test_selection_best_pareto_and_closest():
    up = Objective.of("incremental_margin")
    down = Objective.of("program_cost")
    assert down.direction == "minimize" and up.direction == "maximize"
    trials = table({"trial": range(6), "incremental_margin": [1, 5, 3, 4, 2, 0],
                    "program_cost": [6, 9, 4, 3, 5, 0], "violation": 0.0,
                    "feasible": [True, True, True, True, False, True]})
    assert select(trials, [up], 2) == ([1, 3], "best")
    # the front (max margin, min cost): 1 (5, 9), 3 (4, 3), 5 (0, 0); 3 dominates 0 and 2
    assert select(trials, [up, down], 3) == ([1, 3, 5], "pareto")
    # at most top, spread along the first objective: its two ends
    assert select(trials, [up, down], 2) == ([1, 5], "pareto")
    infeasible = trials.assign(feasible=False, violation=[3.0, 1.0, 2.0, 0.5, 9.0, 4.0])
    assert select(infeasible, [up], 2) == ([3, 1], "closest")


@pytest.mark.parametrize("call,expected", [
    (lambda: optimise(scenario(search=False), ["retention"]),
     "search: the scenario has no [search] table"),
    (lambda: optimise(scenario(), ["retension"]),
     "objective: unknown metric 'retension'; did you mean 'retention'?"),
    (lambda: optimise(scenario(), ["retention", "roi", "nps"]),
     "objective: give one or two objectives, got 3"),
    (lambda: optimise(scenario(), ["retention"], directions=["up"]),
     "direction: must be 'maximize' or 'minimize', got 'up'"),
    (lambda: optimise(scenario(), ["retention", "roi"], directions=["maximize"]),
     "direction: give one per objective (2), or none; got 1"),
    (lambda: optimise(scenario(), ["retention"], constraints=["cost_to_revenue => 0.05"]),
     "constraint: cannot read 'cost_to_revenue => 0.05'"),
    (lambda: optimise(scenario(), ["retention"], constraints=["cost <= 0.05"]),
     "constraint: unknown metric 'cost'"),
    (lambda: optimise(scenario(), ["retention"], constraints=["roi >= nan"]),
     "constraint: cannot read 'roi >= nan'"),
    (lambda: optimise(scenario(), ["retention"], trials=0), "trials: must be >= 1, got 0"),
    (lambda: optimise(scenario(), ["retention", "roi"], batch=1),
     "batch: two objectives need batches of at least 2"),
    (lambda: optimise(scenario(), ["retention_vip"], trials=1, replications=1),
     "objective: the results have no 'retention_vip'"),
])
def test_bad_input_is_one_line_naming_the_option(call, expected):
    with pytest.raises(InputError) as info:
        call()
    assert str(info.value).startswith(expected), str(info.value)
    assert len(info.value.lines()) == 1


def test_the_search_space_is_checked_with_the_scenario():
    with pytest.raises(InputError) as info:
        validate_scenario({"name": "s", "population": {"size": 100},
                           "arms": [{"name": "none"}, {"name": "points", "policies": [POINTS]}],
                           "search": {"arm": "points", "space": {
                               "value_per_point": {"low": 0, "high": 0.1},
                               "expiry_weeks": {"low": 13, "high": 50, "step": 13},
                               "campaign": {"choices": ["a"]}}}})
    assert info.value.errors == [
        "search.space.expiry_weeks.step: high - low (37) must be a multiple of the step (13)"]
    with pytest.raises(InputError) as info:
        validate_scenario({"name": "s", "population": {"size": 100},
                           "arms": [{"name": "none"}, {"name": "points", "policies": [POINTS]}],
                           "search": {"arm": "points", "space": {
                               "value_per_point": {"low": 0, "high": 0.1},
                               "campaign": {"choices": ["a"]}}}})
    assert info.value.errors == [
        "search.space.campaign: unknown parameter 'campaign'; the arm's policies have points: "
        "earn_per_currency, earn_per_order, value_per_point, redemption_block, expiry_weeks, "
        "campaigns, signup_bonus, checkin_points, checkin_segments, earn_cap_per_week, "
        "segments"]
    with pytest.raises(InputError) as info:
        validate_scenario({"name": "s", "population": {"size": 100},
                           "arms": [{"name": "none"}, {"name": "points", "policies": [POINTS]}],
                           "search": {"arm": "points", "space": {
                               "value_per_point": {"low": 0, "high": 0.1}}}})
    assert info.value.errors == ["search.space.value_per_point.low: Input should be greater "
                                 "than or equal to 0.000000000001"]


def test_constraints_read_their_bound():
    c = Constraint.parse("  retention>=0.003 ")
    assert (c.metric, c.operator, c.bound, str(c)) == ("retention", ">=", 0.003,
                                                       "retention >= 0.003")
    assert c.value(0.005) == pytest.approx(-0.002) and c.value(0.001) == pytest.approx(0.002)
    assert c.value(np.nan) == np.inf


def test_the_shipped_search_loads():
    s = load_scenario(SCENARIOS / "point_value_search.toml")
    assert s.search is not None and s.search.arm == "points"
    assert (SCENARIOS / "point_value_search.toml").read_text().startswith("# Question:")
