"""An experiment on a Dask cluster: wall time, throughput and memory per worker.

Runs a scenario's experiment as ``loyaltylab run --executor dask`` does, on a local
cluster of single-threaded worker processes, each with a memory limit (the workers of
a real cluster are other machines; here they share this one). Default: the
full-strategy scenario (full strategy against no program, a 52-week burn-in, 52 weeks)
at 10,000,000 customers, 20 replications, 2 workers, with the stylized-facts check
beside the replications. ``--executor local`` runs the same on local worker processes,
which shows what Dask adds. The results folder is not written (the client writes it
alone, as timed by ``bench_experiment.py``).

Start it as the README starts workers, without Dask's default
``MALLOC_TRIM_THRESHOLD_=65536`` (under which the engine's large temporary arrays come
fresh from the system every time); without the ``export`` below it measures Dask's
default.

Prints the cluster's start-up time, then a markdown table row: the run's wall time,
replications per second, seconds per replication and worker, million customer-weeks
per second, the peak resident memory of each worker process and of the client (the
process that also hosts the local cluster's scheduler), sampled every 0.1 s.

Usage::

    export DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON='{"MALLOC_TRIM_THRESHOLD_": None}'
    python benchmarks/bench_cluster.py [--scenario scenarios/full_strategy.toml]
        [--size 10000000] [--replications 20] [--workers 2] [--memory-limit 16GiB]
        [--executor dask|local]
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psutil
from bench_experiment import customer_weeks  # first: one BLAS thread per process

from loyaltylab.experiments import load_scenario, run

GIB = 2**30
COLUMNS = ("executor", "customers", "arms", "replications", "workers", "memory limit",
           "wall", "replications/s", "per replication and worker",
           "million customer-weeks/s", "peak RSS per worker", "client peak RSS")


class PeakMemory:
    """Peak resident memory of this process (``"client"``) and of each process under it
    (the workers), sampled every ``interval`` seconds in a thread."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peaks: dict[int | str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while True:
            for key, process in [("client", me), *((p.pid, p) for p in
                                                   me.children(recursive=True))]:
                try:
                    rss = process.memory_info().rss
                except psutil.NoSuchProcess:  # a worker that ended between the two calls
                    continue
                self.peaks[key] = max(self.peaks.get(key, 0), rss)
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def workers(self, n: int) -> list[int]:
        """The ``n`` largest peaks among the processes under this one (the workers;
        the helpers, such as a fork server, stay small), largest first."""
        return sorted((v for k, v in self.peaks.items() if k != "client"), reverse=True)[:n]


@contextmanager
def executor(kind: str, workers: int, memory_limit: str) -> Iterator[dict[str, Any]]:
    """The arguments of :func:`loyaltylab.experiments.run` for ``kind``, with a local
    Dask cluster running while they are in use."""
    if kind == "local":
        yield {"workers": workers}
        return
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      memory_limit=memory_limit, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        yield {"executor": "dask", "scheduler": cluster.scheduler_address}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", default="scenarios/full_strategy.toml")
    parser.add_argument("--size", type=int, default=10_000_000)
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="16GiB",
                        help="per Dask worker (Dask's own format: 16GiB, 0.4, auto)")
    parser.add_argument("--executor", choices=("dask", "local"), default="dask")
    args = parser.parse_args(argv)
    scenario = load_scenario(args.scenario)
    print(f"{scenario.name}: {args.size:,} customers, {len(scenario.arms)} arms, "
          f"{args.replications} replications, {scenario.horizon_weeks} weeks after "
          f"{scenario.burn_in} of burn-in, {args.executor} executor, {args.workers} "
          "workers", flush=True)
    with PeakMemory() as memory:
        t0 = time.perf_counter()
        with executor(args.executor, args.workers, args.memory_limit) as kwargs:
            t1 = time.perf_counter()
            print(f"workers up in {t1 - t0:.1f} s", flush=True)
            run(scenario, size=args.size, replications=args.replications, **kwargs)
            wall = time.perf_counter() - t1
    weeks = customer_weeks(scenario, args.size, args.replications)
    # one local worker runs in the client's process, which has no workers then
    peaks = " / ".join(f"{p / GIB:.1f} GiB" for p in memory.workers(args.workers))
    row = (args.executor, f"{args.size:,}", len(scenario.arms), args.replications,
           args.workers, args.memory_limit if args.executor == "dask" else "-",
           f"{wall:.0f} s", f"{args.replications / wall:.4f}",
           f"{wall * args.workers / args.replications:.1f} s", f"{weeks / wall / 1e6:.1f}",
           peaks or "in the client", f"{memory.peaks['client'] / GIB:.1f} GiB")
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    print("| " + " | ".join(str(cell) for cell in row) + " |", flush=True)


if __name__ == "__main__":
    main()
