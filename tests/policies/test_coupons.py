"""Coupons: thresholds, discounts, validity, limits, budget, triggers and their effects."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scripted import scripted_model

from loyaltylab.agents import (
    CouponUseCoefficients,
    CustomerBehaviour,
    btyd_population,
    default_population,
)
from loyaltylab.policies.checker import check_policy
from loyaltylab.policies.coupons import BIRTHDAY_COLUMN, CouponPolicy, week_of_year
from loyaltylab.policies.registry import make
from loyaltylab.policies.tiers import Tier, TiersPolicy
from loyaltylab.sim import LoyaltyModel, Offers, Policy, Sale

CDNOW = dict(r=0.243, alpha=4.414, a=0.793, b=2.426)  # orders of ~35, far below 3000


class Spy(Policy):
    """Records, after every other policy, the coupon holders and the coupon users."""

    name = "spy"
    order = 99

    def __init__(self):
        self.holders = {}
        self.orders = []
        self.used = []
        self.rows = []
        self.weeks = []

    def make_offers(self, model, offers, week):
        self._mine = [k for k, c in enumerate(offers.coupons) if isinstance(c.source, Policy)
                      and c.source.name == "coupons"]
        rows = [offers.coupons[k].rows for k in self._mine]
        self.holders[week] = np.sort(np.concatenate(rows)) if rows else np.zeros(0, int)

    def settle(self, model, sale, week):
        self.orders.append(sale.first_order.copy())
        self.used.append(np.isin(sale.coupon, self._mine))
        self.rows.append(sale.rows.copy())
        self.weeks.append(np.full(len(sale), week))


def spy_of(model):
    return next(p for p in model.policies if isinstance(p, Spy))


def column(model, what, policy_index=0):
    policy = [p for p in model.policies if isinstance(p, CouponPolicy)][policy_index]
    return model.population[f"{model.policy_key(policy)}_{what}"]


# ---------------------------------------------------------------- parameters
def test_registry_builds_coupons():
    policy = make("coupons", min_spend=200, amount_off=100)
    assert isinstance(policy, CouponPolicy)
    assert (policy.name, policy.order) == ("coupons", 20)
    assert policy.get_params()["min_spend"] == 200
    assert policy.clone().get_params() == policy.get_params()


def test_bad_input_is_named():
    # amounts and weeks past what the engine's arrays hold (once overflows mid-run)
    for field, value in (("min_spend", 1e300), ("amount_off", 1e13),
                         ("validity_weeks", 2**63), ("inactive_weeks", 32768)):
        with pytest.raises(ValueError, match=f"{field}\n.*less than or equal"):
            CouponPolicy(**{field: value})
    with pytest.raises(ValueError, match=r"min_spend: must be greater than amount_off \(500\), "
                                         r"got 300"):
        CouponPolicy(min_spend=300)
    with pytest.raises(ValueError, match="min_spend"):
        CouponPolicy(min_spend=500, amount_off=500)
    with pytest.raises(ValueError, match="amount_off"):
        CouponPolicy(amount_off=-1)
    with pytest.raises(ValueError, match="amount_off"):
        CouponPolicy(amount_off=0, pct_off=0)
    with pytest.raises(ValueError, match="min_spend"):
        CouponPolicy(min_spend=-5)
    with pytest.raises(ValueError, match="pct_off"):
        CouponPolicy(pct_off=1.0)
    with pytest.raises(ValueError, match="pct_off"):
        CouponPolicy(pct_off=-0.1)
    with pytest.raises(ValueError, match="budget"):
        CouponPolicy(budget=0)
    with pytest.raises(ValueError, match="per_customer_limit"):
        CouponPolicy(per_customer_limit=0)
    with pytest.raises(ValueError, match="validity_weeks"):
        CouponPolicy(validity_weeks=0)
    with pytest.raises(ValueError, match="inactive_weeks"):
        CouponPolicy(inactive_weeks=0)
    with pytest.raises(ValueError, match="near_tier_share"):
        CouponPolicy(near_tier_share=0)
    with pytest.raises(ValueError, match="trigger"):
        CouponPolicy(trigger="anniversary")
    with pytest.raises(ValueError, match="segments"):
        CouponPolicy(segments=[])
    # setup-time errors
    spec = default_population(100)
    with pytest.raises(ValueError, match="segments"):
        LoyaltyModel(spec, policies=[CouponPolicy(segments=["vip"])])
    with pytest.raises(ValueError, match="tiers"):
        LoyaltyModel(spec, policies=[CouponPolicy(tiers=["Gold"])])
    with pytest.raises(ValueError, match="trigger"):
        LoyaltyModel(spec, policies=[CouponPolicy(trigger="near_tier")])
    # a percentage coupon without a threshold and a fixed one without are fine
    CouponPolicy(amount_off=0, pct_off=0.1, min_spend=0)
    CouponPolicy(amount_off=50, min_spend=0)


def test_unknown_tier_is_named():
    with pytest.raises(ValueError, match="tiers"):
        LoyaltyModel(default_population(100),
                     policies=[TiersPolicy(), CouponPolicy(tiers=["Platinum"])])


# ---------------------------------------------------------------- hand-computed
def test_threshold_coupon_used_only_at_or_above_the_minimum_spend():
    # "spend 3000, get 500 off", one coupon per customer
    script = {1: [(0, 2999.0, False), (1, 3000.0, False), (2, 4000.0, False)],
              2: [(0, 3500.0, False), (1, 5000.0, False)]}
    model = scripted_model(script, [CouponPolicy()], size=3)
    model.step()
    w = model.weekly.iloc[-1]
    assert (w["coupons_issued"], w["coupons_holders"], w["coupons_redeemed"]) == (3, 3, 2)
    assert w["cost_coupons"] == 1000.0 and w["discounts"] == 1000.0
    np.testing.assert_array_equal(model.population["program_cost"], [0.0, 500.0, 500.0])
    np.testing.assert_array_equal(model.population["net_revenue"], [2999.0, 2500.0, 3500.0])
    np.testing.assert_array_equal(column(model, "issued_week"), [1, -1, -1])  # 0 still holds
    model.step()
    w = model.weekly.iloc[-1]
    # the limit (1) stops new coupons; row 0 uses the one it kept, row 1 has none left
    assert (w["coupons_issued"], w["coupons_holders"], w["coupons_redeemed"]) == (0, 1, 1)
    assert w["cost_coupons"] == 500.0
    np.testing.assert_array_equal(model.population["program_cost"], [500.0, 500.0, 500.0])


def _hand_sale(model, rows, first, gross, coupon):
    n = len(rows)
    return Sale(rows=np.array(rows), purchases=np.ones(n, dtype=np.int64),
                first_order=np.array(first, dtype=float), gross=np.array(gross, dtype=float),
                coupon=np.array(coupon), redeem=np.zeros(n, bool),
                dropout=np.zeros(n, bool), ledger=model.ledger)


def _drive(policy, rows, first, gross, size=4, coupon=None):
    """Issue in week 1 by calling the hooks directly; settle a hand-built sale."""
    model = LoyaltyModel(btyd_population(size, **CDNOW), policies=[policy], seed=1)
    policy = model.policies[0]
    offers = Offers(model.population.n, np)
    policy.make_offers(model, offers, 1)
    index = offers.coupons[0].rows  # every customer holds one
    assert index.tolist() == list(range(size))
    sale = _hand_sale(model, rows, first, gross, [0] * len(rows) if coupon is None else coupon)
    policy.settle(model, sale, 1)
    return model, policy, sale


def test_fixed_percent_and_combined_discounts_hand_computed():
    # fixed: 500 off above 3000; defensive: a sale claiming the coupon below 3000 gets none
    model, policy, sale = _drive(CouponPolicy(), [0, 1, 2], [3000.0, 2500.0, 3200.0],
                                 [3000.0, 2500.0, 9000.0])
    assert sale.discount.tolist() == [500.0, 0.0, 500.0]
    assert model.ledger.costs["coupons"] == 1000.0
    assert column(model, "issued_week").tolist() == [-1, 1, -1, 1]
    assert policy.outstanding == 2 and policy.spent == 1000.0
    # percent: 10% of the first order only, not of the week's other orders
    model, _, sale = _drive(CouponPolicy(amount_off=0, pct_off=0.1, min_spend=0),
                            [0, 3], [2500.0, 800.0], [2500.0, 5800.0])
    np.testing.assert_allclose(sale.discount, [250.0, 80.0])
    # combined: 100 + 5% of 4000 = 300
    _, _, sale = _drive(CouponPolicy(amount_off=100, pct_off=0.05, min_spend=1000), [1],
                        [4000.0], [4000.0])
    np.testing.assert_allclose(sale.discount, [300.0])
    # a fixed amount without threshold never exceeds the order
    _, _, sale = _drive(CouponPolicy(amount_off=50, min_spend=0), [0, 1], [30.0, 80.0],
                        [30.0, 80.0])
    assert sale.discount.tolist() == [30.0, 50.0]
    # a sale using another policy's coupon (index 1) is left alone
    _, _, sale = _drive(CouponPolicy(), [0], [3000.0], [3000.0], coupon=[1])
    assert sale.discount.tolist() == [0.0]


def test_top_up_to_the_threshold_is_redeemed_despite_rounding():
    attentive = btyd_population(2, **CDNOW).with_behaviour(
        CustomerBehaviour(coupons=CouponUseCoefficients(attention=1.0)))
    model = LoyaltyModel(attentive, policies=[CouponPolicy()], seed=1)
    policy = model.policies[0]
    offers = Offers(2, np)
    policy.make_offers(model, offers, 1)
    # tiny shortfalls: both top up (their top-up chance is above their luck of the week)
    first = np.array([2999.7, 2999.99])
    chance = 1 - (3000 - first) / first / 0.2
    luck = model.streams.uniform("coupon_topup", 1, np.array([0, 1]))
    assert (luck < chance).all()
    coupon, order = model.behaviours[0].choose_coupons(model, np.array([0, 1]), first,
                                                       offers, 1)
    assert coupon.tolist() == [0, 0]
    sale = _hand_sale(model, [0, 1], order, order, coupon)
    policy.settle(model, sale, 1)
    assert sale.discount.tolist() == [500.0, 500.0]


def test_validity_window_and_per_customer_limit():
    # valid 3 weeks (t..t+2), 2 coupons per customer; row 0 uses its first in its last
    # valid week (3), row 1 buys in week 4 with its second coupon, row 2 never buys
    script = {3: [(0, 3000.0, False)], 4: [(1, 3000.0, False)]}
    model = scripted_model(script, [CouponPolicy(validity_weeks=3, per_customer_limit=2)],
                           size=3)
    model.run(8)
    w = model.weekly
    assert w["coupons_issued"].tolist() == [3, 0, 0, 3, 0, 0, 0, 0]
    assert w["coupons_redeemed"].tolist() == [0, 0, 1, 1, 0, 0, 0, 0]
    assert w["coupons_expired"].tolist() == [0, 0, 2, 0, 0, 2, 0, 0]
    assert w["coupons_holders"].tolist() == [3, 3, 3, 3, 2, 2, 0, 0]
    assert w["cost_coupons"].tolist() == [0, 0, 500, 500, 0, 0, 0, 0]
    assert column(model, "issued").tolist() == [2, 2, 2]
    # without a limit a new coupon follows each expiry
    model = scripted_model({}, [CouponPolicy(validity_weeks=3, per_customer_limit=None)],
                           size=3)
    model.run(7)
    assert model.weekly["coupons_issued"].tolist() == [3, 0, 0, 3, 0, 0, 3]
    assert (model.weekly["cost_coupons"] == 0).all()  # issued, never redeemed: no cost


def test_budget_stops_issuance_exactly_and_expiry_releases_it():
    # 2000 / 500 = 4 coupons; valid 4 weeks; nobody ever reaches the threshold
    policy = CouponPolicy(budget=2000, per_customer_limit=None)
    model = scripted_model({}, [policy], size=1)
    model.step()  # week 1: the only customer gets one
    model.add_customers("basic", 3)
    model.step()  # week 2: the three joiners get one each: 4 in all
    model.add_customers("basic", 2)
    model.step()  # week 3: the budget is committed, the two joiners get none
    model.step()  # week 4: the first coupon expires at the end of the week
    model.step()  # week 5: exactly one more; the joiners' coupons expire after it
    model.step()  # week 6: three more
    assert model.weekly["coupons_issued"].tolist() == [1, 3, 0, 0, 1, 3]
    assert model.weekly["coupons_expired"].tolist() == [0, 0, 0, 1, 3, 0]
    live = model.policies[0]
    assert live.outstanding == 4 and live.committed == 2000.0 and live.spent == 0.0

    # in a crowd, the random priority order picks exactly 4 a month
    model = scripted_model({}, [CouponPolicy(budget=2000, per_customer_limit=None)], size=100)
    model.run(9)
    assert model.weekly["coupons_issued"].tolist() == [4, 0, 0, 0, 4, 0, 0, 0, 4]
    assert model.weekly["coupons_holders"].tolist() == [4] * 9


def test_a_budget_worth_more_coupons_than_there_are_customers_caps_nothing():
    # (once: an OverflowError, the budget over a face value of 5e-324 coupons being inf)
    policy = CouponPolicy(amount_off=5e-324, min_spend=0, budget=1e12, per_customer_limit=None)
    model = scripted_model({}, [policy], size=10)
    model.run(2)
    assert model.weekly["coupons_issued"].tolist() == [10, 0]


def test_budget_redemption_replaces_commitment_by_the_discount():
    model = scripted_model({}, [CouponPolicy(budget=2000, per_customer_limit=None)], size=10)
    script = model.behaviours[0].script  # the model works on its own copy
    model.step()
    holders = np.flatnonzero(column(model, "issued_week") == 1)
    assert holders.size == 4
    script[2] = [(int(holders[0]), 3000.0, False)]
    model.step()  # one redeemed: spent 500 + committed 1500 = 2000, nothing new
    script[3] = [(int(holders[1]), 3000.0, False)]
    model.run(3)  # week 3: one more redeemed; end of week 4: the other two expire
    w = model.weekly
    assert w["coupons_redeemed"].tolist() == [0, 1, 1, 0, 0]
    assert w["coupons_issued"].tolist() == [4, 0, 0, 0, 2]  # 2000 - 1000 spent
    assert w["cost_coupons"].sum() == 1000.0
    assert model.policies[0].spent == 1000.0
    # a percentage coupon can cost more than its face value, which then blocks issuance
    policy = CouponPolicy(amount_off=0, pct_off=0.1, min_spend=1000, budget=250,
                          per_customer_limit=None, validity_weeks=2)
    model = scripted_model({}, [policy], size=5)
    script = model.behaviours[0].script
    model.step()
    holders = np.flatnonzero(column(model, "issued_week") == 1)
    assert holders.size == 2  # face value 100 each: 200 of 250 committed
    script[2] = [(int(r), 4000.0, False) for r in holders]
    model.run(3)  # both redeemed for 400 each: 800 spent, the budget is gone
    assert model.weekly["coupons_issued"].tolist() == [2, 0, 0, 0]
    assert model.weekly["cost_coupons"].tolist() == [0.0, 800.0, 0.0, 0.0]


def test_cost_is_booked_only_on_redemption_at_face_value():
    spec = default_population(20_000)
    model = LoyaltyModel(spec, policies=[CouponPolicy(min_spend=1000, amount_off=100,
                                                      per_customer_limit=None)], seed=3)
    model.run(10)
    w = model.weekly
    assert w["coupons_issued"].sum() > 20_000
    np.testing.assert_allclose(w["cost_coupons"], 100.0 * w["coupons_redeemed"])
    np.testing.assert_allclose(w["discounts"], w["cost_coupons"])
    assert model.population["program_cost"].sum() == pytest.approx(w["cost_coupons"].sum())
    assert (model.population["program_cost"] % 100 == 0).all()


# ---------------------------------------------------------------- triggers
def test_segment_targeting_and_joiners():
    spec = default_population(5000)
    model = LoyaltyModel(spec, policies=[CouponPolicy(segments=["basic", "dormant"]), Spy()],
                         seed=4)
    model.step()
    seg = model.population["segment"]
    np.testing.assert_array_equal(spy_of(model).holders[1], np.flatnonzero(seg >= 2))
    rows = model.add_customers("dormant", 10)
    model.add_customers("core_loyal", 10)
    model.step()
    assert (column(model, "issued_week")[rows] == 2).all()
    assert model.weekly["coupons_issued"].iloc[-1] == 10


def test_first_purchase_trigger_selects_customers_without_a_repeat_purchase():
    script = {1: [(1, 500.0, False)]}
    model = scripted_model(script, [CouponPolicy(trigger="first_purchase", validity_weeks=1,
                                                 per_customer_limit=None), Spy()], size=4)
    model.population["purchases"][[0, 2]] = 3
    model.run(2)
    holders = spy_of(model).holders
    assert holders[1].tolist() == [1, 3]
    assert holders[2].tolist() == [3]  # row 1 bought in week 1


def test_inactive_trigger_selects_lapsed_customers():
    script = {2: [(1, 50.0, False)], 4: [(2, 50.0, False)]}
    model = scripted_model(script, [CouponPolicy(trigger="inactive", inactive_weeks=5,
                                                 validity_weeks=1, per_customer_limit=None),
                                    Spy()], size=3)
    model.run(9)
    holders = spy_of(model).holders
    assert all(holders[w].size == 0 for w in range(1, 5))
    assert holders[5].tolist() == [0]
    assert holders[6].tolist() == [0]
    assert holders[7].tolist() == [0, 1]
    assert holders[9].tolist() == [0, 1, 2]


def test_birthday_trigger_and_birthdays_are_common_and_uniform():
    policy = CouponPolicy(trigger="birthday", validity_weeks=1, per_customer_limit=None)
    spec = btyd_population(5200, **CDNOW)
    model = LoyaltyModel(spec, policies=[policy, Spy()], seed=5)
    model.run(54)
    birthday = model.population[BIRTHDAY_COLUMN]
    assert birthday.dtype == np.uint8 and birthday.min() == 1 and birthday.max() == 52
    counts = np.bincount(birthday, minlength=53)[1:]
    chi2 = ((counts - 100.0) ** 2 / 100.0).sum()
    assert chi2 < 51 + 4 * np.sqrt(2 * 51)  # 51 d.o.f.: mean 51, s.d. 10
    holders = spy_of(model).holders
    for week in (1, 2, 52, 53, 54):
        assert week_of_year(week) == (week - 1) % 52 + 1
        np.testing.assert_array_equal(holders[week],
                                      np.flatnonzero(birthday == week_of_year(week)))
    # same customers' birthdays in another arm, for joiners too
    other = LoyaltyModel(spec, policies=[CouponPolicy(trigger="birthday", amount_off=10,
                                                      min_spend=0)], seed=5)
    other.run(3)
    np.testing.assert_array_equal(other.population[BIRTHDAY_COLUMN], birthday)
    rows = model.add_customers("btyd", 300)
    joined = model.population[BIRTHDAY_COLUMN][rows]
    assert joined.min() >= 1 and joined.max() <= 52
    expected = np.floor(model.streams.uniform("birthday", 0, np.arange(5200, 5500)) * 52) + 1
    np.testing.assert_array_equal(joined, expected)


def test_near_tier_trigger_and_tier_targeting():
    two = [Tier(name="Regular"), Tier(name="Silver", min_spend=1000)]
    tp = TiersPolicy(tiers=two, extension=None)
    # row 0: 850 of 1000 (85%); row 1: 50%; row 2 reaches Silver, the top tier; row 3: none
    script = {1: [(0, 850.0, False), (1, 500.0, False), (2, 1200.0, False)]}
    near = CouponPolicy(trigger="near_tier", amount_off=50, min_spend=100, validity_weeks=1,
                        per_customer_limit=None)
    model = scripted_model(script, [tp, near, Spy()], size=4)
    model.run(2)
    holders = spy_of(model).holders
    assert holders[1].tolist() == [] and holders[2].tolist() == [0]
    # targeting the Silver tier
    model = scripted_model(script, [tp, CouponPolicy(tiers=["Silver"]), Spy()], size=4)
    model.run(2)
    holders = spy_of(model).holders
    assert holders[1].tolist() == [] and holders[2].tolist() == [2]
    # near_tier with the default tiers on a real population: holders are exactly the
    # members near the next tier and below the top one
    spec = default_population(5000)

    class Check(Policy):
        order = 21

        def make_offers(self, model, offers, week):
            t = model.find_policies(TiersPolicy)[0]
            want = (t.next_tier_progress(model) >= 0.3) & (t.tier_of(model) < 3)
            got = np.zeros(model.population.n, bool)
            for c in offers.coupons:
                got[c.rows] = True
            np.testing.assert_array_equal(got, want)
            self.seen = getattr(self, "seen", 0) + int(want.sum())

    model = LoyaltyModel(spec, policies=[
        TiersPolicy(), Check(),
        CouponPolicy(trigger="near_tier", near_tier_share=0.3, validity_weeks=1,
                     per_customer_limit=None)], seed=6)
    model.run(12)
    assert next(p for p in model.policies if isinstance(p, Check)).seen > 100


def test_two_coupon_policies_coexist():
    spec = default_population(3000)
    model = LoyaltyModel(spec, policies=[
        CouponPolicy(), CouponPolicy(amount_off=0, pct_off=0.1, min_spend=0, segments=["basic"])
    ], seed=7)
    model.run(6)
    assert model.policy_key(model.policies[1]) == "coupons_2"
    assert {"coupons_issued_week", "coupons_2_issued_week"} <= set(model.population.columns)
    w = model.weekly
    assert w["coupons_issued"].iloc[0] == 3000
    assert w["coupons_2_issued"].iloc[0] == spec.initial_counts()[2]
    assert w["coupons_2_redeemed"].sum() > 0
    np.testing.assert_allclose(w["cost_coupons"], w["discounts"])


def test_state_is_narrow():
    model = LoyaltyModel(default_population(100), policies=[
        CouponPolicy(trigger="birthday")], seed=1)
    dtypes = {c: model.population[c].dtype for c in model.population.columns}
    assert dtypes["coupons_issued_week"] == np.int16
    assert dtypes["coupons_issued"] == np.uint16
    assert dtypes[BIRTHDAY_COLUMN] == np.uint8


def test_passes_the_policy_checker():
    check_policy(CouponPolicy(min_spend=1000, amount_off=100, budget=50_000,
                                      per_customer_limit=None), weeks=12)
    check_policy(CouponPolicy(trigger="birthday", pct_off=0.2, amount_off=0,
                                      min_spend=0), weeks=12)


# ---------------------------------------------------------------- invariants
@st.composite
def coupon_params(draw):
    amount = draw(st.sampled_from([0.0, 20.0, 100.0, 500.0]))
    pct = draw(st.sampled_from([0.0, 0.05, 0.3]) if amount else st.sampled_from([0.05, 0.3]))
    min_spend = draw(st.sampled_from([0.0, 1.0, 5.0]) if not amount else
                     st.sampled_from([0.0, 1.5, 2.0, 6.0]))
    min_spend *= max(amount, 100.0)
    return dict(
        amount_off=amount, pct_off=pct, min_spend=min_spend,
        segments=draw(st.sampled_from([None, ["dormant"], ["basic", "potential_loyal"]])),
        trigger=draw(st.sampled_from(["always", "first_purchase", "inactive", "birthday"])),
        inactive_weeks=draw(st.integers(1, 10)),
        validity_weeks=draw(st.integers(1, 6)),
        per_customer_limit=draw(st.sampled_from([None, 1, 3])),
        budget=draw(st.sampled_from([None, 300.0, 5000.0, 40_000.0])),
    )


@settings(max_examples=10, deadline=None)
@given(params=coupon_params(), seed=st.integers(0, 2**32 - 1))
def test_invariants_over_random_parameters(params, seed):
    spec = default_population(2000)
    model = LoyaltyModel(spec, policies=[CouponPolicy(**params)], seed=seed)
    live = model.policies[0]
    for _ in range(15):
        model.step()
        w = model.weekly.iloc[-1]
        model.points.check_balance()
        assert w["cost_coupons"] >= 0 and w["program_cost"] >= 0
        assert w["discounts"] <= w["gross_revenue"] + 1e-6
        assert live.outstanding == int((column(model, "issued_week") >= 0).sum())
        if params["budget"] is not None and params["pct_off"] == 0:
            assert live.spent + live.committed <= params["budget"] + 1e-6
            assert model.weekly["cost_coupons"].sum() <= params["budget"] + 1e-6
    assert (model.population["program_cost"] >= 0).all()
    assert (model.population["net_revenue"] >= -1e-9).all()
    assert model.weekly["cost_coupons"].sum() == pytest.approx(live.spent)


def dense_reference(expected):
    """A policy class that checks the sparse bookkeeping of the model's coupon policy
    against dense definitions: run before it (order 19) it records who is eligible; run
    after it (order 21) it checks that exactly those got a coupon (without a budget) and
    that the holders on offer are exactly the rows with a coupon."""

    class DenseReference(Policy):
        name = "dense_reference"

        def __init__(self, order):
            self.order = order

        def make_offers(self, model, offers, week):
            pop = model.population
            p = next(p for p in model.policies if isinstance(p, CouponPolicy))
            issued_week = column(model, "issued_week")
            if self.order < p.order:
                mask = issued_week < 0
                if p.per_customer_limit is not None:
                    mask &= column(model, "issued") < p.per_customer_limit
                if p.segments is not None:
                    ids = [model.segment_names.index(s) for s in p.segments]
                    mask &= np.isin(pop["segment"], ids)
                if p.trigger == "first_purchase":
                    mask &= pop["purchases"] == 0
                elif p.trigger == "inactive":
                    mask &= pop["last_purchase"] <= week - p.inactive_weeks
                elif p.trigger == "birthday":
                    mask &= pop[BIRTHDAY_COLUMN] == week_of_year(week)
                expected["rows"] = np.flatnonzero(mask)
                return
            if p.budget is None:
                np.testing.assert_array_equal(np.flatnonzero(issued_week == week),
                                              expected["rows"])
            held = [c.rows for c in offers.coupons if c.source is p]
            np.testing.assert_array_equal(held[0] if held else [],
                                          np.flatnonzero(issued_week >= 0))

    return DenseReference


@settings(max_examples=10, deadline=None)
@given(params=coupon_params(), seed=st.integers(0, 2**32 - 1))
def test_sparse_bookkeeping_matches_dense_definitions(params, seed):
    reference = dense_reference({})
    model = LoyaltyModel(default_population(2000), seed=seed, policies=[
        CouponPolicy(**params), reference(19), reference(21)])
    for week in range(1, 16):
        if week % 4 == 0:
            model.add_customers("basic", 30)
        model.step()


# ---------------------------------------------------------------- behaviour
def test_win_back_coupon_reactivates_dormant_customers():
    """ "Spend 200, get 100 off" for dormant customers inactive for 13 weeks."""
    spec = default_population(50_000)
    winback = CouponPolicy(segments=["dormant"], trigger="inactive", inactive_weeks=13,
                           min_spend=200, amount_off=100, validity_weeks=26)
    control = LoyaltyModel(spec, seed=42)
    treated = LoyaltyModel(spec, policies=[winback], seed=42)
    control.run(39)
    treated.run(39)
    dormant = control.population["segment"] == 3
    rc = control.population["purchases"][dormant] > 0
    rt = treated.population["purchases"][dormant] > 0
    # measured: 10.19% reactivated without, 10.53% with the coupon (51 more of 15000)
    only_t, only_c = int(np.sum(rt & ~rc)), int(np.sum(rc & ~rt))
    assert rt.mean() > rc.mean()
    assert only_t - only_c > 3 * np.sqrt(only_t + only_c)  # paired (McNemar) test
    assert treated.weekly["cost_coupons"].sum() > 0
    np.testing.assert_array_equal(  # other segments untouched
        treated.population["purchases"][~dormant], control.population["purchases"][~dormant])


@pytest.fixture(scope="module")
def threshold_twins():
    """Same customers and luck with and without "spend 1000, get 100 off" for everyone."""
    spec = default_population(30_000)
    control = LoyaltyModel(spec, policies=[Spy()], seed=7)
    treated = LoyaltyModel(spec, policies=[
        CouponPolicy(min_spend=1000, amount_off=100, per_customer_limit=None), Spy()], seed=7)
    control.run(26)
    treated.run(26)
    return control, treated


def test_threshold_coupon_makes_first_orders_bunch_above_the_threshold(threshold_twins):
    control, treated = threshold_twins
    sc, st_ = spy_of(control), spy_of(treated)
    oc = np.concatenate(sc.orders)
    ot, used = np.concatenate(st_.orders), np.concatenate(st_.used)

    def band(x):
        return (x >= 1000) & (x < 1050)

    share_c, share_t = band(oc).mean(), band(ot[used]).mean()
    # measured: 3.1% of control orders vs 37.6% of coupon orders in [1000, 1050)
    se = np.sqrt(share_c * (1 - share_c) / oc.size + share_t * (1 - share_t) / used.sum())
    assert share_t > 5 * share_c
    assert share_t - share_c > 10 * se


def test_part_of_the_coupon_cost_subsidises_purchases_that_happen_anyway(threshold_twins):
    control, treated = threshold_twins
    cost = treated.weekly["cost_coupons"].sum()
    d_net = treated.weekly["net_revenue"].sum() - control.weekly["net_revenue"].sum()
    d_gross = treated.weekly["gross_revenue"].sum() - control.weekly["gross_revenue"].sum()
    # measured: cost 170k, incremental gross +240k, incremental net revenue +70k: these
    # customers buy about three times a year, so the trips a coupon prompts add much
    assert cost > 0 and d_gross > 0
    assert 1 - d_net / cost > 0  # the brief's subsidised share (0.59 measured)
    # directly: coupon orders whose customer bought in the same week without the coupon
    sc, st_ = spy_of(control), spy_of(treated)
    key_c = set(zip(np.concatenate(sc.weeks).tolist(), np.concatenate(sc.rows).tolist(),
                    strict=True))
    used = np.concatenate(st_.used)
    weeks, rows = np.concatenate(st_.weeks)[used], np.concatenate(st_.rows)[used]
    anyway = np.mean([(w, r) in key_c for w, r in zip(weeks.tolist(), rows.tolist(),
                                                      strict=True)])
    assert 0.5 < anyway < 1.0
