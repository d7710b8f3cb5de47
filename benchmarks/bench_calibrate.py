"""Time of ``loyaltylab calibrate`` on a log of about a million transactions.

The log is exported from loyaltylab's own simulation (a base of plain BG/NBD buyers
with CDNOW's spend, followed for a year; customers keep joining), made messy the way
real logs are: it starts mid-relationship (the customers' joining purchases are cut),
1% of purchases are partly returned a few days later, and new customers keep
arriving. The benchmark writes it as CSV and times the command a user runs, end to end
(reading and validating the file, netting the returns, the summaries, the fits with
their standard errors, the population file), with a warm-up window and the strategy's
segment rules in dollars; ``--holdout`` adds the 26-week holdout check (simulation
included).

Usage::

    python benchmarks/bench_calibrate.py [--customers 100000] [--weeks 52] [--holdout]
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

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from loyaltylab import cli  # noqa: E402
from loyaltylab.agents import btyd_population  # noqa: E402
from loyaltylab.sim import LoyaltyModel  # noqa: E402
from loyaltylab.sim.logs import transaction_log  # noqa: E402


def messy_log(customers: int, weeks: int, seed: int = 1) -> pd.DataFrame:
    """A simulated year of transactions, truncated on the left, with returns."""
    spec = btyd_population(customers, r=0.9, alpha=3.0, a=0.6, b=6.0)
    model = LoyaltyModel(spec, seed=seed, record=True)
    for _ in range(weeks):
        model.add_customers(0, customers // 200)
        model.step()
    log = transaction_log(model)
    log = log[log["date"] > log["date"].min()]
    sold = log.sample(frac=0.01, random_state=seed)
    returns = sold.assign(date=sold["date"] + pd.Timedelta(days=3),
                          amount=-np.round(0.4 * sold["amount"], 2))
    return pd.concat([log, returns], ignore_index=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--holdout", action="store_true")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp())
    try:
        log = messy_log(args.customers, args.weeks)
        path = folder / "log.csv"
        log.assign(date=log["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
        (folder / "rules.toml").write_text('currency = "USD"\ncore_min_spend = 1000\n'
                                           'potential_min_spend = 400\n'
                                           'dormant_max_spend = 100\n'
                                           'dormant_min_weeks_since = 13\n')
        command = ["calibrate", str(path), "--out", str(folder / "out" / "pop.toml"),
                   "--warm-up-weeks", "4", "--segments", "rules", "--currency", "USD",
                   "--segment-rules", str(folder / "rules.toml")]
        if args.holdout:
            command += ["--calibration-weeks", str(args.weeks - 26), "--holdout-weeks", "26"]
        t0 = time.perf_counter()
        code = cli.main(command)
        wall = time.perf_counter() - t0
    finally:
        shutil.rmtree(folder)
    if code:
        raise SystemExit(code)
    print(f"\ncalibrate: {len(log):,} transaction lines ({int((log['amount'] < 0).sum()):,} "
          f"returns), {log['customer_id'].nunique():,} customers"
          f"{', with the 26-week holdout' if args.holdout else ''}: {wall:.1f} s end to end")


if __name__ == "__main__":
    main()
