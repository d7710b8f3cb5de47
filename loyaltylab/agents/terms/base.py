"""The response-term contract: one way customers respond to what a program offers.

A behaviour (:class:`loyaltylab.agents.CustomerBehaviour`) is BG/NBD purchases and
dropout plus a list of terms. Each week, for customer *i*, the terms' log-lifts add up
to the purchase multiplier and their log-factors to the dropout multiplier,

.. math::

    \\lambda_{it} = \\lambda_i \\exp\\Big(s_i \\sum_k L_k(i, t) + \\sum_u L_u(i, t)\\Big)
    + \\sum_k E_k(i, t), \\qquad
    d_{it} = \\exp\\Big(s_i \\sum_k D_k(i, t) + \\sum_u D_u(i, t)\\Big),

where *k* runs over the terms scaled by the customer's incentive sensitivity
:math:`s_i` (:attr:`ResponseTerm.sensitive`) and *u* over the others; :math:`E_k` are
extra purchase occasions a term creates (a coupon that prompts a trip), drawn apart
from the regular ones so that customers who would have bought anyway keep their luck.

A term is a small class with its coefficients (a frozen dataclass whose fields have a
default, a plausible range and a source, :mod:`loyaltylab.agents.coefficients`) and up
to seven hooks, each optional:

``setup(model, behaviour)``
    Per-model state (the model works on its own copy of the behaviour and its terms).
``support(model, offers, week)``
    The few customers the term can act on this week, if it acts on few (a referred
    friend's premium): they are always evaluated exactly, and the term's lift must be
    zero for everyone else, so it needs no bound.
``upper_bound(model, offers, week)``
    The largest :meth:`log_lift` any customer can have this week; the engine decides
    most customers' purchases from it without computing their lift (thinning), so it
    must be a true bound, and tight: a number for everyone, or a :class:`RowBound`, one
    per customer (a reward worth little to big spenders pulls them little). ``0.0``
    when the term does nothing this week; ``None`` when no bound is known (every
    customer's rate is then computed).
``log_lift(model, rows, offers, week)``
    Log of the term's factor on the purchase rate of ``rows``.
``extra_purchases(model, rows, offers, week)``
    Extra purchase occasions this week: the customers among ``rows`` who get some and
    how many (the term draws them from its own stream, sensitivity included).
``log_dropout(model, buyers, offers, week)``
    Log of the term's factor on the dropout probability after each order.
``update(model, rows, sale, offers, week)``
    Memory after the week's purchases are settled (a reward taken, a status lost), for
    the behaviour's customers ``rows`` and their part of the sale.

A term reads what a policy publishes in the week's :class:`loyaltylab.sim.Offers`
(a coupon, a balance, a status, or a name the policy chose with ``offers.publish``),
so a new incentive is one policy and, if customers respond to it in a new way, one
term: the engine never learns its name.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

from loyaltylab.agents.coefficients import Coefficients

if TYPE_CHECKING:
    from loyaltylab.sim import LoyaltyModel, Offers, Sale


def largest(values: Any) -> float:
    """The largest of ``values`` (an array, or None) and 0, as a number for a bound
    (CuPy's ``max`` has no ``initial``)."""
    if values is None or not values.shape[0]:
        return 0.0
    return max(float(values.max()), 0.0)


@dataclass(frozen=True)
class RowBound:
    """A bound of a term's log-lift per customer row.

    Attributes
    ----------
    values : array of float32
        One bound per customer row (at least as many rows as the population).
    key : hashable
        Stays the same while the bounds of existing rows stay the same (rows may be
        added when customers join): the engine keeps what it derives from them under
        this key.
    """

    values: Any
    key: Hashable


class ResponseTerm:
    """Base class of response terms (see module docstring for the hooks).

    Parameters
    ----------
    coefficients : Coefficients, optional
        The term's coefficients; defaults from :attr:`coefficients_class`.
    **values
        Coefficient values to change from the defaults, by name
        (``GoalGradient(strength=0.3)``).

    Attributes
    ----------
    name : str
        Name of the term in tables of coefficients and in error messages.
    sensitive : bool
        The term is scaled by the customer's incentive sensitivity (deal-prone
        customers respond fully, others less); False for effects that are not a
        response to an incentive (a referred customer's premium).
    coefficients_class : type
        The frozen dataclass of the term's coefficients.
    """

    name: ClassVar[str] = ""
    sensitive: ClassVar[bool] = True
    coefficients_class: ClassVar[type[Coefficients]] = Coefficients

    def __init__(self, coefficients: Coefficients | None = None, **values: Any) -> None:
        if coefficients is None:
            coefficients = self.coefficients_class(**values)
        elif values:
            coefficients = replace(coefficients, **values)
        if not isinstance(coefficients, self.coefficients_class):
            raise TypeError(f"{self.name}: coefficients must be "
                            f"{self.coefficients_class.__name__}, got "
                            f"{type(coefficients).__name__}")
        self.coefficients = coefficients
        self.behaviour: Any = None

    def __repr__(self) -> str:
        values = ", ".join(f"{f.name}={getattr(self.coefficients, f.name)!r}"
                           for f in fields(self.coefficients))
        return f"{type(self).__name__}({values})"

    def describe(self) -> pd.DataFrame:
        """The term's coefficients: name, value, default, range, unit, source."""
        table = self.coefficients_class.describe(self.coefficients)
        table.insert(0, "term", self.name)
        return table

    # ------------------------------------------------------------------ hooks
    def setup(self, model: LoyaltyModel, behaviour: Any) -> None:
        """Prepare per-model state; ``behaviour`` is the behaviour the term belongs to."""
        self.behaviour = behaviour

    def support(self, model: LoyaltyModel, offers: Offers, week: int) -> Any:
        """Rows (ascending) outside which the term's lift is zero this week, or None if
        it may lift anyone (then :meth:`upper_bound` bounds it)."""
        return None

    def upper_bound(self, model: LoyaltyModel, offers: Offers,
                    week: int) -> float | RowBound | None:
        """Largest :meth:`log_lift` of any customer this week (0.0: no lift), or one per
        customer; not used when :meth:`support` names the rows."""
        return 0.0

    def log_lift(self, model: LoyaltyModel, rows: Any, offers: Offers, week: int) -> Any:
        """Log-lift of the purchase rate of ``rows`` (float32 array), or None for none."""
        return None

    def extra_purchases(
        self, model: LoyaltyModel, rows: Any, offers: Offers, week: int
    ) -> tuple[Any, Any] | None:
        """Customers among ``rows`` with extra purchase occasions this week (ascending
        rows) and how many (int64, >= 1), or None."""
        return None

    def log_dropout(self, model: LoyaltyModel, buyers: Any, offers: Offers, week: int) -> Any:
        """Log-factor on the dropout probability of ``buyers`` (float64), or None."""
        return None

    def update(self, model: LoyaltyModel, rows: Any, sale: Sale, offers: Offers,
               week: int) -> None:
        """Remember what the week's settled sale means for the term (customers ``rows``;
        ``sale`` holds their purchases only)."""
