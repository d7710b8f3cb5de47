"""The stylized-facts suite: every fact passes at the default coefficients, the suite
catches a behaviour that breaks a fact, and its statistics are right."""

import math

import numpy as np
import pytest

from loyaltylab.agents import CustomerBehaviour, default_population
from loyaltylab.agents.terms import (
    CouponTrips,
    GoalGradient,
    Launch,
    ReferralPremium,
    Reminder,
    Status,
)
from loyaltylab.validation import Fact, Measurement, check_facts, facts, jackknife, studies
from loyaltylab.validation.design import regular_buyers

#: Customers per study in the tests: the whole suite takes about 5 s, and every
#: interval is well inside its band (the table in the README is at this size).
SIZE = 100_000


@pytest.fixture(scope="module")
def table():
    return check_facts(size=SIZE, seed=0)


def test_every_fact_passes_at_the_default_coefficients(table):
    assert table["fact"].tolist() == [f.id for f in facts()]
    assert len(table) == 15 and table["fact"].is_unique
    failing = table[table["status"] != "pass"]
    assert failing.empty, failing[["fact", "value", "se", "low", "high"]].to_string()
    # Monte Carlo errors are real: positive, and small against the bands
    assert (table["se"] > 0).all()
    finite = np.isfinite(table["high"] - table["low"])
    width = (table["high"] - table["low"])[finite]
    assert ((2 * 1.96 * table["se"])[finite] < width).all()


def test_the_table_names_each_fact_its_measure_and_source(table):
    for column in ("claim", "measure", "source", "study", "details"):
        assert table[column].str.len().min() > 5, column
    np.testing.assert_allclose(table["ci_high"] - table["ci_low"], 2 * 1.959964 * table["se"],
                               rtol=1e-6)


def test_a_behaviour_without_a_goal_gradient_fails_it():
    flat = CustomerBehaviour(terms=[Launch(), Status(), CouponTrips(), Reminder(),
                                    ReferralPremium()])
    t = check_facts(behaviour=flat, size=20_000, only=["stamp_card"]).set_index("fact")
    assert t.loc["GG1", "status"] == "fail"  # no acceleration towards the reward
    assert t.loc["GG1-control", "status"] == "pass"


def test_a_goal_gradient_blind_to_the_rewards_worth_fails_the_control():
    class Blind(GoalGradient):
        """Pulls as if every reward were worth one usual order (the old model's flaw)."""

        def _bounds_of(self, model, rows, key):
            c = self.coefficients
            n = len(range(model.population.n)[rows])
            return np.full(n, np.log1p(c.strength), dtype=np.float32)

    blind = CustomerBehaviour(terms=[Blind(), Launch(), Status(), CouponTrips(), Reminder(),
                                     ReferralPremium()])
    t = check_facts(behaviour=blind, size=20_000, only=["stamp_card"]).set_index("fact")
    assert t.loc["GG1-control", "status"] == "fail"


def test_status_of_a_measurement():
    fact = Fact("X", "claim", "measure", 0.1, 0.3, "source")
    assert Measurement(fact, 0.2, 0.01).status == "pass"
    assert Measurement(fact, 0.2, 0.06).status == "uncertain"  # interval wider than the band
    assert Measurement(fact, 0.35, 0.02).status == "fail"  # 0.35 - 1.96 * 0.02 > 0.3
    assert Measurement(fact, 0.35, 0.03).status == "uncertain"
    assert Measurement(fact, math.nan, 0.01).status == "fail"
    one_sided = Fact("Y", "claim", "measure", 0.0, math.inf, "source")
    assert Measurement(one_sided, 0.05, 0.02).status == "pass"
    assert Measurement(one_sided, -0.05, 0.02).status == "fail"


def test_jackknife_of_a_mean_and_of_a_ratio():
    rng = np.random.default_rng(5)
    values = rng.normal(2.0, 1.0, 20 * 500)
    sums = np.column_stack([values.reshape(20, 500).sum(axis=1), np.full(20, 500.0)])
    est, se = jackknife(lambda t: t[0] / t[1], sums)
    assert est == pytest.approx(values.mean())
    # for a mean, the delete-a-group jackknife is the between-group standard error
    groups = values.reshape(20, 500).mean(axis=1)
    assert se == pytest.approx(groups.std(ddof=1) / np.sqrt(20), rel=1e-9)
    # for a ratio of sums, close to the delta method (within its own sampling error)
    x, y = rng.poisson(3.0, 10_000), rng.poisson(6.0, 10_000)
    sums = np.column_stack([x.reshape(20, -1).sum(axis=1), y.reshape(20, -1).sum(axis=1)])
    est, se = jackknife(lambda t: t[0] / t[1], sums)
    r = x.sum() / y.sum()
    delta = np.sqrt(np.sum((x - r * y) ** 2)) / y.sum()
    assert abs(se / delta - 1) < 3 * np.sqrt(2 / 19)  # sd of a 19-df standard error
    assert jackknife(lambda t: math.inf, sums)[1] == math.inf


def test_unknown_study_and_bad_size_are_named():
    with pytest.raises(ValueError, match="only: unknown study 'nope'"):
        check_facts(only=["nope"])
    with pytest.raises(ValueError, match="size: must be >= 1"):
        check_facts(size=0)
    assert list(studies()) == ["breakage", "targeted_coupon", "coupon_incrementality",
                               "stamp_card", "launch", "referral", "demotion"]


def test_a_study_of_a_calibrated_population_uses_its_segments():
    spec = default_population(1)
    one = spec.model_copy(update={"segments": spec.segments[:2], "shares": [0.5, 0.5]})
    t = check_facts(population=one, size=5_000, only=["targeted_coupon"])
    assert t["details"].iloc[0].endswith(f"coupon {0.08 * (800 + 1050) / 2:,.0f} off")


def test_regular_buyers_keep_their_spend_and_traits():
    spec = default_population(10)
    regular = regular_buyers(spec, orders_per_week=0.5)
    for before, after in zip(spec.segments, regular.segments, strict=True):
        assert after.gamma_gamma == before.gamma_gamma
        assert after.incentive_sensitivity == before.incentive_sensitivity
        assert after.bgnbd.r / after.bgnbd.alpha == pytest.approx(0.5)
        assert after.bgnbd.a / (after.bgnbd.a + after.bgnbd.b) < 1e-5
