"""Coupons targeted by P(alive) or predicted CLV, from what the firm observes."""

import numpy as np
import pytest
from pydantic import ValidationError

from loyaltylab.agents import (
    btyd_population,
    expected_discounted_residual_transactions,
    expected_order_value,
    weekly_discount_rate,
)
from loyaltylab.policies.coupons import CouponPolicy
from loyaltylab.policies.targeting import (
    SegmentModels,
    observed_p_alive,
    predicted_clv,
)
from loyaltylab.sim import Economics, LoyaltyModel

CDNOW = dict(r=0.243, alpha=4.414, a=0.793, b=2.426)


def test_p_alive_of_two_customers_by_hand():
    model = LoyaltyModel(btyd_population(2, **CDNOW), seed=0)
    pop = model.population
    # customer 0: joined at 0, never bought again; customer 1: joined at 2, bought 3
    # times, last in week 8; offers of week 13 see weeks up to 12
    pop["join_week"][:] = [0, 2]
    pop["purchases"][:] = [0, 3]
    pop["last_purchase"][:] = [0, 8]
    got = observed_p_alive(model, np.array([0, 1]), 13, SegmentModels.of(model, "target_by"))
    r, alpha, a, b = CDNOW.values()
    x, t_x, big_t = 3, 6.0, 10.0
    odds = a / (b + x - 1) * ((alpha + big_t) / (alpha + t_x)) ** (r + x)
    np.testing.assert_allclose(got, [1.0, 1 / (1 + odds)], rtol=1e-12)


def test_clv_of_a_customer_by_hand():
    model = LoyaltyModel(btyd_population(1, **CDNOW), seed=0,
                         economics=Economics(gross_margin=0.25, annual_discount_rate=0.08))
    pop = model.population
    pop["purchases"][:] = [4]
    pop["last_purchase"][:] = [20]
    pop["gross_revenue"][:] = [200.0]  # 50 a purchase
    gg = model.source.segments[0].gamma_gamma
    got = predicted_clv(model, np.array([0]), 27, SegmentModels.of(model, "t", spend=True))
    dert = expected_discounted_residual_transactions(4, 20.0, 26.0, *CDNOW.values(),
                                                     weekly_discount_rate(0.08))
    order = expected_order_value(50.0, 4, gg.p, gg.q, gg.gamma)
    assert float(got[0]) == pytest.approx(0.25 * float(order) * float(dert), rel=1e-12)


def test_targeting_parameters_are_validated():
    with pytest.raises(ValidationError, match="target_min: needs target_by"):
        CouponPolicy(target_min=0.2)
    with pytest.raises(ValidationError, match="target_by: 'p_alive' needs"):
        CouponPolicy(target_by="p_alive")
    with pytest.raises(ValidationError, match=r"target_max: a P\(alive\) must be in"):
        CouponPolicy(target_by="p_alive", target_max=1.5)
    with pytest.raises(ValidationError, match="target_max: must be greater than target_min"):
        CouponPolicy(target_by="p_alive", target_min=0.6, target_max=0.2)
    with pytest.raises(ValidationError, match="target_top_share"):
        CouponPolicy(target_by="clv", target_top_share=0.0)
    with pytest.raises(ValidationError, match="target_by"):
        CouponPolicy(target_by="recency", target_min=1.0)
    CouponPolicy(target_by="clv", target_min=100.0, target_top_share=0.1)  # fine


class NoBGNBD:
    """A population specification whose segments carry no BG/NBD parameters."""

    def __init__(self, spec):
        self._spec = spec
        self.size = spec.size

    def __getattr__(self, name):
        if name == "segments":
            raise AttributeError(name)
        return getattr(self._spec, name)


def test_a_population_without_bgnbd_is_refused_at_setup():
    with pytest.raises(ValueError, match="target_by: targeting needs bgnbd"):
        LoyaltyModel(NoBGNBD(btyd_population(10, **CDNOW)),
                     [CouponPolicy(target_by="p_alive", target_min=0.5)])
    with pytest.raises(ValueError, match="annual_discount_rate > 0"):
        LoyaltyModel(btyd_population(10, **CDNOW),
                     [CouponPolicy(target_by="clv", target_top_share=0.5)],
                     economics=Economics(annual_discount_rate=0.0))


def _issue_after(weeks, policy, n=20_000):
    """Coupons issued in the first week of a program launched after ``weeks`` without one;
    who was alive, their P(alive) and their CLV when they were issued."""
    model = LoyaltyModel(btyd_population(n, **CDNOW), seed=3)
    model.run(weeks)
    alive = model.population["alive"].copy()
    rows, week, params = np.arange(n), weeks + 1, SegmentModels.of(model, "t", spend=True)
    scores = {"p_alive": observed_p_alive(model, rows, week, params),
              "clv": predicted_clv(model, rows, week, params)}
    model.start_program([policy])
    model.step()
    issued = model.population["coupons_issued"] > 0
    return issued, alive, scores


def test_targeting_by_p_alive_concentrates_coupons_on_alive_customers():
    everyone = CouponPolicy(amount_off=5.0, min_spend=0.0)
    issued, alive, _ = _issue_after(39, everyone)
    assert issued.all()
    base = alive.mean()  # untargeted: the coupons reach the alive share of the base
    band = CouponPolicy(amount_off=5.0, min_spend=0.0, target_by="p_alive", target_min=0.5)
    issued, alive, scores = _issue_after(39, band)
    share = alive[issued].mean()
    # the same customers, a subset of them: the difference has at most the binomial
    # error of the targeted share
    se = np.sqrt(share * (1 - share) / issued.sum())
    assert share - base > 10 * se, (share, base, se)
    # and the coupons went to those the model deems likely alive
    assert scores["p_alive"][issued].min() >= 0.5 > scores["p_alive"][~issued].max()
    # P(alive) from the observed weeks is calibrated: in both groups the alive share is
    # the mean P(alive) within binomial error (the simulator is BG/NBD in whole weeks)
    for group in (issued, ~issued):
        p = scores["p_alive"][group]
        se = np.sqrt(np.sum(p * (1 - p))) / group.sum()
        assert abs(alive[group].mean() - p.mean()) < 4 * se


def test_targeting_the_top_clv_share():
    top = CouponPolicy(amount_off=5.0, min_spend=0.0, target_by="clv", target_top_share=0.1)
    issued, _, scores = _issue_after(26, top, n=2000)
    assert issued.sum() == 200
    assert scores["clv"][issued].min() >= scores["clv"][~issued].max()
