
import numpy as np
import pandas as pd
import pytest

from loyaltylab.agents import (
    SEGMENT_NAMES,
    CalibrationError,
    PopulationSpec,
    assign_segments,
    calibrate,
    default_segments,
    expected_order_value,
    rfm_features,
    summarise,
)


def test_one_segment_is_the_cohort_fit(cdnow):
    cal = calibrate(cdnow)
    assert isinstance(cal.population, PopulationSpec)
    assert cal.population.size == 2357 and cal.population.shares == [1.0]
    (seg,) = cal.segments
    assert seg.name == "cohort" and seg.bgnbd_source == seg.gamma_gamma_source == "segment"
    assert seg.bgnbd == cal.cohort_bgnbd.params
    assert seg.gamma_gamma == cal.cohort_gamma_gamma.params
    assert round(cal.log_likelihood, 1) == -9582.4
    assert round(seg.gamma_gamma_log_likelihood, 2) == -4055.92
    assert cal.population.segments[0].bgnbd.r == pytest.approx(0.243, abs=5e-4)
    assert calibrate(cdnow, size=100).population.size == 100


def test_rules_use_the_strategy_segments_and_fall_back_when_too_small(cdnow):
    cal = calibrate(cdnow, "rules")
    names = [s.name for s in cal.segments]
    assert set(names) <= set(SEGMENT_NAMES)
    # CDNOW spends dollars, far below the strategy's yuan thresholds: one customer is
    # "core loyal", nobody "potential loyal"
    assert names == ["core_loyal", "basic", "dormant"]
    assert any("potential_loyal" in note for note in cal.notes)
    core = cal.segments[0]
    assert core.n_customers == 1 and core.bgnbd_source == "cohort"
    # too few repeat buyers for a spend fit: the cohort's spreads at the segment's level
    assert core.gamma_gamma_source == "cohort_shape"
    assert any("cohort fit used" in note for note in core.notes)
    assert core.bgnbd == cal.cohort_bgnbd.params
    cohort_gg = cal.cohort_gamma_gamma.params
    assert (core.gamma_gamma.p, core.gamma_gamma.q) == (cohort_gg.p, cohort_gg.q)
    (customer,) = cdnow.index[cal.assignment == "core_loyal"]
    own = cdnow.loc[customer]
    assert core.gamma_gamma.mean_order == pytest.approx(expected_order_value(
        own["mean_repeat_spend"], own["frequency"], cohort_gg.p, cohort_gg.q,
        cohort_gg.gamma))
    counts = cal.assignment.value_counts()
    assert cal.population.shares == pytest.approx([counts[n] / 2357 for n in names])
    assert sum(cal.population.shares) == pytest.approx(1.0, abs=1e-12)
    # behavioural habits come from the default segments of the same name
    defaults = {s.name: s for s in default_segments()}
    for seg in cal.population.segments:
        assert seg.incentive_sensitivity == defaults[seg.name].incentive_sensitivity
        assert seg.redeem_propensity == defaults[seg.name].redeem_propensity
    # the segments explain the data at least as well as the cohort fit
    assert cal.log_likelihood >= cal.cohort_bgnbd.log_likelihood - 1e-6
    table = cal.table()
    assert list(table.index) == names and "log_likelihood" in table


def test_kmeans_is_seeded_deterministic_and_named_by_frequency(cdnow):
    a = assign_segments(cdnow, "kmeans:3", seed=7)
    b = assign_segments(cdnow, "kmeans:3", seed=7)
    pd.testing.assert_series_equal(a, b)
    assert sorted(a.unique()) == ["cluster_1", "cluster_2", "cluster_3"]
    mean_freq = cdnow.groupby(a)["frequency"].mean()
    assert mean_freq["cluster_1"] >= mean_freq["cluster_2"] >= mean_freq["cluster_3"]
    features = rfm_features(cdnow)
    assert features.shape == (2357, 3)
    assert np.allclose(features.mean(axis=0), 0) and np.allclose(features.std(axis=0), 1)
    cal = calibrate(cdnow, "kmeans:3", seed=7)
    assert [s.name for s in cal.segments] == ["cluster_1", "cluster_2", "cluster_3"]
    assert sum(s.n_customers for s in cal.segments) == 2357
    for seg in cal.segments:
        if seg.bgnbd_fit is not None and "a+b" in seg.bgnbd_fit.at_bound:
            assert any("same dropout probability" in n for n in seg.notes)


def test_small_segments_fall_back_to_the_cohort(cdnow):
    cal = calibrate(cdnow, "kmeans:2", min_customers=10_000, min_repeat_buyers=10_000)
    levels = []
    for seg in cal.segments:
        assert seg.bgnbd_source == "cohort" and seg.gamma_gamma_source == "cohort_shape"
        assert seg.bgnbd == cal.cohort_bgnbd.params
        assert len(seg.notes) == 3
        levels.append(seg.gamma_gamma.mean_order * seg.share)
    # the segments' levels average back to the cohort's (the posterior means of all its
    # customers average to about the prior mean)
    assert sum(levels) == pytest.approx(cal.cohort_gamma_gamma.mean_order, rel=0.02)


