"""Calibration: customer segments and their BG/NBD and Gamma-Gamma parameters from data.

From a per-customer summary (:func:`loyaltylab.agents.summarise`) :func:`calibrate`

1. assigns each customer to a segment (``"none"``: one segment; ``"rules"``: the
   strategy's four segments by :func:`loyaltylab.agents.classify_segments`;
   ``"kmeans:K"``: K clusters of the standardised log RFM features);
2. fits BG/NBD and Gamma-Gamma in each segment, falling back to the whole cohort's fit
   where a segment has too few customers or repeat buyers to identify its own, or where
   its own fit is degenerate (a flag in
   :data:`loyaltylab.agents.information.DEGENERATE_FLAGS`: a singular observed
   information with no parameter at a bound, or a Gamma-Gamma ``p`` whose implied spread
   of each customer's order values is far below the observed one);
3. returns a :class:`loyaltylab.agents.PopulationSpec` whose shares are the segments'
   shares of the cohort, with the fits and the notes that explain every fallback.

Segments are defined on calibration-period behaviour, so a segment's fit describes its
customers *given* how they behaved (e.g. "dormant": few purchases so far); simulating
the segments together reproduces the cohort, simulating one alone describes that group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.cluster.vq import ClusterError, kmeans2

from loyaltylab.agents.btyd import expected_order_value
from loyaltylab.agents.fitting import (
    BGNBDFit,
    GammaGammaFit,
    bgnbd_log_likelihood,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
)
from loyaltylab.agents.information import DEGENERATE_FLAGS, FitFlag
from loyaltylab.agents.populations import default_segments
from loyaltylab.agents.segment_rules import SEGMENT_NAMES, STRATEGY_RULES, SegmentRules
from loyaltylab.agents.segments import BGNBD, GammaGamma, PopulationSpec, Segment
from loyaltylab.errors import InputError

#: Fewest customers for a segment's own BG/NBD fit.
MIN_CUSTOMERS = 30
#: Fewest repeat buyers for a segment's own Gamma-Gamma fit (or BG/NBD's dropout part).
MIN_REPEAT_BUYERS = 20
#: Random restarts of k-means; the clustering with the least distortion is kept.
KMEANS_RESTARTS = 10


class CalibrationError(InputError):
    """The data cannot be calibrated (e.g. no repeat buyer in the whole cohort)."""


@dataclass(frozen=True)
class SegmentFit:
    """How one segment was calibrated.

    Attributes
    ----------
    name : str
        Segment name.
    n_customers : int
        Customers assigned to the segment.
    n_repeat_buyers : int
        Of them, customers with at least one repeat purchase.
    share : float
        Share of the cohort, in [0, 1].
    bgnbd : BGNBD
        Parameters used (weekly units): the segment's own fit or the cohort's.
    gamma_gamma : GammaGamma
        Parameters used (currency units): the segment's own fit or the cohort's.
    bgnbd_source : {"segment", "cohort"}
        Where the BG/NBD parameters come from.
    gamma_gamma_source : {"segment", "cohort", "cohort_shape"}
        Where the spend parameters come from; ``"cohort_shape"``: the cohort's spreads at
        the segment's own mean order (a segment with repeat buyers but no usable fit).
    log_likelihood : float
        BG/NBD log-likelihood of the segment's customers under :attr:`bgnbd`.
    gamma_gamma_log_likelihood : float or None
        Gamma-Gamma log-likelihood of the segment's repeat buyers under
        :attr:`gamma_gamma` (None without repeat buyers).
    bgnbd_fit, gamma_gamma_fit : BGNBDFit or GammaGammaFit or None
        The segment's own fits, where one was attempted (also when rejected).
    notes : tuple of str
        Why a fallback was used, or other caveats.
    """

    name: str
    n_customers: int
    n_repeat_buyers: int
    share: float
    bgnbd: BGNBD
    gamma_gamma: GammaGamma
    bgnbd_source: str
    gamma_gamma_source: str
    log_likelihood: float
    gamma_gamma_log_likelihood: float | None
    bgnbd_fit: BGNBDFit | None = None
    gamma_gamma_fit: GammaGammaFit | None = None
    notes: tuple[str, ...] = ()

    @property
    def flags(self) -> tuple[FitFlag, ...]:
        """Flags of the segment's own fits, rejected ones included."""
        return tuple(f for fit in (self.bgnbd_fit, self.gamma_gamma_fit) if fit
                     for f in fit.flags)


