"""Tier status: the lift, the loss of a demotion, its half-life and its repair."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltylab.agents import default_population
from loyaltylab.agents.terms import StatusCoefficients
from loyaltylab.sim import LoyaltyModel, Offers, Policy, Sale

S = StatusCoefficients()
ROWS = np.arange(2)
EMPTY = np.zeros(0, dtype=np.int64)


def no_sale():
    return Sale(rows=EMPTY, purchases=EMPTY, first_order=np.zeros(0), gross=np.zeros(0),
                coupon=EMPTY, redeem=np.zeros(0, bool), dropout=np.zeros(0, bool))


def offer_status(model, status, changed=None):
    offers = Offers(model.population.n, np)
    kept = np.asarray(status, dtype=np.float32)
    offers.lend("status", kept, changed=changed)
    return offers


def test_loss_added_at_a_demotion_halves_and_is_repaired_by_a_rise(tiny):
    model, _ = tiny(n=2)
    term = model.behaviours[0].term("status")
    offers = offer_status(model, [1.0, 0.0])
    term.update(model, slice(None), no_sale(), offers, 1)  # first sight: no loss
    np.testing.assert_allclose(term.log_lift(model, ROWS, offers, 1), [S.status_lift, 0])
    demoted = offer_status(model, [0.0, 0.0], changed=np.array([0]))
    term.update(model, slice(None), no_sale(), demoted, 4)
    np.testing.assert_allclose(term.loss(model, ROWS, 4), [1.0, 0.0])
    lift = term.log_lift(model, ROWS, demoted, 4)
    np.testing.assert_allclose(lift, [-S.status_lift * S.demotion_loss_weight, 0], rtol=1e-6)
    half = 4 + S.loss_half_life_weeks
    np.testing.assert_allclose(term.loss(model, ROWS, half), [0.5, 0.0], rtol=1e-3)
    np.testing.assert_allclose(term.log_dropout(model, ROWS, demoted, half),
                               [S.status_dropout * S.demotion_loss_weight * 0.5, 0], rtol=1e-3)
    # regaining half the status repairs half a unit of loss: none is left
    back = offer_status(model, [0.5, 0.0], changed=np.array([0]))
    term.update(model, slice(None), no_sale(), back, int(half))
    np.testing.assert_allclose(term.loss(model, ROWS, int(half)), [0.0, 0.0], atol=2e-3)


class RandomStatus(Policy):
    """Random statuses per week; lends them with the changed rows, or writes them."""

    name = "random_status"

    def __init__(self, seed=0, lend=True):
        self.seed = seed
        self.lend = lend

    def setup(self, model):
        self.rng = np.random.default_rng(self.seed)
        self.status = np.zeros(model.population.n, dtype=np.float32)

    def make_offers(self, model, offers, week):
        old = self.status.copy()
        moved = self.rng.random(old.size) < 0.1
        self.status[moved] = self.rng.integers(0, 4, moved.sum()) / 3
        offers.enrol(slice(None))
        if self.lend:
            changed = np.nonzero(self.status != old)[0] if week > 1 else None
            offers.lend("status", self.status, changed=changed)
        else:
            offers.set_status(slice(None), self.status)

    def get_params(self):
        return {"seed": self.seed, "lend": self.lend}


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 1000))
def test_the_changed_rows_of_a_lent_status_give_the_run_of_looking_at_every_row(seed):
    spec = default_population(3000)
    lent = LoyaltyModel(spec, policies=[RandomStatus(seed, lend=True)], seed=seed)
    dense = LoyaltyModel(spec, policies=[RandomStatus(seed, lend=False)], seed=seed)
    lent.run(15)
    dense.run(15)
    pd.testing.assert_frame_equal(lent.weekly, dense.weekly)
    np.testing.assert_array_equal(lent.population["status_loss"],
                                  dense.population["status_loss"])
    assert (lent.population["status_loss"] > 0).any()
