"""End-to-end test of the command line."""

import argparse
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loyaltylab import cli, validation
from loyaltylab.experiments.atomic import POOL_OWNER

ROOT = Path(__file__).resolve().parents[1]


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


def test_facts_prints_the_table_writes_it_and_exits_0_when_nothing_fails(tmp_path):
    out = tmp_path / "facts.csv"
    result = run("facts", "--size", "20000", "--only", "stamp_card,breakage", "--out", str(out))
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out)
    assert table["fact"].tolist() == ["GG1", "GG1-control", "GG3", "GG4", "B2", "B2-value"]
    for fact in table["fact"]:
        assert fact in result.stdout
    assert "6 pass, 0 uncertain" in result.stdout
    bad = run("facts", "--only", "stamp_card,nope", "--out", str(tmp_path / "bad.csv"))
    assert bad.returncode == 2 and "--only: unknown study 'nope'" in bad.stderr
    assert bad.stdout == "" and not (tmp_path / "bad.csv").exists()
    missing = run("facts", "--population", str(tmp_path / "none.toml"))
    assert missing.returncode == 2 and "none.toml" in missing.stderr


def test_facts_exit_1_when_a_fact_fails(tmp_path):
    # a population of customers who ignore incentives fails the goal gradient
    spec = tmp_path / "indifferent.toml"
    spec.write_text(
        "format = 1\nsize = 1000\n[[segments]]\nname = 'indifferent'\nshare = 1.0\n"
        "incentive_sensitivity = 0.0\n"
        "bgnbd = { r = 0.243, alpha = 4.414, a = 0.793, b = 2.426 }\n"
        "gamma_gamma = { p = 6.25, q = 3.74, gamma = 15.44 }\n")
    result = run("facts", "--size", "5000", "--only", "stamp_card", "--population", str(spec))
    assert result.returncode == 1, result.stderr
    assert "fail" in result.stdout


def test_bad_input_exits_2_naming_the_option(tmp_path):
    result = run("simulate", "--size", "0", "--out", str(tmp_path / "w.csv"))
    assert result.returncode == 2
    assert "--size: must be >= 1" in result.stderr
    assert not (tmp_path / "w.csv").exists()
    assert run("simulate", "--weeks", "many").returncode == 2


def test_run_writes_a_results_folder_and_prints_the_comparison(tmp_path):
    out = tmp_path / "results" / "wb"
    result = run("run", "scenarios/winback.toml", "--size", "3000", "--replications", "2",
                 "--workers", "2", "--out", str(out), "--quiet", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "retention at the horizon" in result.stdout and "Targets" in result.stdout
    assert "pp" in result.stdout  # effects on shares in percentage points
    assert {p.name for p in out.iterdir()} == {
        "manifest.json", "summary.csv", "targets.csv", "weekly.parquet", "customers.parquet",
        "facts.csv", "report.html"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["backend"], manifest["device"]) == ("numpy", "cpu")
    # the stylized facts of the behaviour in use, checked beside the run, in the report
    facts = pd.read_csv(out / "facts.csv")
    assert len(facts) == len(validation.facts()) and (facts["status"] == "pass").all()
    report = (out / "report.html").read_text()
    assert "Stylized facts for the coefficients in use" in report and "GG1-control" in report
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["arm"]) == {"no campaign", "win-back pack",
                                   "win-back pack and double points"}
    again = run("run", "scenarios/winback.toml", "--size", "3000", "--replications", "2",
                "--workers", "1", "--out", str(tmp_path / "again"), "--quiet", cwd=ROOT)
    assert again.returncode == 0, again.stderr
    pd.testing.assert_frame_equal(summary, pd.read_csv(tmp_path / "again" / "summary.csv"))


