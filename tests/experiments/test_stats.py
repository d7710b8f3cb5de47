"""A/B statistics against hand computations and scipy; CUPED and Holm properties."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from loyaltylab.experiments.stats import (
    cuped,
    holm,
    mean_interval,
    paired_p_value,
    sample_ratio_p_value,
    stratified_means,
    stratified_rates,
    twin_summary,
)

ONE = np.zeros


def test_mean_interval_by_hand():
    mean, low, high = mean_interval([1.0, 2.0, 3.0, 4.0])
    half = stats.t.ppf(0.975, 3) * np.std([1, 2, 3, 4], ddof=1) / 2
    assert (mean, low, high) == pytest.approx((2.5, 2.5 - half, 2.5 + half))
    assert np.isnan(mean_interval([1.0])[1])


def test_paired_p_value_of_identical_arms_is_one():
    assert paired_p_value([0.0, 0.0, 0.0]) == 1.0
    assert paired_p_value([1.0, 2.0, 3.0]) == pytest.approx(
        stats.ttest_1samp([1.0, 2.0, 3.0], 0).pvalue)


def test_one_stratum_is_welch_as_in_statsmodels():
    rng = np.random.default_rng(1)
    a, b = rng.normal(1.0, 2.0, 300), rng.normal(0.5, 1.0, 200)
    diff, low, high, p = stratified_means(a, ONE(300, int), b, ONE(200, int))
    compare = CompareMeans(DescrStatsW(a), DescrStatsW(b))
    assert diff == pytest.approx(a.mean() - b.mean())
    assert p == pytest.approx(compare.ttest_ind(usevar="unequal")[1])
    assert (low, high) == pytest.approx(compare.tconfint_diff(usevar="unequal"))


def test_one_stratum_is_the_two_proportion_z_test_of_statsmodels():
    a, b = np.array([1] * 60 + [0] * 40), np.array([1] * 50 + [0] * 50)
    diff, low, high, p = stratified_rates(a, ONE(100, int), b, ONE(100, int))
    assert diff == pytest.approx(0.1)
    assert p == pytest.approx(proportions_ztest([60, 50], [100, 100])[1])
    assert (low, high) == pytest.approx(
        confint_proportions_2indep(60, 100, 50, 100, method="wald", compare="diff"))


def test_stratified_estimate_weights_the_strata_by_their_size():
    # stratum 0 (3 customers per arm) differs by +1, stratum 1 (2 per arm) by +3
    a = np.array([1.0, 2.0, 3.0, 13.0, 15.0])
    b = np.array([0.0, 1.0, 2.0, 10.0, 12.0])
    strata = np.array([0, 0, 0, 1, 1])
    diff, *_ = stratified_means(a, strata, b, strata)
    assert diff == pytest.approx(0.6 * 1.0 + 0.4 * 3.0)


def test_stratified_tests_hold_their_level_where_plain_ones_are_conservative():
    """A/A under stratified assignment: rates differ by stratum, the test stays at 5%."""
    rng = np.random.default_rng(3)
    strata = np.repeat([0, 1, 2], [600, 600, 800])
    rates = np.array([0.95, 0.6, 0.07])[strata]
    rejected = []
    for _ in range(2000):
        y = rng.random(len(strata)) < rates
        arm = np.empty(len(strata), dtype=bool)
        for s in range(3):
            rows = np.nonzero(strata == s)[0]
            arm[rng.permutation(rows)[: len(rows) // 2]] = True
        p = stratified_rates(y[arm], strata[arm], y[~arm], strata[~arm])[3]
        rejected.append(p < 0.05)
    rate = np.mean(rejected)
    assert abs(rate - 0.05) < 3 * np.sqrt(0.05 * 0.95 / 2000)


def test_cuped_keeps_the_difference_unbiased_and_cuts_variance():
    rng = np.random.default_rng(2)
    estimates, raw = [], []
    for _ in range(400):
        x = rng.gamma(2.0, 50.0, 400)
        y = 0.8 * x + rng.normal(0, 20, 400)
        y[:200] += 5.0  # the effect
        adjusted = cuped(y, x)
        estimates.append(adjusted[:200].mean() - adjusted[200:].mean())
        raw.append(y[:200].mean() - y[200:].mean())
    estimates = np.array(estimates)
    se = estimates.std(ddof=1) / np.sqrt(len(estimates))
    assert abs(estimates.mean() - 5.0) < 4 * se
    assert estimates.var() < 0.5 * np.var(raw)


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=8))
@settings(max_examples=50, deadline=None)
def test_holm_never_lowers_a_p_value_and_stays_a_probability(p_values):
    adjusted = holm(p_values)
    assert (adjusted >= np.asarray(p_values) - 1e-12).all()
    assert (adjusted <= 1.0).all()


def test_holm_by_hand_and_as_statsmodels():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    p = np.random.default_rng(4).random(7) ** 3
    assert holm(p) == pytest.approx(multipletests(p, method="holm")[1])


def test_sample_ratio_mismatch_is_flagged():
    assert sample_ratio_p_value([5000, 5000], [0.5, 0.5]) == pytest.approx(1.0)
    assert sample_ratio_p_value([5200, 4800], [0.5, 0.5]) < 0.001


def test_twin_summary_pairs_by_replication():
    values = pd.DataFrame({
        "replication": [0, 0, 1, 1, 2, 2],
        "arm": ["c", "t"] * 3,
        "metric": ["m"] * 6,
        "value": [10.0, 11.0, 20.0, 21.5, 30.0, 30.5],
    })
    summary = twin_summary(values, "c", ["m"]).set_index(["arm", "metric"])
    effect = summary.loc[("t", "m")]
    assert effect["effect_vs_control"] == pytest.approx(1.0)
    assert effect["p_value"] == pytest.approx(stats.ttest_1samp([1.0, 1.5, 0.5], 0).pvalue)
    rel = summary.loc[("t", "m_rel_change")]
    assert rel["estimate"] == pytest.approx(np.mean([0.1, 1.5 / 20, 0.5 / 30]))
    assert np.isnan(summary.loc[("c", "m"), "effect_vs_control"])
