import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltylab.agents import CustomerBehaviour, default_population
from loyaltylab.experiments import validate_scenario
from loyaltylab.experiments.inputs import (
    InputRange,
    all_inputs,
    apply_economics,
    apply_inputs,
    draw_values,
    select,
)
from loyaltylab.experiments.scenario import ScenarioError
from loyaltylab.sim import Economics

SPEC = default_population(100)
INPUTS = all_inputs(SPEC, Economics(fixed_cost_per_week=1000.0))


def scenario(**extra):
    return validate_scenario({"name": "s", "population": {"size": 200}, "horizon_weeks": 4,
                              "arms": [{"name": "a"}, {"name": "b"}], **extra})


def test_every_coefficient_is_an_input_with_its_documented_range():
    described = CustomerBehaviour().describe()
    for row in described.itertuples():
        item = INPUTS[f"response.{row.term}.{row.name}"]
        assert (item.value, item.low, item.high) == (row.value, row.low, row.high)
    assert INPUTS["satisfaction.learning_rate"].group == "satisfaction"
    assert INPUTS["segments.core_loyal.purchase_rate_factor"].low == 0.8
    margin = INPUTS["economics.gross_margin"]
    assert (margin.low, margin.high, margin.upper) == pytest.approx((0.24, 0.36, 1.0))
    assert INPUTS["economics.fixed_cost_per_week"].high == 1250.0


def test_select_by_group_and_name_and_drops_inputs_without_a_range():
    chosen = select(INPUTS, ["satisfaction", "economics.gross_margin"])
    assert [i.group for i in chosen].count("satisfaction") == 8
    assert chosen[-1].name == "economics.gross_margin"
    no_fixed_cost = all_inputs(SPEC, Economics())  # 0 has no relative range
    assert select(no_fixed_cost, ["economics"])[-1].name == "economics.annual_discount_rate"
    assert [i.name for i in select(INPUTS, ["response.launch"])] == [
        "response.launch.novelty_lift", "response.launch.rebate_elasticity",
        "response.launch.adaptation_weeks"]
    with pytest.raises(ValueError, match="inputs: unknown input or group 'respons'"):
        select(INPUTS, ["respons"])


def test_quantiles_of_the_three_distributions():
    item = INPUTS["response.goal_gradient.strength"]  # uniform on [0.45, 0.95]
    assert item.quantile([0.0, 0.5, 1.0]) == pytest.approx([0.45, 0.7, 0.95])
    tri = item.with_range(InputRange(distribution="triangular", low=0.4, mode=0.5, high=1.0))
    # F(mode) = (mode - low) / (high - low) = 1/6
    assert tri.quantile([1 / 6]) == pytest.approx([0.5])
    normal = item.with_range(InputRange(distribution="normal", mean=0.7, sd=0.1))
    assert normal.quantile([0.5]) == pytest.approx([0.7], abs=1e-6)
    assert (normal.low, normal.high) == pytest.approx((0.7 - 0.196, 0.7 + 0.196), abs=1e-3)
    # a sensitivity analysis scans a normal's central 95%, a bounded range whole
    assert normal.scan([0.0, 1.0]) == pytest.approx([normal.low, normal.high])
    assert item.scan([0.0, 1.0]) == pytest.approx([0.45, 0.95])


@settings(max_examples=60, deadline=None)
@given(u=st.floats(0, 1), mean=st.floats(-5, 5), sd=st.floats(0.01, 10))
def test_a_normal_distribution_never_leaves_the_hard_bounds(u, mean, sd):
    share = INPUTS["response.redemption.stockpiler_share"]  # a share: in [0, 1]
    value = share.with_range(InputRange(distribution="normal", mean=mean, sd=sd)).quantile([u])
    assert 0.0 <= value[0] <= 1.0


def test_ranges_are_checked():
    item = INPUTS["response.redemption.stockpiler_share"]
    with pytest.raises(ValueError, match=r"high: must be in \[0, 1\]"):
        item.with_range(InputRange(low=0.1, high=1.5))
    with pytest.raises(ValueError, match="mode: required"):
        InputRange(distribution="triangular", low=0, high=1)
    with pytest.raises(ValueError, match="sd: not a parameter of the uniform"):
        InputRange(low=0, high=1, sd=1)
    with pytest.raises(ValueError, match="high: must be greater than low"):
        InputRange(low=1, high=1)