def test_run_rejects_bad_input_with_exit_2_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text((ROOT / "scenarios/winback.toml").read_text().replace(
        "min_spend = 200", "min_spend = 50"))
    result = run("run", str(bad), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "arms[1].policies[0].min_spend" in result.stderr
    existing = tmp_path / "full"
    existing.mkdir()
    (existing / "x").write_text("x")
    result = run("run", "scenarios/winback.toml", "--out", str(existing), cwd=ROOT)
    assert result.returncode == 2 and "already exists" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "full"]


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed")
def test_the_gpu_backend_without_cupy_exits_2_and_writes_nothing(tmp_path):
    result = run("run", "scenarios/winback.toml", "--size", "500", "--replications", "1",
                 "--backend", "cupy", "--out", str(tmp_path / "gpu"), "--quiet", cwd=ROOT)
    assert result.returncode == 2
    assert "pip install 'loyaltylab[gpu]'" in result.stderr
    assert list(tmp_path.iterdir()) == []
    assert run("simulate", "--size", "500", "--backend", "cupy").returncode == 2
    assert run("simulate", "--size", "500", "--backend", "jax").returncode == 2


def test_run_stopped_midway_leaves_no_results_folder_and_says_how_to_resume(tmp_path):
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "loyaltylab", "run", "scenarios/full_strategy.toml",
         "--size", "100000", "--replications", "20", "--workers", "1", "--out", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # the first line is printed once the scenario is loaded; stop the run once a
    # replication is kept (a run stopped before any leaves nothing to resume)
    assert proc.stdout.readline().startswith("loyaltylab: ")
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".killed.partial/replication-*")):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "no results written" in stderr and "--resume" in stderr
    assert [p.name for p in tmp_path.iterdir()] == [".killed.partial"]