@dataclass(frozen=True, eq=False)
class Calibration:
    """The result of :func:`calibrate`.

    Attributes
    ----------
    population : PopulationSpec
        Segments with the fitted parameters and the cohort's shares.
    segments : tuple of SegmentFit
        One per segment of :attr:`population`, in the same order.
    cohort_bgnbd : BGNBDFit
        BG/NBD fit on the whole cohort.
    cohort_gamma_gamma : GammaGammaFit
        Gamma-Gamma fit on the whole cohort's repeat buyers.
    assignment : pandas.Series
        Segment name of each customer, indexed like the summary.
    method : str
        The ``segments`` argument, e.g. ``"kmeans:4"``.
    """

    population: PopulationSpec
    segments: tuple[SegmentFit, ...]
    cohort_bgnbd: BGNBDFit
    cohort_gamma_gamma: GammaGammaFit
    assignment: pd.Series
    method: str
    notes: tuple[str, ...] = field(default=())

    @property
    def log_likelihood(self) -> float:
        """BG/NBD log-likelihood of the cohort under the segments' parameters."""
        return float(sum(s.log_likelihood for s in self.segments))

    def standard_errors(self, segment: SegmentFit) -> dict[str, float]:
        """Standard errors of the parameters a segment uses (its own fit's, or the
        cohort's where it borrows them), by parameter name (``r`` ... ``gamma``)."""
        bgnbd = segment.bgnbd_fit if segment.bgnbd_source == "segment" else self.cohort_bgnbd
        gg = (segment.gamma_gamma_fit if segment.gamma_gamma_source == "segment"
              else self.cohort_gamma_gamma)
        assert bgnbd is not None and gg is not None  # a "segment" source has its own fit
        se = {**bgnbd.se, **gg.se}
        if segment.gamma_gamma_source == "cohort_shape":  # the cohort's gamma, scaled
            se["gamma"] *= segment.gamma_gamma.gamma / gg.gamma
        return se

    def table(self) -> pd.DataFrame:
        """One row per segment: customers, share, parameters and their standard errors
        (``se_r`` ...), sources, log-likelihoods, flags and notes."""
        rows = []
        for s in self.segments:
            rows.append({
                "segment": s.name, "customers": s.n_customers,
                "repeat_buyers": s.n_repeat_buyers, "share": s.share,
                **s.bgnbd.model_dump(), **s.gamma_gamma.model_dump(),
                **{f"se_{k}": v for k, v in self.standard_errors(s).items()},
                "mean_order": s.gamma_gamma.mean_order,
                "bgnbd_source": s.bgnbd_source, "gamma_gamma_source": s.gamma_gamma_source,
                "log_likelihood": s.log_likelihood,
                "gamma_gamma_log_likelihood": s.gamma_gamma_log_likelihood,
                "flags": ", ".join(
                    f"{model} {f.code}" for model, fit in (("BG/NBD", s.bgnbd_fit),
                                                           ("Gamma-Gamma", s.gamma_gamma_fit))
                    if fit is not None for f in fit.flags),
                "notes": "; ".join(s.notes),
            })
        return pd.DataFrame(rows).set_index("segment")


