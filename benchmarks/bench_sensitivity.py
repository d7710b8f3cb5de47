"""Time of a sensitivity analysis, as ``loyaltylab sensitivity`` runs it.

Default: Morris screening (r = 10 trajectories) of every response and satisfaction
coefficient on the full-strategy scenario at 100,000 customers, 2 local workers, with
the results folder written. Prints the wall time, the experiments run and the time per
experiment, and for the headline outputs the luck line (the Monte Carlo noise) against
the largest assumption's index, which says whether the population is large enough for
the ranking.

Usage::

    python benchmarks/bench_sensitivity.py [--scenario scenarios/full_strategy.toml]
        [--method morris|sobol] [--samples 10] [--inputs response,satisfaction]
        [--size 100000] [--workers 2]
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

from loyaltylab.experiments.sensitivity import sensitivity  # noqa: E402

OUTPUTS = ("incremental_margin", "roi", "clv", "retention", "nps")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", default="scenarios/full_strategy.toml")
    parser.add_argument("--method", choices=("morris", "sobol"), default="morris")
    parser.add_argument("--samples", type=int, default=None)
    parser.add_argument("--inputs", default="response,satisfaction")
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp())
    try:
        t0 = time.perf_counter()
        result = sensitivity(args.scenario, method=args.method, samples=args.samples,
                             inputs=args.inputs.split(","), size=args.size,
                             workers=args.workers, out=folder / "sensitivity")
        wall = time.perf_counter() - t0
    finally:
        shutil.rmtree(folder)
    points = result.manifest["points"]
    print(f"{result.scenario.name}, {args.method} ({result.manifest['samples']} samples), "
          f"{len(result.inputs)} inputs + luck, {args.size:,} customers, {args.workers} "
          f"workers: {points:,} experiments in {wall:.1f} s end to end "
          f"({wall / points * args.workers:.2f} s per experiment per worker)")
    top = result.top_inputs(1)
    for row in top[top["output"].isin(OUTPUTS)].itertuples(index=False):
        print(f"  {row.output}: largest {row.largest}; luck {row.luck}")


if __name__ == "__main__":
    main()
