"""The GPU check script's logic, run on the CPU (numpy against numpy)."""

import importlib.util
import types
from pathlib import Path

import numpy as np
import pandas as pd

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"
_SPEC = importlib.util.spec_from_file_location("gpu_check", _PATH)
gpu_check = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(gpu_check)


def test_two_sets_of_seeds_on_the_cpu_agree_and_the_ledger_balances(capsys):
    code = gpu_check.main(["--backends", "numpy", "numpy", "--seed-offset", "100",
                           "--seeds", "5", "--size", "3000", "--weeks", "16", "--sizes"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "0 unbalanced weeks in 5 runs" in out
    assert "differ (Welch, Bonferroni, 1% overall): none" in out


def test_agreement_flags_a_shift_of_a_few_standard_errors_only():
    rng = np.random.default_rng(3)
    a = pd.DataFrame({"x": rng.normal(0, 1, 8), "y": rng.normal(0, 1, 8), "c": 5.0})
    b = pd.DataFrame({"x": rng.normal(0, 1, 8), "y": rng.normal(3, 1, 8), "c": 5.0})
    table = gpu_check.agreement(a, b)
    # y's means are 3 sd apart: t of about 6 with 8 + 8 runs, p far below 0.01 / 3
    assert table["agrees"].to_dict() == {"x": True, "y": False, "c": True}
    b["c"] = 6.0  # a constant that differs never agrees
    assert not gpu_check.agreement(a, b).loc["c", "agrees"]


def test_outcomes_take_stocks_at_the_end_and_flows_in_total():
    weekly = pd.DataFrame({"week": [1, 2], "alive": [10, 9], "buyers": [3, 4],
                           "tier_gold": [1, 2], "coupons_holders": [5, 1]})
    assert gpu_check.outcomes(weekly).to_dict() == {
        "alive": 9, "tier_gold": 2, "coupons_holders": 1, "buyers": 7}


def test_ledger_errors_counts_unbalanced_weeks():
    weekly = pd.DataFrame({"points_earned": [10, 5], "points_redeemed": [0, 4],
                           "points_expired": [0, 1], "points_outstanding": [10, 11]})
    assert gpu_check.ledger_errors(weekly) == 1  # week 2 should leave 10 outstanding


def test_the_device_code_paths_agree_with_numpy_statistically(monkeypatch, capsys):
    """The branches the engine takes for a namespace other than numpy (dense bytes from
    the namespace's own generator, plain scatter-adds), run with numpy arrays behind a
    stand-in module, agree with the numpy backend within Monte Carlo error."""
    device = types.ModuleType("device_numpy")
    device.__getattr__ = lambda name: getattr(np, name)  # module __getattr__ (PEP 562)

    def namespace(backend="numpy"):
        return device if backend == "cupy" else np

    monkeypatch.setattr("loyaltylab.sim.model.get_namespace", namespace)
    monkeypatch.setattr(gpu_check, "get_namespace", namespace)
    monkeypatch.setattr(gpu_check, "device_name", lambda xp: "stand-in")
    code = gpu_check.main(["--seeds", "6", "--size", "3000", "--weeks", "16", "--sizes"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "cupy: stand-in" in out and "0 unbalanced weeks in 6 runs" in out
    # the stand-in really takes the other branches: its random streams differ
    a, b = (gpu_check.simulate(backend, 2000, 4, 1) for backend in ("numpy", "cupy"))
    assert not a.equals(b)
