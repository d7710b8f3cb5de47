"""Shared test helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyaltylab.sim import LoyaltyModel


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