# ---------------------------------------------------------------------- segmenting
def rfm_features(summary: pd.DataFrame) -> np.ndarray:
    """Standardised log RFM features, one row per customer.

    Columns: ``log(1 + weeks_since_purchase)`` (recency), ``log(1 + frequency)``
    (frequency) and ``log(1 + total_spend / (frequency + 1))`` (spend per occasion,
    currency units). Logs tame the long right tails; each column is then centred and
    scaled to unit standard deviation (a constant column is left at 0), so no feature
    dominates the Euclidean distance of k-means by its unit.
    """
    occasions = summary["frequency"].to_numpy(dtype=float) + 1.0
    raw = np.column_stack([
        np.log1p(summary["weeks_since_purchase"].to_numpy(dtype=float)),
        np.log1p(summary["frequency"].to_numpy(dtype=float)),
        np.log1p(np.maximum(summary["total_spend"].to_numpy(dtype=float), 0.0) / occasions),
    ])
    centred = raw - raw.mean(axis=0)
    scale = raw.std(axis=0)
    return np.divide(centred, scale, out=np.zeros_like(centred), where=scale > 0)


def kmeans_segments(summary: pd.DataFrame, k: int, seed: int = 0) -> pd.Series:
    """Assign customers to ``k`` clusters of :func:`rfm_features` (seeded, deterministic).

    k-means++ is restarted :data:`KMEANS_RESTARTS` times from seeds derived from
    ``seed`` and the clustering with the least distortion is kept. Clusters are named
    ``cluster_1`` ... in decreasing order of mean repeat purchases (then mean spend), so
    names do not depend on the arbitrary labels of the algorithm.

    Returns
    -------
    pandas.Series
        Cluster name per customer, indexed like ``summary``.
    """
    features = rfm_features(summary)
    distinct = len(np.unique(features, axis=0))
    if not 1 <= k <= distinct:
        raise InputError(f"segments: kmeans needs 1 <= K <= {distinct} distinct customers, "
                         f"got K = {k}")
    best: tuple[float, np.ndarray] | None = None
    for child in np.random.SeedSequence(seed).spawn(KMEANS_RESTARTS):
        try:
            centres, labels = kmeans2(features, k, minit="++", missing="raise",
                                      seed=np.random.default_rng(child))
        except ClusterError:
            continue  # an empty cluster: try the next start
        distortion = float(((features - centres[labels]) ** 2).sum())
        if best is None or distortion < best[0] - 1e-9:
            best = (distortion, labels)
    if best is None:
        raise CalibrationError(f"segments: kmeans found an empty cluster in every one of "
                               f"{KMEANS_RESTARTS} starts; try a smaller K")
    labels = best[1]
    freq = summary["frequency"].to_numpy(dtype=float)
    spend = summary["total_spend"].to_numpy(dtype=float)
    means = [(-freq[labels == j].mean(), -spend[labels == j].mean(), j) for j in range(k)]
    rename = {j: f"cluster_{i + 1}" for i, (_, _, j) in enumerate(sorted(means))}
    return pd.Series([rename[j] for j in labels], index=summary.index, name="segment")


def history_weeks(summary: pd.DataFrame) -> float:
    """Weeks of history in a summary: the age of its oldest customer (from the log's
    start for customers seen in a warm-up window)."""
    return float(summary["T"].max())


def rule_segments(summary: pd.DataFrame, rules: SegmentRules = STRATEGY_RULES) -> pd.Series:
    """The firm's four segments by ``rules`` (default: the strategy's, in yuan).

    Uses ``annual_spend`` (currency units), ``purchases_per_year`` and
    ``weeks_since_purchase`` of the summary; with less than a year of history, spend and
    purchases are annualised (:meth:`SegmentRules.annual`) unless the rules say not to.

    Raises
    ------
    InputError
        If a segment cannot exist in the summary's history (e.g. dormant customers, who
        have not bought for 26 weeks, in a 26-week log).
    """
    weeks = history_weeks(summary)
    rules.check_window(weeks)
    codes = rules.classify(rules.annual(summary["annual_spend"], weeks),
                           rules.annual(summary["purchases_per_year"], weeks),
                           summary["weeks_since_purchase"])
    return pd.Series(np.asarray(SEGMENT_NAMES)[codes], index=summary.index, name="segment")


