"""The default customer model: BG/NBD + Gamma-Gamma, and its incentive responses."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltylab.agents import (
    BGNBD,
    CDNOW_GAMMA_GAMMA,
    CouponUseCoefficients,
    CustomerBehaviour,
    GammaGamma,
    PopulationSpec,
    Segment,
    btyd_population,
    default_population,
    expected_repeat_purchases,
    probability_no_repeat,
)
from loyaltylab.agents.behaviour import _byte_threshold, _insert, _slots
from loyaltylab.agents.terms import Launch, ResponseTerm
from loyaltylab.policies import full_strategy, make
from loyaltylab.sim import LoyaltyModel, Offers, PointsOffer, Policy
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


def _model_with_coupon_holders(n=10):
    """A model whose customers notice every coupon (attention 1)."""
    spec = btyd_population(n, **CDNOW).with_behaviour(
        CustomerBehaviour(coupons=CouponUseCoefficients(attention=1.0)))
    model = LoyaltyModel(spec, seed=1)
    return model, Offers(model.population.n, np)


def test_threshold_coupon_top_up_rule_hand_computed():
    model, offers = _model_with_coupon_holders()
    holders = np.array([0, 1, 2, 3])
    offers.add_coupon(holders, min_spend=3000.0, amount_off=500.0, pct_off=0.0, source=None)
    buyers = np.array([0, 1, 2, 3, 5])
    first = np.array([3100.0, 2990.0, 2000.0, 2400.0, 2900.0])
    luck = model.streams.uniform("coupon_topup", 1, buyers)
    coupon, order = model.behaviours[0].choose_coupons(model, buyers, first, offers, 1)
    # above: used, unchanged; 10 short (0.33%): topped up with chance 1 - 0.0033 / 0.2;
    # 1000 short (50%) and 600 short (25%) exceed the 20% tolerance: never;
    # row 5 holds no coupon
    tops_up = luck[1] < 1 - (10 / 2990) / 0.2
    assert coupon.tolist() == [0, 0 if tops_up else -1, -1, -1, -1]
    assert order.tolist() == [3100.0, 3000.0 if tops_up else 2990.0, 2000.0, 2400.0, 2900.0]


def test_top_up_chance_falls_linearly_with_the_shortfall():
    model, offers = _model_with_coupon_holders(40_000)
    rows = np.arange(40_000)
    # 300 off is worth more than any top-up below the 20% tolerance
    offers.add_coupon(rows, min_spend=1000.0, amount_off=300.0, pct_off=0.0, source=None)
    for short, chance in ((0.05, 0.75), (0.1, 0.5), (0.15, 0.25), (0.25, 0.0)):
        first = np.full(rows.size, 1000.0 / (1 + short))
        coupon, order = model.behaviours[0].choose_coupons(model, rows, first, offers, 3)
        used = (coupon == 0).mean()
        assert abs(used - chance) < 4 * np.sqrt(chance * (1 - chance) / rows.size) + 1e-12
        np.testing.assert_allclose(order[coupon == 0], 1000.0)


def test_buyer_takes_the_coupon_worth_most_net_of_top_up():
    model, offers = _model_with_coupon_holders()
    rows = np.array([0, 1])
    offers.add_coupon(rows, min_spend=200.0, amount_off=100.0, pct_off=0.0, source=None)
    offers.add_coupon(rows, min_spend=0.0, amount_off=0.0, pct_off=0.10, source=None)
    first = np.array([200.0, 2000.0])
    coupon, order = model.behaviours[0].choose_coupons(model, rows, first, offers, 1)
    # 200: 100 off beats 20 off; 2000: 10% off (200) beats 100 off
    assert coupon.tolist() == [0, 1]
    assert order.tolist() == [200.0, 2000.0]


def test_unnoticed_coupons_are_not_used():
    spec = btyd_population(20_000, **CDNOW)  # default attention
    model = LoyaltyModel(spec, seed=2)
    offers = Offers(model.population.n, np)
    rows = np.arange(model.population.n)
    offers.add_coupon(rows, min_spend=0.0, amount_off=5.0, pct_off=0.0, source=None)
    coupon, _ = model.behaviours[0].choose_coupons(model, rows, np.full(rows.size, 40.0),
                                                   offers, 1)
    a = CouponUseCoefficients().attention
    assert abs((coupon == 0).mean() - a) < 4 * np.sqrt(a * (1 - a) / rows.size)


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
    n = model.population.n
    # every goal reached (a balance of 10 million points): the wish is the propensity
    rich = Offers(n, np)
    rich.points = PointsOffer(np.full(n, 10**7, dtype=np.int32), 100, 0.1)
    wish = behaviour.redemption_wish(model, buyers, rich, 1)
    for s, segment in enumerate(spec.segments):
        share = wish[seg == s].mean()
        p = segment.redeem_propensity
        assert abs(share - p) < 4 * np.sqrt(p * (1 - p) / np.sum(seg == s))
    # no goal reached below a block; no points program, no wish
    poor = Offers(n, np)
    poor.points = PointsOffer(np.full(n, 99, dtype=np.int32), 100, 0.1)
    assert not behaviour.redemption_wish(model, buyers, poor, 1).any()
    assert not behaviour.redemption_wish(model, buyers, Offers(n, np), 1).any()


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
def test_inserting_rows_keeps_them_ascending_and_values_aligned(a, b):
    rows = np.array(sorted(a), dtype=np.int64)
    new = np.array(sorted(set(b) - set(a)), dtype=np.int64)
    slots = _slots(rows, new, np)
    merged = _insert(rows, new, slots, np)
    np.testing.assert_array_equal(merged, np.union1d(rows, new))
    values = _insert(rows * 10, new * 10, slots, np)
    np.testing.assert_array_equal(values, merged * 10)


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
    from loyaltylab.agents.terms import GoalGradient, GoalGradientCoefficients

    table = CustomerBehaviour().describe()
    assert set(table["term"]) == {"goal_gradient", "launch", "status", "coupon_trips",
                                  "reminder", "referral_premium", "redemption", "coupon_use"}
    assert table["source"].str.len().min() > 10
    assert ((table["low"] <= table["default"]) & (table["default"] <= table["high"])).all()
    assert table["name"].is_unique  # one name per coefficient across the terms
    with pytest.raises(ValueError, match="strength"):
        GoalGradient(strength=-0.1)
    with pytest.raises(ValueError, match="carry"):
        GoalGradientCoefficients(carry=1.5)
    with pytest.raises(TypeError, match="terms\\[1\\]"):
        CustomerBehaviour(terms=[GoalGradient(), "status"])
    with pytest.raises(ValueError, match="unique"):
        CustomerBehaviour(terms=[GoalGradient(), GoalGradient()])


class DensePath(CustomerBehaviour):
    """Overrides purchase_rate without changing it: the engine then computes every
    customer's rate instead of thinning by an upper bound."""

    def purchase_rate(self, model, rows, offers, week):
        return super().purchase_rate(model, rows, offers, week)