def _units(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.exists() else []


QUICK = """name = "quick"
horizon_weeks = 8
seed = 4
[population]
size = 800
[[arms]]
name = "none"
[[arms]]
name = "points"
[[arms.policies]]
type = "points"
value_per_point = 0.05
"""


@pytest.mark.parametrize("command", [
    ["run", "--replications", "4", "--uncertainty", "3"],
    ["sensitivity", "--samples", "6", "--inputs", "satisfaction.value,economics.gross_margin"],
])
def test_a_run_killed_with_sigkill_resumes_to_the_uninterrupted_results(tmp_path, command):
    scenario = tmp_path / "quick.toml"
    scenario.write_text(QUICK)
    args = [command[0], str(scenario), *command[1:], "--workers", "1", "--quiet"]
    assert cli.main([*args, "--out", str(tmp_path / "whole")]) == 0
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "loyaltylab", *args, "--out", str(out)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    partial = tmp_path / ".killed.partial"
    deadline = time.monotonic() + 120
    while len(_units(partial)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    kept = _units(partial)
    assert len(kept) >= 2 and not out.exists()
    assert cli.main([*args, "--out", str(out), "--resume"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["killed", "quick.toml", "whole"]
    _assert_same_results(out, tmp_path / "whole")


def _assert_same_results(folder: Path, reference: Path) -> None:
    files = json.loads((folder / "manifest.json").read_text())["files"]
    for name in files:
        if name.endswith(".csv"):
            assert (folder / name).read_bytes() == (reference / name).read_bytes(), name
        elif name.endswith(".parquet"):
            pd.testing.assert_frame_equal(pd.read_parquet(folder / name),
                                          pd.read_parquet(reference / name))


def test_a_run_killed_again_and_again_at_random_moments_ends_with_the_same_results(
        tmp_path, monkeypatch):
    """SIGKILL at seeded random moments (starting, computing, writing the folder), each
    time resumed on two workers; the last resume's results equal an uninterrupted run's,
    and nothing the killed processes left behind remains."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    scenario = tmp_path / "quick.toml"
    scenario.write_text(QUICK)
    args = ["run", str(scenario), "--replications", "6", "--quiet"]
    assert cli.main([*args, "--workers", "1", "--out", str(tmp_path / "whole")]) == 0
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "loyaltylab", *args, "--workers", "2", "--out", str(out),
               "--resume"]
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}
    kills = 0
    for delay in np.random.default_rng(16).uniform(0.5, 5.0, size=4):
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            kills += 1
        if out.exists():
            break
    assert kills >= 2
    if not out.exists():
        assert cli.main([*args, "--workers", "2", "--out", str(out), "--resume"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["killed", "quick.toml", "tmp",
                                                           "whole"]
    _assert_same_results(out, tmp_path / "whole")
    stale = [p for p in (tmp_path / "tmp").glob("pymp-*") if (p / POOL_OWNER).exists()
             and (p / POOL_OWNER).read_text() != str(os.getpid())]
    assert stale == []  # the pool folders of the killed runs


def test_calibrate_writes_a_population_file_a_scenario_can_run(tmp_path):
    out = tmp_path / "pop" / "cdnow.toml"
    result = run("calibrate", "data/cdnow_sample.csv", "--out", str(out),
                 "--calibration-weeks", "39", "--holdout-weeks", "13", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "-9,582.4" in result.stdout and "simulator vs analytic" in result.stdout
    assert {p.name for p in out.parent.iterdir()} == {"cdnow.toml", "holdout.csv",
                                                       "holdout.png", "conditional.csv",
                                                       "conditional.png"}
    assert "± 0.013" in result.stdout  # r's standard error (0.0126)
    assert "Holdout (1997-10-01 to 1997-12-30)" in result.stdout  # its own first day
    holdout = pd.read_csv(out.parent / "holdout.csv")
    assert list(holdout.columns) == ["week", "actual", "simulated", "analytic"]
    assert len(holdout) == 52
    # (a scenario runs on a calibrated file in the messy-log test below)


def test_calibrate_rejects_bad_rows_and_writes_nothing(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("customer_id,date,amount\n1,2024-01-02,10\n2,2024-13-45,5\n,2024-01-03,4\n"
                   "3,2024-01-04,-2\n")
    result = run("calibrate", str(log), "--out", str(tmp_path / "p.toml"), "--returns", "error")
    assert result.returncode == 2
    for row in ("row 2", "row 3", "row 4"):
        assert row in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]


def _messy_logs(folder):
    """Transaction and campaign logs exported from a simulation (dollars), made messy:
    the log starts mid-relationship (the customers' joining purchases are cut), 3% of
    purchases are partly returned two days later, one return precedes any purchase, and
    40 customers first buy in the last four weeks (late joiners)."""
    from loyaltylab.agents import BGNBD, CDNOW_GAMMA_GAMMA, PopulationSpec, Segment
    from loyaltylab.policies.replay import ReplayedCoupons
    from loyaltylab.sim import simulate_logs

    segment = Segment(name="cohort", bgnbd=BGNBD(r=0.5, alpha=6.0, a=0.8, b=4.0),
                      gamma_gamma=CDNOW_GAMMA_GAMMA)
    spec = PopulationSpec(size=4000, segments=[segment], shares=[1.0])
    half = [0.5] * 4
    coupons = [ReplayedCoupons(amount_off=20, min_spend=50, validity_weeks=6,
                               schedule={10: half}),
               ReplayedCoupons(amount_off=10, min_spend=0, validity_weeks=6,
                               schedule={10: half})]
    log, campaigns, _ = simulate_logs(spec, coupons, weeks=26, seed=4)
    log = log[log["date"] > log["date"].min()]
    rng = np.random.default_rng(0)
    sold = log.sample(frac=0.03, random_state=1)
    returns = sold.assign(date=sold["date"] + pd.Timedelta(days=2),
                          amount=-0.3 * sold["amount"])
    late_days = log["date"].max() - pd.to_timedelta(rng.integers(0, 28, 120), unit="D")
    late = pd.DataFrame({"customer_id": [f"new{i % 40:03d}" for i in range(120)],
                         "date": late_days, "amount": rng.gamma(6, 5, 120)})
    orphan = pd.DataFrame({"customer_id": ["ghost"], "date": [log["date"].min()],
                           "amount": [-12.0]})
    messy = pd.concat([log, returns, late, orphan]).sample(frac=1.0, random_state=2)
    messy.assign(date=messy["date"].dt.strftime("%Y-%m-%d")).to_csv(
        folder / "log.csv", index=False)
    campaigns.to_csv(folder / "campaigns.csv", index=False)
    (folder / "rules.toml").write_text(
        'currency = "USD"\ncore_min_spend = 600\npotential_min_spend = 250\n'
        'dormant_max_spend = 60\ndormant_min_weeks_since = 8\n')


def test_calibrate_a_messy_log_with_campaigns_end_to_end(tmp_path):
    _messy_logs(tmp_path)
    out = tmp_path / "pop" / "shop.toml"
    result = run("calibrate", "log.csv", "--out", str(out), "--calibration-weeks", "18",
                 "--holdout-weeks", "7", "--warm-up-weeks", "3", "--late-joiners", "include",
                 "--currency", "USD", "--segments", "rules", "--segment-rules", "rules.toml",
                 "--campaigns", "campaigns.csv", "--simulations", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for said in ("return line(s)", "found no earlier purchase", "existing customers with "
                 "unknown history", "late joiners", "coupon response fitted",
                 "amounts in USD", "conditional-expectation check", "Gamma-Gamma spend_cv"):
        assert said in text, said
    data = tomllib.loads(out.read_text())
    assert data["currency"] == "USD" and data["segment_rules"]["currency"] == "USD"
    assert set(data["response"]) == {"coupon_use.attention", "coupon_trips.trip_rate"}
    assert all(entry["se"] > 0 for entry in data["response"].values())
    assert any(note.startswith("returns:") for note in data["notes"])
    assert any("satisfaction" in note for note in data["notes"])
    assert {s["name"] for s in data["segments"]} >= {"new"}
    assert (out.parent / "conditional.csv").is_file()
    spec = cli.load_population(out)
    assert spec.currency == "USD"
    attention = data["response"]["coupon_use.attention"]["value"]
    assert spec.behaviours()[0].coupons.coefficients.attention == attention

    # a scenario on the file speaks of dollars, and refuses another currency
    scenario = out.parent / "s.toml"
    scenario.write_text('name = "calibrated"\npopulation = "shop.toml"\nhorizon_weeks = 6\n'
                        'replications = 2\n[[arms]]\nname = "none"\n[[arms]]\n'
                        'name = "points"\n[[arms.policies]]\ntype = "points"\n')
    ran = run("run", str(scenario), "--out", str(tmp_path / "res"), "--quiet", "--workers", "1")
    assert ran.returncode == 0, ran.stderr
    assert "1,998 customers" in ran.stdout and "money in USD" in ran.stdout


# ------------------------------------------------------------ errors: input or bug
# In-process (main() returns the exit code), so that a function the command calls can
# be replaced by one that fails the way a bug would.


def test_a_bad_scenario_field_is_one_line_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nhorizon_weeks = 0\n[population]\nsize = 100\n'
                   '[[arms]]\nname = "a"\n[[arms]]\nname = "b"\n')
    assert cli.main(["validate", str(bad)]) == cli.EXIT_BAD_INPUT == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"loyaltylab: error: {bad}: horizon_weeks: Input should be greater than or equal "
        "to 1"]


def test_an_unwritable_destination_is_bad_input_before_anything_runs(tmp_path, capsys,
                                                                     monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("simulated although --out cannot be written")

    monkeypatch.setattr(cli, "LoyaltyModel", never)
    (tmp_path / "file").write_text("x")
    out = tmp_path / "file" / "weekly.csv"
    assert cli.main(["simulate", "--size", "100", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"loyaltylab: error: --out: cannot create {out}: {tmp_path / 'file'} is not a folder"]


def _assert_reported_as_a_bug(err, message):
    assert "Traceback (most recent call last)" in err and message in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("loyaltylab: internal error: this is a bug in loyaltylab ")
    assert metadata.version("loyaltylab") in last and "report it" in last


def test_an_internal_type_error_is_reported_as_a_bug_with_its_traceback(capsys, monkeypatch):
    def broken(path):
        raise TypeError("unsupported operand in the engine")

    monkeypatch.setattr(cli, "load_scenario", broken)
    code = cli.main(["validate", str(ROOT / "scenarios" / "winback.toml")])
    assert code == cli.EXIT_BUG == 70
    _assert_reported_as_a_bug(capsys.readouterr().err, "TypeError: unsupported operand")


def test_an_internal_value_error_is_not_mistaken_for_bad_input(capsys, monkeypatch):
    def broken(weekly):
        raise ValueError("cannot reshape array of size 3 into shape (2,)")

    monkeypatch.setattr(cli, "quarterly", broken)
    assert cli.main(["simulate", "--size", "200", "--weeks", "2"]) == 70
    _assert_reported_as_a_bug(capsys.readouterr().err, "ValueError: cannot reshape")


def test_the_exit_codes_are_in_the_help():
    help_text = cli.build_parser().format_help()
    for line in ("2    bad input", "70   internal error", "130  interrupted"):
        assert line in help_text


def test_default_workers_are_left_to_the_resource_guard():
    assert cli._workers(argparse.Namespace(workers=None, backend="numpy")) is None
    assert cli._workers(argparse.Namespace(workers=None, backend="cupy")) == 1
    assert cli._workers(argparse.Namespace(workers=3, backend="numpy")) == 3


def test_sensitivity_and_uncertainty_options_are_checked_before_anything_runs(tmp_path,
                                                                                capsys):
    out = ["--out", str(tmp_path / "x")]
    cases = [
        (["sensitivity", "scenarios/winback.toml", "--inputs", "respons", *out],
         "inputs: unknown input or group 'respons'"),
        (["sensitivity", "scenarios/winback.toml", "--method", "sobol", "--samples", "100",
          *out], "samples: Sobol's design needs a power of two, got 100"),
        (["run", "scenarios/winback.toml", "--resume"], "--resume: needs --out"),
    ]
    for args, message in cases:
        assert cli.main([str(ROOT / a) if a.endswith(".toml") else a for a in args]) == 2
        assert message in capsys.readouterr().err, args
    for args, message in ((["sensitivity", "s.toml", "--samples", "1"], "--samples: must be"),
                          (["run", "s.toml", "--uncertainty", "-1"], "--uncertainty: must"),
                          # (once: planned 10**20 replications, for ever)
                          (["run", "s.toml", "--replications", str(10**20)],
                           "--replications: must be >= 1 and <= 99999")):
        with pytest.raises(SystemExit) as exit_:
            cli.main(args)
        assert exit_.value.code == 2 and message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_optimise_searches_writes_the_results_and_rejects_bad_input(tmp_path):
    out = tmp_path / "best"
    args = ["optimise", "scenarios/point_value_search.toml", "--objective",
            "incremental_margin", "--constraint", "retention >= 0", "--trials", "4", "--batch",
            "2", "--replications", "1", "--final-replications", "2", "--top", "1", "--size",
            "1000", "--workers", "1"]
    result = run(*args, "--out", str(out), "--quiet", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "Designs re-run (the best;" in result.stdout
    assert "retention at the horizon" in result.stdout
    assert {"manifest.json", "summary.csv", "search_trials.csv", "report.html"} <= {
        p.name for p in out.iterdir()}
    trials = pd.read_csv(out / "search_trials.csv")
    assert len(trials) == 4 and trials["selected"].sum() == 1
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["search"]["constraints"] == ["retention >= 0"]
    assert manifest["replications"] == 2 and manifest["size"] == 1000
    result = run(*args, "--constraint", "retention => 0", "--out", str(tmp_path / "bad"),
                 cwd=ROOT)
    assert result.returncode == 2
    assert result.stderr.startswith("loyaltylab: error: constraint: cannot read 'retention => "
                                    "0'") and result.stderr.count("\n") == 1, result.stderr
    result = run("optimise", "scenarios/winback.toml", "--objective", "retention",
                 "--out", str(tmp_path / "bad"), cwd=ROOT)
    assert result.returncode == 2
    assert result.stderr == ("loyaltylab: error: search: the scenario has no [search] table; "
                             "declare the arm and the parameters to search (README, Scenario "
                             "files)\n")
    assert not (tmp_path / "bad").exists()
