"""Building blocks of the studies: study populations, twin models and a sale recorder."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from loyaltylab.agents import BGNBD, PopulationSpec
from loyaltylab.sim import LoyaltyModel, Policy, Sale, to_numpy

#: Dropout of the regular buyers of a study (Beta(a, b) with mean a / (a + b) = 1e-6).
_NO_DROPOUT = {"a": 1e-3, "b": 1e3}


def regular_buyers(spec: PopulationSpec, orders_per_week: float,
                   shape: float = 20.0) -> PopulationSpec:
    """The population's segments made regular buyers like a study's subjects.

    Each segment keeps its spend, incentive traits and behaviour; its purchase rates
    become Gamma(``shape``) with mean ``orders_per_week``, and nobody drops out, so a
    study of a stamp card or a coupon sees its customers through several rewards.
    """
    segments = [
        s.model_copy(update={"bgnbd": BGNBD(r=shape, alpha=shape / orders_per_week,
                                            **_NO_DROPOUT)})
        for s in spec.segments
    ]
    return spec.replace(segments=segments)


class Recorder(Policy):
    """Keeps the week's sale after every policy has settled it (a study's instrument).

    It offers nothing and costs nothing; it runs last (order 1000), so the sale it keeps
    holds the final discounts, points and coupons of the week.
    """

    name = "recorder"
    order = 1000

    def __init__(self) -> None:
        self.sale: Sale | None = None

    def setup(self, model: LoyaltyModel) -> None:
        """Nothing kept yet."""
        self.sale = None

    def settle(self, model: LoyaltyModel, sale: Sale, week: int) -> None:
        """Keep the sale (its arrays stay valid after the week)."""
        self.sale = sale


def recorded(model: LoyaltyModel) -> Sale:
    """The sale of the model's last week, as kept by its :class:`Recorder`."""
    sale = model.find_policies(Recorder)[0].sale  # type: ignore[attr-defined]
    if sale is None:
        raise RuntimeError("the model has not run a week with a recorder yet")
    return sale


def instrumented(spec: PopulationSpec, policies: Iterable[Policy], seed: Any,
                 burn_in_weeks: int = 0) -> LoyaltyModel:
    """A model of ``spec`` whose program starts after ``burn_in_weeks`` without one.

    The program is ``policies`` plus a :class:`Recorder`; models built with the same
    ``spec`` and ``seed`` are twins (same customers, same luck).
    """
    model = LoyaltyModel(spec, seed=seed)
    model.run(burn_in_weeks)
    model.start_program([*policies, Recorder()])
    return model


def column(model: LoyaltyModel, name: str) -> np.ndarray:
    """A population column in host memory (a copy)."""
    return np.array(to_numpy(model.population[name]))


def points_balance(model: LoyaltyModel) -> np.ndarray:
    """Every customer's points balance in host memory (zeros before the first award)."""
    return np.array(to_numpy(model.points.balance()), dtype=np.int64)


def per_customer(model: LoyaltyModel, values: Any, n: int | None = None) -> np.ndarray:
    """Per-buyer ``values`` of the last week's sale (e.g. ``recorded(model).purchases``)
    as an array over the first ``n`` customer rows (default: all), zero for the others."""
    sale = recorded(model)
    n = model.population.n if n is None else n
    rows = to_numpy(sale.rows)
    keep = rows < n
    out = np.zeros(n, dtype=float)
    out[rows[keep]] = to_numpy(values)[keep]
    return out
