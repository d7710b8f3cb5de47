"""Response terms: how customers respond to what a program offers, one term per module.

Each term has its coefficients (defaults, plausible ranges, sources) and a few hooks
(:class:`ResponseTerm`); :class:`loyaltylab.agents.CustomerBehaviour` adds them up.
``default_terms()`` is the default behaviour's list.
"""

from loyaltylab.agents.terms.base import ResponseTerm
from loyaltylab.agents.terms.coupon_trips import CouponTrips, CouponTripsCoefficients
from loyaltylab.agents.terms.goal_gradient import GoalGradient, GoalGradientCoefficients
from loyaltylab.agents.terms.launch import Launch, LaunchCoefficients
from loyaltylab.agents.terms.referral_premium import (
    ReferralPremium,
    ReferralPremiumCoefficients,
)
from loyaltylab.agents.terms.reminder import Reminder, ReminderCoefficients
from loyaltylab.agents.terms.status import Status, StatusCoefficients


def default_terms() -> list[ResponseTerm]:
    """The default behaviour's terms, each with default coefficients: goal gradient,
    launch response, status, coupon trips, reminders, referral premium."""
    return [GoalGradient(), Launch(), Status(), CouponTrips(), Reminder(), ReferralPremium()]


__all__ = [
    "CouponTrips",
    "CouponTripsCoefficients",
    "GoalGradient",
    "GoalGradientCoefficients",
    "Launch",
    "LaunchCoefficients",
    "ReferralPremium",
    "ReferralPremiumCoefficients",
    "Reminder",
    "ReminderCoefficients",
    "ResponseTerm",
    "Status",
    "StatusCoefficients",
    "default_terms",
]
