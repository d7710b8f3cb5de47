"""Program mechanics, pluggable by name: points, tiers, coupons, reminders, service,
referral.

``make(name, **params)`` builds a registered policy, ``registered()`` lists the names
(plugins join through the entry-point group ``loyaltylab.policies``), and
``check_policy(policy)`` verifies what every policy must respect. Policies compose in a
fixed order: tiers (10), coupons (20), reminders (25), points (30), service (40),
referral (50).
``full_strategy()`` is the whole strategy as one design.
"""

from loyaltylab.policies.base import ParamPolicy
from loyaltylab.policies.checker import PolicyCheckError, check_policy
from loyaltylab.policies.coupons import CouponPolicy
from loyaltylab.policies.points import Campaign, PointsPolicy
from loyaltylab.policies.referral import ReferralPolicy
from loyaltylab.policies.registry import ENTRY_POINT_GROUP, make, policy_class, register, registered
from loyaltylab.policies.reminders import ReminderPolicy
from loyaltylab.policies.replay import ReplayedCoupons
from loyaltylab.policies.service import ServicePolicy
from loyaltylab.policies.strategy import full_strategy
from loyaltylab.policies.tiers import Extension, Tier, TiersPolicy

__all__ = [
    "ENTRY_POINT_GROUP",
    "Campaign",
    "CouponPolicy",
    "Extension",
    "ParamPolicy",
    "PointsPolicy",
    "PolicyCheckError",
    "ReferralPolicy",
    "ReminderPolicy",
    "ReplayedCoupons",
    "ServicePolicy",
    "Tier",
    "TiersPolicy",
    "check_policy",
    "full_strategy",
    "make",
    "policy_class",
    "register",
    "registered",
]
