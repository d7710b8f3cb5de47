"""The referred customer's premium: hand-computed, on referred customers only."""

import numpy as np

from loyaltylab.agents.terms import ReferralPremiumCoefficients

P = ReferralPremiumCoefficients()


def test_premium_of_referred_customers_fades_with_tenure(tiny):
    model, offers = tiny(n=4)
    pop = model.population
    pop["join_week"] = np.array([0, 0, 10, 30], dtype=np.int16)
    offers.publish("referred_by", np.array([-1, 0, 0, 1], dtype=np.int32))
    term = model.behaviours[0].term("referral_premium")
    np.testing.assert_array_equal(term.support(model, offers, 40), [1, 2, 3])
    rows = np.arange(4)
    premium = P.premium * np.exp(-(40 - np.array([0, 0, 10, 30])) / P.premium_weeks)
    expected = np.log1p(premium * [0, 1, 1, 1])
    np.testing.assert_allclose(term.log_lift(model, rows, offers, 40), expected, rtol=1e-5)
    np.testing.assert_allclose(term.log_dropout(model, rows, offers, 40), -expected, rtol=1e-5)
    assert not term.sensitive  # not a response to an incentive


def test_without_referral_nothing_is_lifted(tiny):
    model, offers = tiny(n=2)
    term = model.behaviours[0].term("referral_premium")
    assert term.support(model, offers, 1).shape == (0,)
    assert term.log_lift(model, np.arange(2), offers, 1) is None
