"""The engine on a GPU: agreement with the CPU, the points ledger, and throughput.

Run on a machine with an NVIDIA GPU and ``pip install -e '.[gpu]'``:

1. Agreement. The full strategy design runs on both backends for several seeds; for each
   weekly metric the mean over seeds of its 52-week total (or its last value, for
   stocks such as customers alive) must agree between the backends within the Monte
   Carlo error: Welch's t-test per metric, Bonferroni-corrected so that the whole check
   fails by chance in 1% of runs. The backends' random streams differ, so the results
   are statistically, not bitwise, equal.
2. Ledger. On both backends the points ledger balances exactly every week:
   cumulative earned = cumulative redeemed + cumulative expired + outstanding.
3. Throughput. The full strategy for 52 weeks at each of ``--sizes`` on the GPU:
   build and run seconds and customer-weeks per second.

Exits 1 when a check fails. ``--backends numpy numpy --seed-offset 1000`` runs the
agreement check on the CPU alone (two sets of seeds), as the tests do.

Usage::

    python benchmarks/gpu_check.py [--seeds 8] [--size 200000] [--weeks 52]
                                   [--sizes 10000000 100000000 200000000]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from loyaltylab.agents import default_population
from loyaltylab.policies import full_strategy
from loyaltylab.sim import LoyaltyModel
from loyaltylab.sim.backend import device_name, get_namespace

#: Weekly columns that are stocks (compared at the last week; also every ``tier_*`` and
#: ``*_holders`` column); the others are flows (compared as totals over the weeks).
STOCKS = ("customers", "alive", "active", "points_outstanding", "points_liability")
LEDGER = ("points_earned", "points_redeemed", "points_expired", "points_outstanding")


def simulate(backend: str, size: int, weeks: int, seed: int) -> pd.DataFrame:
    """The weekly table of the full strategy on ``backend``."""
    model = LoyaltyModel(default_population(size), policies=full_strategy(), seed=seed,
                         backend=backend)
    model.run(weeks)
    return model.weekly


def outcomes(weekly: pd.DataFrame) -> pd.Series:
    """One number per metric: the last week's value of a stock, the total of a flow."""
    numeric = weekly.drop(columns=["week"]).select_dtypes("number")
    stocks = [c for c in numeric
              if c in STOCKS or c.startswith("tier_") or c.endswith("_holders")]
    return pd.concat([numeric[stocks].iloc[-1], numeric.drop(columns=stocks).sum()])


def ledger_errors(weekly: pd.DataFrame) -> int:
    """Weeks in which the points ledger does not balance exactly."""
    earned, redeemed, expired, outstanding = (weekly[c].to_numpy(np.int64) for c in LEDGER)
    balance = np.cumsum(earned) - np.cumsum(redeemed) - np.cumsum(expired) - outstanding
    return int(np.count_nonzero(balance))


def agreement(a: pd.DataFrame, b: pd.DataFrame, alpha: float = 0.01) -> pd.DataFrame:
    """Welch comparison of two backends' per-seed outcomes (rows: seeds; columns: metrics).

    A metric agrees unless Welch's t-test rejects equal means at ``alpha`` divided by the
    number of metrics (Bonferroni); a metric constant on both sides must be equal.
    """
    diff = b.mean() - a.mean()
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    p = pd.Series(np.where(diff == 0, 1.0, 0.0), index=a.columns)
    varies = se.index[se > 0]
    with warnings.catch_warnings():  # nearly constant metrics (customers) lose precision
        warnings.simplefilter("ignore", RuntimeWarning)
        p[varies] = stats.ttest_ind(b[varies], a[varies], equal_var=False).pvalue
    return pd.DataFrame({"first": a.mean(), "second": b.mean(), "difference": diff,
                         "se": se, "p_value": p, "agrees": p * len(p) > alpha})


def throughput(backend: str, size: int, weeks: int) -> dict[str, float]:
    """Build and run seconds of the full strategy at ``size`` on ``backend``."""
    xp = get_namespace(backend)
    synchronize = xp.cuda.Device().synchronize if backend == "cupy" else (lambda: None)
    t0 = time.perf_counter()
    model = LoyaltyModel(default_population(size), policies=full_strategy(), seed=1,
                         backend=backend)
    synchronize()
    t1 = time.perf_counter()
    model.run(weeks)
    synchronize()
    t2 = time.perf_counter()
    return {"size": size, "build_s": round(t1 - t0, 2), "run_s": round(t2 - t1, 2),
            "Mcw_per_s": round(size * weeks / (t2 - t1) / 1e6, 1)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", nargs=2, default=["numpy", "cupy"],
                        help="the two backends to compare (default numpy cupy)")
    parser.add_argument("--seeds", type=int, default=8, help="seeds per backend")
    parser.add_argument("--seed-offset", type=int, default=0,
                        help="the second backend's seeds start here")
    parser.add_argument("--size", type=int, default=200_000, help="customers per run")
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000_000, 100_000_000],
                        help="throughput runs of the second backend (none: skip)")
    args = parser.parse_args(argv)
    first, second = args.backends
    for backend in (first, second):
        print(f"{backend}: {device_name(get_namespace(backend))}")
    runs = [[simulate(backend, args.size, args.weeks, seed + offset)
             for seed in range(args.seeds)]
            for backend, offset in ((first, 0), (second, args.seed_offset))]
    ok = True
    for backend, weeklies in zip(args.backends, runs, strict=True):
        errors = sum(ledger_errors(w) for w in weeklies)
        print(f"points ledger, {backend}: {errors} unbalanced weeks in {len(weeklies)} runs")
        ok &= errors == 0
    table = agreement(*(pd.DataFrame([outcomes(w) for w in weeklies]) for weeklies in runs))
    with pd.option_context("display.width", 120, "display.max_rows", 100):
        print(f"\n{args.seeds} seeds x {args.size:,} customers x {args.weeks} weeks, "
              f"full strategy: {first} against {second}")
        print(table.round(3).to_string())
    disagree = table.index[~table["agrees"]].tolist()
    print(f"\nmetrics that differ (Welch, Bonferroni, 1% overall): {disagree or 'none'}")
    ok &= not disagree
    for size in args.sizes:
        print(throughput(second, size, args.weeks), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
