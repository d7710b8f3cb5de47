"""Results folders listed by kind, runs side by side, a sweep's designs."""

import pandas as pd

from loyaltylab.app.compare import describe, results_folders, side_by_side, sweep_table
from loyaltylab.cli import headline_table


def test_the_folders_are_listed_with_their_kind(runs, strategy_run, sweep_run, tmp_path):
    (runs / ".strategy.partial").mkdir(exist_ok=True)  # a checkpoint is not a run
    (runs / "notes").mkdir(exist_ok=True)
    kinds = {f.path.name: f.kind for f in results_folders(runs)}
    assert kinds == {"strategy": "run", "sweep": "sweep"}
    assert describe(runs / "strategy").size == 400
    assert results_folders(tmp_path / "nowhere") == []


def test_two_runs_side_by_side_are_their_headline_tables(strategy_run, sweep_run):
    table = side_by_side({"a": strategy_run, "b": sweep_run})
    pd.testing.assert_series_equal(
        table["a: full strategy - no program"],
        headline_table(strategy_run)["full strategy - no program"].fillna("-"),
        check_names=False)
    assert "b: points (value_per_point=0.05)" in table.columns


def test_a_sweeps_designs_with_their_effects(sweep_run):
    table = sweep_table(sweep_run)
    assert list(table["value_per_point"]) == [0.05, 0.1]
    assert list(table["arm"]) == ["points (value_per_point=0.05)",
                                  "points (value_per_point=0.1)"]
    assert "program cost per customer (accrual)" in table.columns
