from importlib import metadata

import pytest

import loyaltylab.policies  # noqa: F401  (registers the built-ins)
from loyaltylab.policies import registry
from loyaltylab.policies.registry import make, policy_class, register, registered
from loyaltylab.sim import Policy


class Cashback(Policy):
    name = "cashback"

    def __init__(self, share=0.02):
        self.share = share


def test_builtins_are_registered_and_defaults_make_a_program():
    for name in ("points", "tiers", "coupons", "service", "reminders", "referral"):
        assert name in registered()
        policy = make(name)
        assert policy.name == name
        assert policy.clone().get_params() == policy.get_params()


def test_typo_gets_did_you_mean():
    with pytest.raises(ValueError, match="unknown policy 'pionts'; did you mean 'points'"):
        make("pionts")
    with pytest.raises(ValueError, match="Registered: "):
        policy_class("zzz")


def test_bad_parameter_is_named():
    with pytest.raises(ValueError, match="value_per_point"):
        make("points", value_per_point=-1)
    with pytest.raises(ValueError, match="earn_rate"):
        make("points", earn_rate=2)  # not a parameter: rejected, not ignored


def test_plugins_register_through_the_entry_point_group(monkeypatch):
    entry = metadata.EntryPoint(name="cashback", value=f"{__name__}:Cashback",
                                group=registry.ENTRY_POINT_GROUP)

    def fake_entry_points(group):
        return [entry] if group == registry.ENTRY_POINT_GROUP else []

    monkeypatch.setattr(registry.metadata, "entry_points", fake_entry_points)
    monkeypatch.setattr(registry, "_entry_points_loaded", False)
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    assert "cashback" in registered()
    assert make("cashback", share=0.05).share == 0.05


def test_register_refuses_non_policies_and_name_clashes(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    with pytest.raises(TypeError, match="Policy"):
        register("thing")(dict)
    with pytest.raises(ValueError, match="taken"):
        register("points")(Cashback)