def assign_segments(summary: pd.DataFrame, segments: str = "none", seed: int = 0,
                    rules: SegmentRules = STRATEGY_RULES) -> pd.Series:
    """Segment name per customer for ``segments`` = ``"none"``, ``"rules"`` (by
    ``rules``) or ``"kmeans:K"``."""
    if segments == "none":
        return pd.Series("cohort", index=summary.index, name="segment")
    if segments == "rules":
        return rule_segments(summary, rules)
    match = re.fullmatch(r"kmeans:(\d+)", segments)
    if match:
        return kmeans_segments(summary, int(match.group(1)), seed)
    raise InputError(f"segments: expected 'none', 'rules' or 'kmeans:K', got {segments!r}")


# ---------------------------------------------------------------------- fitting
def _truncation(part: pd.DataFrame) -> np.ndarray | None:
    """Warm-up windows of the existing customers of a left-truncated log, if any."""
    if "truncation_weeks" not in part or not (part["truncation_weeks"] > 0).any():
        return None
    return part["truncation_weeks"].to_numpy(dtype=float)


def _gamma_gamma_ll(params: GammaGamma, part: pd.DataFrame) -> float | None:
    use = (part["frequency"] > 0) & (part["mean_repeat_spend"] > 0)
    if not use.any():
        return None
    return float(gamma_gamma_log_likelihood(
        params.p, params.q, params.gamma, part.loc[use, "frequency"],
        part.loc[use, "mean_repeat_spend"]).sum())


def _own_level(part: pd.DataFrame, cohort: GammaGamma) -> tuple[GammaGamma, str]:
    """The cohort's spend distribution moved to the segment's own level.

    A segment too small (or too uniform) for its own Gamma-Gamma fit still says how much
    its customers spend: each customer's expected order given his or her own orders
    (:func:`loyaltylab.agents.expected_order_value`, the cohort's fit as the prior, so a
    customer with one repeat order moves the mean less than one with twenty) is averaged
    over the segment, and the cohort's ``gamma`` is scaled to give that mean; ``p`` and
    ``q`` (the spreads) stay the cohort's.
    """
    x = part["frequency"].to_numpy(dtype=float)
    m = part["mean_repeat_spend"].to_numpy(dtype=float)
    usable = (x > 0) & np.isfinite(m) & (m > 0)
    expected = expected_order_value(np.where(usable, m, 0.0), np.where(usable, x, 0.0),
                                    cohort.p, cohort.q, cohort.gamma)
    level = float(np.mean(expected))
    scaled = cohort.model_copy(update={"gamma": cohort.gamma * level / cohort.mean_order})
    return scaled, (f"Gamma-Gamma: the cohort's spreads (p, q) at the segment's own mean "
                    f"order {level:.4g} (the cohort's {cohort.mean_order:.4g}; each "
                    "customer's expected order given his or her orders, averaged)")


