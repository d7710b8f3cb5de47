"""Targeting by what the firm can predict of a customer: P(alive) and CLV under BG/NBD.

The firm cannot see latent dropout; it sees each customer's purchases. When a policy
makes its offers at the start of week ``w``, weeks ``join_week + 1 .. w - 1`` of a
customer's history are known, and in the units of BG/NBD (weeks since the first
purchase, which is the join):

- ``x``: purchases since joining (the ``purchases`` column);
- ``T = w - 1 - join_week``: the observation's length;
- ``t_x = last_purchase - join_week``: the end of the week of the last purchase (0
  without one), so within-week timing is rounded up by half a week on average.

Each customer is evaluated with the BG/NBD (and, for CLV, Gamma-Gamma) parameters of
his or her segment, read from the population specification
(``model.source.segments[i].bgnbd``, ``.gamma_gamma``): the parameters the firm
calibrated, not the customer's own latent rate and dropout probability.

The closed forms are those of :mod:`loyaltylab.agents.btyd`, imported rather than
rewritten so the engine and the calibration share one formula; P(alive) runs in the
model's array namespace, CLV on the host (see :func:`predicted_clv`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from loyaltylab.agents.btyd import (
    expected_discounted_residual_transactions,
    expected_order_value,
    probability_alive,
    weekly_discount_rate,
)
from loyaltylab.errors import InputError
from loyaltylab.sim import LoyaltyModel, to_numpy

TargetBy = Literal["p_alive", "clv"]


@dataclass(frozen=True)
class SegmentModels:
    """Per-segment BG/NBD and Gamma-Gamma parameters, one array each by segment id.

    Attributes
    ----------
    r, alpha, a, b : array
        BG/NBD parameters (``alpha`` in weeks) in the model's array namespace.
    gamma_gamma : list of (p, q, gamma) or None
        Gamma-Gamma parameters per segment (host floats), where needed.
    """

    r: Any
    alpha: Any
    a: Any
    b: Any
    gamma_gamma: list[tuple[float, float, float]] | None = None

    @classmethod
    def of(cls, model: LoyaltyModel, field: str, spend: bool = False) -> SegmentModels:
        """Read them from ``model.source``; an :class:`~loyaltylab.errors.InputError`
        naming ``field`` if the population has no BG/NBD (or Gamma-Gamma) parameters."""
        segments = getattr(model.source, "segments", None)
        need = ("bgnbd", "gamma_gamma") if spend else ("bgnbd",)
        if segments is None or not all(hasattr(s, n) for s in segments for n in need):
            raise InputError(
                f"{field}: targeting needs {' and '.join(need)} parameters for every "
                f"segment (a PopulationSpec); {type(model.source).__name__} has none")
        xp = model.xp
        arrays = {k: xp.asarray([float(getattr(s.bgnbd, k)) for s in segments],
                                dtype=xp.float64) for k in ("r", "alpha", "a", "b")}
        spend_params = ([(s.gamma_gamma.p, s.gamma_gamma.q, s.gamma_gamma.gamma)
                         for s in segments] if spend else None)
        return cls(**arrays, gamma_gamma=spend_params)


def observed_history(model: LoyaltyModel, rows: Any, week: int) -> tuple[Any, Any, Any]:
    """``(x, t_x, T)`` of ``rows`` as the firm sees them at the start of ``week``, weeks
    (float64 arrays of the model's namespace)."""
    xp = model.xp
    pop = model.population
    join = pop["join_week"][rows].astype(xp.float64)
    x = pop["purchases"][rows].astype(xp.float64)
    t_x = pop["last_purchase"][rows].astype(xp.float64) - join
    return x, t_x, (week - 1.0) - join


def observed_p_alive(model: LoyaltyModel, rows: Any, week: int, params: SegmentModels) -> Any:
    """P(alive) of ``rows`` from their observed history and their segment's BG/NBD
    (:func:`loyaltylab.agents.probability_alive`), in the model's array namespace."""
    seg = model.population["segment"][rows]
    x, t_x, age = observed_history(model, rows, week)
    return probability_alive(x, t_x, age, params.r[seg], params.alpha[seg], params.a[seg],
                             params.b[seg], xp=model.xp)


def predicted_clv(model: LoyaltyModel, rows: Any, week: int, params: SegmentModels) -> Any:
    """Predicted residual value of ``rows``: gross margin x expected order value x DERT.

    The expected order (:func:`loyaltylab.agents.expected_order_value`) shrinks the
    customer's mean basket so far (``gross_revenue / purchases``) towards the segment's
    mean; DERT (:func:`loyaltylab.agents.expected_discounted_residual_transactions`)
    discounts at the scenario's annual rate. DERT's quadrature needs scipy, so the
    rows' histories are copied to the host and the values back: call it on the few
    rows a policy is about to choose among, not on the whole population.
    """
    xp = model.xp
    pop = model.population
    x, t_x, age = observed_history(model, rows, week)
    mean = xp.where(x > 0, pop["gross_revenue"][rows] / xp.maximum(x, 1.0), 0.0)
    seg = pop["segment"][rows]
    delta = weekly_discount_rate(model.economics.annual_discount_rate)
    value = xp.zeros(x.shape[0], dtype=xp.float64)
    for s, (p, q, gamma) in enumerate(params.gamma_gamma):
        i = xp.nonzero(seg == s)[0]
        if i.shape[0]:
            hx, ht_x, hage, hmean = (to_numpy(v[i]) for v in (x, t_x, age, mean))
            dert = expected_discounted_residual_transactions(
                hx, ht_x, hage, float(params.r[s]), float(params.alpha[s]), float(params.a[s]),
                float(params.b[s]), delta)
            value[i] = xp.asarray(expected_order_value(hmean, hx, p, q, gamma) * dert)
    return model.economics.gross_margin * value


def score(model: LoyaltyModel, rows: Any, week: int, by: TargetBy,
          params: SegmentModels) -> Any:
    """P(alive) (``by="p_alive"``) or predicted CLV (``"clv"``, currency units) of
    ``rows``."""
    rank = observed_p_alive if by == "p_alive" else predicted_clv
    return rank(model, rows, week, params)
