"""Learning the coupon response from a campaign log: a log simulated with known
coefficients, exported and calibrated like real data, gives them back within their
standard errors."""

import numpy as np
import pandas as pd
import pytest

from loyaltylab.agents import (
    BGNBD,
    CDNOW_GAMMA_GAMMA,
    PopulationSpec,
    Segment,
    calibrate,
    summarise,
)
from loyaltylab.experiments.campaign_fit import PARAMETERS, fit_campaign_response
from loyaltylab.experiments.campaign_moments import MOMENT_NAMES, campaign_data, moments
from loyaltylab.experiments.inputs import apply_inputs
from loyaltylab.policies.replay import ReplayedCoupons
from loyaltylab.sim import simulate_logs

TRUTH = {"coupon_use.attention": 0.2, "topup_share": 0.2, "coupon_trips.trip_rate": 0.2}
HALF = [0.5] * 4  # a random half of every history class


def _world(size):
    segment = Segment(name="cohort", bgnbd=BGNBD(r=0.5, alpha=6.0, a=0.8, b=4.0),
                      gamma_gamma=CDNOW_GAMMA_GAMMA)
    spec = PopulationSpec(size=size, segments=[segment], shares=[1.0])
    return apply_inputs(spec, {"response.coupon_use.attention": TRUTH["coupon_use.attention"],
                               "response.coupon_trips.trip_rate":
                                   TRUTH["coupon_trips.trip_rate"],
                               "segments.cohort.topup_share": TRUTH["topup_share"]})


def _logs(size, seed):
    """Two campaigns in week 13, each to a random half: $20 off $50 (a threshold near the
    usual order of $35) and $10 off anything, valid six weeks."""
    campaigns = [ReplayedCoupons(amount_off=20, min_spend=50, validity_weeks=6,
                                 schedule={13: HALF}),
                 ReplayedCoupons(amount_off=10, min_spend=0, validity_weeks=6,
                                 schedule={13: HALF})]
    transactions, log, _ = simulate_logs(_world(size), campaigns, weeks=19, seed=seed)
    before = log["start"].min() - pd.Timedelta(days=1)
    population = calibrate(summarise(transactions, before)).population
    return transactions, log, population


def test_moments_see_the_campaign():
    transactions, log, _ = _logs(3000, seed=1)
    data = campaign_data(transactions, log)
    assert data.left_out == 0
    assert len(data.groups) == 2
    # each class of each campaign got its half, within three binomial standard errors
    for shares, eligible in zip(data.groups["shares"], data.groups["eligible"], strict=True):
        for share, n in zip(shares, eligible, strict=True):
            assert abs(share - 0.5) <= 3 * np.sqrt(0.25 / n), (share, n)
    m = dict(zip(MOMENT_NAMES, moments(data), strict=True))
    assert m["redeem_reach"] > m["redeem_far"] > 0
    assert 0 < m["topped_share"] < 1
    # moments are ratios: doubling every customer's weight changes nothing
    assert np.allclose(moments(data, np.full(data.customers, 2.0)), moments(data),
                       equal_nan=True)


def _check_recovery(size, seed, simulations):
    transactions, log, population = _logs(size, seed)
    fit = fit_campaign_response(transactions, log, population, seed=7,
                                simulations=simulations)
    for name in PARAMETERS:
        estimate, se = fit.estimates[name], fit.standard_errors[name]
        assert np.isfinite(se) and se > 0, name
        assert abs(estimate - TRUTH[name]) < 3 * se, (name, estimate, se)
    assert fit.j_dof == 2 and fit.j_pvalue > 0.001
    return fit


def test_coefficients_are_recovered_within_their_standard_errors():
    fit = _check_recovery(10_000, seed=5, simulations=2)
    assert fit.standard_errors["coupon_use.attention"] < 0.1
    assert fit.standard_errors["topup_share"] < 0.15
    population = _world(10)
    behaviour = fit.behaviour(population)
    assert behaviour.coupons.coefficients.attention == fit.estimates["coupon_use.attention"]
    assert (behaviour.term("coupon_trips").coefficients.trip_rate
            == fit.estimates["coupon_trips.trip_rate"])
    assert fit.apply(population).segments[0].topup_share == fit.estimates["topup_share"]
    assert set(fit.response_values()) == {"coupon_use.attention", "coupon_trips.trip_rate"}


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 12, 13])
def test_recovery_on_larger_logs(seed):
    fit = _check_recovery(40_000, seed=seed, simulations=3)
    assert fit.standard_errors["coupon_use.attention"] < 0.05
