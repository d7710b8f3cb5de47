import numpy as np
import pandas as pd
import pytest

from loyaltylab.experiments import read_results, run, validate_scenario
from loyaltylab.experiments.runner import run_replication
from loyaltylab.experiments.uncertainty import DRAW_REPLICATIONS, acceptability, draw_points
from loyaltylab.experiments.units import Task

SCENARIO = {
    "name": "tiny", "population": {"size": 400}, "horizon_weeks": 6, "replications": 2,
    "seed": 5, "economics": {"fixed_cost_per_week": 50.0},
    "arms": [{"name": "none", "control": True},
             {"name": "points", "policies": [{"type": "points", "value_per_point": 0.05}]}],
    "uncertainty": {"draws": 5, "inputs": ["economics", "response.redemption"]},
}


@pytest.fixture(scope="module")
def scenario():
    return validate_scenario(SCENARIO)


@pytest.fixture(scope="module")
def result(scenario, tmp_path_factory):
    return run(scenario, out=tmp_path_factory.mktemp("u") / "run", facts=False)


def test_the_draws_are_a_seeded_latin_hypercube(scenario):
    names, unit = draw_points(scenario, 8)
    assert names == ["economics.gross_margin", "economics.annual_discount_rate",
                     "economics.fixed_cost_per_week", "response.redemption.stockpiler_share",
                     "response.redemption.stockpile_orders"]
    for column in unit.T:  # one point in each eighth of every input's range
        assert sorted(np.floor(column * 8).astype(int)) == list(range(8))
    assert np.array_equal(unit, draw_points(scenario, 8)[1])
    other = scenario.model_copy(update={"seed": 6})
    assert not np.array_equal(unit, draw_points(other, 8)[1])


def test_a_draw_is_the_scenario_run_with_the_drawn_inputs_and_its_own_luck(scenario, result):
    inputs = result.draw_inputs.set_index("draw")
    assert len(inputs) == 5
    point = inputs.loc[3].to_dict()
    varied = scenario.with_inputs(point)
    assert varied.economics.gross_margin == point["economics.gross_margin"]
    values = run_replication(Task(varied, DRAW_REPLICATIONS + 3, 400, False)).values
    draws = result.draws[result.draws["draw"] == 3].set_index(["arm", "metric"])
    for metric in ("margin", "clv", "program_cost", "retention"):
        for arm in ("none", "points"):
            expected = values[(values["arm"] == arm) & (values["metric"] == metric)]["value"]
            assert draws.loc[(arm, metric), "estimate"] == expected.iloc[0]
    margin = values.set_index(["arm", "metric"])["value"]
    assert draws.loc[("points", "margin"), "effect"] == (
        margin[("points", "margin")] - margin[("none", "margin")])
    # a metric that only exists against the control is its own effect
    assert draws.loc[("points", "roi"), "effect"] == draws.loc[("points", "roi"), "estimate"]


def test_summary_and_targets_carry_the_verdicts_over_the_draws(result):
    summary = result.summary.set_index(["arm", "metric"])
    draws = result.draws.set_index(["arm", "metric"])
    row = summary.loc[("points", "margin")]
    effects = draws.loc[("points", "margin"), "effect"]
    assert row["effect_plausible_low"] == pytest.approx(np.percentile(effects, 2.5))
    assert row["effect_plausible_high"] == pytest.approx(np.percentile(effects, 97.5))
    assert row["prob_effect_positive"] == (effects > 0).mean()
    estimates = draws.loc[("none", "margin"), "estimate"]
    assert summary.loc[("none", "margin"), "plausible_low"] == pytest.approx(
        np.percentile(estimates, 2.5))
    assert {"met_share", "plausible_low", "plausible_high"} <= set(result.targets.columns)
    targets = result.targets.set_index("target")
    assert targets["met_share"].dropna().between(0, 1).all()
    clv = result.draws[(result.draws["metric"] == "clv_rel_change")]["estimate"]
    assert targets.loc["average CLV +35%", "met_share"] == (clv >= 0.35).mean()
    # segments as the firm sees them need a burn-in: not measured in any world
    assert np.isnan(targets.loc["core-customer repurchase rate +45%", "met_share"])
    assert result.manifest["uncertainty_draws"] == 5


def test_draws_are_identical_with_any_number_of_workers(scenario, tmp_path):
    one = run(scenario, out=tmp_path / "one", facts=False, uncertainty=3, workers=1)
    two = run(scenario, uncertainty=3, workers=2, facts=False)
    pd.testing.assert_frame_equal(one.draws, two.draws, check_exact=True)
    pd.testing.assert_frame_equal(one.summary, two.summary, check_exact=True)
    back = read_results(tmp_path / "one")
    pd.testing.assert_frame_equal(back.draws, one.draws, check_exact=True)
    pd.testing.assert_frame_equal(back.draw_inputs, one.draw_inputs, check_exact=True)
    assert "Over plausible worlds" in (tmp_path / "one" / "report.html").read_text()


def test_acceptability_by_cost_cap_hand_computed():
    rows = []
    for draw, (a, b) in enumerate([(10.0, 20.0), (-5.0, 1.0), (3.0, -2.0)]):
        rows += [(draw, "A", "incremental_margin", a), (draw, "A", "program_cost", 5.0),
                 (draw, "B", "incremental_margin", b), (draw, "B", "program_cost", 15.0),
                 (draw, "none", "program_cost", 0.0)]
    draws = pd.DataFrame(rows, columns=["draw", "arm", "metric", "estimate"])
    curve = acceptability(draws, "none", [0.0, 10.0, 20.0]).set_index("cap")
    assert curve.loc[0.0].tolist() == [1.0, 0.0, 0.0]
    assert curve.loc[10.0].tolist() == pytest.approx([1 / 3, 2 / 3, 0.0])
    assert curve.loc[20.0].tolist() == pytest.approx([0.0, 1 / 3, 2 / 3])
