"""The default customer model: BG/NBD + Gamma-Gamma, and its incentive responses."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltylab.agents import (
    BGNBD,
    CDNOW_GAMMA_GAMMA,
    CustomerBehaviour,
    GammaGamma,
    PopulationSpec,
    Segment,
    btyd_population,
    default_population,
    expected_repeat_purchases,
    probability_no_repeat,
)
from loyaltylab.agents.behaviour import _byte_threshold, _common
from loyaltylab.policies import full_strategy, make
from loyaltylab.sim import LoyaltyModel, Offers, Policy
from loyaltylab.sim.variates import poisson_count_given_positive

CDNOW = dict(r=0.243, alpha=4.414, a=0.793, b=2.426)


def test_simulation_reproduces_bgnbd_expected_repeat_purchases():
    """E[X(t)] (FHL 2005 eq. 7) at 13, 39, 78 weeks and P(X(39) = 0), within 4 s.e."""
    n = 200_000
    model = LoyaltyModel(btyd_population(n, **CDNOW), seed=20260101)
    for week in range(1, 79):
        model.step()
        if week in (13, 39, 78):
            x = model.population["purchases"].astype(float)
            expected = float(expected_repeat_purchases(week, **CDNOW))
            assert abs(x.mean() - expected) < 4 * x.std() / np.sqrt(n), week
        if week == 39:
            zero = float(probability_no_repeat(39, CDNOW["r"], CDNOW["alpha"]))
            share = float(np.mean(x == 0))
            assert abs(share - zero) < 4 * np.sqrt(zero * (1 - zero) / n)


def test_heavy_buyers_buy_several_times_a_week():
    model = LoyaltyModel(btyd_population(50_000, r=2.0, alpha=1.0, a=1.0, b=1e9), seed=1)
    model.run(1)
    weekly = model.weekly.iloc[0]
    # Poisson(lambda) with lambda ~ Gamma(2, 1): E[N] = 2 and P(N >= 1) = 1 - (1/2)^2
    assert weekly["purchases"] > 1.5 * weekly["buyers"]
    assert abs(weekly["purchases"] / 50_000 - 2.0) < 4 * np.sqrt(2.0 + 2.0) / np.sqrt(50_000)


def test_order_values_follow_gamma_gamma():
    """Mean order over all transactions is p * gamma / (q - 1) (ratio estimator s.e.)."""
    model = LoyaltyModel(btyd_population(100_000, **CDNOW), seed=3)
    model.run(52)
    g = model.population["net_revenue"]
    k = model.population["purchases"].astype(float)
    ratio = g.sum() / k.sum()
    se = np.sqrt(np.sum((g - ratio * k) ** 2)) / k.sum()
    assert abs(ratio - CDNOW_GAMMA_GAMMA.mean_order) < 4 * se


def test_dropout_truncates_the_week_at_the_fatal_order():
    spec = btyd_population(5_000, r=5.0, alpha=1.0, a=1.0, b=1.0)
    model = LoyaltyModel(spec, seed=4)
    model.population["p_drop"] = 1.0  # everyone drops out right after the next order
    model.run(2)
    buyers = model.population["purchases"] > 0
    # lambda ~ Gamma(5, 1): most would order several times, but the first order is fatal
    assert (model.population["purchases"][buyers] == 1).all()
    assert not model.population["alive"][buyers].any()
    w = model.weekly
    assert w["alive"].tolist() == [5_000 - w["buyers"].iloc[0],
                                   5_000 - w["buyers"].iloc[0] - w["buyers"].iloc[1]]
    assert (w["purchases"] == w["buyers"]).all() and w["buyers"].iloc[0] > 4_000


def _model_with_coupon_holders():
    model = LoyaltyModel(btyd_population(10, **CDNOW), seed=1)
    offers = Offers(model.population.n, np)
    return model, offers


def test_threshold_coupon_top_up_rule_hand_computed():
    model, offers = _model_with_coupon_holders()
    holders = np.array([0, 1, 2, 3])
    offers.add_coupon(holders, min_spend=3000.0, amount_off=500.0, pct_off=0.0, source=None)
    buyers = np.array([0, 1, 2, 3, 5])
    first = np.array([3100.0, 2700.0, 2000.0, 2400.0, 2900.0])
    coupon, order = CustomerBehaviour().choose_coupons(model, buyers, first, offers)
    # above: used, unchanged; 300 short (11% <= 20%): topped up to 3000;
    # 1000 short: ignored; 600 short is 25% > 20%: ignored; row 5 holds no coupon
    assert coupon.tolist() == [0, 0, -1, -1, -1]
    assert order.tolist() == [3100.0, 3000.0, 2000.0, 2400.0, 2900.0]


def test_buyer_takes_the_coupon_worth_most_net_of_top_up():
    model, offers = _model_with_coupon_holders()
    rows = np.array([0, 1])
    offers.add_coupon(rows, min_spend=200.0, amount_off=100.0, pct_off=0.0, source=None)
    offers.add_coupon(rows, min_spend=0.0, amount_off=0.0, pct_off=0.10, source=None)
    first = np.array([190.0, 2000.0])
    coupon, order = CustomerBehaviour().choose_coupons(model, rows, first, offers)
    # 190: win-back coupon gains 100 - 10 = 90 > 19; 2000: 10% off (200) beats 100 off
    assert coupon.tolist() == [0, 1]
    assert order.tolist() == [200.0, 2000.0]


class Demote(Policy):
    """Top status in weeks 1-10, base status afterwards."""

    def make_offers(self, model, offers, week):
        offers.set_status(slice(None), 1.0 if week <= 10 else 0.0)


def test_demoted_customers_end_below_never_promoted_ones():
    spec = default_population(40_000)
    control = LoyaltyModel(spec, seed=11)
    demoted = LoyaltyModel(spec, policies=[Demote()], seed=11)
    control.run(30)
    demoted.run(30)
    after_c = control.weekly["purchases"].iloc[10:].sum()
    after_d = demoted.weekly["purchases"].iloc[10:].sum()
    before_c = control.weekly["purchases"].iloc[:10].sum()
    before_d = demoted.weekly["purchases"].iloc[:10].sum()
    assert before_d > before_c  # status lifts purchases while held (T2)
    assert after_d < after_c  # and the loss outweighs it after the demotion (T4)
    assert demoted.weekly["alive"].iloc[-1] < control.weekly["alive"].iloc[-1]


def test_sensitivity_zero_means_no_response():
    spec = btyd_population(20_000, **CDNOW)
    control = LoyaltyModel(spec, seed=12)
    treated = LoyaltyModel(spec, policies=[Demote()], seed=12)
    control.run(15)
    treated.run(15)
    assert control.weekly["purchases"].sum() == treated.weekly["purchases"].sum()


def test_interactions_and_redemption_wish_match_segment_rates():
    spec = default_population(100_000)
    model = LoyaltyModel(spec, seed=13)
    behaviour = model.behaviours[0]
    counts = behaviour.interactions(model, slice(None), 1)
    seg = model.population["segment"]
    for s, segment in enumerate(spec.segments):
        rate = segment.interactions_per_month * 12 / 52
        mine = counts[seg == s]
        assert abs(mine.mean() - rate) < 4 * np.sqrt(rate / mine.size) + 1e-9
    buyers = np.arange(model.population.n)
    wish = behaviour.redemption_wish(model, buyers, 1)
    for s, segment in enumerate(spec.segments):
        share = wish[seg == s].mean()
        p = segment.redeem_propensity
        assert abs(share - p) < 4 * np.sqrt(p * (1 - p) / np.sum(seg == s))


def test_interactions_of_any_rows_agree_with_all_rows():
    model = LoyaltyModel(default_population(5000), seed=14)
    behaviour = model.behaviours[0]
    everyone = behaviour.interactions(model, slice(None), 3)
    np.testing.assert_array_equal(behaviour.interactions(model, slice(1800, 3700), 3),
                                  everyone[1800:3700])
    rows = np.arange(5, 5000, 7)
    np.testing.assert_array_equal(behaviour.interactions(model, rows, 3), everyone[rows])


@settings(max_examples=60, deadline=None)
@given(a=st.sets(st.integers(0, 60)), b=st.sets(st.integers(0, 60)))
def test_common_rows_of_two_ascending_arrays(a, b):
    holders, rows = np.array(sorted(a), dtype=np.int64), np.array(sorted(b), dtype=np.int64)
    _, in_holders, in_rows = np.intersect1d(holders, rows, return_indices=True)
    at, held = _common(holders, rows, np)
    np.testing.assert_array_equal(at, in_holders)
    np.testing.assert_array_equal(held, in_rows)


def test_coupon_value_share_of_some_rows_is_that_of_all_rows():
    model = LoyaltyModel(default_population(3000), policies=full_strategy(), seed=16)
    model.run(1)
    offers = Offers(model.population.n, np)
    for policy in model.policies:
        policy.make_offers(model, offers, 2)
    assert offers.coupons
    behaviour = model.behaviours[0]
    everyone = behaviour.coupon_value_share(model, offers)
    assert everyone.max() > 0
    rows = np.arange(3, 3000, 5)
    np.testing.assert_array_equal(behaviour.coupon_value_share(model, offers, rows),
                                  everyone[rows])


class DenseInteractions(CustomerBehaviour):
    """Overrides :meth:`interactions` (with the same counts), so the engine reads dense
    counts instead of the sparse draws."""

    def interactions(self, model, rows, week):
        return super().interactions(model, rows, week)


def test_sparse_interactions_give_the_same_run_as_dense_counts():
    spec = default_population(4000)
    dense_spec = spec.with_behaviour(DenseInteractions())
    plain = LoyaltyModel(spec, policies=full_strategy(), seed=15)
    dense = LoyaltyModel(dense_spec, policies=full_strategy(), seed=15)
    plain.run(8)
    dense.run(8)
    pd.testing.assert_frame_equal(plain.weekly, dense.weekly)


class HolidayRush(CustomerBehaviour):
    """Worked example of extending the agent model: purchase rates double in December.

    Overriding one vectorised hook is enough; everything else (dropout, spend, coupons,
    common random numbers) is inherited.
    """

    def purchase_rate(self, model, rows, offers, week):
        rate = super().purchase_rate(model, rows, offers, week)
        return rate * 2.0 if week % 52 >= 48 else rate


def test_worked_example_subclass_changes_only_what_it_overrides():
    base = default_population(30_000)
    rush = base.with_behaviour(HolidayRush())
    plain, festive = LoyaltyModel(base, seed=14), LoyaltyModel(rush, seed=14)
    plain.run(52)
    festive.run(52)
    p, f = plain.weekly["purchases"], festive.weekly["purchases"]
    assert (p.iloc[:47] == f.iloc[:47]).all()  # same luck until the rush starts
    assert f.iloc[47:].sum() > 1.6 * p.iloc[47:].sum()


class CouponOnly(CustomerBehaviour):
    """Deal seekers: they buy only in weeks they hold a coupon."""

    def purchase_rate(self, model, rows, offers, week):
        rate = super().purchase_rate(model, rows, offers, week)
        holds = np.zeros(model.population.n, dtype=bool)
        for c in offers.coupons:
            holds[c.rows] = True
        return rate * holds[rows]


def test_segment_with_its_own_behaviour():
    base = default_population(20_000)
    deal = Segment(name="deal_seekers", bgnbd=BGNBD(r=2.0, alpha=20.0, a=1.0, b=9.0),
                   gamma_gamma=GammaGamma(p=5.0, q=10.0, gamma=500.0), behaviour=CouponOnly())
    mixed = PopulationSpec(size=22_000, segments=[*base.segments, deal],
                           shares=[0.09, 0.18, 0.36, 0.27, 0.10])
    model = LoyaltyModel(mixed, seed=15)
    assert len(model.behaviours) == 2
    model.run(10)
    deal_rows = model.population["segment"] == 4
    assert model.population["purchases"][deal_rows].sum() == 0
    assert model.population["purchases"][~deal_rows].sum() > 0


def test_response_coefficients_are_documented_and_validated():
    from loyaltylab.agents import ResponseCoefficients

    table = ResponseCoefficients.describe()
    assert table["source"].str.len().min() > 10
    assert ((table["low"] <= table["default"]) & (table["default"] <= table["high"])).all()
    with pytest.raises(ValueError, match="goal_gradient"):
        ResponseCoefficients(goal_gradient=-0.1)
    with pytest.raises(ValueError, match="post_reward_reset"):
        ResponseCoefficients(post_reward_reset=1.0)


class DensePath(CustomerBehaviour):
    """Overrides purchase_rate without changing it: the engine then computes every
    customer's rate instead of thinning by an upper bound."""

    def purchase_rate(self, model, rows, offers, week):
        return super().purchase_rate(model, rows, offers, week)


