"""Targets a strategist sets: validation, and their status from replication values."""

import math

import pandas as pd
import pytest

from loyaltylab.experiments import DEFAULT_TARGETS, ScenarioError, Target, validate_scenario
from loyaltylab.experiments.targets import change_text, target_table


def values(rows):
    """Replication values: {(arm, metric): [value per replication]}."""
    out = []
    for (arm, metric), xs in rows.items():
        out += [{"replication": r, "arm": arm, "metric": metric, "value": x}
                for r, x in enumerate(xs)]
    return pd.DataFrame(out)


def test_relative_and_absolute_changes_against_the_control():
    v = values({("c", "churn"): [0.50, 0.40, 0.60], ("t", "churn"): [0.30, 0.28, 0.36],
                ("c", "nps"): [10.0, 12.0, 8.0], ("t", "nps"): [16.0, 17.0, 15.0]})
    targets = [Target(metric="churn", direction="<=", threshold=-0.30),
               Target(metric="nps", change="absolute", threshold=5.0)]
    table = target_table(v, "c", targets).set_index("metric")
    # churn: -40%, -30%, -40% -> mean -36.7%
    assert table.at["churn", "estimate"] == pytest.approx(-(0.4 + 0.3 + 0.4) / 3)
    assert table.at["nps", "estimate"] == pytest.approx(6.0)  # +6, +5, +7 points
    assert table.at["nps", "ci_low"] < 5 < table.at["nps", "ci_high"]
    assert table.at["nps", "status"] == "uncertain"
    met = target_table(v, "c", [Target(metric="nps", change="absolute", threshold=2.0)])
    assert met["status"].tolist() == ["met"]
    missed = target_table(v, "c", [Target(metric="nps", change="absolute", threshold=9.0)])
    assert missed["status"].tolist() == ["not met"]
    assert change_text(table.reset_index().iloc[1])[2] == "+5.0 pts"


def test_a_relative_change_of_a_negative_score_is_not_measured():
    v = values({("c", "nps"): [-5.0, 3.0], ("t", "nps"): [1.0, 6.0]})
    row = target_table(v, "c", [Target(metric="nps", threshold=0.25)]).iloc[0]
    assert row["status"] == "not measured" and "absolute target" in row["note"]
    assert math.isnan(row["estimate"])


def test_segments_seen_at_launch_need_a_history():
    v = values({("c", "churn"): [0.5, 0.5], ("t", "churn"): [0.4, 0.4]})
    row = target_table(v, "c", [DEFAULT_TARGETS[0]]).iloc[0]
    assert row["metric"] == "repurchase_rate_4w_core_loyal_observed"
    assert row["status"] == "not measured" and "burn_in_weeks" in row["note"]


def test_bad_targets_are_rejected_naming_the_field():
    base = {"name": "t", "population": {"size": 100},
            "arms": [{"name": "a"}, {"name": "b"}]}
    for target, message in [
        ({"metric": "happiness", "threshold": 1}, "targets[0].metric: unknown metric"),
        ({"metric": "churn", "period_weeks": 4, "threshold": 1},
         "targets[0].period_weeks: only for"),
        ({"metric": "nps", "segment": "vip", "threshold": 1}, "targets[0].segment"),
        ({"metric": "purchase_frequency", "segment": "basic", "threshold": 1},
         "not reported per segment"),
        ({"metric": "roi", "threshold": 1}, "use change = 'absolute'"),
        ({"metric": "clv", "segment": "vip", "segment_basis": "label", "threshold": 1},
         "unknown segment 'vip'"),
    ]:
        with pytest.raises(ScenarioError, match=message.replace("[", r"\[")):
            validate_scenario({**base, "targets": [target]})
    scenario = validate_scenario(base)
    assert scenario.targets == list(DEFAULT_TARGETS) and scenario.periods == (4, 13)
    custom = validate_scenario({**base, "targets": [
        {"metric": "repurchase_rate", "period_weeks": 4, "threshold": 0.1}]})
    assert custom.periods == (4, 13)
    assert custom.targets[0].summary_metric == "repurchase_rate_4w"
