"""Customer segments and population specifications.

A segment is a set of parameter distributions (BG/NBD for purchases and dropout,
Gamma-Gamma for spend, incentive sensitivity, redemption and top-up habits) plus,
optionally, its own behaviour class. A population specification is a size and a mix of
segments; :class:`loyaltylab.sim.LoyaltyModel` draws the customers from it with the
model's seed, so every arm of an experiment gets the same customers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from loyaltylab.agents.behaviour import CustomerBehaviour
from loyaltylab.agents.segment_rules import WEEKS_PER_YEAR, SegmentRules
from loyaltylab.sim.behaviour import Behaviour

WEEKS_PER_MONTH = WEEKS_PER_YEAR / 12
#: Largest incentive sensitivity of a segment: five times the most sensitive default
#: segment's; the response grows exponentially with it and overflows not far beyond.
MAX_SENSITIVITY = 10.0
#: Largest BG/NBD or Gamma-Gamma parameter: far above any fit (which stops at exp(15),
#: about 3.3e6), so that a segment that hardly ever buys (alpha of 5e7) can be written.
MAX_SHAPE = 1e12
#: Largest mean purchase rate of a segment, purchases a week: a purchase every ten
#: minutes, and far from overflowing a year's counts.
MAX_PURCHASES_PER_WEEK = 1_000
#: Largest Gamma-Gamma rate, currency units.
MAX_MONEY = 1e12
#: Largest mean order, currency units: money totals stay exact to the cent far beyond.
MAX_MEAN_ORDER = 1e9


class BGNBD(BaseModel):
    """BG/NBD parameters in weekly units (Fader, Hardie & Lee 2005).

    Purchase rate :math:`\\lambda \\sim \\text{Gamma}(r, \\alpha)` (shape ``r``, rate
    ``alpha`` per week, mean ``r / alpha`` purchases per week); dropout probability after
    each purchase :math:`p \\sim \\text{Beta}(a, b)` (mean ``a / (a + b)``).
    """

    # Strict: a parameter given as text or a bool is a mistake, not a number to coerce.
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, strict=True)

    r: float = Field(gt=0, le=MAX_SHAPE, description="shape of the purchase-rate distribution")
    alpha: float = Field(gt=0, le=MAX_SHAPE,
                         description="rate of the purchase-rate distribution, weeks")
    a: float = Field(gt=0, le=MAX_SHAPE, description="Beta shape a of the dropout probability")
    b: float = Field(gt=0, le=MAX_SHAPE, description="Beta shape b of the dropout probability")

    @model_validator(mode="after")
    def _bounded_rate(self) -> BGNBD:
        if self.r / self.alpha > MAX_PURCHASES_PER_WEEK:
            raise ValueError(f"r / alpha: the mean purchase rate must be at most "
                             f"{MAX_PURCHASES_PER_WEEK:,} a week, got {self.r / self.alpha:.3g}")
        return self


class GammaGamma(BaseModel):
    """Gamma-Gamma spend parameters (Fader, Hardie & Lee 2005b).

    Each order is worth :math:`z \\sim \\text{Gamma}(p, \\nu)` with
    :math:`\\nu \\sim \\text{Gamma}(q, \\gamma)` per customer; the mean order across
    customers is :math:`p\\gamma/(q-1)` currency units.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, strict=True)

    p: float = Field(gt=0, le=MAX_SHAPE, description="shape of the order-value distribution")
    q: float = Field(gt=1, le=MAX_SHAPE,
                     description="shape of the spend-rate distribution (> 1: finite mean)")
    gamma: float = Field(gt=0, le=MAX_MONEY,
                         description="rate of the spend-rate distribution, currency units")

    @model_validator(mode="after")
    def _bounded_order(self) -> GammaGamma:
        if self.mean_order > MAX_MEAN_ORDER:
            raise ValueError(f"p * gamma / (q - 1): the mean order must be at most "
                             f"{MAX_MEAN_ORDER:,.0f} currency units, got {self.mean_order:.3g}")
        return self

    @property
    def mean_order(self) -> float:
        """Mean order value across customers, currency units."""
        return self.p * self.gamma / (self.q - 1)


