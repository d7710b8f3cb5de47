"""The resource guard: memory and time of a run estimated from two small probes, workers
checked against the memory available."""

import math
import os
import tracemalloc

import numpy as np
import pytest

from loyaltylab.errors import InputError
from loyaltylab.experiments import resources, run
from loyaltylab.experiments.resources import (
    MARGIN,
    USABLE_SHARE,
    WORKER_BYTES,
    Estimate,
    available_cores,
    estimate,
    plan_workers,
)
from loyaltylab.experiments.runner import _probe, overridden
from loyaltylab.experiments.scenario import load_scenario
from loyaltylab.experiments.units import Task

GB = 2**30


def test_cores_are_the_affinity_where_the_system_has_one(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert available_cores() == 2
    monkeypatch.delattr(os, "sched_getaffinity")  # macOS, Windows
    assert available_cores() == 8
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # undeterminable
    assert available_cores() == 1


def test_the_memory_needed_by_hand():
    found = Estimate(units=10, unit_bytes=GB, result_bytes=GB // 2, unit_seconds=30.0)
    # one process: a unit and the results in this process; 3 workers: 3 processes with
    # their own imports and a unit each, the results here
    assert found.needed(1) == GB + GB // 2
    assert found.needed(3) == 3 * (WORKER_BYTES + GB) + GB // 2
    # 8 GB available, 6.4 usable: (6.4 - 0.5) / (1 + 0.29) GB = 4.6 workers
    assert found.fitting(8 * GB) == int((8 * GB * USABLE_SHARE - GB / 2) // (WORKER_BYTES + GB))
    assert found.fitting(GB) == 0  # not even one unit in this process
    # 10 units on 4 workers: 3 waves of 30 s, 90 s shown in minutes
    assert found.text(4) == "about 1.3 GB per worker, about 2 min on 4 workers"
    assert found.text(1) == "about 1.0 GB per worker, about 5 min on 1 process"


def test_workers_are_checked_against_the_memory(monkeypatch):
    found = Estimate(units=10, unit_bytes=GB, result_bytes=0, unit_seconds=1.0)
    monkeypatch.setattr(resources, "available_memory", lambda: 8 * GB)
    monkeypatch.setattr(resources, "available_cores", lambda: 16)
    fit = found.fitting(8 * GB)
    assert 1 < fit < 16
    assert plan_workers(found, None) == fit  # chosen automatically: as many as fit
    assert plan_workers(found, fit) == fit
    with pytest.raises(InputError, match=rf"^workers: {fit + 1} workers need about .* "
                                         rf"available; use {fit} workers or fewer$"):
        plan_workers(found, fit + 1)
    # never more processes than units of work
    assert plan_workers(Estimate(2, 1, 0, 1.0), 64) == 2
    monkeypatch.setattr(resources, "available_memory", lambda: GB // 2)
    with pytest.raises(InputError, match=r"^size: a unit of work needs about 1\.0 GB of "
                                         r"memory and 512\.0 MB is available"):
        plan_workers(found, 1)
    monkeypatch.setattr(resources, "available_memory", lambda: None)  # unknown: trusted
    assert plan_workers(found, 64) == 10


def test_the_probes_extrapolate_a_linear_peak_and_duration(monkeypatch):
    monkeypatch.setattr(resources, "LONG_RUN_CUSTOMER_WEEKS", 0)  # probe whatever the size
    bytes_per_customer = 800

    def probe(n):
        keep = np.ones(n * bytes_per_customer // 8)  # numpy reports to tracemalloc
        return keep.sum()

    found = estimate(probe, units=20, size=1_000_000, arms=2, weeks=52)
    assert found.probed and found.units == 20 and math.isfinite(found.unit_seconds)
    expected = MARGIN * bytes_per_customer * 1_000_000
    assert abs(found.unit_bytes / expected - 1) < 0.01
    # a block of 5 points runs them one after the other
    block = estimate(probe, units=4, size=1_000_000, arms=2, weeks=52, points=5)
    assert abs(block.unit_bytes / (5 * expected) - 1) < 0.01


def test_small_runs_are_not_probed():
    called = []
    found = estimate(called.append, units=10, size=5_000, arms=2, weeks=52)
    assert not called and not found.probed and math.isnan(found.unit_seconds)
    assert found.unit_bytes == resources.SAFE_BYTES_PER_CUSTOMER_ARM * 2 * 5_000


def test_the_estimate_of_a_real_replication_is_at_most_a_quarter_above_its_peak(monkeypatch):
    scenario = load_scenario("scenarios/full_strategy.toml")
    size = 40_000
    task = Task(overridden(scenario, size=size), 0, size, keep_customers=True)
    monkeypatch.setattr(resources, "LONG_RUN_CUSTOMER_WEEKS", 0)
    found = estimate(lambda n: _probe(task, n), units=1, size=size,
                     arms=len(scenario.arms), weeks=scenario.horizon_weeks)
    tracemalloc.start()
    try:
        _probe(task, size)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= found.unit_bytes <= 1.25 * peak


def test_a_run_that_cannot_fit_is_refused_before_anything_is_written(monkeypatch, tmp_path):
    monkeypatch.setattr(resources, "PROBE_SIZES", (500, 2_000))
    monkeypatch.setattr(resources, "available_memory", lambda: 200 * 2**20)
    out = tmp_path / "big"
    with pytest.raises(InputError, match=r"^size: a unit of work needs about .* of memory"):
        run("scenarios/winback.toml", size=1_000_000, replications=2, facts=False, out=out)
    assert list(tmp_path.iterdir()) == []


def test_the_cli_prints_the_estimate_of_a_long_run(monkeypatch, tmp_path, capsys):
    from loyaltylab import cli

    monkeypatch.setattr(resources, "PROBE_SIZES", (300, 1_200))
    monkeypatch.setattr(resources, "LONG_RUN_CUSTOMER_WEEKS", 0)
    code = cli.main(["run", "scenarios/winback.toml", "--size", "2000", "--replications",
                     "2", "--workers", "1", "--out", str(tmp_path / "a")])
    assert code == 0
    assert "loyaltylab: about " in capsys.readouterr().err
