"""Shared test helpers."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from loyaltylab.agents import btyd
from loyaltylab.sim import LoyaltyModel

#: Debian's Chromium, which Playwright drives (no browser download works in CI).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def need_chromium() -> None:
    """Skip the test when Chromium is absent, unless LOYALTYLAB_REQUIRE_BROWSER is set (CI
    installs Chromium and sets it): then fail."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("LOYALTYLAB_REQUIRE_BROWSER"):
            pytest.fail(f"no Chromium at {CHROMIUM}")
        pytest.skip("Chromium is not installed (CI installs it)")


def run_weekly(model: LoyaltyModel, weeks: int) -> pd.DataFrame:
    """Run a model and return its weekly table."""
    model.run(weeks)
    return model.weekly


def assert_same_run(a: LoyaltyModel, b: LoyaltyModel) -> None:
    """Two models ended in exactly the same state with the same weekly series."""
    pd.testing.assert_frame_equal(a.weekly, b.weekly)
    for column in ("alive", "purchases", "last_purchase", "net_revenue", "margin_pv"):
        np.testing.assert_array_equal(a.population[column], b.population[column])


def simulate_bgnbd(
    age: np.ndarray, r: float, alpha: float, a: float, b: float, rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Continuous-time BG/NBD histories ``(x, t_x, T)`` of customers observed for ``age``
    weeks: Poisson purchases at rate lam ~ Gamma(r, alpha), dropout with probability
    p ~ Beta(a, b) right after each purchase."""
    n = len(age)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    x = np.zeros(n, dtype=int)
    t_x = np.zeros(n)
    now = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    while alive.any():
        i = np.flatnonzero(alive)
        now[i] += rng.exponential(1.0, len(i)) / lam[i]
        bought = now[i] <= age[i]
        j = i[bought]
        x[j] += 1
        t_x[j] = now[j]
        alive[i[~bought]] = False
        alive[j[rng.random(len(j)) < p[j]]] = False
    return x, t_x, np.asarray(age, dtype=float)


def conditional_purchases_by_series(
    t: float, x: int, t_x: float, big_t: float, r: float, alpha: float, a: float, b: float,
) -> float:
    """E[Y(t) | x, t_x, T] without the hypergeometric function.

    Alive at T, the posterior is lam ~ Gamma(r + x, alpha + T), p ~ Beta(a, b + x). Of the
    N ~ NBD potential purchases in (T, T + t], those up to the G-th, G ~ Geometric(p)
    (the fatal one counted), are made: E[min(N, G)] = sum_k P(N >= k) P(G >= k), with
    E_p[(1 - p)^(k-1)] = B(a, b + x + k - 1) / B(a, b + x).
    """
    k = np.arange(1, 4000)
    tail = stats.nbinom.sf(k - 1, r + x, (alpha + big_t) / (alpha + big_t + t))
    survive = np.exp(special.betaln(a, b + x + k - 1) - special.betaln(a, b + x))
    return float(btyd.probability_alive(x, t_x, big_t, r, alpha, a, b)) * float(tail @ survive)
