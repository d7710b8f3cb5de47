"""Ready-made populations: the strategy's four segments, and plain BG/NBD cohorts.

The four default segments follow the strategy's definitions (annual spend in yuan,
purchases per year, recency). Their parameters were chosen so that, simulated for a year
without a program, most customers land in their own segment under
:func:`classify_segments` (measured in ``tests/agents/test_populations.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from loyaltylab.agents.segment_rules import STRATEGY_RULES, SegmentRules
from loyaltylab.agents.segments import BGNBD, WEEKS_PER_YEAR, GammaGamma, PopulationSpec, Segment

#: Default mix of a customer base (a judgement: a typical retail pyramid).
DEFAULT_SHARES = (0.10, 0.20, 0.40, 0.30)
#: Published CDNOW Gamma-Gamma fit (Fader & Hardie 2013 note), dollars.
CDNOW_GAMMA_GAMMA = GammaGamma(p=6.25, q=3.74, gamma=15.44)


def _per_year(purchases: float, r: float) -> tuple[float, float]:
    """(r, alpha) of a Gamma rate distribution with the given mean purchases per year."""
    return r, r / (purchases / WEEKS_PER_YEAR)


def _segment(name: str, purchases_per_year: float, r: float, a: float, b: float,
             mean_order: float, p: float, q: float, **habits: Any) -> Segment:
    r, alpha = _per_year(purchases_per_year, r)
    gamma = mean_order * (q - 1) / p
    return Segment(name=name, bgnbd=BGNBD(r=r, alpha=alpha, a=a, b=b),
                   gamma_gamma=GammaGamma(p=p, q=q, gamma=gamma), **habits)


def default_segments() -> list[Segment]:
    """The strategy's four segments.

    ===============  =========  ==========  ============  =======================
    segment          orders/yr  mean order  dropout/order incentive sensitivity
    ===============  =========  ==========  ============  =======================
    core loyal       16         800 yuan    0.5%          0.2 (heavy buyers barely
                                                          respond, LP1)
    potential loyal  3.3        1050 yuan   1%            1.0
    basic            3.0        320 yuan    5%            1.0
    dormant          0.15       150 yuan    20%           0.8
    ===============  =========  ==========  ============  =======================

    Purchase rates are Gamma-distributed across customers (shape 16 to 30, so a segment
    is fairly homogeneous, as a segment defined by behaviour is); dormant customers are
    very heterogeneous (shape 3). Members who have reached their redemption goal redeem
    at 80-90% of their purchases (checkout prompts; U); top-up tolerance rises from core
    to dormant (U). Mean satisfaction (0-10) falls from core loyal (8.8) to
    dormant (6.8): after a year without a program, NPS among active customers is about
    +52 for core loyal, +29 potential loyal, +4 basic, -31 dormant, +18 overall (U).
    """
    return [
        _segment("core_loyal", 16.0, 16.0, 1.0, 199.0, 800.0, 10.0, 24.0,
                 incentive_sensitivity=0.2, redeem_propensity=0.9, topup_share=0.15,
                 interactions_per_month=3.0, satisfaction_mean=8.8),
        _segment("potential_loyal", 3.3, 30.0, 1.0, 99.0, 1050.0, 20.0, 30.0,
                 incentive_sensitivity=1.0, redeem_propensity=0.9, topup_share=0.2,
                 interactions_per_month=1.5, satisfaction_mean=8.2),
        _segment("basic", 3.0, 30.0, 1.0, 19.0, 320.0, 10.0, 30.0,
                 incentive_sensitivity=1.0, redeem_propensity=0.85, topup_share=0.2,
                 interactions_per_month=0.5, satisfaction_mean=7.6),
        _segment("dormant", 0.15, 3.0, 2.0, 8.0, 150.0, 6.0, 10.0,
                 incentive_sensitivity=0.8, redeem_propensity=0.8, topup_share=0.25,
                 interactions_per_month=0.05, satisfaction_mean=6.8),
    ]


def default_population(size: int, shares: tuple[float, ...] = DEFAULT_SHARES) -> PopulationSpec:
    """The strategy's customer base: core loyal, potential loyal, basic and dormant.

    Parameters
    ----------
    size : int
        Customers at week 0.
    shares : tuple of float
        Share of each segment, in the order of :data:`loyaltylab.agents.SEGMENT_NAMES`.
    """
    return PopulationSpec(size=size, segments=default_segments(), shares=list(shares))


def btyd_population(
    size: int, r: float, alpha: float, a: float, b: float,
    gamma_gamma: GammaGamma = CDNOW_GAMMA_GAMMA,
) -> PopulationSpec:
    """One segment of plain BG/NBD customers who ignore incentives.

    Parameters
    ----------
    size : int
        Customers at week 0.
    r, alpha, a, b : float
        BG/NBD parameters in weekly units.
    gamma_gamma : GammaGamma
        Spend model (default: the published CDNOW fit).

    Examples
    --------
    >>> spec = btyd_population(1000, r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> spec.segment_names
    ['btyd']
    """
    segment = Segment(
        name="btyd", bgnbd=BGNBD(r=r, alpha=alpha, a=a, b=b), gamma_gamma=gamma_gamma,
        incentive_sensitivity=0.0,
    )
    return PopulationSpec(size=size, segments=[segment], shares=[1.0])


def classify_segments(
    annual_spend: Any, purchases_per_year: Any, weeks_since_purchase: Any,
    rules: SegmentRules = STRATEGY_RULES,
) -> np.ndarray:
    """Assign the strategy's segments from a year of behaviour.

    The strategy's table (core >= 5000 yuan and >= 4 purchases; potential 2000-5000 and
    2-3; basic 500-2000 and 1-2; dormant < 500 and none in 6 months) leaves gaps and
    overlaps, so it is applied as a precedence rule (:class:`SegmentRules`; other
    thresholds and currencies by ``rules``):

    1. core loyal: spend >= 5000 and >= 4 purchases;
    2. potential loyal: spend >= 2000 and >= 2 purchases;
    3. dormant: spend < 500 and no purchase in the last 26 weeks;
    4. basic: everyone else.

    Returns
    -------
    array of int
        Index into :data:`loyaltylab.agents.SEGMENT_NAMES`.
    """
    return rules.classify(annual_spend, purchases_per_year, weeks_since_purchase)
