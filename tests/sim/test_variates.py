import numpy as np
import pytest
from scipy import stats

from loyaltylab.sim import Streams
from loyaltylab.sim.variates import (
    geometric_trials,
    poisson_count_given_positive,
    standard_gamma,
    standard_normal,
)

N = 200_000


@pytest.mark.parametrize("mu", [0.01, 0.7, 4.0])
def test_conditional_poisson_matches_its_distribution(mu):
    u = Streams(1).uniform("p", 1, np.arange(N))
    counts = poisson_count_given_positive(np.full(N, mu), u, np)
    assert counts.min() >= 1
    k = np.arange(1, 8)
    expected = stats.poisson(mu).pmf(k) / (1 - np.exp(-mu))
    observed = np.bincount(counts, minlength=9)[1:8] / N
    se = np.sqrt(expected * (1 - expected) / N)
    assert np.all(np.abs(observed - expected) < 4 * se + 1e-12)


def test_geometric_trials_hand_cases_and_mean():
    u = np.array([0.0, 0.5, 0.99])
    assert geometric_trials(np.ones(3), u, np).tolist() == [1, 1, 1]
    assert (geometric_trials(np.zeros(3), u, np) > 1e15).all()
    # P(G > 1) = 1 - p: with p = 0.5, u = 0.5 is exactly the boundary -> 2 trials
    assert geometric_trials(np.array([0.5]), np.array([0.5]), np)[0] == 2
    p = 0.2
    g = geometric_trials(np.full(N, p), Streams(3).uniform("d", 1, np.arange(N)), np)
    assert abs(g.mean() - 1 / p) < 4 * np.sqrt((1 - p) / p**2 / N)


@pytest.mark.parametrize("shape", [0.3, 1.0, 6.25, 40.0])
def test_gamma_variates_have_the_right_distribution(shape):
    rows = np.arange(N)
    g = standard_gamma(np.full(N, shape), Streams(7), "spend", 1, rows)
    # mean and variance of Gamma(shape, 1) are both `shape`
    assert abs(g.mean() - shape) < 4 * np.sqrt(shape / N)
    assert stats.kstest(g, stats.gamma(shape).cdf).pvalue > 0.001


def test_gamma_is_a_function_of_the_customers_own_draws():
    s = Streams(7)
    shapes = np.array([2.0, 0.5, 9.0, 3.0])
    rows = np.array([10, 20, 30, 40])
    together = standard_gamma(shapes, s, "spend", 4, rows)
    alone = standard_gamma(shapes[2:3], s, "spend", 4, rows[2:3])
    assert together[2] == alone[0]


def test_normal_variates():
    z = standard_normal(Streams(4), "n", 1, np.arange(N), 0)
    assert abs(z.mean()) < 4 / np.sqrt(N)
    assert stats.kstest(z, "norm").pvalue > 0.001


def test_conditional_poisson_terminates_for_a_zero_uniform():
    counts = poisson_count_given_positive(np.array([0.1, 2.0]), np.zeros(2), np)
    assert counts.min() >= 1 and counts.max() < 1000
