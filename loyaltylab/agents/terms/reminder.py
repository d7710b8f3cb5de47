"""Reminders: a repurchase reminder lifts the week's purchase rate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loyaltylab.agents.coefficients import Coefficients, coef
from loyaltylab.agents.terms.base import ResponseTerm

if TYPE_CHECKING:
    from loyaltylab.sim import LoyaltyModel, Offers


@dataclass(frozen=True)
class ReminderCoefficients(Coefficients):
    """Coefficients of :class:`Reminder`."""

    reminder_lift: float = coef(
        0.05, 0.0, 0.15, "log-lift in a reminder week",
        "C4: Venkatesan & Farris 2012 JM, exposure lifts purchases beyond redemption (U)",
    )


class Reminder(ResponseTerm):
    """``L = reminder_lift`` in a week the customer is reminded."""

    name = "reminder"
    coefficients_class = ReminderCoefficients

    def upper_bound(self, model: LoyaltyModel, offers: Offers, week: int) -> float | None:
        """The lift, in a week with reminders."""
        return 0.0 if offers.reminded is None else self.coefficients.reminder_lift

    def log_lift(self, model: LoyaltyModel, rows: Any, offers: Offers, week: int) -> Any:
        """The lift for reminded ``rows``, 0 for the others."""
        if offers.reminded is None:
            return None
        xp = model.xp
        return offers.reminded[rows] * xp.float32(self.coefficients.reminder_lift)