class SmallOrders(CustomerBehaviour):
    """Overrides usual_order (a public hook the terms read): customers think their
    orders a tenth as large, so every reward and coupon looks ten times bigger."""

    def usual_order(self, model, rows):
        return super().usual_order(model, rows) / 10


@pytest.mark.parametrize("behaviour", [CustomerBehaviour(), SmallOrders()],
                         ids=["default", "usual_order overridden"])
def test_thinning_makes_the_same_decisions_as_computing_every_rate(behaviour):
    class Dense(type(behaviour)):
        def purchase_rate(self, model, rows, offers, week):
            return super().purchase_rate(model, rows, offers, week)

    base = default_population(20_000).with_behaviour(behaviour)
    dense = base.with_behaviour(Dense())
    design = [*full_strategy(), make("referral", referral_probability=0.05)]
    thinned = LoyaltyModel(base, policies=design, seed=31)
    everyone = LoyaltyModel(dense, policies=design, seed=31)
    plan = thinned.behaviours[0]._thinning_plan(thinned, Offers(1, np), 1)
    assert (plan.sensitive, plan.other) == (0.0, 0.0)
    assert everyone.behaviours[0]._thinning_plan(everyone, Offers(1, np), 1) is None
    thinned.run(30)
    everyone.run(30)
    pd.testing.assert_frame_equal(thinned.weekly, everyone.weekly)
    np.testing.assert_array_equal(thinned.population["purchases"],
                                  everyone.population["purchases"])
    w = thinned.weekly
    assert w["referrals"].sum() > 0
    assert w[[c for c in w if c.startswith("coupons") and c.endswith("_redeemed")]].sum().sum()


