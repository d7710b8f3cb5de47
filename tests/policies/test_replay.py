"""Replayed coupons: sent in the scheduled weeks to the scheduled share of each class."""

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from loyaltylab.agents import btyd_population
from loyaltylab.policies.replay import ReplayedCoupons, history_class
from loyaltylab.sim import LoyaltyModel


def test_history_classes_by_hand():
    classes = history_class(np.array([1, 2, 3, 4, 5, 40]), np)
    assert classes.tolist() == [0, 1, 2, 2, 3, 3]


def test_the_schedule_sends_each_class_its_share():
    shares = [0.1, 0.5, 0.9, 0.0]
    policy = ReplayedCoupons(amount_off=5, validity_weeks=2, schedule={4: shares})
    model = LoyaltyModel(btyd_population(20_000, 0.9, 3.0, 0.6, 6.0), [policy], seed=1,
                         record=True)
    model.run(3)
    classes = history_class(np.asarray(model.population["purchases"]) + 1, np)
    model.run(2)
    issued = model.campaign_log()
    got = np.zeros(len(classes), dtype=bool)
    got[issued["customer_id"].str[1:].astype(int).to_numpy()] = True
    # all sent in week 4 (days 28-34 of the log), valid two weeks
    assert len(issued) > 0 and (issued["start"] == pd.Timestamp("2024-01-29")).all()
    for k, share in enumerate(shares):
        n = int((classes == k).sum())
        observed = got[classes == k].mean()
        # three binomial standard errors
        assert abs(observed - share) <= 3 * np.sqrt(share * (1 - share) / n) + 1e-12, k


@pytest.mark.parametrize("field", [{"segments": ["btyd"]}, {"trigger": "inactive"},
                                   {"target_by": "p_alive", "target_min": 0.5}])
def test_targeting_fields_are_refused_not_ignored(field):
    with pytest.raises(ValidationError, match="a replayed campaign goes to whom its"):
        ReplayedCoupons(amount_off=5, schedule={3: [0.5] * 4}, **field)
