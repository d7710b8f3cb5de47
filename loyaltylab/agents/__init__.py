"""Customers: segments, behaviour models, response terms, and ready-made populations."""

from loyaltylab.agents.behaviour import CustomerBehaviour
from loyaltylab.agents.btyd import (
    conditional_expected_purchases,
    expected_discounted_residual_transactions,
    expected_order_value,
    expected_purchases_seen,
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
    btyd_population,
    classify_segments,
    default_population,
    default_segments,
)
from loyaltylab.agents.redemption import Redemption, RedemptionCoefficients
from loyaltylab.agents.satisfaction import SatisfactionCoefficients
from loyaltylab.agents.segment_rules import SEGMENT_NAMES, STRATEGY_RULES, SegmentRules
from loyaltylab.agents.segments import BGNBD, GammaGamma, PopulationSpec, Segment

__all__ = [
    "BGNBD",
    "CDNOW_GAMMA_GAMMA",
    "DEFAULT_SHARES",
    "SEGMENT_NAMES",
    "STRATEGY_RULES",
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
    "SegmentRules",
    "btyd_population",
    "classify_segments",
    "coef",
    "conditional_expected_purchases",
    "default_population",
    "default_segments",
    "expected_discounted_residual_transactions",
    "expected_order_value",
    "expected_purchases_seen",
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
from loyaltylab.agents.diagnostics import (
    conditional_expectation_table,
    conditional_expectation_table_from_log,
    plot_conditional_expectations,
)
from loyaltylab.agents.fitting import (
    BGNBDFit,
    GammaGammaFit,
    bgnbd_log_likelihood,
    bgnbd_score,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
)
from loyaltylab.agents.holdout import HoldoutResult, holdout_check
from loyaltylab.agents.information import DEGENERATE_FLAGS, FitFlag
from loyaltylab.agents.population_file import (
    PopulationFileError,
    load_population,
    load_segment_rules,
    save_population,
)
from loyaltylab.agents.predictions import expected_purchases, p_alive, predicted_clv
from loyaltylab.agents.transactions import (
    TransactionError,
    net_returns,
    read_transactions,
    summarise,
    truncation_sign,
)

__all__ += [
    "DEGENERATE_FLAGS",
    "BGNBDFit",
    "Calibration",
    "CalibrationError",
    "CampaignError",
    "FitFlag",
    "GammaGammaFit",
    "HoldoutResult",
    "PopulationFileError",
    "SegmentFit",
    "TransactionError",
    "assign_segments",
    "bgnbd_log_likelihood",
    "bgnbd_score",
    "calibrate",
    "conditional_expectation_table",
    "conditional_expectation_table_from_log",
    "expected_purchases",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "gamma_gamma_log_likelihood",
    "holdout_check",
    "load_population",
    "load_segment_rules",
    "net_returns",
    "p_alive",
    "plot_conditional_expectations",
    "predicted_clv",
    "read_campaigns",
    "read_transactions",
    "rfm_features",
    "save_population",
    "summarise",
    "truncation_sign",
]
