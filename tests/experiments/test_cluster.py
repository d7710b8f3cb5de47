"""Runs on a Dask cluster: units that stay small, tables that do not grow with the
population, workers checked before anything runs, and a worker's death or a resume on
another executor changing nothing."""

import os
import pickle
import signal
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import loyaltylab
from loyaltylab.agents import default_population
from loyaltylab.errors import InputError
from loyaltylab.experiments import cluster, load_scenario, run, validate_scenario
from loyaltylab.experiments.checkpoint import checkpoint_folder
from loyaltylab.experiments.runner import overridden, run_unit
from loyaltylab.experiments.uncertainty import draw_tasks
from loyaltylab.experiments.units import FactsTask, Task

distributed = pytest.importorskip("dask.distributed")

ROOT = Path(__file__).resolve().parents[2]


def quick(size=1500, replications=6):
    return validate_scenario({
        "name": "quick", "population": {"size": size}, "horizon_weeks": 8,
        "replications": replications, "seed": 3,
        "arms": [{"name": "none"}, {"name": "points", "policies": [{"type": "points"}]}]})


def local_cluster(workers=2):
    """A cluster of single-threaded worker processes."""
    return distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                    host="127.0.0.1", dashboard_address=":0")


@pytest.fixture(scope="module")
def address():
    """The scheduler of a cluster of two workers, shared by the tests that leave its
    workers as they found them."""
    with local_cluster() as local:
        yield local.scheduler_address


def test_a_unit_is_a_few_kilobytes_whatever_the_population():
    big = overridden(load_scenario(ROOT / "scenarios" / "full_strategy.toml"),
                     size=10_000_000, replications=20)
    units = [Task(big, 19, 10_000_000, keep_customers=True), FactsTask(big),
             *draw_tasks(big, 1, 10_000_000, "numpy")]
    assert max(len(pickle.dumps(unit)) for unit in units) < 4096


def test_a_population_file_travels_inside_the_unit(tmp_path):
    (tmp_path / "pop.json").write_text(default_population(10, (0.5, 0.5, 0, 0))
                                       .model_dump_json())
    (tmp_path / "s.toml").write_text(
        'name = "f"\nhorizon_weeks = 4\n[population]\nsize = 300\nfile = "pop.json"\n'
        '[[arms]]\nname = "a"\n[[arms]]\nname = "b"\n')
    unit = pickle.dumps(Task(load_scenario(tmp_path / "s.toml"), 0, 300, False))
    (tmp_path / "pop.json").unlink()  # as on a worker that has no such file
    _, outcome = run_unit(pickle.loads(unit))
    assert set(outcome.values["arm"]) == {"a", "b"}


def test_only_replication_0_sends_back_a_table_that_grows_with_the_population():
    sent = {}
    for size in (500, 4000):
        scenario = quick(size)
        _, first = run_unit(Task(scenario, 0, size, keep_customers=True))
        _, other = run_unit(Task(scenario, 1, size, keep_customers=False))
        assert len(first.customers) == 2 * size  # customers.parquet: intended
        assert other.customers is None
        sent[size] = len(pickle.dumps(other))
    assert sent[4000] == sent[500]


def test_workers_without_this_loyaltylab_are_refused_before_any_unit_runs(tmp_path):
    with local_cluster() as local, distributed.Client(local) as client:
        address = local.scheduler_address
        older, bare = sorted(client.scheduler_info()["workers"])
        client.run(lambda: setattr(__import__("loyaltylab"), "__version__", "0.0.1"),
                   workers=[older])
        client.run(lambda: sys.modules.__setitem__("loyaltylab", None), workers=[bare])
        with pytest.raises(InputError) as caught:
            run(quick(), executor="dask", scheduler=address, out=tmp_path / "out")
        submitted = client.run_on_scheduler(lambda dask_scheduler: list(
            dask_scheduler.task_prefixes))
    message = str(caught.value)
    assert message.startswith(f"scheduler: {older} has loyaltylab 0.0.1; {bare} cannot "
                              "import loyaltylab (")
    assert message.endswith(f"; this client runs loyaltylab {loyaltylab.__version__}: "
                            "install that version on every worker")
    assert "\n" not in message
    assert submitted == []
    assert list(tmp_path.iterdir()) == []  # no checkpoint of a run that never started


def test_a_scheduler_without_workers_is_an_input_error(monkeypatch):
    monkeypatch.setattr(cluster, "SCHEDULER_TIMEOUT_S", 1)
    with local_cluster(0) as local:
        address = local.scheduler_address
        with pytest.raises(InputError, match=f"scheduler: no worker joined {address} "
                                             "within 1 s; start workers with: dask worker"):
            run(quick(), executor="dask", scheduler=address)


def test_a_unit_that_kills_its_workers_is_named():
    # Dask gives a unit 4 workers (distributed.scheduler.allowed-failures + 1)
    with local_cluster(1) as local, pytest.raises(
            InputError, match=r"scheduler: replication-00007 killed every worker that ran it "
                              r"\(4\); a worker with too little memory"):
        list(cluster.stream(os._exit, {"replication-00007": 1}, local.scheduler_address))


def test_a_run_stopped_locally_resumes_on_a_cluster_that_loses_a_worker(address, tmp_path):
    scenario = quick()
    whole = run(scenario, facts=False)
    out = tmp_path / "run"

    def stop(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(scenario, out=out, progress=stop, facts=False)
    assert len(list(checkpoint_folder(out).glob("replication-*"))) == 2

    killed = []
    with distributed.Client(address) as client:
        pids = client.run(os.getpid)

        def kill(done, total):
            if done == 3:  # the first unit computed on the cluster: kill a busy worker
                busy = [w for w, keys in client.processing().items() if keys]
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append(busy[0])

        resumed = run(scenario, out=out, resume=True, executor="dask", scheduler=address,
                      progress=kill, facts=False)
    assert killed
    assert not checkpoint_folder(out).exists()
    for name in ("summary", "weekly", "customers"):
        pd.testing.assert_frame_equal(getattr(whole, name), getattr(resumed, name))


def test_a_worker_drops_a_units_tables_once_the_client_has_them(address):
    units = cluster.stream(str, {"first": 1, "second": 2}, address)
    name = {"1": "first", "2": "second"}[next(units)]
    with distributed.Client(address) as client:

        def held():
            return client.run_on_scheduler(lambda dask_scheduler: [
                key for key in dask_scheduler.tasks if key.startswith(name)])

        deadline = time.monotonic() + 10
        while held() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert held() == []
    assert len(list(units)) == 1
