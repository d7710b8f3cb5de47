"""End-to-end experiment time: a scenario run with the runner, as ``loyaltylab run`` does.

Default: the full-strategy scenario (full strategy against no program) at 1,000,000
customers, 10 replications of 52 weeks, 2 local workers, with the results folder
written. Prints the wall time of each repeat and of its parts (simulation and
summary inside ``run``; writing the folder is timed apart).

Usage::

    python benchmarks/bench_experiment.py [--scenario scenarios/full_strategy.toml]
        [--size 1000000] [--replications 10] [--workers 2] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

from loyaltylab.experiments import Scenario, load_scenario, run, write_results  # noqa: E402


def customer_weeks(scenario: Scenario, size: int, replications: int) -> int:
    """Customer-weeks an experiment simulates: every arm, burn-in included."""
    return size * len(scenario.arms) * replications * (scenario.horizon_weeks
                                                        + scenario.burn_in)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", default="scenarios/full_strategy.toml")
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    scenario = load_scenario(args.scenario)
    print(f"{scenario.name}: {args.size:,} customers, {len(scenario.arms)} arms, "
          f"{args.replications} replications, {scenario.horizon_weeks} weeks, "
          f"{args.workers} workers")
    for _ in range(args.repeat):
        folder = Path(tempfile.mkdtemp())
        try:
            t0 = time.perf_counter()
            result = run(scenario, size=args.size, replications=args.replications,
                         workers=args.workers)
            t1 = time.perf_counter()
            write_results(result, folder / "run")
            t2 = time.perf_counter()
        finally:
            shutil.rmtree(folder)
        weeks = customer_weeks(scenario, args.size, args.replications)
        print(f"run {t1 - t0:.1f} s + write {t2 - t1:.1f} s = {t2 - t0:.1f} s end to end "
              f"({weeks / (t1 - t0) / 1e6:.0f} million customer-weeks/s over both cores)",
              flush=True)


if __name__ == "__main__":
    main()
