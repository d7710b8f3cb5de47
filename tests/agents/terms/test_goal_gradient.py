"""The goal gradient: hand-computed pull, progress, resetting and post-reward dropout."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltylab.agents import CustomerBehaviour, RedemptionCoefficients
from loyaltylab.agents.terms import GoalGradient, GoalGradientCoefficients
from loyaltylab.sim import PointsOffer

G = GoalGradientCoefficients()
ROWS = np.arange(4)


def offer(balance, block=100, value=1.0):
    return PointsOffer(np.asarray(balance, dtype=np.int32), block, value)


def term_of(model):
    return model.behaviours[0].term("goal_gradient")


def test_progress_and_pull_for_a_reward_worth_one_usual_order(tiny):
    model, offers = tiny()
    offers.points = offer([0, 50, 100, 150])  # a block is worth 100 = one usual order
    term = term_of(model)
    # spenders: the goal is one block; at or past it the reward is in hand (progress 1)
    np.testing.assert_allclose(term.progress(model, ROWS, offers), [0, 0.5, 1, 1])
    np.testing.assert_allclose(term.pull(model, ROWS, offers), G.strength, rtol=1e-6)
    np.testing.assert_allclose(term.log_lift(model, ROWS, offers, 1),
                               np.log1p(G.strength * np.array([0, 0.5, 1, 1])), rtol=1e-6)


@pytest.mark.parametrize("value, w", [(0.5, 1.5 * 0.5 / 1.0), (0.05, 1.5 * 0.05 / 0.55),
                                      (1e-9, 0.0)])
def test_the_pull_grows_with_the_rewards_worth_and_vanishes_with_it(tiny, value, w):
    model, offers = tiny()
    offers.points = offer([50] * 4, value=value)  # reward worth 100 * value / 100 orders
    np.testing.assert_allclose(term_of(model).pull(model, ROWS, offers), G.strength * w,
                               rtol=1e-5, atol=1e-7)


def test_the_drive_fades_over_intervals_after_a_reward(tiny):
    model, offers = tiny(lam=0.5)
    offers.points = offer([0, 0, 0, 0])
    pop = model.population
    pop.ensure_column("last_reward_week", np.int16, -1)
    pop["last_reward_week"] = np.array([-1, 10, 8, 4], dtype=np.int16)
    lift = term_of(model).log_lift(model, ROWS, offers, 12)
    # weeks since the reward times 0.5 orders a week = intervals: -, 1, 2, 4
    kept = G.carry * np.exp(-np.array([0, 1, 2, 4]) / G.carry_intervals) * [0, 1, 1, 1]
    np.testing.assert_allclose(lift, np.log1p(G.strength * kept), rtol=1e-5)


def test_dropout_rises_at_the_first_order_after_a_reward_only(tiny):
    model, offers = tiny()
    offers.points = offer([0, 0, 0, 0])
    pop = model.population
    pop.ensure_column("last_reward_week", np.int16, -1)
    pop["last_reward_week"] = np.array([-1, 5, 5, 3], dtype=np.int16)
    pop["last_purchase"] = np.array([0, 5, 7, 3], dtype=np.int16)
    d = term_of(model).log_dropout(model, ROWS, offers, 9)
    np.testing.assert_allclose(d, [0, np.log1p(G.post_reward_dropout), 0,
                                   np.log1p(G.post_reward_dropout)])


def test_the_dropout_after_a_reward_needs_no_goal_gradient(tiny):
    # (once 0 / 0: the weight of the reward was recovered from the pull over g)
    flat = CustomerBehaviour(terms=[GoalGradient(strength=0.0)],
                             redemption=RedemptionCoefficients(stockpiler_share=0.0))
    model, offers = tiny(behaviour=flat)
    offers.points = offer([0, 0, 0, 0])
    pop = model.population
    pop.ensure_column("last_reward_week", np.int16, -1)
    pop["last_reward_week"] = np.array([-1, 5, 5, 3], dtype=np.int16)
    pop["last_purchase"] = np.array([0, 5, 7, 3], dtype=np.int16)
    d = model.behaviours[0].term("goal_gradient").log_dropout(model, ROWS, offers, 9)
    np.testing.assert_allclose(d, [0, np.log1p(G.post_reward_dropout), 0,
                                   np.log1p(G.post_reward_dropout)], rtol=1e-6)


def test_no_points_program_no_lift(tiny):
    model, offers = tiny()
    term = term_of(model)
    assert term.log_lift(model, ROWS, offers, 1) is None
    assert term.upper_bound(model, offers, 1) == 0.0
    assert term.log_dropout(model, ROWS, offers, 1) is None


@settings(max_examples=30, deadline=None)
@given(balance=st.lists(st.integers(0, 3000), min_size=4, max_size=4),
       block=st.integers(1, 1000), value=st.floats(1e-4, 10.0),
       last=st.lists(st.integers(-1, 20), min_size=4, max_size=4))
def test_the_lift_never_exceeds_the_per_customer_bound(tiny, balance, block, value, last):
    model, offers = tiny()
    offers.points = offer(balance, block, value)
    pop = model.population
    pop.ensure_column("last_reward_week", np.int16, -1)
    pop["last_reward_week"] = np.array(last, dtype=np.int16)
    term = term_of(model)
    bound = term.upper_bound(model, offers, 21)
    lift = term.log_lift(model, ROWS, offers, 21)
    assert (lift <= bound.values[ROWS] + 1e-6).all()
    assert bound.key == (block, value)


def test_coefficients_are_checked_and_changed_by_name():
    with pytest.raises(ValueError, match="carry"):
        GoalGradient(carry=2.0)
    term = GoalGradient(strength=0.5)
    assert term.coefficients.strength == 0.5
    assert term.coefficients.carry == G.carry
    assert "strength=0.5" in repr(term)
    with pytest.raises(TypeError, match="GoalGradientCoefficients"):
        GoalGradient(coefficients=object())
