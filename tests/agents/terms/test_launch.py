"""The launch response: novelty and rebate, fading; campaigns are news every time."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltylab.agents.terms import LaunchCoefficients
from loyaltylab.sim import Sale

L = LaunchCoefficients()
ROWS = np.arange(3)


def week_of(model, offers, week):
    """Run the launch term's update for ``week`` with nobody buying."""
    empty = np.zeros(0, dtype=np.int64)
    sale = Sale(rows=empty, purchases=empty, first_order=np.zeros(0), gross=np.zeros(0),
                coupon=empty, redeem=np.zeros(0, bool), dropout=np.zeros(0, bool))
    model.behaviours[0].term("launch").update(model, slice(None), sale, offers, week)


def test_lift_at_enrolment_then_fading_with_the_adaptation_time(tiny):
    model, offers = tiny(n=3)
    offers.enrol(np.array([0, 1]))  # row 2 is no member
    offers.add_rebate(slice(None), 0.1)
    term = model.behaviours[0].term("launch")
    fresh = L.novelty_lift + L.rebate_elasticity * 0.1
    np.testing.assert_allclose(term.log_lift(model, ROWS, offers, 1), [fresh, fresh, 0],
                               rtol=1e-6)
    week_of(model, offers, 1)  # enrolment recorded in week 1
    np.testing.assert_allclose(term.log_lift(model, ROWS, offers, 9),
                               [fresh * math.exp(-8 / L.adaptation_weeks)] * 2 + [0],
                               rtol=1e-5)


def test_a_campaign_bonus_does_not_fade(tiny):
    model, offers = tiny(n=3)
    offers.enrol(slice(None))
    offers.add_rebate(slice(None), 0.1)
    week_of(model, offers, 1)
    offers.add_rebate(slice(None), 0.1, bonus=True)  # double points this week
    term = model.behaviours[0].term("launch")
    faded = (L.novelty_lift + L.rebate_elasticity * 0.1) * math.exp(-51 / L.adaptation_weeks)
    np.testing.assert_allclose(term.log_lift(model, ROWS, offers, 52),
                               faded + L.rebate_elasticity * 0.1, rtol=1e-5)


@settings(max_examples=25, deadline=None)
@given(rebate=st.floats(0, 0.5), bonus=st.floats(0, 0.5), weeks=st.integers(1, 60))
def test_the_lift_never_exceeds_the_bound(tiny, rebate, bonus, weeks):
    model, offers = tiny(n=3)
    offers.enrol(slice(None))
    offers.add_rebate(slice(None), rebate)
    term = model.behaviours[0].term("launch")
    week_of(model, offers, 1)
    offers.add_rebate(slice(None), bonus, bonus=True)
    lift = term.log_lift(model, ROWS, offers, weeks)
    assert (lift <= term.upper_bound(model, offers, weeks) + 1e-6).all()
    # somebody joining makes the bound a new member's again
    model.add_customers("s", 1)
    assert term.upper_bound(model, offers, weeks) >= (
        L.novelty_lift + L.rebate_elasticity * rebate) - 1e-6  # float32 rebates
