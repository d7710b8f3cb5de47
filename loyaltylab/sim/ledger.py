"""The money ledger: revenue, discounts and program cost, per week and per customer.

Accounting used everywhere in loyaltylab:

- gross revenue: value of the orders at list prices;
- discounts: money off at checkout (coupons, tier discounts, points redeemed);
- net revenue = gross revenue - discounts (what customers pay);
- program cost = every discount granted + service benefits + referral rewards + fixed
  program cost;
- margin = gross revenue x gross margin - program cost. The cost of goods is paid on the
  goods handed over (their list value), and each discount is counted once, as program
  cost. (``net revenue x gross margin - program cost`` would count a discount twice.)

Per customer the ledger keeps the gross and net revenue, the program cost attributed to
the customer and the present value of the margin, discounted weekly at the annual rate
of the economics: the customer's realised lifetime value over the horizon.
"""

from __future__ import annotations

from typing import Any

from loyaltylab.sim.economics import Economics
from loyaltylab.sim.population import Population, add_at, as_slice, count_rows

#: Built-in program cost components; plugins add theirs with :meth:`Ledger.register_component`.
COST_COMPONENTS = ("rewards", "coupons", "tier_discounts", "service", "referral", "fixed")


class Ledger:
    """Money ledger of one simulation.

    Parameters
    ----------
    population : Population
        The customers; the ledger adds the columns ``gross_revenue``, ``net_revenue``,
        ``program_cost`` and ``margin_pv`` (float64, currency units).
    economics : Economics
        Gross margin and discount rate.
    """

    def __init__(self, population: Population, economics: Economics) -> None:
        self.population = population
        self.xp = population.xp
        self.economics = economics
        self.components: list[str] = list(COST_COMPONENTS)
        for name in ("gross_revenue", "net_revenue", "program_cost", "margin_pv"):
            population.add_column(name, self.xp.float64, 0.0)
        self._weekly_factor = (1.0 + economics.annual_discount_rate) ** (-1.0 / 52.0)
        self.begin_week(0)

    def register_component(self, name: str) -> None:
        """Allow a new program cost component (for third-party policies)."""
        if not name.isidentifier():
            raise ValueError(f"component: {name!r} must be an identifier")
        if name not in self.components:
            self.components.append(name)
            self.costs.setdefault(name, 0.0)

    def begin_week(self, week: int) -> None:
        """Reset the week's totals; set the discount factor of ``week``."""
        self.week = week
        self.discount_factor = self._weekly_factor**week
        self.gross_revenue = 0.0
        self.discounts = 0.0
        self.costs = dict.fromkeys(self.components, 0.0)

    def add_cost(self, component: str, rows: Any, amount: Any) -> None:
        """Book program cost.

        Parameters
        ----------
        component : str
            One of :attr:`components`.
        rows : index or None
            Customers the cost is attributed to (array of rows, boolean mask or slice);
            ``None`` for a cost of the program as a whole (fixed cost).
        amount : float or array of float
            Cost per selected customer (or the whole amount if ``rows`` is None),
            currency units, >= 0.
        """
        if component not in self.costs:
            raise ValueError(
                f"component: unknown cost component {component!r}; known: {self.components}"
            )
        xp = self.xp
        if rows is None:
            if float(amount) < 0.0:
                raise ValueError(f"component {component!r}: program cost must be >= 0")
            self.costs[component] += float(amount)
            return
        pop = self.population
        rows = as_slice(rows)
        mask = not isinstance(rows, slice) and rows.dtype == bool
        count = int(xp.count_nonzero(rows)) if mask else count_rows(rows, pop.n)
        amount = xp.asarray(amount, dtype=xp.float64)
        if count and float(amount.min()) < 0.0:  # checked before broadcasting
            raise ValueError(f"component {component!r}: program cost must be >= 0")
        amount = xp.broadcast_to(amount, (count,))
        add_at(pop["program_cost"], rows, amount, xp)
        # minus the present value: adding its negative is the same subtraction
        add_at(pop["margin_pv"], rows, amount * -self.discount_factor, xp)
        self.costs[component] += float(amount.sum())

    def book_sale(self, rows: Any, gross: Any, discount: Any) -> None:
        """Book the week's orders: revenue totals and the customers' accumulators."""
        xp = self.xp
        pop = self.population
        self.gross_revenue += float(xp.sum(gross))
        self.discounts += float(xp.sum(discount))
        add_at(pop["gross_revenue"], rows, gross, xp)
        add_at(pop["net_revenue"], rows, gross - discount, xp)
        add_at(pop["margin_pv"], rows, gross * (self.economics.gross_margin * self.discount_factor),
               xp)

    @property
    def program_cost(self) -> float:
        """Program cost of the week, all components."""
        return sum(self.costs.values())

    def week_totals(self) -> dict[str, float]:
        """The week's money totals, for the weekly table."""
        gm = self.economics.gross_margin
        totals = {
            "gross_revenue": self.gross_revenue,
            "discounts": self.discounts,
            "net_revenue": self.gross_revenue - self.discounts,
            "program_cost": self.program_cost,
            "margin": self.gross_revenue * gm - self.program_cost,
        }
        totals.update({f"cost_{k}": v for k, v in self.costs.items()})
        return totals

