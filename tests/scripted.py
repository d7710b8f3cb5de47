"""A scripted customer behaviour for hand-computed policy tests.

Customers buy exactly what the script says, so a test can follow one customer's
points, tier or coupons week by week.
"""

from __future__ import annotations

import numpy as np

from loyaltylab.agents import BGNBD, GammaGamma, PopulationSpec, Segment
from loyaltylab.sim import LoyaltyModel, Sale


class Scripted:
    """Behaviour whose purchases come from ``script[week] = [(row, order_value, redeem)]``.

    ``interactions[week] = [(row, count)]`` reports check-ins when a policy asks.
    Coupons held are used whenever the order reaches their minimum spend.
    """

    def __init__(self, script, interactions=None):
        self.script = script
        self.interactions = interactions or {}

    def setup(self, model):
        pass

    def decide(self, model, rows, offers, week):
        entries = sorted(self.script.get(week, []))
        buyers = np.array([e[0] for e in entries], dtype=np.int64)
        value = np.array([e[1] for e in entries], dtype=np.float64)
        redeem = np.array([e[2] for e in entries], dtype=bool)
        coupon = np.full(buyers.shape, -1, dtype=np.int64)
        for k, c in enumerate(offers.coupons):
            held = np.isin(buyers, c.rows) & (coupon < 0)
            at = np.searchsorted(c.rows, buyers[held])
            min_spend = np.broadcast_to(c.min_spend, c.rows.shape)[at]
            coupon[np.flatnonzero(held)[value[held] >= min_spend]] = k
        sale = Sale(rows=buyers, purchases=np.ones(buyers.shape, dtype=np.int64),
                    first_order=value, gross=value.copy(), coupon=coupon, redeem=redeem,
                    dropout=np.zeros(buyers.shape, dtype=bool))
        if offers.interaction_rows is not None:
            asked = set(offers.interaction_rows.tolist())
            got = sorted(g for g in self.interactions.get(week, []) if g[0] in asked)
            sale.interaction_rows = np.array([g[0] for g in got], dtype=np.int64)
            sale.interaction_counts = np.array([g[1] for g in got], dtype=np.int64)
        return sale

    def update(self, model, rows, sale, offers, week):
        pass


def scripted_model(script, policies, size=1, interactions=None, seed=0, segment="basic"):
    """A model of ``size`` scripted customers of one segment (default name "basic")."""
    behaviour = Scripted(script, interactions)
    seg = Segment(name=segment, bgnbd=BGNBD(r=1.0, alpha=1.0, a=1.0, b=1.0),
                  gamma_gamma=GammaGamma(p=1.0, q=2.0, gamma=1.0), behaviour=behaviour)
    spec = PopulationSpec(size=size, segments=[seg], shares=[1.0])
    return LoyaltyModel(spec, policies=policies, seed=seed)
