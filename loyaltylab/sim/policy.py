"""The policy contract: how a program mechanic plugs into the weekly pipeline.

A policy is a small class with up to five hooks, each optional::

    for each week t:
      1. policy.make_offers(model, offers, t)  # coupons held, multipliers, reminders, status
      2.   (behaviour decides: who buys, baskets, coupon use, redemption wish, dropout)
      3. policy.settle(model, sale, t)         # discounts, points earned/burned, costs
      4.   (behaviour updates its memory and applies dropout)
      5. policy.end_of_week(model, t)          # tier (re)qualification, expiry, budgets
      6.   (weekly metrics are collected)

``setup(model)`` runs once before the first week (add the policy's columns to
``model.population``); ``on_join(model, rows)`` runs when customers join during the run.

Policies run in ascending :attr:`Policy.order`, ties in the order given, so composition
is fixed and documented: tiers (10) before coupons (20) before points (30), so member
discounts and coupons come off the basket before points are earned on the net amount
and tier multipliers apply to the earn rate; then service benefits (40) and referral
(50). A policy never draws a customer decision; it reads the customers' intents from the
sale and settles them.

Parameters of a policy are the keyword arguments of its ``__init__``, stored unchanged
as attributes of the same name (as in scikit-learn), so :meth:`get_params` can rebuild
it; the model works on its own copy of every policy.
"""

from __future__ import annotations

import copy
import inspect
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from loyaltylab.sim.model import LoyaltyModel
    from loyaltylab.sim.offers import Offers
    from loyaltylab.sim.sale import Sale

#: Documented order of the built-in policy kinds.
ORDER = {"tiers": 10, "coupons": 20, "points": 30, "service": 40, "referral": 50}


class Policy:
    """Base class of all program mechanics; override the hooks you need.

    Attributes
    ----------
    name : str
        Registry name used in scenario files (``type = "points"``).
    order : int
        Position in the pipeline (see module docstring); lower runs first.
    """

    name: ClassVar[str] = ""
    order: ClassVar[int] = 100

    def setup(self, model: LoyaltyModel) -> None:
        """Prepare state before the first week (add columns, read the segments)."""

    def make_offers(self, model: LoyaltyModel, offers: Offers, week: int) -> None:
        """Step 1: put this week's offers in front of the customers."""

    def settle(self, model: LoyaltyModel, sale: Sale, week: int) -> None:
        """Step 3: settle this week's purchases (discounts, points, costs)."""

    def end_of_week(self, model: LoyaltyModel, week: int) -> None:
        """Step 5: book-keeping after the week (qualification, expiry, budgets)."""

    def on_join(self, model: LoyaltyModel, rows: Any) -> None:
        """Customers in ``rows`` (a slice) joined the population this week."""

    def metrics(self, model: LoyaltyModel) -> dict[str, float]:
        """Step 6: extra weekly series of this policy (e.g. customers per tier).

        Called once after ``setup`` to learn the names, then every week. Use
        ``model.policy_key(self)`` as a prefix where two instances could collide.
        """
        return {}

    def get_params(self) -> dict[str, Any]:
        """The constructor's keyword arguments, read back from the attributes."""
        sig = inspect.signature(type(self).__init__)
        return {
            name: getattr(self, name)
            for name, p in sig.parameters.items()
            if name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        }

    def clone(self) -> Policy:
        """A fresh, unsetup policy with the same parameters."""
        return type(self)(**copy.deepcopy(self.get_params()))

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"
