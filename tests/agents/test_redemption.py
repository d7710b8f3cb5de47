"""Redemption goals: spenders and stockpilers, hand-computed goals, the checkout wish."""

import math

import numpy as np
import pytest

from loyaltylab.agents import (
    CustomerBehaviour,
    Redemption,
    RedemptionCoefficients,
    default_population,
)
from loyaltylab.sim import LoyaltyModel, PointsOffer

R = RedemptionCoefficients()


@pytest.fixture(scope="module")
def model():
    return LoyaltyModel(default_population(100_000), seed=3)


def test_a_share_of_members_save_for_rewards_worth_exponential_usual_orders(model):
    theta = model.behaviours[0].redemption.saving_target(model, np.arange(100_000))
    saving = theta > 0
    share = R.stockpiler_share
    assert abs(saving.mean() - share) < 4 * math.sqrt(share * (1 - share) / theta.size)
    mean = theta[saving].mean()  # exponential: sd = mean
    assert abs(mean - R.stockpile_orders) < 4 * R.stockpile_orders / math.sqrt(saving.sum())
    # and it is the same customer's every time, whatever the week
    again = model.behaviours[0].redemption.saving_target(model, np.arange(10))
    np.testing.assert_array_equal(again, theta[:10])


def test_goals_are_whole_blocks_of_the_saved_for_reward(model):
    behaviour = model.behaviours[0]
    rows = np.arange(2000)
    points = PointsOffer(np.zeros(model.population.n, dtype=np.int32), 100, 0.1)
    goal = behaviour.redemption.goal(model, rows, points)
    theta = behaviour.redemption.saving_target(model, rows)
    usual = behaviour.usual_order(model, rows)
    blocks = np.maximum(np.ceil(theta * usual / 10.0), 1)  # a block is worth 10
    np.testing.assert_array_equal(goal, 100 * blocks)
    assert (goal[theta == 0] == 100).all()  # spenders: the next block


def test_the_wish_needs_the_goal_and_a_thought_at_checkout(model):
    behaviour = model.behaviours[0]
    rows = np.arange(5000)
    goal = behaviour.redemption.goal(
        model, rows, PointsOffer(np.zeros(1, dtype=np.int32), 100, 0.1))
    balance = np.zeros(model.population.n, dtype=np.int32)
    balance[rows] = goal - 1
    below = behaviour.redemption.wish(model, rows, PointsOffer(balance, 100, 0.1), 1)
    assert not below.any()
    balance[rows] = goal
    at = behaviour.redemption.wish(model, rows, PointsOffer(balance, 100, 0.1), 1)
    propensity = model.segment_params["redeem_propensity"][model.population["segment"][rows]]
    luck = model.streams.uniform("redemption", 1, rows)
    np.testing.assert_array_equal(at, luck < propensity)


def test_coefficients_are_checked():
    with pytest.raises(ValueError, match="stockpiler_share"):
        RedemptionCoefficients(stockpiler_share=1.5)
    assert "stockpile_orders" in repr(Redemption())
    assert isinstance(CustomerBehaviour().redemption, Redemption)
