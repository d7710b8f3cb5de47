import numpy as np
import pytest

from loyaltylab.agents import default_population
from loyaltylab.policies.service import ServicePolicy
from loyaltylab.sim import LoyaltyModel

SPEC = default_population(40_000)


def test_cost_per_active_member_week_hand_computed():
    model = LoyaltyModel(SPEC, policies=[ServicePolicy(cost_per_member_week=8.0)], seed=1)
    model.run(1)
    n_core = SPEC.initial_counts()[0]
    assert model.weekly["cost_service"].iloc[0] == 8.0 * n_core  # all active in week 1
    core = model.population["segment"] == 0
    np.testing.assert_allclose(model.population["program_cost"][core], 8.0)
    assert model.population["program_cost"][~core].sum() == 0


def test_service_lowers_dropout_of_its_segment_only():
    control = LoyaltyModel(SPEC, seed=2)
    served = LoyaltyModel(SPEC, policies=[ServicePolicy(dropout_multiplier=0.5)], seed=2)
    control.run(52)
    served.run(52)
    core = control.population["segment"] == 0
    # common random numbers: a halved dropout probability never kills a survivor
    assert (served.population["alive"][core] >= control.population["alive"][core]).all()
    assert served.population["alive"][core].sum() > control.population["alive"][core].sum()
    np.testing.assert_array_equal(served.population["alive"][~core],
                                  control.population["alive"][~core])


def test_bad_targets_are_named():
    with pytest.raises(ValueError, match="segments"):
        LoyaltyModel(SPEC, policies=[ServicePolicy(segments=["vip"])])
    with pytest.raises(ValueError, match="tiers"):
        LoyaltyModel(SPEC, policies=[ServicePolicy(tiers=["Gold"])])
    with pytest.raises(ValueError, match="dropout_multiplier"):
        ServicePolicy(dropout_multiplier=0)
    # (once: log(0) in the satisfaction of the service, a float32 of 5e-324 being 0)
    with pytest.raises(ValueError, match="dropout_multiplier"):
        ServicePolicy(dropout_multiplier=5e-324)
