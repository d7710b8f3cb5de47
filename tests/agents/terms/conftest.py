"""A tiny model whose customers' traits the term tests set by hand."""

import numpy as np
import pytest

from loyaltylab.agents import (
    BGNBD,
    CustomerBehaviour,
    GammaGamma,
    PopulationSpec,
    RedemptionCoefficients,
    Segment,
)
from loyaltylab.sim import LoyaltyModel, Offers

#: Gamma-Gamma shape of the tiny model's orders: the usual order is SHAPE / spend_rate.
SHAPE = 5.0


def tiny_model(n=4, usual=100.0, lam=0.5, sensitivity=1.0, behaviour=None):
    """``n`` deal-prone customers (sensitivity 1), all spenders, usual order ``usual``,
    weekly rate ``lam``; returns the model and empty offers."""
    segment = Segment(name="s", bgnbd=BGNBD(r=1.0, alpha=1.0, a=1.0, b=1.0),
                      gamma_gamma=GammaGamma(p=SHAPE, q=2.0, gamma=1.0), deal_prone_share=1.0)
    behaviour = behaviour or CustomerBehaviour(
        redemption=RedemptionCoefficients(stockpiler_share=0.0))
    model = LoyaltyModel(PopulationSpec(size=n, segments=[segment], shares=[1.0],
                                        behaviour=behaviour), seed=1)
    pop = model.population
    pop["spend_rate"] = np.float32(SHAPE / usual)
    pop["lam"] = np.float32(lam)
    pop["sensitivity"] = np.float32(sensitivity)
    return model, Offers(n, np)


@pytest.fixture(scope="session")
def tiny():
    return tiny_model
