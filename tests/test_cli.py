"""End-to-end test of the command line."""

import subprocess
import sys

import pandas as pd


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "loyaltylab", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def test_simulate_prints_a_summary_and_writes_the_weekly_series(tmp_path):
    out = tmp_path / "sub" / "weekly.csv"
    result = run("simulate", "--size", "5000", "--weeks", "27", "--seed", "3", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "By segment at week 27" in result.stdout
    for name in ("core_loyal", "potential_loyal", "basic", "dormant"):
        assert name in result.stdout
    weekly = pd.read_csv(out)
    assert weekly["week"].tolist() == list(range(1, 28))
    assert list(tmp_path.joinpath("sub").iterdir()) == [out]  # no temporary file left
    again = tmp_path / "again.csv"
    assert run("simulate", "--size", "5000", "--weeks", "27", "--seed", "3",
               "--out", str(again)).returncode == 0
    pd.testing.assert_frame_equal(weekly, pd.read_csv(again))


def test_simulate_compares_the_full_strategy_with_no_program():
    result = run("simulate", "--size", "4000", "--weeks", "14", "--program", "full-strategy")
    assert result.returncode == 0, result.stderr
    assert "The full strategy against no program" in result.stdout
    for line in ("program cost", "  rewards", "  coupons", "  service", "  reminders",
                 "points outstanding"):
        assert line in result.stdout
    assert "NaN" not in result.stdout


def test_bad_input_exits_2_naming_the_option(tmp_path):
    result = run("simulate", "--size", "0", "--out", str(tmp_path / "w.csv"))
    assert result.returncode == 2
    assert "--size: must be >= 1" in result.stderr
    assert not (tmp_path / "w.csv").exists()
    assert run("simulate", "--weeks", "many").returncode == 2
