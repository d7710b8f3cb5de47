"""Engine throughput and memory: customer-weeks per second and bytes per customer.

Runs the default population (the strategy's four segments) for 52 weeks on one core, at
several population sizes, without a program and under the full strategy design
(``loyaltylab.policies.full_strategy``), and prints one row per design and size:

- build_s: drawing the customers; run_s: simulating the weeks (best of ``--repeat``
  runs: the machine's noise only ever adds time);
- Mcw_per_s: million customer-weeks simulated per second (size x weeks / run_s);
- state_B: bytes of per-customer state (the sum of the columns' item sizes);
- peak_B: peak memory traced during build + run, divided by the size (state, weekly
  temporaries and sparse per-buyer arrays).

Usage::

    python benchmarks/bench_engine.py [--sizes 100000 1000000 10000000] [--weeks 52]
"""

from __future__ import annotations

import argparse
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import json  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402

from loyaltylab.agents import default_population  # noqa: E402
from loyaltylab.policies import full_strategy  # noqa: E402
from loyaltylab.sim import LoyaltyModel, Policy  # noqa: E402

Design = Callable[[], Sequence[Policy]]
DESIGNS: dict[str, Design] = {"no program": lambda: (), "full strategy": full_strategy}


def measure(
    size: int, weeks: int, design: Design, seed: int = 1, repeat: int = 5
) -> dict[str, float]:
    """Time ``repeat`` runs (keep the fastest), then trace the memory of one more."""
    build, run = float("inf"), float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        model = LoyaltyModel(default_population(size), policies=design(), seed=seed)
        t1 = time.perf_counter()
        model.run(weeks)
        t2 = time.perf_counter()
        build, run = min(build, t1 - t0), min(run, t2 - t1)
        state = model.population.bytes_per_customer()
        del model
    tracemalloc.start()
    traced = LoyaltyModel(default_population(size), policies=design(), seed=seed)
    traced.run(weeks)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del traced
    return {
        "size": size,
        "weeks": weeks,
        "build_s": round(build, 3),
        "run_s": round(run, 3),
        "Mcw_per_s": round(size * weeks / run / 1e6, 1),
        "state_B": state,
        "peak_B": round(peak / size, 1),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--design", choices=sorted(DESIGNS), nargs="+", default=sorted(DESIGNS))
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per cell (best)")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    rows = []
    print(f"{'design':<14}{'size':>12}"
          + "".join(f"{c:>9}" for c in ("build_s", "run_s", "Mcw/s", "state_B", "peak_B")))
    for name in args.design:
        for size in args.sizes:
            row = {"design": name, **measure(size, args.weeks, DESIGNS[name],
                                             repeat=args.repeat)}
            rows.append(row)
            print(f"{name:<14}{size:>12,}{row['build_s']:>9}{row['run_s']:>9}"
                  f"{row['Mcw_per_s']:>9}{row['state_B']:>9}{row['peak_B']:>9}", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
