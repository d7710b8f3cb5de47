"""A/B statistics: paired twin-world effects and field-trial tests.

Twin worlds
    Each replication simulates the same customers under every arm with common random
    numbers, so the effect of an arm in replication *r* is the paired difference
    ``metric[arm, r] - metric[control, r]``. Estimates, effects and relative changes
    are means over the replications with 95% Student-t intervals (``R - 1`` degrees of
    freedom) and the paired t-test's p-value.

Field trial
    One population per replication, customers randomised to arms within segments,
    analysed like a real pilot on per-customer outcomes: Welch's t-test for means
    (optionally CUPED-adjusted on pre-period spend), the two-proportion z-test for
    rates, both in their stratified form because the randomisation is stratified,
    Holm's correction over the treatment arms, and a chi-square test of the sample
    ratio.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

#: Confidence level of every interval.
CONFIDENCE = 0.95
#: Significance level of the field-trial tests (after Holm's correction).
ALPHA = 0.05


def mean_interval(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and 95% Student-t interval of replication values (NaN interval for one).

    >>> mean_interval([1.0, 2.0, 3.0])[0]
    2.0
    """
    x = np.asarray(values, dtype=np.float64)
    if len(x) == 0 or np.isnan(x).any():
        return (math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if len(x) < 2:
        return (mean, math.nan, math.nan)
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return (mean, mean - half, mean + half)


def paired_p_value(differences: Sequence[float]) -> float:
    """Two-sided p-value of the paired t-test that the mean difference is zero.

    Exactly identical arms (all differences zero) give 1.0; one replication gives NaN.
    """
    d = np.asarray(differences, dtype=np.float64)
    if len(d) < 2 or np.isnan(d).any():
        return math.nan
    if not d.any():
        return 1.0
    if np.ptp(d) <= 1e-12 * np.abs(d).max():
        return 0.0  # the same non-zero difference in every replication
    return float(stats.ttest_1samp(d, 0.0).pvalue)


def _by_stratum(y: np.ndarray, strata: np.ndarray, k: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Count, mean and sample variance (ddof 1) of ``y`` in each of ``k`` strata."""
    n = np.bincount(strata, minlength=k).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.bincount(strata, weights=y, minlength=k) / n
        centred = y - mean[strata]
        var = np.bincount(strata, weights=centred * centred, minlength=k) / (n - 1)
    return n, mean, var


def _result(diff: float, var: float, quantile: float, p_value: float
            ) -> tuple[float, float, float, float]:
    half = quantile * math.sqrt(var)
    return (diff, diff - half, diff + half, p_value)


def stratified_means(
    treated: np.ndarray, treated_strata: np.ndarray,
    control: np.ndarray, control_strata: np.ndarray,
) -> tuple[float, float, float, float]:
    """Welch's t-test for a difference in means under stratified randomisation.

    The estimate is the post-stratified difference ``sum_s w_s (mean1_s - mean0_s)``
    with ``w_s`` the stratum's share of the customers, its variance
    ``sum_s w_s^2 (var1_s / n1_s + var0_s / n0_s)`` and Welch-Satterthwaite degrees of
    freedom (Cochran 1977, ch. 5). With one stratum this is Welch's t-test exactly.
    Ignoring the strata would overstate the variance of outcomes that differ between
    segments, and the test would reject far less often than its nominal level.
    Strata with fewer than two customers in either arm are left out.

    Returns
    -------
    (estimate, ci_low, ci_high, p_value)
    """
    k = int(max(treated_strata.max(initial=0), control_strata.max(initial=0))) + 1
    n1, m1, v1 = _by_stratum(treated, treated_strata, k)
    n0, m0, v0 = _by_stratum(control, control_strata, k)
    ok = (n1 >= 2) & (n0 >= 2)
    if not ok.any():
        return (math.nan, math.nan, math.nan, math.nan)
    w = (n1 + n0)[ok] / (n1 + n0)[ok].sum()
    diff = float((w * (m1[ok] - m0[ok])).sum())
    a1, a0 = w**2 * v1[ok] / n1[ok], w**2 * v0[ok] / n0[ok]
    var = float((a1 + a0).sum())
    if var == 0:
        return (diff, diff, diff, 1.0 if diff == 0 else 0.0)
    df = var**2 / float((a1**2 / (n1[ok] - 1) + a0**2 / (n0[ok] - 1)).sum())
    p_value = float(2 * stats.t.sf(abs(diff) / math.sqrt(var), df))
    return _result(diff, var, float(stats.t.ppf(0.5 + CONFIDENCE / 2, df)), p_value)


def stratified_rates(
    treated: np.ndarray, treated_strata: np.ndarray,
    control: np.ndarray, control_strata: np.ndarray,
) -> tuple[float, float, float, float]:
    """Two-proportion z-test of a difference in rates under stratified randomisation.

    Post-stratified difference of the rates as in :func:`stratified_means`; the p-value
    uses the pooled rate of each stratum (the null hypothesis), the interval the
    unpooled Wald variance. With one stratum this is the classical two-proportion
    z-test and Wald interval.
    """
    k = int(max(treated_strata.max(initial=0), control_strata.max(initial=0))) + 1
    n1, p1, _ = _by_stratum(treated.astype(np.float64), treated_strata, k)
    n0, p0, _ = _by_stratum(control.astype(np.float64), control_strata, k)
    ok = (n1 >= 1) & (n0 >= 1)
    if not ok.any():
        return (math.nan, math.nan, math.nan, math.nan)
    n1, n0, p1, p0 = n1[ok], n0[ok], p1[ok], p0[ok]
    w = (n1 + n0) / (n1 + n0).sum()
    diff = float((w * (p1 - p0)).sum())
    pooled = (p1 * n1 + p0 * n0) / (n1 + n0)
    var_null = float((w**2 * pooled * (1 - pooled) * (1 / n1 + 1 / n0)).sum())
    var = float((w**2 * (p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)).sum())
    if var_null == 0:
        return (diff, diff, diff, 1.0 if diff == 0 else 0.0)
    p_value = float(2 * stats.norm.sf(abs(diff) / math.sqrt(var_null)))
    return _result(diff, var, float(stats.norm.ppf(0.5 + CONFIDENCE / 2)), p_value)


def cuped(outcome: np.ndarray, covariate: np.ndarray, strata: np.ndarray | None = None
          ) -> np.ndarray:
    """CUPED-adjusted outcome: ``y - theta (x - mean x)``, ``theta = cov(x, y) / var(x)``.

    ``theta`` is estimated on the pooled data of the arms compared (Deng et al. 2013),
    within strata if given (``x`` centred on its stratum's mean), which keeps the
    difference in means unbiased; without variation in ``x`` nothing changes.
    """
    if strata is None:
        strata = np.zeros(len(outcome), dtype=np.int64)
    k = int(strata.max(initial=0)) + 1
    _, x_mean, _ = _by_stratum(covariate, strata, k)
    _, y_mean, _ = _by_stratum(outcome, strata, k)
    x = covariate - x_mean[strata]
    var = float(x @ x)
    if var == 0:
        return outcome
    theta = float(x @ (outcome - y_mean[strata])) / var
    return outcome - theta * x


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN stays NaN).

    Written out rather than taken from ``statsmodels.stats.multitest.multipletests``,
    which runs the garbage collector on every call (30 ms, most of a small pilot's
    analysis); the tests check both agree.

    >>> holm([0.01, 0.04, 0.03]).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full_like(p, np.nan)
    ok = np.nonzero(~np.isnan(p))[0]
    order = ok[np.argsort(p[ok], kind="stable")]
    m = len(order)
    adjusted = np.maximum.accumulate(p[order] * (m - np.arange(m)))
    out[order] = np.minimum(adjusted, 1.0)
    return out


def sample_ratio_p_value(counts: Sequence[int], shares: Sequence[float]) -> float:
    """Chi-square p-value of arm sizes against the planned shares (SRM check)."""
    counts = np.asarray(counts, dtype=np.float64)
    expected = np.asarray(shares, dtype=np.float64) * counts.sum()
    return float(stats.chisquare(counts, expected).pvalue)


def twin_summary(values: pd.DataFrame, control: str, relative: Sequence[str]) -> pd.DataFrame:
    """Summary rows of a twin-world experiment.

    Parameters
    ----------
    values : DataFrame
        Columns replication, arm, metric, value: one row per replication, arm and metric.
        Metrics only defined against the control (incremental_*, roi, payback_week)
        appear for the treatment arms only.
    control : str
        Name of the control arm.
    relative : sequence of str
        Metrics that also get a ``<metric>_rel_change`` row (change / |control|).
    """
    wide = values.pivot_table(index="replication", columns=["arm", "metric"],
                              values="value", dropna=False, sort=False)
    rows = []
    arms = list(dict.fromkeys(values["arm"]))
    metrics = list(dict.fromkeys(values["metric"]))
    for arm in arms:
        for metric in metrics:
            if (arm, metric) not in wide:
                continue
            x = wide[(arm, metric)].to_numpy()
            estimate, low, high = mean_interval(x)
            row = {"arm": arm, "metric": metric, "estimate": estimate, "ci_low": low,
                   "ci_high": high, "effect_vs_control": math.nan, "effect_ci_low": math.nan,
                   "effect_ci_high": math.nan, "p_value": math.nan}
            if arm != control and (control, metric) in wide:
                diff = x - wide[(control, metric)].to_numpy()
                effect, e_low, e_high = mean_interval(diff)
                p_value = paired_p_value(diff)
                row.update(effect_vs_control=effect, effect_ci_low=e_low,
                           effect_ci_high=e_high, p_value=p_value)
                if metric in relative:
                    base = np.abs(wide[(control, metric)].to_numpy())
                    with np.errstate(divide="ignore", invalid="ignore"):
                        rel = np.where(base > 0, diff / base, np.nan)
                    r_est, r_low, r_high = mean_interval(rel)
                    rows.append(row)
                    row = {"arm": arm, "metric": f"{metric}_rel_change", "estimate": r_est,
                           "ci_low": r_low, "ci_high": r_high, "effect_vs_control": r_est,
                           "effect_ci_low": r_low, "effect_ci_high": r_high,
                           "p_value": p_value}
            rows.append(row)
    return pd.DataFrame(rows)
