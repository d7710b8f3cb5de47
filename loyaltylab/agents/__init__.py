"""Customers: segments, behaviour models, response terms, and ready-made populations."""

from loyaltylab.agents.behaviour import CustomerBehaviour
from loyaltylab.agents.btyd import (
    expected_discounted_residual_transactions,
    expected_order_value,
    expected_repeat_purchases,
    probability_alive,
    probability_no_repeat,
    weekly_discount_rate,
)
from loyaltylab.agents.coefficients import Coefficients, coef
from loyaltylab.agents.coupon_use import CouponUse, CouponUseCoefficients
from loyaltylab.agents.populations import (
    CDNOW_GAMMA_GAMMA,
    DEFAULT_SHARES,
    SEGMENT_NAMES,
    btyd_population,
    classify_segments,
    default_population,
    default_segments,
)
from loyaltylab.agents.redemption import Redemption, RedemptionCoefficients
from loyaltylab.agents.satisfaction import SatisfactionCoefficients
from loyaltylab.agents.segments import BGNBD, GammaGamma, PopulationSpec, Segment

__all__ = [
    "BGNBD",
    "CDNOW_GAMMA_GAMMA",
    "DEFAULT_SHARES",
    "SEGMENT_NAMES",
    "Coefficients",
    "CouponUse",
    "CouponUseCoefficients",
    "CustomerBehaviour",
    "GammaGamma",
    "PopulationSpec",
    "Redemption",
    "RedemptionCoefficients",
    "SatisfactionCoefficients",
    "Segment",
    "btyd_population",
    "classify_segments",
    "coef",
    "default_population",
    "default_segments",
    "expected_discounted_residual_transactions",
    "expected_order_value",
    "expected_repeat_purchases",
    "probability_alive",
    "probability_no_repeat",
    "weekly_discount_rate",
]

# Calibration from transaction logs (imported last: these modules use the names above).
from loyaltylab.agents.calibration import (
    Calibration,
    CalibrationError,
    SegmentFit,
    assign_segments,
    calibrate,
    rfm_features,
)
from loyaltylab.agents.campaigns import CampaignError, read_campaigns
from loyaltylab.agents.fitting import (
    BGNBDFit,
    GammaGammaFit,
    bgnbd_log_likelihood,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
)
from loyaltylab.agents.holdout import HoldoutResult, holdout_check
from loyaltylab.agents.population_file import (
    PopulationFileError,
    load_population,
    save_population,
)
from loyaltylab.agents.transactions import (
    TransactionError,
    read_transactions,
    summarise,
)

__all__ += [
    "BGNBDFit",
    "Calibration",
    "CalibrationError",
    "CampaignError",
    "GammaGammaFit",
    "HoldoutResult",
    "PopulationFileError",
    "SegmentFit",
    "TransactionError",
    "assign_segments",
    "bgnbd_log_likelihood",
    "calibrate",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "gamma_gamma_log_likelihood",
    "holdout_check",
    "load_population",
    "read_campaigns",
    "read_transactions",
    "rfm_features",
    "save_population",
    "summarise",
]
