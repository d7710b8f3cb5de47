"""Coupon use: attention, kept until the coupon goes, and a coupon's worth to a holder."""

import numpy as np

from loyaltylab.agents import CouponUseCoefficients, CustomerBehaviour, default_population
from loyaltylab.policies import CouponPolicy
from loyaltylab.sim import LoyaltyModel, Offers


def test_a_share_of_new_coupons_is_noticed_and_stays_noticed_while_held():
    policy = CouponPolicy(min_spend=0.0, amount_off=10.0, validity_weeks=3,
                          per_customer_limit=None)
    model = LoyaltyModel(default_population(50_000), policies=[policy], seed=6)
    use = model.behaviours[0].coupons
    seen = {}
    for week in range(1, 5):
        offers = Offers(model.population.n, np)
        model.policies[0].make_offers(model, offers, week)
        use.refresh(model, offers, week)
        seen[week] = use.noticed(offers.coupons[0]).copy()
        model.policies[0].end_of_week(model, week)  # nobody buys: coupons only expire
    a = CouponUseCoefficients().attention
    assert abs(seen[1].size / 50_000 - a) < 4 * np.sqrt(a * (1 - a) / 50_000)
    np.testing.assert_array_equal(seen[2], seen[1])  # still held: still noticed
    np.testing.assert_array_equal(seen[3], seen[1])
    # week 4: the first coupons expired and new ones came, noticed afresh: of those who
    # noticed the first, a share `a` notice the new one (binomial, 4 sd)
    again = np.intersect1d(seen[4], seen[1]).size / seen[1].size
    assert abs(again - a) < 4 * np.sqrt(a * (1 - a) / seen[1].size)


def test_a_coupons_worth_is_the_discount_times_the_chance_to_top_up():
    model = LoyaltyModel(default_population(10), seed=1)
    use = CustomerBehaviour().coupons
    offers = Offers(10, np)
    rows = np.arange(4)
    offers.add_coupon(rows, min_spend=300.0, amount_off=50.0, pct_off=0.1, source=None)
    usual = np.array([400.0, 300.0, 270.0, 200.0])
    tolerance = model.segment_params["topup_share"][model.population["segment"][rows]]
    worth = use.value_share(model, offers.coupons[0], rows, np.arange(4), usual)
    order = np.maximum(usual, 300.0)
    chance = np.clip(1 - (order - usual) / usual / tolerance, 0, 1)
    np.testing.assert_allclose(worth, (50 + 0.1 * order) / usual * chance)
    assert worth[0] > 0 and worth[3] == 0  # 50% short: beyond any tolerance
