import numpy as np
import pytest

import loyaltylab.policies  # noqa: F401
from loyaltylab.policies import PolicyCheckError, check_policy, make, registered
from loyaltylab.sim import Policy


@pytest.mark.parametrize("name", ["points", "tiers", "coupons", "service", "reminders",
                                  "referral"])
def test_every_builtin_policy_passes_the_checker(name):
    assert name in registered()
    check_policy(make(name), weeks=20)


class NegativeCost(Policy):
    name = "negative_cost"

    def end_of_week(self, model, week):
        model.ledger.costs["service"] -= 1.0  # bypasses the ledger's own check


class Unbalanced(Policy):
    name = "unbalanced"

    def end_of_week(self, model, week):
        model.points.total_earned += 1  # books points nobody holds


class Random(Policy):
    name = "random"

    def settle(self, model, sale, week):
        amount = np.random.default_rng().random(len(sale))  # not from model.streams
        sale.apply_discount("coupons", amount)


@pytest.mark.parametrize("policy,message", [
    (NegativeCost(), "negative program cost"),
    (Unbalanced(), "do not match the ledger"),
    (Random(), "not deterministic"),
])
def test_checker_catches_broken_policies(policy, message):
    with pytest.raises(PolicyCheckError, match=message):
        check_policy(policy, weeks=5)
