"""Metric definitions: each value checked on a tiny hand-computed case, and the registry
that every table is generated from."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loyaltylab.experiments.arm import ArmOutcome
from loyaltylab.experiments.metrics import (
    METRICS,
    arm_metrics,
    effect_metrics,
    first_week_paid_back,
    format_value,
    lookup,
    metric_table,
)

SEGMENTS = ["a", "b"]


def outcome(weekly_margin=(0.0, 0.0), weekly_cost=(0.0, 0.0), points=None, value=0.0,
            **columns) -> ArmOutcome:
    """An arm of three customers (segments a, a, b) with the given columns."""
    base = {
        "segment": pd.Categorical.from_codes([0, 0, 1], SEGMENTS),
        "segment_observed": pd.Categorical.from_codes([-1, -1, -1], ["core_loyal"]),
        "purchases": [0, 2, 3],
        "periods_bought_13w": [0, 2, 1],
        "periods_repeat_13w": [0, 0, 1],
        "gross_revenue": [0.0, 120.0, 250.0],
        "net_revenue": [0.0, 100.0, 200.0],  # the second's includes a friend's 40
        "referred": [0, 1, 0],
        "referred_gross_revenue": [0.0, 50.0, 0.0],
        "referred_net_revenue": [0.0, 40.0, 0.0],
        "program_cost": [0.0, 10.0, 20.0],
        "program_cost_cash": [0.0, 6.0, 14.0],
        "margin": [0.0, 20.0, 40.0],
        "margin_cash": [0.0, 24.0, 46.0],
        "clv": [0.0, 50.0, 70.0],
        "active": [False, True, True],
        "nps_answer": pd.array([pd.NA, 9, 5], dtype="Int8"),
    }
    base.update(columns)
    weekly = pd.DataFrame({"week": [1, 2], "margin": weekly_margin,
                           "program_cost": weekly_cost, "cost_rewards": [0.0, 0.0],
                           "cost_coupons": [3.0, 0.0]})
    return ArmOutcome(weekly=weekly, customers=pd.DataFrame(base), fixed_cost=0.0,
                      points=points, value_per_point=value, periods=(13,))


def test_customer_metrics_by_hand():
    m = arm_metrics(outcome())
    assert m["retention"] == pytest.approx(2 / 3)
    assert m["churn"] == pytest.approx(1 / 3)
    assert m["repurchase_rate"] == pytest.approx(2 / 3)
    assert m["repurchase_rate_13w"] == pytest.approx(1 / 3)  # 1 repeat in 3 bought periods
    assert m["purchase_frequency"] == pytest.approx(5 / 3)
    assert m["average_order_value"] == pytest.approx(320.0 / 5)  # own gross per order
    assert m["average_order_value_net"] == pytest.approx(260.0 / 5)  # own net per order
    assert m["referred_customers"] == pytest.approx(1 / 3)
    assert m["program_cost"] == pytest.approx(10.0)
    assert m["program_cost_cash"] == pytest.approx(20 / 3)
    assert m["cost_to_revenue"] == pytest.approx(30 / 300)  # accrual cost / net revenue
    assert m["nps"] == pytest.approx(0.0)  # one promoter, one detractor
    assert m["clv_a"] == pytest.approx(25.0)
    assert m["repurchase_rate_b"] == 1.0
    assert m["margin_b"] == 40.0 and m["program_cost_a"] == 5.0
    assert m["nps_a"] == 100.0 and m["nps_b"] == -100.0
    assert m["cost_coupons"] == pytest.approx(1.0)  # 3 over 3 customers
    # no history before launch: no segments as the firm sees them
    assert not any(k.endswith("_observed") for k in m)


def test_segments_seen_at_launch_are_reported_beside_the_labels():
    seen = pd.Categorical.from_codes([0, 1, 1], ["core_loyal", "basic"])
    m = arm_metrics(outcome(segment_observed=seen))
    assert m["retention_core_loyal_observed"] == 0.0
    assert m["retention_basic_observed"] == 1.0
    assert m["clv_basic_observed"] == pytest.approx(60.0)


def test_nps_of_respondents_only_in_points():
    answers = pd.array([10, 9, 7], dtype="Int8")
    assert arm_metrics(outcome(nps_answer=answers))["nps"] == pytest.approx(200 / 3)


def test_roi_and_retained_per_1000_by_hand():
    control = outcome()
    arm = outcome(program_cost=[3.0, 13.0, 23.0], margin=[6.0, 26.0, 46.0],
                  program_cost_cash=[1.0, 7.0, 16.0], margin_cash=[7.0, 30.0, 52.0],
                  active=[True, True, True], net_revenue=[10.0, 110.0, 210.0])
    e = effect_metrics(arm, control)
    assert e["incremental_program_cost"] == pytest.approx(3.0)
    assert e["incremental_margin"] == pytest.approx(6.0)
    assert e["incremental_revenue"] == pytest.approx(10.0)
    assert e["roi"] == pytest.approx(6.0 / 3.0)
    # cash view: cost +4/3, margin +19/3
    assert e["roi_cash"] == pytest.approx(19 / 4)
    # one more customer active of three, for 3 per customer: 1000 * (1/3) / 3
    assert e["retained_per_1000"] == pytest.approx(1000 / 9)
    assert e["roi_a"] == pytest.approx(2.0) and e["roi_b"] == pytest.approx(2.0)
    # an arm that costs nothing more has no ROI
    free = effect_metrics(outcome(margin=[1.0, 21.0, 41.0]), control)
    assert math.isnan(free["roi"]) and math.isnan(free["retained_per_1000"])


def test_payback_week_and_the_share_that_pays_back():
    control = outcome(weekly_margin=(10.0, 10.0), weekly_cost=(0.0, 0.0))
    slow = outcome(weekly_margin=(5.0, 16.0), weekly_cost=(8.0, 1.0))
    e = effect_metrics(slow, control)
    assert e["payback_week"] == 2.0 and e["paid_back"] == 1.0
    never = effect_metrics(outcome(weekly_margin=(5.0, 12.0), weekly_cost=(8.0, 1.0)),
                           control)
    assert math.isnan(never["payback_week"]) and never["paid_back"] == 0.0
    # nothing invested: no payback to speak of, whatever the margin did
    nothing = effect_metrics(outcome(weekly_margin=(12.0, 12.0)), control)
    assert math.isnan(nothing["payback_week"]) and math.isnan(nothing["paid_back"])


def test_first_week_paid_back():
    assert first_week_paid_back(np.array([-3.0, 1.0, 1.0, 1.0, 1.0])) == 4.0
    assert first_week_paid_back(np.array([1.0, 1.0])) == 1.0
    assert math.isnan(first_week_paid_back(np.array([-3.0, 1.0])))


def test_points_metrics_by_hand():
    # 1,000 points earned: 600 redeemed, 100 expired, 300 held of which 200 are
    # expected to be redeemed; a point is worth 0.1
    table = pd.DataFrame({"awarded": [1000.0], "redeemed": [600.0], "expired": [100.0],
                          "outstanding": [300.0], "expected_redemptions": [200.0],
                          "urr": [0.8], "expected_breakage": [0.2],
                          "outstanding_redemption_share": [2 / 3],
                          "realised_breakage": [0.1]}, index=["all"])
    m = arm_metrics(outcome(points=table, value=0.1))
    assert m["points_liability"] == pytest.approx(200 * 0.1 / 3)
    assert m["redemption_share"] == pytest.approx(0.8)
    assert m["breakage"] == pytest.approx(0.2)
    assert m["breakage_realised"] == pytest.approx(0.1)
    assert m["redemption_rate"] == pytest.approx(0.6)
    none = arm_metrics(outcome())
    assert none["points_liability"] == 0.0 and math.isnan(none["breakage"])


def test_names_resolve_to_their_metric_and_format_in_its_unit():
    assert lookup("clv_core_loyal_observed_rel_change") == (METRICS["clv"], True)
    assert lookup("repurchase_rate_13w_basic")[0].name == "repurchase_rate_{p}w"
    assert lookup("repurchase_rate_basic")[0].name == "repurchase_rate"
    assert lookup("cost_rewards_cash")[0].name == "cost_{component}"
    assert lookup("cost_to_revenue")[0].name == "cost_to_revenue"
    assert format_value("retention", 0.031, effect=True) == "+3.1 pp"
    assert format_value("retention", 0.5) == "50.0%"
    assert format_value("nps", 4.25, effect=True) == "+4.2 pts"
    assert format_value("clv_rel_change", 0.1) == "+10.0%"
    assert format_value("roi", float("nan")) == "-"
    with pytest.raises(KeyError, match="no registered metric"):
        lookup("no_such_metric")


def test_the_readme_metric_table_is_the_registry():
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert metric_table() in readme