def _fit_segment(
    name: str, part: pd.DataFrame, share: float, cohort: tuple[BGNBDFit, GammaGamma],
    min_customers: int, min_repeat_buyers: int,
    own: tuple[BGNBDFit, GammaGammaFit] | None = None,
) -> SegmentFit:
    """Own fits where the segment identifies them, the cohort's where it does not.

    ``own`` gives fits already made (the segment is the whole cohort).
    """
    cohort_bgnbd, cohort_gg = cohort
    n = len(part)
    repeaters = int((part["frequency"] > 0).sum())
    spenders = int(((part["frequency"] > 0) & (part["mean_repeat_spend"] > 0)).sum())
    notes: list[str] = []

    bg_fit: BGNBDFit | None = None
    bgnbd, bg_source = cohort_bgnbd.params, "cohort"
    if n < min_customers:
        notes.append(f"BG/NBD: {n} customers < {min_customers}; cohort fit used")
    elif repeaters == 0:
        # With no repeat purchase the likelihood rises as the purchase rate goes to 0:
        # no finite estimate exists.
        notes.append("BG/NBD: no repeat buyer; cohort fit used")
    else:
        bg_fit = own[0] if own else fit_bgnbd(
            part["frequency"], part["recency"], part["T"], start=cohort_bgnbd.params,
            truncation=_truncation(part))
        if bg_fit.converged and bg_fit.degenerate:
            notes.append(f"BG/NBD: degenerate fit ({_degenerate(bg_fit)}); cohort fit used")
        elif bg_fit.converged:
            bgnbd, bg_source = bg_fit.params, "segment"
            if "a+b" in bg_fit.at_bound:
                notes.append(
                    f"BG/NBD: the data fit the same dropout probability "
                    f"{bg_fit.a / (bg_fit.a + bg_fit.b):.3g} for every customer "
                    f"(a + b stopped at {bg_fit.a + bg_fit.b:.3g})")
            if "r" in bg_fit.at_bound:
                notes.append(
                    f"BG/NBD: the data fit the same purchase rate {bg_fit.r / bg_fit.alpha:.3g}"
                    f" per week for every customer (r stopped at {bg_fit.r:.3g})")
            rest = [n for n in bg_fit.at_bound if n not in ("a+b", "r")]
            if rest:
                notes.append(f"BG/NBD: {', '.join(rest)} at the edge of the search space")
        else:
            notes.append(f"BG/NBD: fit did not converge ({bg_fit.message}); cohort fit used")
    if bg_source == "segment" and repeaters < min_repeat_buyers:
        notes.append(f"BG/NBD: only {repeaters} repeat buyers; dropout (a, b) poorly "
                     "determined")

    gg_fit: GammaGammaFit | None = None
    gamma_gamma, gg_source = cohort_gg, "cohort"
    if spenders < min_repeat_buyers:
        notes.append(f"Gamma-Gamma: {spenders} repeat buyers < {min_repeat_buyers}; "
                     "cohort fit used")
    else:
        gg_fit = own[1] if own else fit_gamma_gamma(
            part["frequency"], part["mean_repeat_spend"], start=cohort_gg,
            sd_spend=part.get("sd_repeat_spend"))
        if gg_fit.converged and gg_fit.degenerate:
            notes.append(f"Gamma-Gamma: degenerate fit ({_degenerate(gg_fit)}); "
                         "cohort fit used")
        elif not gg_fit.converged:
            notes.append(f"Gamma-Gamma: fit did not converge ({gg_fit.message}); "
                         "cohort fit used")
        elif gg_fit.q <= 1:
            notes.append(f"Gamma-Gamma: q = {gg_fit.q:.3g} <= 1 (infinite mean order); "
                         "cohort fit used")
        else:
            gamma_gamma, gg_source = gg_fit.params, "segment"
    if gg_source == "cohort" and spenders:
        gamma_gamma, note = _own_level(part, cohort_gg)
        gg_source = "cohort_shape"
        notes.append(note)

    ll = float(bgnbd_log_likelihood(bgnbd.r, bgnbd.alpha, bgnbd.a, bgnbd.b, part["frequency"],
                                    part["recency"], part["T"], _truncation(part)).sum())
    return SegmentFit(
        name=name, n_customers=n, n_repeat_buyers=repeaters, share=share, bgnbd=bgnbd,
        gamma_gamma=gamma_gamma, bgnbd_source=bg_source, gamma_gamma_source=gg_source,
        log_likelihood=ll, gamma_gamma_log_likelihood=_gamma_gamma_ll(gamma_gamma, part),
        bgnbd_fit=bg_fit, gamma_gamma_fit=gg_fit, notes=tuple(notes),
    )


