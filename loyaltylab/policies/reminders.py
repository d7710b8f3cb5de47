"""Repurchase reminders ("potential loyal: repurchase reminders").

Customers of the target segments whose last purchase was at least ``after_weeks`` weeks
ago get a reminder (an e-mail, an app notification), at most one every ``every_weeks``
weeks. A reminder lifts the week's purchase rate (``reminder_lift`` of
:class:`loyaltylab.agents.ResponseCoefficients`) and costs ``cost_per_reminder``, booked
as the program cost component ``reminders``.

The firm cannot see latent dropout, so churned customers are reminded (and paid for) too.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field, PrivateAttr

from loyaltylab.policies.base import MAX_AMOUNT, ParamPolicy
from loyaltylab.policies.registry import register
from loyaltylab.sim import MAX_WEEKS, LoyaltyModel, Offers, rows_where

#: Program cost component of the reminders.
COST_COMPONENT = "reminders"


@register("reminders")
class ReminderPolicy(ParamPolicy):
    """Repurchase reminders for lapsing customers (see module docstring).

    Attributes
    ----------
    segments : list of str or None
        Target segments; None: all customers.
    after_weeks : int
        Remind customers whose last purchase was at least this many weeks ago (>= 1).
    every_weeks : int
        At most one reminder per customer in any ``every_weeks`` consecutive weeks (>= 1).
    cost_per_reminder : float
        Cost of sending one reminder, currency units (>= 0).

    Examples
    --------
    >>> ReminderPolicy(segments=["potential_loyal"]).after_weeks
    8
    """

    name: ClassVar[str] = "reminders"
    order: ClassVar[int] = 25

    segments: Annotated[list[str], Field(min_length=1)] | None = None
    after_weeks: int = Field(8, ge=1, le=MAX_WEEKS)
    every_weeks: int = Field(4, ge=1, le=MAX_WEEKS)
    cost_per_reminder: float = Field(0.05, ge=0, le=MAX_AMOUNT, allow_inf_nan=False)

    _key: str = PrivateAttr(default="")
    _segment_ids: Any = PrivateAttr(default=None)
    _sent: int = PrivateAttr(default=0)

    def setup(self, model: LoyaltyModel) -> None:
        """Resolve the segments, register the cost component ``reminders`` and add the
        column ``<key>_reminded_week`` (int16, week of the last reminder, -1: never)."""
        self._key = model.policy_key(self)
        self._segment_ids = self.segment_ids(model, self.segments, "segments")
        model.ledger.register_component(COST_COMPONENT)
        model.population.add_column(f"{self._key}_reminded_week", model.xp.int16, -1)
        self._sent = 0

    def due(self, model: LoyaltyModel, week: int) -> Any:
        """Rows (ascending) of the customers to remind this week: targeted, lapsing, not
        reminded in the last ``every_weeks`` weeks."""
        xp = model.xp
        pop = model.population
        lapsed = week - self.after_weeks  # last purchase at or before this week
        if lapsed < 0:
            return xp.zeros(0, dtype=xp.int64)
        rows = self.segment_rows(model, self._segment_ids)
        mask = pop["last_purchase"][rows] <= lapsed
        # last reminder at or before ``quiet`` (-1: never reminded, which passes too)
        quiet = max(week - self.every_weeks, -1)
        mask &= pop[f"{self._key}_reminded_week"][rows] <= quiet
        return rows_where(rows, mask, xp)

    def make_offers(self, model: LoyaltyModel, offers: Offers, week: int) -> None:
        """Remind the customers who are due and book the cost."""
        rows = self.due(model, week)
        self._sent = int(rows.shape[0])
        if not self._sent:
            return
        offers.remind(rows)
        model.population[f"{self._key}_reminded_week"][rows] = week
        if self.cost_per_reminder > 0:
            model.ledger.add_cost(COST_COMPONENT, rows, self.cost_per_reminder)

    def metrics(self, model: LoyaltyModel) -> dict[str, float]:
        """Reminders sent this week."""
        return {f"{model.policy_key(self)}_sent": self._sent}