def test_thinning_makes_the_same_decisions_as_computing_every_rate():
    base = default_population(20_000)
    dense = base.with_behaviour(DensePath())
    thinned = LoyaltyModel(base, policies=full_strategy(), seed=31)
    everyone = LoyaltyModel(dense, policies=full_strategy(), seed=31)
    assert thinned.behaviours[0]._log_lift_bound(thinned, Offers(1, np), 1) == 0.0
    assert everyone.behaviours[0]._log_lift_bound(everyone, Offers(1, np), 1) is None
    thinned.run(30)
    everyone.run(30)
    pd.testing.assert_frame_equal(thinned.weekly, everyone.weekly)
    np.testing.assert_array_equal(thinned.population["purchases"],
                                  everyone.population["purchases"])


def test_leading_byte_never_rules_out_a_purchase_the_full_uniform_allows():
    rate = np.concatenate([np.logspace(-9, 1.5, 20_000), [0.0, 1e-30]]).astype(np.float32)
    p_none = np.exp(-rate.astype(np.float64))
    rng = np.random.default_rng(4)
    # uniforms just above each purchase boundary (the hardest case), and random ones
    u = np.concatenate([np.nextafter(p_none, 1.0), rng.random(rate.size)])
    rate = np.concatenate([rate, rate])
    p_none = np.concatenate([p_none, p_none])
    lead = np.floor(u * 256).astype(np.uint8)
    buy = u > p_none
    candidate = lead >= _byte_threshold(rate.copy(), np)
    assert buy[: u.size // 2].mean() > 0.99  # the boundary cases do test something
    assert not (buy & ~candidate).any()
    # a byte leaves a customer undecided with probability at most 1/256 beyond the
    # purchase probability; 4 binomial sd of slack on the random half
    extra = (candidate & ~buy)[u.size // 2 :].mean()
    assert extra < 1 / 256 + 4 * np.sqrt(1 / 256 / (u.size // 2))


def test_interaction_counts_are_those_of_the_complete_uniforms():
    model = LoyaltyModel(default_population(30_000), seed=6)
    model.run(3)
    behaviour = model.behaviours[0]
    some, counts = behaviour._interaction_draws(model, slice(None), 4)
    pop = model.population
    u = model.streams.dense_uniform("interaction", 4, pop.n)
    eta = model.segment_params["interactions_per_week"][pop["segment"]]
    p1 = -np.expm1(-eta)
    expected = np.nonzero((u < p1) & pop["alive"])[0]
    np.testing.assert_array_equal(some, expected)
    np.testing.assert_array_equal(
        counts, poisson_count_given_positive(eta[expected], u[expected] / p1[expected], np)
    )
    assert 0 < some.size < pop.n


def test_purchase_thresholds_grow_with_the_population():
    policies = [make("points"), make("referral", referral_probability=0.3)]
    model = LoyaltyModel(default_population(5000), policies=policies, seed=3)
    model.run(6)
    behaviour = model.behaviours[0]
    n, kept = model.population.meta[f"purchase_bytes_{id(behaviour)}"]
    assert 5000 < n <= model.population.n and kept  # as of the last week's decisions
    for step, thresholds in kept.items():  # extended at each join: as if computed afresh
        np.testing.assert_array_equal(
            thresholds, behaviour._thresholds_at(model, slice(0, n), step))
