"""The results folder: complete or absent, never half-written."""

import json

import pandas as pd
import pytest

from loyaltylab.errors import InputError
from loyaltylab.experiments import read_results, run, validate_scenario, write_results
from loyaltylab.experiments.results import default_destination


@pytest.fixture(scope="module")
def result():
    return run(validate_scenario({
        "name": "tiny", "population": {"size": 800}, "horizon_weeks": 8,
        "replications": 2, "seed": 3, "mode": "field",
        "arms": [{"name": "none"}, {"name": "points", "policies": [{"type": "points"}]}]}))


def test_write_and_read_back(tmp_path, result):
    out = write_results(result, tmp_path / "run")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["mode"] == "field"
    assert set(manifest["files"]) == {p.name for p in out.iterdir()}
    assert {"numpy", "pandas", "loyaltylab", "python"} <= set(manifest["versions"])
    back = read_results(out)
    pd.testing.assert_frame_equal(back.weekly, result.weekly)
    pd.testing.assert_frame_equal(back.customers, result.customers)
    summary = pd.read_csv(out / "summary.csv")
    required = {"arm", "metric", "estimate", "ci_low", "ci_high", "effect_vs_control",
                "effect_ci_low", "effect_ci_high", "p_value"}
    assert required <= set(summary.columns)
    names = set(summary["metric"])
    assert {"retention", "churn", "repurchase_rate", "purchase_frequency",
            "average_order_value", "net_revenue", "margin", "program_cost",
            "cost_to_revenue", "incremental_margin", "roi", "payback_week", "clv",
            "points_liability", "breakage", "redemption_rate", "nps",
            "retention_rel_change", "clv_rel_change"} <= names
    trials = pd.read_csv(out / "trials.csv")
    assert set(trials["replication"]) == {0, 1}


def test_an_existing_folder_is_never_overwritten(tmp_path, result):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="already exists"):
        write_results(result, out)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_a_failure_while_writing_leaves_nothing(tmp_path, result, monkeypatch):
    def broken(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", broken)
    with pytest.raises(OSError):
        write_results(result, tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_run_writes_no_results_and_keeps_its_finished_units(tmp_path):
    def interrupt(done, total):
        if done == 2:
            raise KeyboardInterrupt

    scenario = validate_scenario({
        "name": "tiny", "population": {"size": 300}, "horizon_weeks": 4, "replications": 3,
        "arms": [{"name": "a"}, {"name": "b"}]})
    with pytest.raises(KeyboardInterrupt):
        run(scenario, out=tmp_path / "run", progress=interrupt)
    assert [p.name for p in tmp_path.iterdir()] == [".run.partial"]
    kept = sorted(p.name for p in (tmp_path / ".run.partial").iterdir())
    assert kept == ["facts", "plan.json", "replication-00000", "replication-00001"]


def test_default_destination_is_unique(tmp_path):
    first = default_destination("my scenario", tmp_path)
    first.mkdir()
    second = default_destination("my scenario", tmp_path)
    assert first != second and first.name.startswith("my_scenario-")


def test_a_damaged_manifest_or_table_is_one_line_per_problem(tmp_path, result):
    # (once: the first pydantic error only, located without the scenario's path style;
    # and a table without its columns was a KeyError in the report)
    out = write_results(result, tmp_path / "run")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["scenario"]["horizon_weeks"] = "many"
    manifest["scenario"]["arms"][1]["policies"] = {}
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError) as info:
        read_results(out)
    assert info.value.lines() == [
        f"results: {out / 'manifest.json'}: scenario.horizon_weeks: Input should be a valid "
        "integer, unable to parse string as an integer",
        f"results: {out / 'manifest.json'}: scenario.arms[1].policies: Input should be a "
        "valid list"]
    out = write_results(result, tmp_path / "again")
    (out / "summary.csv").write_text("garbage\n1\n")
    with pytest.raises(InputError, match=r"summary\.csv: no column\(s\) \['arm', 'metric'"):
        read_results(out)
