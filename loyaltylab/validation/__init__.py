"""Stylized facts as executable checks: small simulated studies designed like published
ones, each measuring a fact with its Monte Carlo error against the published band.

``check_facts(behaviour=..., population=...)`` runs them for any behaviour (the way
Gymnasium's environment checker serves new environments); ``loyaltylab facts`` prints
the table.
"""

# The study modules register their studies when imported.
from loyaltylab.validation import (  # noqa: F401
    breakage,
    coupons,
    goal,
    launch,
    referral,
    tiers,
)
from loyaltylab.validation.facts import (
    Fact,
    Measurement,
    Study,
    StudyContext,
    check_facts,
    facts,
    jackknife,
    studies,
    study,
)

__all__ = [
    "Fact",
    "Measurement",
    "Study",
    "StudyContext",
    "check_facts",
    "facts",
    "jackknife",
    "studies",
    "study",
]
