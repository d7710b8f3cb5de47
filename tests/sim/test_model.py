import mesa
import numpy as np
import pytest
from helpers import assert_same_run

from loyaltylab.agents import btyd_population, default_population
from loyaltylab.sim import ACTIVE_WINDOW_WEEKS, Economics, LoyaltyModel, PointsOffer, Policy


class NoOp(Policy):
    """A policy with every hook, changing nothing."""

    name = "noop"

    def __init__(self):
        self.calls = []

    def make_offers(self, model, offers, week):
        self.calls.append(("offers", week))

    def settle(self, model, sale, week):
        self.calls.append(("settle", week))

    def end_of_week(self, model, week):
        self.calls.append(("end", week))


class UnusableCoupon(Policy):
    """Everyone holds a coupon whose minimum spend nobody can reach."""

    name = "unusable_coupon"
    order = 20

    def make_offers(self, model, offers, week):
        rows = np.arange(model.population.n)
        offers.add_coupon(rows, min_spend=1e12, amount_off=10.0, pct_off=0.0, source=self)


class CouponForNobody(Policy):
    name = "coupon_for_nobody"

    def make_offers(self, model, offers, week):
        offers.add_coupon(np.zeros(0, dtype=np.int64), 3000.0, 500.0, 0.0, self)


class HalfwayToReward(Policy):
    """Every customer holds half a block of points worth a usual order (a real incentive)."""

    name = "halfway"

    def make_offers(self, model, offers, week):
        n = model.population.n
        offers.points = PointsOffer(balance=np.full(n, 50, dtype=np.int32),
                                    redemption_block=100, value_per_point=5.0)


SPEC = default_population(20_000)


def test_weekly_table_has_the_documented_columns():
    model = LoyaltyModel(SPEC, seed=1)
    model.run(5)
    weekly = model.weekly
    for column in ("week", "alive", "active", "purchases", "gross_revenue", "discounts",
                   "net_revenue", "program_cost", "points_earned", "points_redeemed",
                   "points_expired", "points_outstanding", "margin", "cost_coupons"):
        assert column in weekly.columns
    assert weekly["week"].tolist() == [1, 2, 3, 4, 5]
    assert (weekly["alive"].diff().dropna() <= 0).all()
    assert (weekly["purchases"] >= weekly["buyers"]).all()
    np.testing.assert_allclose(weekly["net_revenue"], weekly["gross_revenue"])
    assert (weekly["program_cost"] == 0).all() and (weekly["points_outstanding"] == 0).all()
    assert isinstance(model, mesa.Model) and model.steps == 5


def test_active_means_a_purchase_in_the_last_26_weeks():
    model = LoyaltyModel(SPEC, seed=2)
    model.run(30)
    last = model.population["last_purchase"]
    assert model.weekly["active"].iloc[-1] == int(np.sum(last > 30 - ACTIVE_WINDOW_WEEKS))
    # until week 25 every customer is active thanks to the first purchase at week 0
    assert (model.weekly["active"].iloc[:25] == SPEC.size).all()


def test_same_seed_same_results_and_other_seed_differs():
    a, b, c = (LoyaltyModel(SPEC, seed=s) for s in (3, 3, 4))
    for m in (a, b, c):
        m.run(10)
    assert_same_run(a, b)
    assert a.weekly["purchases"].sum() != c.weekly["purchases"].sum()


def test_common_random_numbers_identical_arms_and_do_nothing_policies():
    control = LoyaltyModel(SPEC, seed=5)
    twin = LoyaltyModel(SPEC, policies=[NoOp()], seed=5)
    unusable = LoyaltyModel(SPEC, policies=[UnusableCoupon()], seed=5)
    nobody = LoyaltyModel(SPEC, policies=[CouponForNobody()], seed=5)
    for m in (control, twin, unusable, nobody):
        m.run(20)
    assert_same_run(control, twin)
    assert_same_run(control, unusable)
    assert_same_run(control, nobody)


