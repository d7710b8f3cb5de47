import math

import numpy as np
import pytest
from helpers import simulate_bgnbd
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from statsmodels.tools.numdiff import approx_hess3

from loyaltylab.agents import (
    BGNBD,
    GammaGamma,
    bgnbd_log_likelihood,
    bgnbd_score,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
)


def test_cdnow_bgnbd_matches_the_published_fit(cdnow):
    """Fader, Hardie & Lee (2005), Marketing Science 24(2): 39-week calibration."""
    fit = fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert fit.converged and fit.at_bound == ()
    assert fit.n_customers == 2357 and fit.n_repeat_buyers == 946
    assert (round(fit.r, 3), round(fit.alpha, 3), round(fit.a, 3), round(fit.b, 3)) == (
        0.243, 4.414, 0.793, 2.426)
    assert round(fit.log_likelihood, 1) == -9582.4
    assert fit.params == BGNBD(r=fit.r, alpha=fit.alpha, a=fit.a, b=fit.b)


def test_cdnow_gamma_gamma_matches_the_published_fit(cdnow):
    """Fader & Hardie (2013) note: 946 repeat buyers, mean repeat transaction value."""
    fit = fit_gamma_gamma(cdnow["frequency"], cdnow["mean_repeat_spend"])
    assert fit.converged and fit.n_customers == 946
    assert (round(fit.p, 2), round(fit.q, 2), round(fit.gamma, 2)) == (6.25, 3.74, 15.44)
    assert round(fit.log_likelihood, 2) == -4055.92
    assert fit.params == GammaGamma(p=fit.p, q=fit.q, gamma=fit.gamma)
    assert fit.mean_order == pytest.approx(fit.params.mean_order)


def test_bgnbd_log_likelihood_by_hand():
    r, alpha, a, b = 0.5, 3.0, 0.8, 2.5
    x, t_x, big_t = 3, 20.0, 30.0

    def lbeta(u, v):
        return math.lgamma(u) + math.lgamma(v) - math.lgamma(u + v)

    common = (math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha)
              + lbeta(a, b + x) - lbeta(a, b))
    expected = common + math.log((alpha + big_t) ** -(r + x)
                                 + a / (b + x - 1) * (alpha + t_x) ** -(r + x))
    got = bgnbd_log_likelihood(r, alpha, a, b, [x, 0], [t_x, 0.0], [big_t, big_t])
    assert got[0] == pytest.approx(expected, rel=1e-12)
    # a customer with no repeat purchase: P(X(T) = 0) = (alpha / (alpha + T))^r
    assert got[1] == pytest.approx(r * math.log(alpha / (alpha + big_t)), rel=1e-12)


def test_gamma_gamma_density_integrates_to_one():
    p, q, gamma = 6.25, 3.74, 15.44
    for x in (1, 4):
        total = integrate.quad(
            lambda m, x=x: math.exp(gamma_gamma_log_likelihood(p, q, gamma, [x], [m])[0]),
            0, np.inf, limit=200)[0]
        assert total == pytest.approx(1.0, abs=1e-6)


def test_fit_recovers_known_parameters_within_monte_carlo_error():
    truth = np.array([0.6, 5.0, 0.9, 3.0])
    rng = np.random.default_rng(2024)
    # first purchases spread over six months
    x, t_x, age = simulate_bgnbd(rng.uniform(26.0, 52.0, 30_000), *truth, rng)
    fit = fit_bgnbd(x, t_x, age)
    assert fit.converged
    est = np.log([fit.r, fit.alpha, fit.a, fit.b])

    def loglik(theta):
        return bgnbd_log_likelihood(*np.exp(theta), x, t_x, age).sum()

    # standard errors of the log-parameters from the observed information
    cov = np.linalg.inv(-approx_hess3(est, loglik))
    z = (est - np.log(truth)) / np.sqrt(np.diag(cov))
    assert np.all(np.abs(z) < 4), z


def test_degenerate_and_invalid_inputs():
    # nobody buys again: the purchase rate runs to zero, the fit says so
    fit = fit_bgnbd([0, 0, 0], [0.0, 0.0, 0.0], [10.0, 20.0, 30.0])
    assert fit.n_repeat_buyers == 0 and fit.at_bound
    with pytest.raises(ValueError, match="recency"):
        fit_bgnbd([1], [40.0], [39.0])
    with pytest.raises(ValueError, match="frequency"):
        fit_bgnbd([-1], [0.0], [39.0])
    with pytest.raises(ValueError, match="no customer with a repeat purchase"):
        fit_gamma_gamma([0, 0], [np.nan, np.nan])


def test_gamma_gamma_with_infinite_mean_cannot_become_a_spec():
    from loyaltylab.agents.fitting import GammaGammaFit

    fit = GammaGammaFit(p=1.0, q=0.8, gamma=1.0, log_likelihood=0.0, n_customers=1,
                        converged=True)
    assert fit.mean_order == math.inf
    with pytest.raises(ValueError, match=r"gamma_gamma\.q"):
        _ = fit.params


@settings(max_examples=40, deadline=None)
@given(r=st.floats(0.05, 5), alpha=st.floats(0.5, 20), a=st.floats(0.1, 5),
       b=st.floats(0.2, 10), seed=st.integers(0, 1000), truncated=st.booleans())
def test_the_score_is_the_gradient_of_the_log_likelihood(r, alpha, a, b, seed, truncated):
    rng = np.random.default_rng(seed)
    n = 30
    x = rng.integers(0, 8, n).astype(float)
    age = rng.uniform(1.0, 60.0, n)
    t_x = np.where(x > 0, rng.uniform(0.05, 1.0, n) * age, 0.0)
    w = np.where((x > 0) & (rng.random(n) < 0.5), 4.0, 0.0) if truncated else None
    score = bgnbd_score(r, alpha, a, b, x, t_x, age, w)
    point = np.array([r, alpha, a, b])
    for i in range(4):
        step = np.zeros(4)
        step[i] = 1e-6 * point[i]
        numeric = (bgnbd_log_likelihood(*(point + step), x, t_x, age, w)
                   - bgnbd_log_likelihood(*(point - step), x, t_x, age, w)) / (2 * step[i])
        # central differences: error O(step^2) plus rounding of about 1e-16 |ll| / step,
        # i.e. 1e-10 |ll| / theta; a hundredfold margin, customer by customer
        ll = np.abs(bgnbd_log_likelihood(*point, x, t_x, age, w))
        assert np.all(np.abs(score[:, i] - numeric)
                      <= 1e-7 * np.abs(numeric) + 1e-8 * (1 + ll) / point[i])
