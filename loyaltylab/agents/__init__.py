"""Customers: segments, behaviour models, and ready-made populations."""

from loyaltylab.agents.behaviour import CustomerBehaviour
from loyaltylab.agents.btyd import expected_repeat_purchases, probability_no_repeat
from loyaltylab.agents.populations import (
    CDNOW_GAMMA_GAMMA,
    DEFAULT_SHARES,
    SEGMENT_NAMES,
    btyd_population,
    classify_segments,
    default_population,
    default_segments,
)
from loyaltylab.agents.response import ResponseCoefficients
from loyaltylab.agents.segments import BGNBD, GammaGamma, PopulationSpec, Segment

__all__ = [
    "BGNBD",
    "CDNOW_GAMMA_GAMMA",
    "DEFAULT_SHARES",
    "SEGMENT_NAMES",
    "CustomerBehaviour",
    "GammaGamma",
    "PopulationSpec",
    "ResponseCoefficients",
    "Segment",
    "btyd_population",
    "classify_segments",
    "default_population",
    "default_segments",
    "expected_repeat_purchases",
    "probability_no_repeat",
]
