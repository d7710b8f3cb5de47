"""The page's form: every field of every model shown, each input findable by its path."""

from loyaltylab.app.pages import css_class, layout
from loyaltylab.app.templates import template
from loyaltylab.app.validation import path_of
from loyaltylab.experiments.scenario import read_scenario_data
from loyaltylab.policies import CouponPolicy, PointsPolicy
from loyaltylab.sim import Economics


def test_the_form_has_every_parameter_of_every_policy_of_every_arm():
    sections = layout(read_scenario_data("scenarios/winback.toml"))
    by_title = {s.title: s for s in sections}
    coupon = by_title["Arm 2, policy 0: coupons"]
    assert (coupon.arm, coupon.policy) == (2, 0)
    assert [k[-1] for k, _ in coupon.entries] == ["type", *CouponPolicy.model_fields]
    points = by_title["Arm 2, policy 1: points"]
    assert [k[-1] for k, _ in points.entries][1:] == list(PointsPolicy.model_fields)
    assert [k for k, _ in by_title["Economics"].entries] == [
        ("economics", name) for name in Economics.model_fields]
    assert by_title["Arm 0"].arm == 0 and by_title["Arm 0"].policy is None


def test_a_design_arm_shows_its_design():
    sections = layout(template("full program"))
    [arm] = [s for s in sections if s.title == "Arm 1"]
    assert ("arms", 1, "design") in [k for k, _ in arm.entries]


def test_every_input_is_found_by_its_field_path():
    keys = ("arms", 1, "policies", 0, "min_spend")
    assert css_class(path_of(keys)) == "lab-field-arms-1-policies-0-min_spend"