class Overreaching(ResponseTerm):
    """A term whose lift breaks the bound it declares."""

    name = "overreaching"

    def upper_bound(self, model, offers, week):
        return 0.1

    def log_lift(self, model, rows, offers, week):
        return np.full(len(range(model.population.n)[rows]) if isinstance(rows, slice)
                       else rows.shape[0], 0.5, dtype=np.float32)


def test_a_term_that_breaks_its_bound_is_named():
    spec = default_population(2000).with_behaviour(CustomerBehaviour(terms=[Overreaching()]))
    model = LoyaltyModel(spec, seed=3)
    with pytest.raises(RuntimeError, match=r"'overreaching' gave a log-lift 0\.4"):
        model.run(1)


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
    n, kept = behaviour._thresholds_n, behaviour._thresholds
    assert 5000 < n <= model.population.n and kept  # as of the last week's decisions
    offers = Offers(n, np)
    for policy in model.policies:
        policy.make_offers(model, offers, 7)
    plan = behaviour._thinning_plan(model, offers, 7)
    for key, thresholds in kept.items():  # extended at each join: as if computed afresh
        if key[2:] == (tuple(b.key for b in plan.row_sensitive), ()):
            np.testing.assert_array_equal(
                thresholds, behaviour._thresholds_at(model, slice(0, n), key, plan))


def test_each_model_works_on_its_own_copy_of_the_behaviour():
    behaviour = CustomerBehaviour()
    spec = default_population(3000).with_behaviour(behaviour)
    one = LoyaltyModel(spec, policies=[make("points")], seed=1)
    two = LoyaltyModel(spec, policies=[make("points", value_per_point=0.01)], seed=1)
    one.run(4)
    two.run(4)
    assert one.behaviours[0] is not two.behaviours[0] is not behaviour
    assert not hasattr(behaviour.term("goal_gradient"), "_bounds")  # never set up itself
    a = one.behaviours[0].term("goal_gradient")._bounds._key
    b = two.behaviours[0].term("goal_gradient")._bounds._key
    assert a == (100, 0.1) and b == (100, 0.01)


def test_the_most_extreme_response_within_the_bounds_stays_finite():
    # (once: a float32 rate overflowed, then inf * 0 in the order counts; the lifts of
    # a sensitive segment, a rebate of ten and an elasticity at its bound add up to
    # e^260, now capped at e^10)
    spec = default_population(300)
    spec = spec.replace(segments=[s.model_copy(update={"incentive_sensitivity": 10.0})
                                  for s in spec.segments])
    behaviour = CustomerBehaviour(terms=[Launch(rebate_elasticity=26.0, novelty_lift=1.5)])
    points = make("points", value_per_point=5.0, campaigns=[])
    model = LoyaltyModel(spec.replace(behaviour=behaviour), policies=[points], seed=2)
    model.run(3)
    weekly = model.weekly
    assert np.isfinite(weekly[["purchases", "net_revenue", "program_cost"]].to_numpy()).all()
    assert (weekly["purchases"] > 0).all()