def _degenerate(fit: BGNBDFit | GammaGammaFit) -> str:
    """The flags that make ``fit`` unusable, as text."""
    return "; ".join(str(f) for f in fit.flags if f.code in DEGENERATE_FLAGS)


def calibrate(
    summary: pd.DataFrame,
    segments: str = "none",
    *,
    size: int | None = None,
    seed: int = 0,
    min_customers: int = MIN_CUSTOMERS,
    min_repeat_buyers: int = MIN_REPEAT_BUYERS,
    rules: SegmentRules | None = None,
    currency: str | None = None,
) -> Calibration:
    """Segment a cohort and fit BG/NBD and Gamma-Gamma per segment.

    Parameters
    ----------
    summary : pandas.DataFrame
        Per-customer summary from :func:`loyaltylab.agents.summarise` (weeks).
    segments : str
        ``"none"`` (one segment, ``cohort``), ``"rules"`` (the strategy's four segments;
        behavioural habits such as incentive sensitivity are taken from
        :func:`loyaltylab.agents.default_segments`; segments nobody falls in are left
        out) or ``"kmeans:K"`` (K clusters of :func:`rfm_features`).
    size : int, optional
        Customers of the population specification; default the cohort's size.
    seed : int
        Seed of k-means.
    min_customers : int
        Fewest customers for a segment's own BG/NBD fit (else the cohort's).
    min_repeat_buyers : int
        Fewest repeat buyers for a segment's own Gamma-Gamma fit (else the cohort's).
    rules : SegmentRules, optional
        The firm's segment rules for ``"rules"`` (default: the strategy's, in yuan);
        kept in the population as its :attr:`~PopulationSpec.segment_rules`.
    currency : str, optional
        Currency of the log's amounts; kept in the population. Rules in another
        currency are refused.

    Notes
    -----
    A summary of a left-truncated log (``summarise(..., warm_up_weeks=W)``) holds
    existing customers, fitted from the log's start with the likelihood conditioned on
    the warm-up purchase that made them seen, and new customers (first purchase after
    the warm-up), fitted from their first purchase. The two groups differ (existing
    customers are the survivors of earlier cohorts), so the new ones form their own
    segment ``new`` and ``segments`` divides the existing ones (``"none"``: one
    segment, ``existing``).

    Returns
    -------
    Calibration
        The population specification, the fits and notes on every fallback.

    Raises
    ------
    CalibrationError
        If the whole cohort cannot be fitted (no repeat buyer, or Gamma-Gamma q <= 1).

    Examples
    --------
    >>> from pathlib import Path
    >>> from loyaltylab.agents import read_transactions, summarise
    >>> log = read_transactions(Path(__file__).parents[2] / "data" / "cdnow_sample.csv")
    >>> cal = calibrate(summarise(log, "1997-09-30"))
    >>> round(cal.segments[0].bgnbd.r, 3), round(cal.log_likelihood, 1)
    (0.243, -9582.4)
    """
    required = {"frequency", "recency", "T", "mean_repeat_spend", "total_spend",
                "weeks_since_purchase"}
    missing = required - set(summary.columns)
    if missing:
        raise ValueError(f"summary: missing columns {sorted(missing)} (use summarise())")
    if len(summary) == 0:
        raise CalibrationError("summary: no customers")
    if (summary["frequency"] == 0).all():
        raise CalibrationError("no customer made a repeat purchase: BG/NBD cannot be fitted")

    cohort_bgnbd = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"],
                             truncation=_truncation(summary))
    if not cohort_bgnbd.converged:
        raise CalibrationError(f"BG/NBD fit of the cohort did not converge: "
                               f"{cohort_bgnbd.message}")
    try:
        cohort_gg_fit = fit_gamma_gamma(summary["frequency"], summary["mean_repeat_spend"],
                                        sd_spend=summary.get("sd_repeat_spend"))
        cohort_gg = cohort_gg_fit.params
    except ValueError as exc:
        raise CalibrationError(f"Gamma-Gamma fit of the cohort: {exc}") from None

    existing = (summary["existing"].to_numpy(dtype=bool) if "existing" in summary
                else np.zeros(len(summary), dtype=bool))
    rules_used = rules or STRATEGY_RULES
    # The population keeps the rules that segmented it, or that the caller gave; their
    # thresholds must be in the amounts' currency.
    kept_rules = rules_used if segments == "rules" or rules is not None else None
    if kept_rules is not None and currency is not None:
        kept_rules.check_currency(currency)
    notes: list[str] = []
    if existing.any():
        assignment = pd.Series("new", index=summary.index, name="segment")
        old = assign_segments(summary[existing], segments, seed, rules_used)
        assignment[existing] = old.replace({"cohort": "existing"})
        notes.append(f"{int(existing.sum()):,} customers first seen in the warm-up window "
                     "are existing customers with unknown history, fitted from the log's "
                     f"start; {int((~existing).sum()):,} first seen later are new (segment "
                     "'new')")
    else:
        assignment = assign_segments(summary, segments, seed, rules_used)
    names = list(dict.fromkeys(sorted(assignment.unique(), key=_segment_order)))
    n = len(summary)
    habits = {s.name: s for s in default_segments()} if segments == "rules" else {}
    # The cohort's fit is the fallback of every segment: nothing replaces it, so a
    # degenerate one is reported, not rejected.
    notes += [f"cohort {label}: degenerate fit ({_degenerate(fit)})"
              for label, fit in (("BG/NBD", cohort_bgnbd), ("Gamma-Gamma", cohort_gg_fit))
              if fit.degenerate]
    if segments == "rules":
        empty = [s for s in SEGMENT_NAMES if s not in names]
        if empty:
            notes.append(f"no customer in segment(s) {empty}: left out")
        if currency is None and rules is None:
            notes.append("segment rules: the strategy's thresholds in yuan were applied; "
                         "the log's currency was not given")

    fits: list[SegmentFit] = []
    specs: list[Segment] = []
    counts = assignment.value_counts()
    for name in names:
        part = summary[assignment == name]
        whole = (cohort_bgnbd, cohort_gg_fit) if len(part) == n else None
        fit = _fit_segment(name, part, int(counts[name]) / n, (cohort_bgnbd, cohort_gg),
                           min_customers, min_repeat_buyers, own=whole)
        fits.append(fit)
        extra: dict[str, Any] = {}
        if name in habits:
            extra = habits[name].model_dump(exclude={"name", "bgnbd", "gamma_gamma",
                                                     "behaviour"})
        if "interactions_per_month" in part.columns:
            extra["interactions_per_month"] = float(part["interactions_per_month"].mean())
        specs.append(Segment(name=name, bgnbd=fit.bgnbd, gamma_gamma=fit.gamma_gamma,
                             **extra))
    shares = [f.share for f in fits]
    shares[-1] = max(0.0, 1.0 - sum(shares[:-1]))  # exact sum of 1 despite rounding
    population = PopulationSpec(size=size or n, segments=specs, shares=shares,
                                currency=currency, segment_rules=kept_rules)
    return Calibration(
        population=population, segments=tuple(fits), cohort_bgnbd=cohort_bgnbd,
        cohort_gamma_gamma=cohort_gg_fit, assignment=assignment, method=segments,
        notes=tuple(notes),
    )


def _segment_order(name: str) -> tuple[int, int, str]:
    """The strategy's order for its segments, cluster number for clusters."""
    if name in SEGMENT_NAMES:
        return (0, SEGMENT_NAMES.index(name), name)
    if name == "new":
        return (2, 0, name)
    match = re.fullmatch(r"cluster_(\d+)", name)
    return (1, int(match.group(1)) if match else 0, name)