def test_apply_inputs_sets_the_values_on_a_copy():
    values = {"response.goal_gradient.strength": 0.5, "response.redemption.stockpiler_share": 0.3,
              "satisfaction.value": 4.0, "segments.basic.purchase_rate_factor": 1.25,
              "segments.dormant.incentive_sensitivity": 0.9}
    spec = apply_inputs(SPEC, values)
    behaviour = spec.behaviours()[0]
    assert behaviour.term("goal_gradient").coefficients.strength == 0.5
    assert behaviour.redemption.coefficients.stockpiler_share == 0.3
    assert behaviour.satisfaction.coefficients.value == 4.0
    basic = SPEC.segments[SPEC.segment_names.index("basic")]
    new_basic = spec.segments[SPEC.segment_names.index("basic")]
    assert new_basic.bgnbd.alpha == pytest.approx(basic.bgnbd.alpha / 1.25)
    assert spec.segments[-1].incentive_sensitivity == 0.9
    # the original is untouched
    assert SPEC.behaviours()[0].term("goal_gradient").coefficients.strength == 0.7
    assert apply_inputs(SPEC, {}) is SPEC
    with pytest.raises(ValueError, match=r"response.goal_gradient.carry: must be in \[0, 1\]"):
        apply_inputs(SPEC, {"response.goal_gradient.carry": 1.5})
    economics = apply_economics(Economics(), {"economics.gross_margin": 0.4})
    assert economics.gross_margin == 0.4


def test_draw_values_maps_the_unit_cube_through_each_input():
    chosen = [INPUTS["response.goal_gradient.strength"], INPUTS["economics.gross_margin"]]
    points = draw_values(chosen, np.array([[0.0, 1.0], [0.5, 0.5]]))
    assert points[0] == pytest.approx({"response.goal_gradient.strength": 0.45,
                                       "economics.gross_margin": 0.36})
    assert points[1]["economics.gross_margin"] == pytest.approx(0.30)


def test_scenario_parameters_and_uncertainty_are_validated_with_their_paths():
    s = scenario(parameters={"response.launch.novelty_lift": 0.1},
                 uncertainty={"draws": 5, "inputs": ["response", "economics.gross_margin"],
                              "ranges": {"response.launch.novelty_lift":
                                         {"distribution": "triangular", "low": 0.0,
                                          "mode": 0.1, "high": 0.2}}})
    assert s.spec(10).behaviours()[0].term("launch").coefficients.novelty_lift == 0.1
    assert s.inputs()["response.launch.novelty_lift"].value == 0.1
    assert s.inputs()["response.launch.novelty_lift"].distribution == "triangular"
    assert s.uncertain()[-1].name == "economics.gross_margin"
    varied = s.with_inputs({"economics.gross_margin": 0.2, "satisfaction.value": 2.0})
    assert varied.economics.gross_margin == 0.2
    assert varied.parameters == {"response.launch.novelty_lift": 0.1, "satisfaction.value": 2.0}
    cases = [
        ({"parameters": {"response.launch.novelty": 0.1}}, "parameters.response.launch.novelty"),
        ({"parameters": {"response.launch": 0.1}},
         "parameters.response.launch: unknown input 'response.launch'; give an input's full"),
        ({"uncertainty": {"ranges": {"response.launch": {"low": 0, "high": 1}}}},
         "uncertainty.ranges.response.launch: unknown input"),
        ({"parameters": {"economics.gross_margin": 0.2}}, "set the economics in [economics]"),
        ({"parameters": {"response.redemption.stockpiler_share": 2.0}},
         "parameters.response.redemption.stockpiler_share: must be in [0, 1]"),
        ({"uncertainty": {"ranges": {"satisfaction.value": {"low": -1, "high": 2}}}},
         "uncertainty.ranges.satisfaction.value.low: must be in"),
        ({"uncertainty": {"inputs": ["nothing"]}}, "uncertainty.inputs[0]: unknown input"),
        ({"uncertainty": {"draws": -1}}, "uncertainty.draws"),
        # (once unbounded: validated, then overflowed mid-run)
        ({"parameters": {"satisfaction.value": 1e300}},
         "parameters.satisfaction.value: must be in [0, 60]"),
        ({"parameters": {"satisfaction.memory_weeks": 5e-324}},
         "parameters.satisfaction.memory_weeks: must be in [1.3, 520]"),
        ({"parameters": {"segments.basic.incentive_sensitivity": 11}},
         "parameters.segments.basic.incentive_sensitivity: must be in [0, 10]"),
        ({"parameters": {"segments.basic.purchase_rate_factor": 1e300}},
         "parameters.segments.basic.purchase_rate_factor: must be in [0.1, 10]"),
    ]
    for extra, message in cases:
        with pytest.raises(ScenarioError) as err:
            scenario(**extra)
        assert message in str(err.value), (extra, str(err.value))
    # ten times the plausible range's top (once unbounded, and 1e300 overflowed mid-run)
    assert INPUTS["satisfaction.value"].upper == 60.0
