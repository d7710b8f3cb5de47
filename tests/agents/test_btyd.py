import numpy as np
import pytest
from scipy import integrate, special, stats

from loyaltylab.agents import expected_repeat_purchases, probability_no_repeat

CDNOW = dict(r=0.243, alpha=4.414, a=0.793, b=2.426)


def test_expected_purchases_by_direct_integration_over_the_mixture():
    """Oracle: integrate E[X(t) | lambda, p] over Gamma(r, alpha) x Beta(a, b).

    For given lambda and p the number of repeat purchases is a Poisson count truncated
    at a Geometric(p) number of trials, E[min(N, G)] = (1 - E[(1-p)^N]) / p with
    N ~ Poisson(lambda t): E[X | lambda, p] = (1 - exp(-lambda p t)) / p; the Gamma
    moment generating function takes the expectation over lambda.
    """
    r, alpha, a, b = CDNOW.values()
    t = 39.0

    def given_p(p):
        return (1 - (alpha / (alpha + p * t)) ** r) / p * stats.beta(a, b).pdf(p)

    direct = integrate.quad(given_p, 0, 1, limit=200)[0]
    assert float(expected_repeat_purchases(t, **CDNOW)) == pytest.approx(direct, rel=1e-5)


def test_closed_forms_limits():
    assert float(expected_repeat_purchases(0.0, **CDNOW)) == pytest.approx(0.0, abs=1e-12)
    values = expected_repeat_purchases(np.array([1, 10, 100, 1000]), **CDNOW)
    assert np.all(np.diff(values) > 0)
    assert float(probability_no_repeat(0.0, 0.243, 4.414)) == 1.0
    # with a > 1 a customer makes E[1/p] = (a + b - 1) / (a - 1) repeat purchases in all
    big = float(expected_repeat_purchases(1e9, r=1.0, alpha=1.0, a=3.0, b=4.0))
    assert big == pytest.approx(special.beta(2, 4) / special.beta(3, 4) , rel=1e-3)
