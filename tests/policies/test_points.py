import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scripted import scripted_model

from loyaltylab.agents import default_population
from loyaltylab.policies.checker import check_policy
from loyaltylab.policies.points import Campaign, PointsPolicy
from loyaltylab.policies.tiers import TiersPolicy
from loyaltylab.sim import LoyaltyModel, Policy

PLAIN = dict(earn_per_currency=1.0, value_per_point=0.1, redemption_block=100, signup_bonus=0,
             campaigns=[], earn_cap_per_week=None)


def test_one_customer_earns_redeems_and_loses_expired_points_in_the_right_week():
    script = {1: [(0, 250.0, False)], 2: [(0, 80.0, True)]}
    model = scripted_model(script, [PointsPolicy(**PLAIN, expiry_weeks=3)])
    model.run(6)
    w = model.weekly
    assert w["points_earned"].tolist() == [250, 60, 0, 0, 0, 0]
    # week 2: 2 blocks of 100 points (20 yuan) come off the 80-yuan order; 60 earned on
    # the 60 paid
    assert w["points_redeemed"].tolist() == [0, 200, 0, 0, 0, 0]
    assert w["cost_rewards"].tolist() == [0, 20.0, 0, 0, 0, 0]
    assert w["net_revenue"].tolist() == [250.0, 60.0, 0, 0, 0, 0]
    # week 4: what is left of week 1's 250 (the redemption took 200 of them) expires;
    # week 5: week 2's 60
    assert w["points_expired"].tolist() == [0, 0, 0, 50, 60, 0]
    assert w["points_outstanding"].tolist() == [250, 110, 110, 60, 0, 0]


def test_redemption_is_capped_by_the_order_and_needs_a_full_block():
    script = {1: [(0, 990.0, False)], 2: [(0, 25.0, True)], 3: [(0, 500.0, True)]}
    model = scripted_model(script, [PointsPolicy(**PLAIN, expiry_weeks=None)])
    model.run(3)
    w = model.weekly
    # week 2: 990 points but the 25-yuan order absorbs only 2 blocks (20 yuan)
    assert w["points_redeemed"].tolist() == [0, 200, 700]
    assert w["cost_rewards"].tolist() == [0, 20.0, 70.0]
    assert w["points_earned"].tolist() == [990, 5, 430]


def test_cap_campaign_signup_and_one_yuan_per_hundred_points():
    params = {**PLAIN, "value_per_point": 0.01, "signup_bonus": 50, "earn_cap_per_week": 300,
              "campaigns": [Campaign(weeks=[2], multiplier=2.0)]}
    script = {1: [(0, 1000.0, False)], 2: [(0, 120.0, False)], 3: [(0, 50.0, True)]}
    model = scripted_model(script, [PointsPolicy(**params)])
    model.run(3)
    w = model.weekly
    # week 1: 1000 capped at 300, plus the sign-up bonus; week 2: double points
    # week 3: 100 points = 1 yuan, so all 5 full blocks of the 590 balance burn for 5 yuan
    # and 45 points are earned on the 45 still to pay
    assert w["points_earned"].tolist() == [300 + 50, 240, 45]
    assert w["points_redeemed"].tolist() == [0, 0, 500]
    assert w["cost_rewards"].iloc[2] == pytest.approx(5.0)


def test_checkin_points_for_interactions_of_target_segments():
    policy = PointsPolicy(**PLAIN, checkin_points=10, checkin_segments=["basic"])
    model = scripted_model({1: [(1, 30.0, False)]}, [policy], size=3,
                           interactions={1: [(0, 2), (1, 1)]})
    model.run(1)
    assert model.points.balance(np.arange(3)).tolist() == [20, 40, 0]


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="earn_per_currency"):
        PointsPolicy(earn_per_currency=-1)
    with pytest.raises(ValueError, match="weeks"):
        Campaign(weeks=[0, 60])
    with pytest.raises(ValueError, match="campaigns"):
        LoyaltyModel(default_population(10),
                     policies=[PointsPolicy(campaigns=[Campaign(weeks=[3], segments=["vip"])])])
    with pytest.raises(ValueError, match="one points program"):
        LoyaltyModel(default_population(10), policies=[PointsPolicy(), PointsPolicy()])
    # counts of points past the engine's integers, a point worth nothing representable
    # (once overflows mid-run)
    for field, value in (("signup_bonus", 2**63), ("redemption_block", 2**31),
                         ("earn_cap_per_week", 2**63), ("checkin_points", 10**10),
                         ("value_per_point", 5e-324)):
        with pytest.raises(ValueError, match=field):
            PointsPolicy(**{field: value})


