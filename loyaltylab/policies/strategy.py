"""The full strategy as one design: four segments, each with its own treatment, plus a
four-tier program with points.

========================  =================================================================
who                       treatment
========================  =================================================================
everyone                  points: 1 point per yuan, 100 points = 10 yuan, expiry after
                          52 weeks, double points in weeks 6 and 46, 100-point sign-up
                          bonus, 35,000 points a week cap; tiers Regular / Silver / Gold /
                          Diamond (Gold: 10,000 yuan and 5 purchases in 52 weeks; Gold with
                          >= 6 purchases keeps Gold 13 more weeks; Diamond earns 2 points
                          per yuan)
Gold and Diamond          birthday coupon: spend 1000, get 200 off
core loyal                dedicated account manager, priority shipping, extended returns
                          (15 days instead of 7), yearly appreciation event
potential loyal           threshold coupons "spend 3000, get 500 off"; repurchase reminders
basic                     first-order welcome discount (10%); check-in points (5 per visit)
dormant                   win-back pack "spend 200, get 100 off" after 26 weeks without a
                          purchase; personalised 15% reactivation discount after 39 weeks;
                          limited-time double points (weeks 10-13)
========================  =================================================================

Costs and effects of the service benefits are judgements (U); change them per scenario.
"""

from __future__ import annotations

from loyaltylab.policies.coupons import CouponPolicy
from loyaltylab.policies.points import Campaign, PointsPolicy
from loyaltylab.policies.reminders import ReminderPolicy
from loyaltylab.policies.service import ServicePolicy
from loyaltylab.policies.tiers import TiersPolicy
from loyaltylab.sim import Policy


def full_strategy() -> list[Policy]:
    """The strategy's whole program (see module docstring), for the default segments."""
    return [
        TiersPolicy(),
        PointsPolicy(
            campaigns=[Campaign(weeks=[6, 46]),
                       Campaign(weeks=[10, 11, 12, 13], segments=["dormant"])],
            checkin_points=5, checkin_segments=["basic"],
        ),
        CouponPolicy(tiers=["Gold", "Diamond"], trigger="birthday", min_spend=1000.0,
                     amount_off=200.0, validity_weeks=2, per_customer_limit=None),
        CouponPolicy(segments=["potential_loyal"], min_spend=3000.0, amount_off=500.0,
                     validity_weeks=4, per_customer_limit=3),
        ReminderPolicy(segments=["potential_loyal"], after_weeks=8, every_weeks=4),
        CouponPolicy(segments=["basic"], trigger="first_purchase", min_spend=0.0,
                     amount_off=0.0, pct_off=0.10, validity_weeks=8),
        CouponPolicy(segments=["dormant"], trigger="inactive", inactive_weeks=26,
                     min_spend=200.0, amount_off=100.0, validity_weeks=8, per_customer_limit=2),
        CouponPolicy(segments=["dormant"], trigger="inactive", inactive_weeks=39,
                     min_spend=0.0, amount_off=0.0, pct_off=0.15, validity_weeks=4),
        ServicePolicy(benefit="dedicated account manager", segments=["core_loyal"],
                      cost_per_member_week=8.0, dropout_multiplier=0.85),
        ServicePolicy(benefit="priority shipping", segments=["core_loyal"],
                      cost_per_member_week=3.0, dropout_multiplier=0.95),
        ServicePolicy(benefit="extended returns (15 days instead of 7)",
                      segments=["core_loyal"], cost_per_member_week=1.0,
                      dropout_multiplier=0.97),
        ServicePolicy(benefit="yearly appreciation event", segments=["core_loyal"],
                      cost_per_member_week=500.0 / 52, dropout_multiplier=0.95),
    ]
