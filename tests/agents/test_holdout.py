
import numpy as np
import pytest

from loyaltylab.agents import SegmentRules, holdout_check
from loyaltylab.errors import InputError


def test_cdnow_holdout_simulator_agrees_with_the_closed_form(cdnow_log):
    """39 weeks to fit, 39 to forecast: the FHL 2005 design.

    200 copies of the 2,357 customers make the Monte Carlo standard error of the
    simulated holdout total about 0.4%, so a 2% tolerance is five standard errors.
    """
    result = holdout_check(cdnow_log, 39, 39, replications=200, seed=3)
    e = result.errors
    assert result.calibration_end.strftime("%Y-%m-%d") == "1997-09-30"
    assert result.holdout_end.strftime("%Y-%m-%d") == "1998-06-30"
    weekly = result.weekly
    assert list(weekly["week"]) == list(range(1, 79))
    assert {"week", "actual", "simulated", "analytic"} <= set(weekly.columns)
    assert (weekly["period"] == "holdout").sum() == 39
    # the log's own counts: 2,457 repeat purchases in the calibration period (FHL 2005)
    assert weekly["cumulative_actual"].iloc[38] == 2457
    assert e["actual"] == 1882
    assert e["simulated_se_relative"] < 0.005
    assert abs(e["simulated_vs_analytic"]) < 0.02
    assert abs(e["simulated_vs_analytic"]) < 4 * e["simulated_se_relative"]
    # week by week, too, over the holdout (each week about 40 purchases)
    hold = weekly[weekly["period"] == "holdout"]
    assert np.abs(hold["simulated"] - hold["analytic"]).max() < 0.1 * hold["analytic"].min()
    # the model's forecast itself: BG/NBD under-forecasts this holdout by about 12%
    assert -0.15 < e["analytic_vs_actual"] < -0.08
    assert result.calibration.segments[0].bgnbd.r == pytest.approx(0.2426, abs=1e-3)


def test_holdout_with_segments_and_a_short_log(cdnow_log):
    # 26 weeks cannot show a customer 26 weeks without a purchase: the strategy's
    # dormant rule is refused, naming it; rules with a 13-week dormancy work.
    with pytest.raises(InputError, match="dormant_min_weeks_since: 26 weeks"):
        holdout_check(cdnow_log, 26, 60, segments="rules", replications=2)
    rules = SegmentRules(currency="USD", core_min_spend=100, potential_min_spend=40,
                         dormant_max_spend=20, dormant_min_weeks_since=13)
    result = holdout_check(cdnow_log, 26, 60, segments="rules", replications=100, seed=1,
                           rules=rules, currency="USD")
    assert result.calibration.population.segment_rules == rules
    assert len(result.calibration.segments) == 4
    e = result.errors
    assert abs(e["simulated_vs_analytic"]) < max(0.02, 4 * e["simulated_se_relative"])
    assert result.notes and "before the holdout's end" in result.notes[0]
    assert result.weekly["actual"].iloc[-8:].sum() == 0   # weeks after the log ends
    with pytest.raises(ValueError, match="holdout_weeks"):
        holdout_check(cdnow_log, 39, 0)
