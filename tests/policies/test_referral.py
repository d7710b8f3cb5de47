import numpy as np
import pytest
from pydantic import PrivateAttr
from scripted import scripted_model

from loyaltylab.agents import default_population
from loyaltylab.policies import ReferralPolicy, make
from loyaltylab.sim import LoyaltyModel


class Counted(ReferralPolicy):
    """Counts the buyers who could refer each week (alive, under the cap)."""

    _eligible: list = PrivateAttr(default_factory=list)

    def end_of_week(self, model, week):
        if self._sale is not None:
            rows = self._sale.rows
            can = model.population["alive"][rows]
            can &= model.population["referrals"][rows] < self.max_referrals
            self._eligible.append(int(can.sum()))
        super().end_of_week(model, week)


def test_one_buyer_refers_until_the_cap_and_both_sides_are_rewarded():
    script = {w: [(0, 100.0, False)] for w in range(1, 5)}
    model = scripted_model(script, [make("referral", referral_probability=1.0,
                                         max_referrals=2, reward_amount=50.0)])
    model.run(4)
    w = model.weekly
    assert w["referrals"].tolist() == [1, 1, 0, 0]
    assert w["customers"].tolist() == [2, 3, 3, 3]
    assert w["cost_referral"].tolist() == [100.0, 100.0, 0.0, 0.0]
    pop = model.population
    assert pop["referred_by"].tolist() == [-1, 0, 0]
    assert pop["referrals"].tolist() == [2, 0, 0]
    assert pop["program_cost"].tolist() == [100.0, 50.0, 50.0]


def test_points_rewards_go_on_the_points_ledger_of_both_sides():
    script = {1: [(0, 10.0, False)]}
    points = make("points", signup_bonus=0, expiry_weeks=None)
    model = scripted_model(script, [points, make("referral", referral_probability=1.0,
                                                 reward_points=300, reward_amount=0.0)])
    model.run(1)
    earned_by_purchase = int(np.floor(10.0 * points.earn_per_currency))
    assert model.points.balance(np.array([0, 1])).tolist() == [earned_by_purchase + 300, 300]
    assert model.weekly["cost_referral"].tolist() == [0.0]


def test_referrals_follow_the_probability_and_friends_are_drawn_like_their_segment():
    p = 0.1
    policy = Counted(referral_probability=p, max_referrals=255, friend_segment="basic")
    model = LoyaltyModel(default_population(30_000), policies=[policy], seed=8)
    model.run(26)
    eligible = sum(model.find_policies(Counted)[0]._eligible)  # the model runs a clone
    joined = int(model.weekly["referrals"].sum())
    # binomial count of referrals among the eligible buyers
    assert abs(joined - p * eligible) < 4 * np.sqrt(eligible * p * (1 - p))
    pop = model.population
    n = 30_000
    basic = model.segment_names.index("basic")
    cohort = np.nonzero(pop["segment"][:n] == basic)[0]
    friends = np.arange(n, pop.n)
    assert (pop["segment"][friends] == basic).all()
    # friends' traits are the segment's draws: their premium is the behaviour's
    # (agents.terms.ReferralPremium), which reads who referred whom from the offers
    for column in ("lam", "p_drop", "spend_rate"):
        f = pop[column][friends].astype(np.float64)
        c = pop[column][cohort].astype(np.float64)
        se = np.sqrt(f.var() / f.size + c.var() / c.size)
        assert abs(f.mean() - c.mean()) < 4 * se, column
    assert (pop["referred_by"][friends] >= 0).all() and (pop["referred_by"][:n] == -1).all()


def test_bad_referral_parameters_are_named():
    with pytest.raises(ValueError, match="referral_probability"):
        make("referral", referral_probability=1.5)
    with pytest.raises(ValueError, match="reward_points, reward_amount"):
        make("referral", reward_amount=0.0)
    with pytest.raises(ValueError, match="friend_segment: unknown segment"):
        LoyaltyModel(default_population(100), policies=[make("referral", friend_segment="vip")])
    with pytest.raises(ValueError, match="reward_points: points rewards need a points policy"):
        LoyaltyModel(default_population(100), policies=[make("referral", reward_points=100)])
