
import numpy as np
import pandas as pd
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


def test_a_warm_up_fixes_the_forecast_of_a_truncated_log(truncated_log):
    """Treating every customer of a log that starts mid-relationship as new at his or her
    first purchase in it under-forecasts weeks 2-11 of the calibration period by about
    11%; with a 4-week warm-up the forecast is within 2% (each week holds about 3,000
    purchases, so the Poisson noise of the ten weeks' total is 0.6%)."""
    log = truncated_log["log"]
    naive = holdout_check(log, 26, 26, replications=4, seed=1)
    fixed = holdout_check(log, 26, 26, warm_up_weeks=4, replications=20, seed=1)

    def weeks_2_to_11(result):
        w = result.weekly.iloc[1:11]
        return w["analytic"].sum() / w["actual"].sum() - 1

    assert weeks_2_to_11(naive) < -0.08
    assert abs(weeks_2_to_11(fixed)) < 0.02
    e = fixed.errors
    assert abs(e["analytic_vs_actual"]) < 0.03
    # the simulator counts the existing customers seen in the warm-up as the log does
    assert abs(e["simulated_vs_analytic"]) < 4 * e["simulated_se_relative"]
    assert [s.name for s in fixed.calibration.segments] == ["existing", "new"]
    # The conditional-expectation table covers the same cohort. Treated as new, the
    # customers who had not bought again are forecast 50% above what they did; with the
    # warm-up, within 10% (1,700 customers), and the whole cohort within 2%.
    table = fixed.conditional
    assert table["customers"].sum() == len(fixed.calibration.assignment)
    for result, low, high in ((naive, 0.3, 1.0), (fixed, -0.1, 0.1)):
        zero = result.conditional.loc["0"]
        assert low < zero["predicted"] / zero["actual"] - 1 < high
    totals = (table[["actual", "predicted"]].mul(table["customers"], axis=0)).sum()
    assert abs(totals["predicted"] / totals["actual"] - 1) < 0.02


def test_late_joiners_are_reported_and_optionally_forecast(truncated_log):
    log = truncated_log["log"]
    left_out = holdout_check(log, 26, 26, warm_up_weeks=4, replications=4, seed=2)
    (note,) = [n for n in left_out.notes if "late joiners" in n]
    assert "first seen in the holdout" in note and "left out" in note
    added = holdout_check(log, 26, 26, warm_up_weeks=4, replications=20, seed=2,
                          late_joiners="include")
    (note,) = [n for n in added.notes if "late joiners" in n]
    assert "added to the cohort as new customers" in note
    joiners = int(note.split(" customers first seen")[0].replace(",", ""))
    first = log.groupby("customer_id")["date"].min()
    cut = truncated_log["start"] + pd.Timedelta(weeks=26)
    assert joiners == ((first >= cut) & (first < cut + pd.Timedelta(weeks=26))).sum() > 1500
    hold = added.errors
    assert hold["actual"] > left_out.errors["actual"]
    assert abs(hold["simulated_vs_analytic"]) < 4 * hold["simulated_se_relative"]
    assert abs(hold["analytic_vs_actual"]) < 0.05
    with pytest.raises(InputError, match="late_joiners: expected"):
        holdout_check(log, 26, 26, late_joiners="maybe")
    with pytest.raises(InputError, match="holdout_weeks: the log ends on"):
        holdout_check(log[log["date"] < truncated_log["start"] + pd.Timedelta(weeks=20)],
                      26, 26)


def test_a_holdout_past_the_logs_end_compares_only_the_weeks_it_covers(cdnow_log):
    # (once, 500 weeks compared the forecast of ten years with 39 weeks of data: +5,000%)
    long = holdout_check(cdnow_log, 39, 500, replications=2, seed=1)
    exact = holdout_check(cdnow_log, 39, 39, replications=2, seed=1)
    assert long.errors["actual"] == exact.errors["actual"] == 1882
    assert long.errors["analytic"] == pytest.approx(exact.errors["analytic"])
    pd.testing.assert_frame_equal(long.conditional, exact.conditional)
    assert any("errors compare the weeks the log covers" in n for n in long.notes)
