"""Field trials: random assignment of customers to arms and the analysis of one pilot.

A simulated pilot reveals, for each customer, the outcome under the arm they were
assigned to. The runner simulates every arm on the whole population with common random
numbers (twin worlds), so each customer's outcome under every arm is known; the pilot
sees one of them. The twin-world difference over the whole population is the pilot's
*truth* (its sample average treatment effect), against which the pilot's estimate,
interval and test can be checked. Customers do not interact, so this is exactly a pilot
in which each customer meets one program; program-wide quantities (budget caps, top
shares of a tier) behave as they would in a full roll-out.

Analysis per treatment arm against the control, on per-customer outcomes:

- means (Welch's t-test, stratified by segment as the assignment is):
  purchase_frequency, net_revenue, program_cost, margin, clv, and nps (per respondent
  +100 promoter, 0 passive, -100 detractor); with a burn-in, purchase_frequency,
  net_revenue, margin and clv are CUPED-adjusted on pre-period spend;
- rates (two-proportion z-test, stratified): retention, repurchase_rate, and churn (the negative
  of the retention effect);
- Holm's correction over the treatment arms, per metric;
- sample_ratio: each arm's share of customers, with the chi-square SRM p-value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from loyaltylab.experiments.arm import ArmOutcome
from loyaltylab.experiments.stats import (
    ALPHA,
    cuped,
    holm,
    sample_ratio_p_value,
    stratified_means,
    stratified_rates,
)

#: Per-customer means compared with Welch's t-test.
MEAN_METRICS = ("purchase_frequency", "net_revenue", "program_cost", "margin", "clv", "nps")
#: Means adjusted with CUPED on pre-period spend when there is a burn-in.
CUPED_METRICS = ("purchase_frequency", "net_revenue", "margin", "clv")
#: Rates compared with the two-proportion z-test.
RATE_METRICS = ("retention", "repurchase_rate")


def assign(segments: np.ndarray, shares: Sequence[float], rng: np.random.Generator
           ) -> np.ndarray:
    """Stratified complete randomisation: the arm (int8) of each customer.

    Within each segment the arm sizes follow ``shares`` (largest remainder; the
    remainders go to random arms), and customers are placed in a random order.

    >>> arms = assign(np.array([0, 0, 0, 0, 1, 1]), [0.5, 0.5], np.random.default_rng(1))
    >>> [int((arms[:4] == 0).sum()), int((arms[4:] == 0).sum())]
    [2, 1]
    """
    shares = np.asarray(shares, dtype=np.float64)
    out = np.empty(len(segments), dtype=np.int8)
    for segment in np.unique(segments):
        rows = np.nonzero(segments == segment)[0]
        exact = shares * len(rows)
        counts = np.floor(exact).astype(np.int64)
        extra = len(rows) - int(counts.sum())
        if extra:
            # Remainders by chance in proportion to their size, so no arm is favoured.
            remainder = exact - counts
            counts[rng.choice(len(shares), extra, replace=False,
                              p=remainder / remainder.sum())] += 1
        labels = np.repeat(np.arange(len(shares), dtype=np.int8), counts)
        out[rows] = rng.permutation(labels)
    return out


def _values(customers: pd.DataFrame, metric: str) -> np.ndarray:
    if metric == "nps":
        answers = customers["nps_answer"].dropna().to_numpy(dtype=np.int64)
        return np.where(answers >= 9, 100.0, np.where(answers <= 6, -100.0, 0.0))
    if metric == "retention":
        return customers["active"].to_numpy()
    if metric == "repurchase_rate":
        return (customers["purchases"] >= 2).to_numpy()
    column = "purchases" if metric == "purchase_frequency" else metric
    return customers[column].to_numpy(dtype=np.float64)


def _strata(customers: pd.DataFrame, metric: str, codes: np.ndarray) -> np.ndarray:
    """Segment of each value of ``metric`` (NPS counts respondents only)."""
    if metric == "nps":
        return codes[customers["nps_answer"].notna().to_numpy()]
    return codes


def analyse_pilot(
    outcomes: Sequence[ArmOutcome],
    names: Sequence[str],
    control: int,
    assignment: np.ndarray,
    shares: Sequence[float],
    adjust: bool,
) -> pd.DataFrame:
    """Tests of one pilot: one row per treatment arm and metric (and sample ratio rows).

    Columns: arm, metric, estimate, ci_low, ci_high, p_value, p_value_holm, significant,
    twin_effect (the difference over the whole population, the pilot's truth).
    """
    groups = [o.customers[assignment == k] for k, o in enumerate(outcomes)]
    pre = [g["pre_spend"].to_numpy() for g in groups]
    strata = [g["segment"].cat.codes.to_numpy().astype(np.int64) for g in groups]
    treated = [k for k in range(len(outcomes)) if k != control]
    rows = []
    for metric in (*MEAN_METRICS, *RATE_METRICS):
        found = []
        for k in treated:
            a, b = _values(groups[k], metric), _values(groups[control], metric)
            sa, sb = _strata(groups[k], metric, strata[k]), _strata(
                groups[control], metric, strata[control])
            if metric in RATE_METRICS:
                result = stratified_rates(a, sa, b, sb)
            else:
                if adjust and metric in CUPED_METRICS:
                    pooled = cuped(np.concatenate([a, b]), np.concatenate([pre[k], pre[control]]),
                                   np.concatenate([sa, sb]))
                    a, b = pooled[: len(a)], pooled[len(a):]
                result = stratified_means(a, sa, b, sb)
            truth = float(_values(outcomes[k].customers, metric).mean()
                          - _values(outcomes[control].customers, metric).mean())
            found.append((k, *result, truth))
        adjusted = holm([f[4] for f in found])
        for (k, est, low, high, p_value, truth), p_holm in zip(found, adjusted, strict=True):
            row = {"arm": names[k], "metric": metric, "estimate": est, "ci_low": low,
                   "ci_high": high, "p_value": p_value, "p_value_holm": p_holm,
                   "significant": bool(p_holm < ALPHA), "twin_effect": truth}
            rows.append(row)
            if metric == "retention":
                rows.append({**row, "metric": "churn", "estimate": -est, "ci_low": -high,
                             "ci_high": -low, "twin_effect": -truth})
    counts = np.bincount(assignment.astype(np.int64), minlength=len(outcomes))
    srm = sample_ratio_p_value(counts, shares)
    for k, name in enumerate(names):
        rows.append({"arm": name, "metric": "sample_ratio",
                     "estimate": counts[k] / counts.sum(), "ci_low": np.nan, "ci_high": np.nan,
                     "p_value": srm, "p_value_holm": srm, "significant": bool(srm < 0.001),
                     "twin_effect": np.nan})
    return pd.DataFrame(rows)
