"""Coupon trips: one prompted occasion per noticed coupon, exponential waiting time."""

import numpy as np
import pandas as pd

from loyaltylab.agents import (
    BGNBD,
    CouponUseCoefficients,
    CustomerBehaviour,
    GammaGamma,
    PopulationSpec,
    Segment,
)
from loyaltylab.agents.terms import CouponTripsCoefficients
from loyaltylab.policies import CouponPolicy
from loyaltylab.sim import LoyaltyModel

N = 40_000
USUAL = 100.0


def rare_buyers(attention):
    """Deal-prone customers who almost never buy on their own (one order in 10^6 weeks),
    nobody drops out, usual order 100."""
    segment = Segment(name="rare", bgnbd=BGNBD(r=50.0, alpha=50e6, a=1e-3, b=1e3),
                      gamma_gamma=GammaGamma(p=50.0, q=1e4, gamma=USUAL * (1e4 - 1) / 50.0),
                      deal_prone_share=1.0)
    behaviour = CustomerBehaviour(coupons=CouponUseCoefficients(attention=attention))
    return PopulationSpec(size=N, segments=[segment], shares=[1.0], behaviour=behaviour)


def test_waiting_times_are_exponential_with_the_coupons_worth():
    coupon = CouponPolicy(amount_off=50.0, min_spend=0.0, validity_weeks=12,
                          per_customer_limit=1)
    model = LoyaltyModel(rare_buyers(attention=1.0), policies=[coupon], seed=3)
    model.run(12)
    bought = model.weekly["buyers"].to_numpy()
    # worth 50 / 100 = 0.5 of a usual order: a prompted occasion at rate 0.5 * kappa,
    # in week w when the waiting time's floor is w - 1
    rate = 0.5 * CouponTripsCoefficients().trip_rate
    expected = N * (np.exp(-rate * np.arange(12)) - np.exp(-rate * np.arange(1, 13)))
    z = (bought - expected) / np.sqrt(expected)
    assert (np.abs(z) < 4).all(), z
    # every prompted occasion uses the coupon (no threshold), which ends the coupon
    assert model.weekly["coupons_redeemed"].sum() == bought.sum()
    assert model.population["purchases"].max() == 1


def test_unnoticed_coupons_prompt_nothing_and_change_nothing():
    coupon = CouponPolicy(amount_off=50.0, min_spend=0.0, validity_weeks=12)
    control = LoyaltyModel(rare_buyers(attention=0.0), seed=4)
    treated = LoyaltyModel(rare_buyers(attention=0.0), policies=[coupon], seed=4)
    control.run(8)
    treated.run(8)
    cols = ["buyers", "purchases", "gross_revenue", "alive"]
    pd.testing.assert_frame_equal(control.weekly[cols], treated.weekly[cols])


def test_a_coupon_out_of_reach_prompts_nothing():
    # spend 300 to get 50 off, with usual orders of 100: a 200% shortfall, never topped up
    coupon = CouponPolicy(amount_off=50.0, min_spend=300.0, validity_weeks=12)
    model = LoyaltyModel(rare_buyers(attention=1.0), policies=[coupon], seed=5)
    model.run(8)
    assert model.weekly["buyers"].sum() <= 2  # own purchases only: about 0.3 expected
