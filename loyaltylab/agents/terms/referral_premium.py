"""The referred customer's premium: better at first, like any customer later (R1).

Referred customers are worth about 16% more than comparable customers, through both a
higher margin and a higher chance to stay, and the gap fades over about 2.5 years
(Schmitt, Skiera & Van den Bulte 2011). One premium expresses both, fading with the
friend's tenure :math:`a = t - t_{join}`:

.. math::

    \\pi(a) = \\phi\\, e^{-a/\\tau}, \\qquad L = \\log(1 + \\pi(a)),
    \\qquad D = -\\log(1 + \\pi(a)),

a purchase rate higher and a dropout risk lower by the same factor. It is not a
response to an incentive, so it is not scaled by incentive sensitivity. The referral
policy publishes who was referred (``offers.get("referred_by")``: the referrer's row,
-1 for none); the premium acts on those customers only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loyaltylab.agents.coefficients import Coefficients, coef
from loyaltylab.agents.terms.base import ResponseTerm

if TYPE_CHECKING:
    from loyaltylab.sim import LoyaltyModel, Offers

#: Name under which the referral policy publishes each customer's referrer.
REFERRED_BY = "referred_by"


@dataclass(frozen=True)
class ReferralPremiumCoefficients(Coefficients):
    """Coefficients of :class:`ReferralPremium` (module docstring)."""

    premium: float = coef(
        0.45, 0.2, 0.7, "relative rise of purchase rate and fall of dropout at joining",
        "R1: Schmitt, Skiera & Van den Bulte 2011 JM 75(1), value +16% over ~3 years "
        "(calibrated on the referral study)",
    )
    premium_weeks: float = coef(
        35.0, 26.0, 52.0, "weeks (e-folding time of the premium)",
        "R1: the margin gap fades by about 30 months",
        positive=True,
    )


class ReferralPremium(ResponseTerm):
    """A referred friend's fading premium (module docstring)."""

    name = "referral_premium"
    sensitive = False
    coefficients_class = ReferralPremiumCoefficients

    def setup(self, model: LoyaltyModel, behaviour: Any) -> None:
        """No referred customers known yet."""
        super().setup(model, behaviour)
        self._referred = (0, None)  # (rows looked at, referred rows among them)

    def support(self, model: LoyaltyModel, offers: Offers, week: int) -> Any:
        """The referred customers (they join at the end of a week and never leave)."""
        xp = model.xp
        by = offers.get(REFERRED_BY)
        if by is None:
            return xp.zeros(0, dtype=xp.int64)
        n, rows = self._referred
        if n < by.shape[0]:
            more = xp.nonzero(by[n:] >= 0)[0] + n
            rows = more if rows is None else xp.concatenate((rows, more))
            self._referred = (by.shape[0], rows)
        return rows

    def _premium(self, model: LoyaltyModel, rows: Any, offers: Offers, week: int) -> Any:
        xp = model.xp
        by = offers.get(REFERRED_BY)
        if by is None:
            return None
        c = self.coefficients
        age = (week - model.population["join_week"][rows]).astype(xp.float32)
        premium = xp.exp(age * xp.float32(-1.0 / c.premium_weeks)) * xp.float32(c.premium)
        return xp.log1p(premium * (by[rows] >= 0))

    def log_lift(self, model: LoyaltyModel, rows: Any, offers: Offers, week: int) -> Any:
        """``log(1 + premium)`` of referred ``rows``, 0 for the others."""
        return self._premium(model, rows, offers, week)

    def log_dropout(self, model: LoyaltyModel, buyers: Any, offers: Offers, week: int) -> Any:
        """``-log(1 + premium)`` of referred buyers."""
        lift = self._premium(model, buyers, offers, week)
        return None if lift is None else -lift.astype(model.xp.float64)
