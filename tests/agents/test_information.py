"""Standard errors from the observed information and the flags of degenerate fits."""

import numpy as np
import pytest
from helpers import simulate_bgnbd
from scipy import special

from loyaltylab.agents import fit_bgnbd, fit_gamma_gamma
from loyaltylab.agents.information import observed_covariance


def test_covariance_of_a_quadratic_log_likelihood_by_hand():
    info = np.array([[4.0, 1.0], [1.0, 2.0]])  # information of (theta0, theta1)

    def loglik(theta):
        return -0.5 * theta @ info @ theta

    # natural parameters phi = (2 theta0, theta0 + theta1): J = [[2, 0], [1, 1]]
    jac = np.array([[2.0, 0.0], [1.0, 1.0]])
    cov, regular = observed_covariance(loglik, np.zeros(2), jac, np.array([True, True]))
    assert regular
    np.testing.assert_allclose(cov, jac @ np.linalg.inv(info) @ jac.T, rtol=1e-6)
    # theta1 at a bound: phi0 is conditional on it (1 / 4 -> variance 4 / 4 = 1), phi1
    # depends on it and has an infinite variance
    cov, regular = observed_covariance(loglik, np.zeros(2), jac, np.array([True, False]))
    assert regular and cov[0, 0] == pytest.approx(1.0, rel=1e-6)
    assert cov[1, 1] == np.inf and np.isnan(cov[0, 1])
    # a saddle is not a maximum
    cov, regular = observed_covariance(lambda t: t[0] ** 2 - t[1] ** 2, np.zeros(2),
                                       np.eye(2), np.array([True, True]))
    assert not regular and np.isnan(cov).all()


def test_cdnow_bgnbd_standard_errors_match_the_published_ones(cdnow):
    """SEs of the FHL (2005) CDNOW fit as reported for it (BTYD and lifetimes):
    r 0.0125, alpha 0.378, a 0.186, b 0.696."""
    fit = fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    se = fit.se
    assert se["r"] == pytest.approx(0.0125, rel=0.02)
    assert se["alpha"] == pytest.approx(0.378, rel=0.02)
    assert se["a"] == pytest.approx(0.186, rel=0.02)
    assert se["b"] == pytest.approx(0.696, rel=0.02)
    low, high = fit.ci(0.95)["r"]
    assert low < fit.r < high and np.log(high / fit.r) == pytest.approx(1.96 * se["r"] / fit.r,
                                                                         rel=1e-3)
    # a < 1 is informative, not degenerate
    assert [f.code for f in fit.flags] == ["infinite_lifetime"] and not fit.degenerate


def test_cdnow_gamma_gamma_standard_errors_against_the_analytic_hessian(cdnow):
    """The Gamma-Gamma log-likelihood's second derivatives are polygamma functions."""
    fit = fit_gamma_gamma(cdnow["frequency"], cdnow["mean_repeat_spend"],
                          sd_spend=cdnow["sd_repeat_spend"])
    use = cdnow["frequency"] > 0
    x = cdnow.loc[use, "frequency"].to_numpy(float)
    m = cdnow.loc[use, "mean_repeat_spend"].to_numpy(float)
    p, q, g = fit.p, fit.q, fit.gamma
    tri = special.polygamma(1, p * x + q)
    h = np.array([
        [np.sum(x**2 * (tri - special.polygamma(1, p * x))), np.sum(x * tri),
         np.sum(-x / (g + m * x))],
        [0.0, np.sum(tri - special.polygamma(1, q)), np.sum(1 / g - 1 / (g + m * x))],
        [0.0, 0.0, np.sum(-q / g**2 + (p * x + q) / (g + m * x) ** 2)],
    ])
    h = np.triu(h) + np.triu(h, 1).T
    expected = np.sqrt(np.diag(np.linalg.inv(-h)))
    np.testing.assert_allclose(list(fit.se.values()), expected, rtol=1e-3)
    # CDNOW's spread of order values within customers (CV 0.50) fits p = 6.25 (0.40)
    assert fit.observed_cv == pytest.approx(0.498, abs=1e-3) and fit.flags == ()


def test_gamma_gamma_denying_the_observed_spread_is_flagged_degenerate():
    """A k-means cluster selected on spend per order: every customer's mean is in a
    narrow band, so the fit explains the means by orders that all cost the same (p
    huge), although each customer's orders vary with a CV of 0.85."""
    rng = np.random.default_rng(7)
    n = 4000
    x = rng.integers(2, 6, n)
    p_true = 1 / 0.85**2
    nu = rng.gamma(3.0, 1 / 60.0, n)
    orders = rng.gamma(p_true, 1.0, (n, 5)) / nu[:, None]
    first = np.arange(5) < x[:, None]
    mean = np.where(first, orders, 0).sum(1) / x
    sd = np.sqrt(np.where(first, (orders - mean[:, None]) ** 2, 0).sum(1) / (x - 1))
    band = (mean > 40) & (mean < 44)
    fit = fit_gamma_gamma(x[band], mean[band], sd_spend=sd[band])
    assert fit.p > 30 and fit.observed_cv == pytest.approx(0.85, rel=0.1)
    assert "spend_cv" in [f.code for f in fit.flags] and fit.degenerate
    # without the spread the fit cannot tell
    assert "spend_cv" not in [f.code for f in fit_gamma_gamma(x[band], mean[band]).flags]


def test_bound_and_singular_flags():
    # nobody buys again: the mean purchase rate stops at its bound, an improper optimum
    # (the likelihood rises as the rate goes to 0), as unusable as one found just short
    # of the bound
    fit = fit_bgnbd([0, 0, 0], [0.0, 0.0, 0.0], [10.0, 20.0, 30.0])
    codes = [f.code for f in fit.flags]
    assert "at_bound" in codes and fit.se["alpha"] == np.inf
    assert "singular_information" in codes and fit.degenerate
    # a concentration at its bound is a legitimate description: the same dropout
    # probability for everyone
    same = fit_bgnbd([1, 2, 1, 3, 0, 2] * 20, [5.0, 8.0, 3.0, 9.0, 0.0, 7.0] * 20,
                     [10.0] * 120)
    assert "a+b" in same.at_bound and not same.degenerate


def test_cdnow_bgnbd_standard_errors_against_a_parametric_bootstrap(cdnow):
    """Refit 40 cohorts simulated from the CDNOW fit with CDNOW's ages: the spread of the
    refits estimates the SE. With 40 refits the bootstrap SD has a relative standard
    error of 1 / sqrt(2 x 39) = 11%; the bound is three of those."""
    fit = fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    rng = np.random.default_rng(11)
    age = cdnow["T"].to_numpy()
    refits = np.array([
        [getattr(f, k) for k in ("r", "alpha", "a", "b")]
        for f in (fit_bgnbd(*simulate_bgnbd(age, fit.r, fit.alpha, fit.a, fit.b, rng))
                  for _ in range(40))
    ])
    ratio = refits.std(axis=0, ddof=1) / np.array(list(fit.se.values()))
    assert np.all(np.abs(ratio - 1) < 3 / np.sqrt(2 * 39)), ratio
