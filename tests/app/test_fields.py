"""Forms from the models' own metadata: names, kinds, bounds, units and help."""

import pytest

from loyaltylab.app.fields import bounds_text, documented, form_fields, from_text, to_text
from loyaltylab.app.scenario_file import DEFAULT
from loyaltylab.experiments.scenario import Arm, PopulationConfig, Scenario
from loyaltylab.policies import CouponPolicy, PointsPolicy, policy_class, registered
from loyaltylab.sim import Economics


@pytest.mark.parametrize("model", [Scenario, PopulationConfig, Arm, Economics,
                                   *(policy_class(name) for name in registered())],
                         ids=lambda m: m.__name__)
def test_every_field_of_every_model_is_in_its_form_with_help(model):
    fields = form_fields(model)
    assert [f.name for f in fields] == list(model.model_fields)
    undocumented = [f.name for f in fields if not f.help]
    assert undocumented == []


def by_name(model, name, currency="yuan"):
    return next(f for f in form_fields(model, currency) if f.name == name)


def test_kinds_defaults_and_bounds_come_from_the_model():
    value = by_name(PointsPolicy, "value_per_point")
    assert (value.kind, value.default, value.bounds) == ("number", 0.1, "in [1e-12, 1e+06]")
    trigger = by_name(CouponPolicy, "trigger")
    assert trigger.kind == "choice" and "inactive" in trigger.choices
    assert by_name(CouponPolicy, "segments").kind == "names"
    assert by_name(PointsPolicy, "campaigns").kind == "table"
    assert by_name(PointsPolicy, "expiry_weeks").bounds == "in [1, 32767]"
    assert by_name(CouponPolicy, "pct_off").bounds == "in [0, 1)"
    assert by_name(CouponPolicy, "validity_weeks").bounds == "in [1, 32767]"
    assert bounds_text(CouponPolicy.model_fields["trigger"]) == ""
    name = by_name(Scenario, "name")
    assert name.required and not name.optional


def test_optional_means_a_file_can_say_none_by_leaving_the_key_out():
    assert by_name(CouponPolicy, "budget").optional  # default None
    assert not by_name(PointsPolicy, "expiry_weeks").optional  # default 52: no way to say None


def test_units_follow_the_names_and_the_documentation():
    units = {f.name: f.unit for f in form_fields(PointsPolicy, "EUR")}
    assert units["value_per_point"] == "EUR"
    assert units["earn_per_currency"] == "points per EUR"
    assert units["expiry_weeks"] == "weeks"
    assert units["signup_bonus"] == "points"
    assert by_name(CouponPolicy, "min_spend").label == "min_spend (yuan)"
    assert by_name(CouponPolicy, "pct_off").unit == "share"
    assert by_name(CouponPolicy, "trigger").unit == ""  # choices have no unit


def test_the_help_is_the_docstring_entry_of_the_field():
    helps = documented(CouponPolicy)
    assert helps["min_spend"].startswith("Order value needed to use the coupon, currency units")
    assert helps["target_min"] == helps["target_max"]  # one entry naming both
    # a description line that looks like an entry ("None: never.") is not one
    assert documented(PointsPolicy)["expiry_weeks"].endswith("None: never.")


def test_typed_text_becomes_the_value_a_scenario_file_holds():
    value = by_name(PointsPolicy, "value_per_point")
    assert from_text(value, "0.05") == 0.05
    assert from_text(value, "1,000") == 1000
    assert from_text(value, "a lot") == "a lot"  # for validation to refuse, as in a file
    assert from_text(value, " ") is DEFAULT
    expiry = by_name(PointsPolicy, "expiry_weeks")
    assert from_text(expiry, "26") == 26
    assert from_text(expiry, "2.5") == 2.5  # refused by validation: not a whole number
    segments = by_name(CouponPolicy, "segments")
    assert from_text(segments, "basic, dormant") == ["basic", "dormant"]
    assert to_text(segments, ["basic", "dormant"]) == "basic, dormant"
    campaigns = by_name(PointsPolicy, "campaigns")
    text = to_text(campaigns, [{"weeks": [6, 46], "multiplier": 2.0}])
    assert text == "[{ weeks = [6, 46], multiplier = 2.0 }]"
    assert from_text(campaigns, text) == [{"weeks": [6, 46], "multiplier": 2.0}]
    with pytest.raises(ValueError, match="not a TOML value"):
        from_text(campaigns, "[{ weeks = }]")
    flag = by_name(Arm, "control")
    assert from_text(flag, "true") is True and to_text(flag, False) == "false"
