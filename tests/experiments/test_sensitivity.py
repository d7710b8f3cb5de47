import json

import numpy as np
import pandas as pd
import pytest
from SALib.test_functions import Ishigami

from loyaltylab.errors import InputError
from loyaltylab.experiments import validate_scenario
from loyaltylab.experiments.runner import run_replication, run_sample
from loyaltylab.experiments.sensitivity import (
    LUCK,
    analyse,
    design,
    needed,
    read_sensitivity,
    sensitivity,
)
from loyaltylab.experiments.units import SampleTask, Task

SCENARIO = {
    "name": "tiny", "population": {"size": 600}, "horizon_weeks": 8, "seed": 3,
    "arms": [{"name": "none", "control": True},
             {"name": "points", "policies": [{"type": "points", "value_per_point": 0.05}]}],
}
INPUTS = ["response.reminder", "response.redemption.stockpiler_share", "economics.gross_margin"]


def test_morris_of_a_linear_function_gives_its_coefficients_exactly():
    names = ["a", "b", "c"]
    unit = design("morris", names, 8, seed=1)
    assert unit.shape == (8 * 4, 3)
    y = 3 * unit[:, 0] + unit[:, 1]
    table = analyse("morris", names, unit, y, seed=1).set_index(["input", "index"])
    assert table.loc[("a", "mu_star"), "estimate"] == pytest.approx(3.0)
    assert table.loc[("b", "mu_star"), "estimate"] == pytest.approx(1.0)
    assert table.loc[("c", "mu_star"), "estimate"] == 0.0
    assert table.loc[("a", "sigma"), "estimate"] == pytest.approx(0.0, abs=1e-12)


def test_sobol_indices_of_the_ishigami_function_match_the_analytic_values():
    names = ["x1", "x2", "x3"]
    unit = design("sobol", names, 1024, seed=2)
    y = Ishigami.evaluate(-np.pi + 2 * np.pi * unit)
    table = analyse("sobol", names, unit, y, seed=2).set_index(["input", "index"])
    analytic = {("x1", "S1"): 0.3139, ("x2", "S1"): 0.4424, ("x3", "S1"): 0.0,
                ("x1", "ST"): 0.5576, ("x2", "ST"): 0.4424, ("x3", "ST"): 0.2437}
    for key, value in analytic.items():
        row = table.loc[key]
        half = row["ci_high"] - row["estimate"]
        # within twice the bootstrap half-width of the 95% interval
        assert abs(row["estimate"] - value) <= 2 * half, (key, row.to_dict())


@pytest.fixture(scope="module")
def scenario():
    return validate_scenario(SCENARIO)


def test_a_block_reuses_the_control_only_where_nothing_it_depends_on_changed(scenario):
    points = ({"response.redemption.stockpiler_share": 0.3, "economics.gross_margin": 0.3},
              {"response.redemption.stockpiler_share": 0.7, "economics.gross_margin": 0.3},
              {"response.redemption.stockpiler_share": 0.7, "economics.gross_margin": 0.2})
    block = run_sample(SampleTask("b", scenario, points, (0, 0, 1), first=10, size=600))
    assert sorted(block.values["point"].unique()) == [10, 11, 12]
    for k, (point, replication) in enumerate(zip(points, (0, 0, 1), strict=True)):
        fresh = run_replication(Task(scenario.with_inputs(point), replication, 600, False))
        mine = block.values[block.values["point"] == 10 + k].drop(columns="point")
        pd.testing.assert_frame_equal(mine.reset_index(drop=True), fresh.values,
                                      check_exact=True)
    # the metrics a sensitivity analysis needs only: the same values, fewer of them
    few = run_sample(SampleTask("b", scenario, points, (0, 0, 1), first=10, size=600,
                                metrics=needed(scenario))).values
    merged = few.merge(block.values, on=["point", "replication", "arm", "metric"])
    assert len(merged) == len(few) < len(block.values)
    assert (merged["value_x"].fillna(-1) == merged["value_y"].fillna(-1)).all()
    assert {"incremental_margin", "roi", "nps"} <= set(few["metric"])


def test_sensitivity_ranks_inputs_and_finds_no_effect_where_there_is_none(scenario, tmp_path):
    result = sensitivity(scenario, samples=3, inputs=INPUTS, out=tmp_path / "s")
    names = [i.name for i in result.inputs]
    assert names == ["response.reminder.reminder_lift",
                     "response.redemption.stockpiler_share", "economics.gross_margin"]
    assert len(result.samples) == 3 * (len(names) + 2)  # + luck, + the starting point
    stars = result.indices[result.indices["index"] == "mu_star"]
    # the arm sends no reminders: with the same luck at every point, no change at all
    assert (stars[stars["input"] == "response.reminder.reminder_lift"]["estimate"] == 0).all()
    # the accrued cost of points depends on how many are redeemed, not on the margin
    margin = result.ranking("incremental_margin")
    assert margin["input"].iloc[0] == "response.redemption.stockpiler_share"
    assert LUCK in set(margin["input"])
    cost = result.ranking("program_cost").set_index("input")["estimate"]
    assert cost["economics.gross_margin"] == 0 < cost["response.redemption.stockpiler_share"]
    assert set(result.indices["index"]) == {"mu_star", "sigma", "mu"}
    files = json.loads((tmp_path / "s" / "manifest.json").read_text())["files"]
    assert files == ["manifest.json", "sensitivity.csv", "samples.csv", "report.html"]
    written = pd.read_csv(tmp_path / "s" / "sensitivity.csv")
    assert list(written.columns) == ["input", "arm", "output", "index", "estimate", "ci_low",
                                     "ci_high"]
    page = (tmp_path / "s" / "report.html").read_text()
    assert "Monte Carlo noise" in page and "economics.gross_margin" in page
    back = read_sensitivity(tmp_path / "s")
    pd.testing.assert_frame_equal(back.indices, result.indices)
    assert [i.name for i in back.inputs] == names


def test_bad_settings_are_named(scenario):
    with pytest.raises(InputError, match="samples: Sobol's design needs a power of two"):
        sensitivity(scenario, method="sobol", samples=100)
    with pytest.raises(InputError, match="inputs: unknown input or group 'nothing'"):
        sensitivity(scenario, inputs=["nothing"])
    with pytest.raises(InputError, match="method: must be 'morris' or 'sobol'"):
        sensitivity(scenario, method="fast")