class Segment(BaseModel):
    """A group of customers with the same parameter distributions.

    Attributes
    ----------
    name : str
        Segment name (``"core_loyal"``).
    bgnbd : BGNBD
        Purchase and dropout process, weekly units.
    gamma_gamma : GammaGamma
        Order values, currency units.
    incentive_sensitivity : float
        Scale of every incentive response term for deal-prone customers (0: none).
    deal_prone_share : float
        Share of deal-prone customers, in [0, 1] (P2: 40-60% of shoppers).
    deal_averse_sensitivity : float
        Sensitivity of the other customers relative to deal-prone ones, in [0, 1].
    redeem_propensity : float
        Probability that a buyer whose points balance has reached their redemption goal
        thinks of redeeming at checkout, in [0, 1] (:mod:`loyaltylab.agents.redemption`).
    topup_share : float
        Largest shortfall, as a share of the order, that a buyer tops up to reach a
        coupon's minimum spend, in [0, 1] (10-25%, stylized facts).
    interactions_per_month : float
        Mean interactions (app visits, check-ins) per month, >= 0.
    satisfaction_mean : float
        Mean latent satisfaction with no program, on the 0-10 scale of the NPS question
        (see :mod:`loyaltylab.agents.satisfaction`).
    behaviour : Behaviour or None
        A behaviour for this segment only; ``None`` uses the population's.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str = Field(min_length=1)
    bgnbd: BGNBD
    gamma_gamma: GammaGamma
    incentive_sensitivity: float = Field(1.0, ge=0, le=MAX_SENSITIVITY)
    deal_prone_share: float = Field(0.5, ge=0, le=1)
    deal_averse_sensitivity: float = Field(0.25, ge=0, le=1)
    redeem_propensity: float = Field(0.85, ge=0, le=1)
    topup_share: float = Field(0.2, ge=0, le=1)
    interactions_per_month: float = Field(1.0, ge=0)
    satisfaction_mean: float = Field(7.5, ge=0, le=10)
    behaviour: Any = None

    @field_validator("behaviour")
    @classmethod
    def _is_behaviour(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, Behaviour):
            raise ValueError("must have setup, decide and update methods (see CustomerBehaviour)")
        return value


class PopulationSpec(BaseModel):
    """A population: its size and its mix of segments.

    Attributes
    ----------
    size : int
        Customers at week 0 (>= 1).
    segments : list of Segment
        The segments, with unique names.
    shares : list of float
        Share of each segment, in [0, 1], summing to 1.
    behaviour : Behaviour or None
        Behaviour of every segment without its own; ``None`` for
        :class:`CustomerBehaviour` with default coefficients.
    currency : str or None
        Currency of the spend parameters (``gamma_gamma``), e.g. from the transaction
        log it was calibrated on; ``None``: not stated (the scenario's economics say).
    segment_rules : SegmentRules or None
        The firm's segment rules for customers of this population (thresholds in
        :attr:`currency`); ``None``: the strategy's rules.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    size: int = Field(ge=1, strict=True)  # size=True would be one customer
    segments: list[Segment] = Field(min_length=1)
    shares: list[float]
    behaviour: Any = None
    currency: str | None = Field(None, min_length=1)
    segment_rules: SegmentRules | None = None
    _default_behaviour: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_mix(self) -> PopulationSpec:
        if len(self.shares) != len(self.segments):
            raise ValueError(
                f"shares: {len(self.shares)} shares for {len(self.segments)} segments"
            )
        for i, share in enumerate(self.shares):
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"shares[{i}]: must be in [0, 1], got {share}")
        if abs(sum(self.shares) - 1.0) > 1e-9:
            raise ValueError(f"shares: must sum to 1, got {sum(self.shares):.6g}")
        names = [s.name for s in self.segments]
        if len(set(names)) != len(names):
            raise ValueError(f"segments: names must be unique, got {names}")
        if self.behaviour is not None and not isinstance(self.behaviour, Behaviour):
            raise ValueError("behaviour: must have setup, decide and update methods")
        if (self.currency is not None and self.segment_rules is not None
                and self.segment_rules.currency != self.currency):
            raise ValueError(f"segment_rules.currency: thresholds in "
                             f"{self.segment_rules.currency!r}, amounts in {self.currency!r}")
        self._default_behaviour = self.behaviour or CustomerBehaviour()
        return self

    # -- the CustomerSource protocol of loyaltylab.sim --------------------------
    @property
    def segment_names(self) -> list[str]:
        """Names of the segments, by segment id."""
        return [s.name for s in self.segments]

    def initial_counts(self) -> list[int]:
        """Customers per segment at week 0 (largest-remainder rounding of the shares)."""
        exact = np.asarray(self.shares) * self.size
        counts = np.floor(exact).astype(int)
        order = np.argsort(-(exact - counts), kind="stable")
        counts[order[: self.size - counts.sum()]] += 1
        return [int(c) for c in counts]

    def columns(self) -> dict[str, Any]:
        """Per-customer parameters drawn for every customer, with their dtypes."""
        return {
            "lam": np.float32,
            "p_drop": np.float32,
            "spend_rate": np.float32,
            "sensitivity": np.float32,
        }

    def draw(self, rng: np.random.Generator, segment: int, k: int) -> dict[str, np.ndarray]:
        """Parameters of ``k`` customers of ``segment``, drawn from ``rng``."""
        s = self.segments[segment]
        deal_prone = rng.random(k) < s.deal_prone_share
        return {
            "lam": rng.gamma(s.bgnbd.r, 1.0 / s.bgnbd.alpha, k).astype(np.float32),
            "p_drop": rng.beta(s.bgnbd.a, s.bgnbd.b, k).astype(np.float32),
            "spend_rate": np.maximum(
                rng.gamma(s.gamma_gamma.q, 1.0 / s.gamma_gamma.gamma, k), 1e-30
            ).astype(np.float32),
            "sensitivity": (
                s.incentive_sensitivity * np.where(deal_prone, 1.0, s.deal_averse_sensitivity)
            ).astype(np.float32),
        }

    def segment_parameters(self) -> dict[str, np.ndarray]:
        """Per-segment parameters the behaviour reads, indexed by segment id."""
        return {
            "spend_shape": np.array([s.gamma_gamma.p for s in self.segments]),
            "redeem_propensity": np.array([s.redeem_propensity for s in self.segments]),
            "topup_share": np.array([s.topup_share for s in self.segments]),
            "interactions_per_week": np.array(
                [s.interactions_per_month / WEEKS_PER_MONTH for s in self.segments]
            ),
            "satisfaction_mean": np.array([s.satisfaction_mean for s in self.segments]),
        }

    def behaviours(self) -> list[Behaviour]:
        """Behaviour of each segment."""
        return [s.behaviour or self._default_behaviour for s in self.segments]

    def replace(self, **changes: Any) -> PopulationSpec:
        """A validated copy with some fields changed (``size``, ``segments``, ...)."""
        fields = {name: getattr(self, name) for name in type(self).model_fields}
        return PopulationSpec(**{**fields, **changes})

    def with_size(self, size: int) -> PopulationSpec:
        """The same mix with another size."""
        return self.replace(size=size)

    def with_behaviour(self, behaviour: Behaviour | None) -> PopulationSpec:
        """The same customers with another behaviour (segments' own behaviours stay).

        With the same seed, the two populations draw the same customers and the same
        luck, so a comparison isolates the behaviour.
        """
        return self.replace(behaviour=behaviour)