def test_segment_without_repeat_buyers_falls_back(cdnow):
    summary = cdnow.copy()
    summary["interactions_per_month"] = np.where(summary["frequency"] > 0, 2.0, 0.5)
    cal = calibrate(summary, "rules")
    dormant = next(s for s in cal.segments if s.name == "dormant")
    spec_dormant = cal.population.segments[[s.name for s in cal.segments].index("dormant")]
    share_repeat = (summary.loc[cal.assignment == "dormant", "frequency"] > 0).mean()
    assert spec_dormant.interactions_per_month == pytest.approx(0.5 + 1.5 * share_repeat)
    assert dormant.n_customers > 0
    # a cohort of one-time buyers in one segment: no own BG/NBD fit
    one_off = summary[summary["frequency"] == 0].head(50)
    mixed = pd.concat([summary[summary["frequency"] > 0].head(200), one_off])
    assignment = pd.Series(np.where(mixed["frequency"] > 0, "buyers", "one_off"),
                           index=mixed.index)
    from loyaltylab.agents.calibration import _fit_segment

    cohort = calibrate(mixed)
    fit = _fit_segment("one_off", mixed[assignment == "one_off"], 0.2,
                       (cohort.cohort_bgnbd, cohort.cohort_gamma_gamma.params), 30, 20)
    assert fit.bgnbd_source == fit.gamma_gamma_source == "cohort"
    assert fit.notes[0] == "BG/NBD: no repeat buyer; cohort fit used"
    assert fit.gamma_gamma_log_likelihood is None


def test_degenerate_own_fits_fall_back_to_the_cohort(cdnow):
    from loyaltylab.agents.calibration import _fit_segment

    cohort = calibrate(cdnow)
    fits = (cohort.cohort_bgnbd, cohort.cohort_gamma_gamma.params)
    # customers picked by spend per order, as a k-means cluster is: their means are alike,
    # so Gamma-Gamma explains them by orders that all cost the same (p in the hundreds)
    # while each customer's orders vary by half their mean
    band = cdnow[(cdnow["frequency"] > 0) & cdnow["mean_repeat_spend"].between(15, 25)]
    fit = _fit_segment("band", band, 0.1, fits, 30, 20)
    assert fit.gamma_gamma_fit.p > 50 and "spend_cv" in [f.code for f in fit.flags]
    assert fit.gamma_gamma_source == "cohort_shape"
    assert (fit.gamma_gamma.p, fit.gamma_gamma.q) == (fits[1].p, fits[1].q)
    # ... at the band's own level: between the cohort's mean order (35.2) and the band's
    # mean of 19.5, nearer the band's (each customer's own orders weigh px / (px + q - 1))
    band_mean = band["mean_repeat_spend"].mean()
    assert band_mean < fit.gamma_gamma.mean_order < (band_mean + fits[1].mean_order) / 2
    assert any(n.startswith("Gamma-Gamma: degenerate fit (spend_cv") for n in fit.notes)
    # k-means' one-time buyers (at most one repeat purchase each): a BG/NBD optimum that
    # is not a proper maximum (b -> 0, everyone drops out after a purchase)
    cal = calibrate(cdnow, "kmeans:4")
    last = cal.segments[-1]
    assert last.bgnbd_source == "cohort" and last.bgnbd_fit.degenerate
    assert last.notes[0].startswith("BG/NBD: degenerate fit (singular_information")


def test_bad_requests(cdnow):
    with pytest.raises(ValueError, match="'none', 'rules' or 'kmeans:K'"):
        calibrate(cdnow, "clusters")
    with pytest.raises(ValueError, match="kmeans needs"):
        calibrate(cdnow[cdnow["frequency"] > 0].head(3), "kmeans:5")
    with pytest.raises(CalibrationError, match="no customer made a repeat purchase"):
        calibrate(cdnow[cdnow["frequency"] == 0])
    with pytest.raises(ValueError, match="summary: missing columns"):
        calibrate(cdnow[["frequency"]])


def _rate_and_dropout(fit):
    """Mean purchase rate r / alpha and mean dropout a / (a + b), with standard errors
    by the delta method from the fit's covariance."""
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    rate_grad = np.array([1 / alpha, -r / alpha**2, 0.0, 0.0])
    drop_grad = np.array([0.0, 0.0, b / (a + b) ** 2, -a / (a + b) ** 2])
    cov = fit.covariance
    return ((r / alpha, float(np.sqrt(rate_grad @ cov @ rate_grad))),
            (a / (a + b), float(np.sqrt(drop_grad @ cov @ drop_grad))))


def test_existing_customers_of_a_truncated_log_are_fitted_from_its_start(truncated_log):
    """The log starts a week after 20,000 customers joined (their joining purchase is not
    in it). With a 4-week warm-up, those seen in it are fitted from the log's start,
    conditioned on that purchase; their purchase rate and dropout match a fit of all the
    customers alive at the start (seen or not) on their whole history, from the joining
    purchase, within three standard errors of the truncated fit."""
    log, start = truncated_log["log"], truncated_log["start"]
    end = start + pd.Timedelta(weeks=26) - pd.Timedelta(days=1)
    summary = summarise(log, end, warm_up_weeks=4)
    cal = calibrate(summary)
    assert [s.name for s in cal.segments] == ["existing", "new"]
    existing = cal.segments[0]
    assert existing.n_customers == int(summary["existing"].sum()) > 13_000
    assert any("existing customers with unknown history" in n for n in cal.notes)

    full = truncated_log["full"]
    initial = full["customer_id"].str[1:].astype(int) < truncated_log["initial"]
    whole = calibrate(summarise(full[initial], end)).cohort_bgnbd
    (rate, rate_se), (drop, drop_se) = _rate_and_dropout(existing.bgnbd_fit)
    (rate_whole, _), (drop_whole, _) = _rate_and_dropout(whole)
    assert abs(rate - rate_whole) < 3 * rate_se
    assert abs(drop - drop_whole) < 3 * drop_se
    # Treated as new at their first purchase in the log, the same customers look like
    # slower buyers who drop out sooner: a different process, far outside the errors.
    naive = calibrate(summarise(log, end)).cohort_bgnbd
    _, (drop_naive, _) = _rate_and_dropout(naive)
    assert abs(drop_naive - drop_whole) > 5 * drop_se