def test_a_real_incentive_changes_results_only_through_the_policy():
    control = LoyaltyModel(SPEC, seed=6)
    treated = LoyaltyModel(SPEC, policies=[HalfwayToReward()], seed=6)
    control.run(10)
    treated.run(10)
    # goal gradient: every buyer's rate rises, so with the same luck nobody buys less
    assert treated.weekly["purchases"].sum() > control.weekly["purchases"].sum()
    # same customers drawn for both arms
    np.testing.assert_array_equal(control.population["lam"], treated.population["lam"])


def test_hooks_run_in_pipeline_order_on_a_copy_of_the_policy():
    policy = NoOp()
    model = LoyaltyModel(SPEC, policies=[policy], seed=7)
    model.run(2)
    assert policy.calls == []  # the model works on its own copy
    assert model.policies[0].calls == [
        ("offers", 1), ("settle", 1), ("end", 1), ("offers", 2), ("settle", 2), ("end", 2)
    ]


def test_policies_are_sorted_by_documented_order():
    class Late(NoOp):
        order = 50

    class Early(NoOp):
        order = 10

    model = LoyaltyModel(SPEC, policies=[Late(), Early()], seed=1)
    assert [type(p).__name__ for p in model.policies] == ["Early", "Late"]


def test_population_grows_without_changing_existing_customers_luck():
    base = LoyaltyModel(SPEC, seed=8)
    grown = LoyaltyModel(SPEC, seed=8)
    base.run(10)
    grown.run(3)
    rows = grown.add_customers("potential_loyal", 500)
    assert rows == slice(SPEC.size, SPEC.size + 500)
    assert (grown.population["join_week"][rows] == 3).all()
    grown.run(7)
    n = SPEC.size
    np.testing.assert_array_equal(base.population["purchases"], grown.population["purchases"][:n])
    np.testing.assert_array_equal(base.population["alive"], grown.population["alive"][:n])
    assert grown.weekly["customers"].iloc[-1] == n + 500
    assert grown.population["purchases"][n:].sum() > 0
    with pytest.raises(ValueError, match="segment"):
        grown.add_customers("vip", 1)


def test_fixed_program_cost_is_booked_only_with_a_program():
    economics = Economics(fixed_cost_per_week=1000.0)
    plain = LoyaltyModel(SPEC, economics=economics, seed=1)
    program = LoyaltyModel(SPEC, policies=[NoOp()], economics=economics, seed=1)
    plain.run(3)
    program.run(3)
    assert plain.weekly["program_cost"].sum() == 0
    assert program.weekly["cost_fixed"].tolist() == [1000.0] * 3


def test_reporters_customer_view_and_frames():
    def dead(m):
        return int((~m.population["alive"]).sum())

    model = LoyaltyModel(SPEC, seed=9, reporters={"dead": dead})
    model.run(3)
    weekly = model.weekly
    assert (weekly["dead"] == weekly["customers"] - weekly["alive"]).all()
    one = model.customer(0)
    assert one["segment"] == "core_loyal" and one["alive"] in (True, False)
    frame = model.customers_frame(["segment", "purchases"])
    assert len(frame) == SPEC.size
    assert set(frame["segment"].cat.categories) == set(SPEC.segment_names)


def test_state_is_compact():
    model = LoyaltyModel(SPEC, seed=1)
    assert model.population.bytes_per_customer() <= 150


def test_bad_input_is_named():
    with pytest.raises(TypeError, match="population"):
        LoyaltyModel("customers.csv")
    with pytest.raises(TypeError, match=r"policies\[0\]"):
        LoyaltyModel(SPEC, policies=["points"])
    with pytest.raises(TypeError, match="economics"):
        LoyaltyModel(SPEC, economics={"gross_margin": 0.3})
    model = LoyaltyModel(btyd_population(10, 0.2, 4.0, 0.8, 2.4), seed=1)
    with pytest.raises(ValueError, match="weeks"):
        model.run(-1)
    with pytest.raises(IndexError, match="row"):
        model.customer(10)
