"""The contract between the engine and a customer behaviour model.

The engine knows nothing of BG/NBD or goal gradients: it hands each behaviour the rows
of the customers it governs and gets back their purchases. The default model and the
base class researchers subclass live in :mod:`loyaltylab.agents`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from loyaltylab.sim.model import LoyaltyModel
    from loyaltylab.sim.offers import Offers
    from loyaltylab.sim.sale import Sale


@runtime_checkable
class Behaviour(Protocol):
    """What the engine calls on a behaviour, once per week, for its customers.

    ``rows`` is ``slice(None)`` when the behaviour governs every customer, else an
    ascending array of rows.
    """

    def setup(self, model: LoyaltyModel) -> None:
        """Add the behaviour's memory columns to ``model.population``."""

    def decide(self, model: LoyaltyModel, rows: Any, offers: Offers, week: int) -> Sale:
        """Step 2: who buys, how often, for how much, with which coupon; who drops out."""
        ...

    def update(
        self, model: LoyaltyModel, rows: Any, sale: Sale, offers: Offers, week: int
    ) -> None:
        """Step 4: apply dropout and update the customers' memory after settlement."""