def test_a_rebate_past_ten_times_the_spend_is_refused_with_the_multipliers():
    # (once: the response to the rebate overflowed, then an internal error mid-run)
    rich = PointsPolicy(value_per_point=6.0, campaigns=[])
    LoyaltyModel(default_population(10), policies=[rich])  # 6 back per unit: accepted
    with pytest.raises(ValueError, match=r"earn_per_currency: .* gets 12 back .* at most 10"):
        LoyaltyModel(default_population(10), policies=[rich, TiersPolicy()])  # Diamond: 2x
    with pytest.raises(ValueError, match="gets 12 back"):
        LoyaltyModel(default_population(10), policies=[PointsPolicy(
            value_per_point=4.0, campaigns=[Campaign(weeks=[1], multiplier=3.0)])])


@settings(max_examples=8, deadline=None)
@given(
    earn=st.floats(0.0, 3.0), value=st.sampled_from([0.01, 0.1]),
    block=st.integers(1, 500), expiry=st.one_of(st.none(), st.integers(1, 12)),
    cap=st.one_of(st.none(), st.integers(1, 5000)), seed=st.integers(0, 10_000),
)
def test_ledger_balances_and_costs_stay_non_negative(earn, value, block, expiry, cap, seed):
    policy = PointsPolicy(earn_per_currency=earn, value_per_point=value, redemption_block=block,
                          expiry_weeks=expiry, earn_cap_per_week=cap, checkin_points=3)
    check_policy(policy, population=default_population(1500), weeks=16, seed=seed)


class OffersKept(Policy):
    """Keeps a copy of the points offer of every week (after the points policy)."""

    name = "offers_kept"
    order = 31

    def __init__(self):
        self.points = {}

    def make_offers(self, model, offers, week):
        self.points[week] = (offers.points.balance.copy(), offers.points.redemption_block,
                             offers.points.value_per_point)


def test_the_points_offer_is_the_ledger_balances_and_the_reward_size():
    policy = PointsPolicy(redemption_block=250, value_per_point=0.02, checkin_points=3)
    model = LoyaltyModel(default_population(1500), seed=4, policies=[policy, OffersKept()])
    kept = model.policies[-1]
    for week in range(1, 9):
        before = model.points.balance().copy()
        model.step()
        balance, block, value = kept.points[week]
        np.testing.assert_array_equal(balance, before)  # as the week began
        assert (block, value) == (250, 0.02)
    assert model.points.balance().max() > 0


SPEC = default_population(30_000)


@pytest.fixture(scope="module")
def runs():
    out = {}
    for name, policies in {
        "control": [],
        "lean": [PointsPolicy(value_per_point=0.01)],
        "rich": [PointsPolicy(value_per_point=0.1)],
        "expiry13": [PointsPolicy(expiry_weeks=13)],
        "expiry26": [PointsPolicy(expiry_weeks=26)],
    }.items():
        model = LoyaltyModel(SPEC, policies=policies, seed=99)
        model.run(78)
        out[name] = model
    return out


def _paired_z(a, b):
    """z statistic of the mean per-customer difference (common random numbers)."""
    d = b.population["purchases"].astype(float) - a.population["purchases"].astype(float)
    return d.mean() / (d.std(ddof=1) / np.sqrt(d.size))


def test_a_richer_points_program_raises_purchase_frequency(runs):
    assert _paired_z(runs["control"], runs["lean"]) > 4
    assert _paired_z(runs["lean"], runs["rich"]) > 4


def test_breakage_emerges_and_grows_with_shorter_expiry(runs):
    def breakage(model, expiry):
        w = model.weekly
        matured = w["week"] <= 78 - expiry  # awards whose expiry date has passed
        return w["points_expired"].sum() / w.loc[matured, "points_earned"].sum()

    b13, b26 = breakage(runs["expiry13"], 13), breakage(runs["expiry26"], 26)
    assert 0 < b26 < b13
