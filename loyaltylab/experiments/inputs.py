"""Uncertain inputs: the assumptions a sensitivity analysis varies and a probabilistic
verdict draws, each with a plausible range or a distribution.

Every input has a dotted name in one of four groups:

``response.<term>.<coefficient>``
    A response coefficient of the behaviour in use (:meth:`CustomerBehaviour.describe
    <loyaltylab.agents.CustomerBehaviour.describe>`: the terms, ``redemption`` and
    ``coupon_use``), over its documented range.
``satisfaction.<coefficient>``
    A coefficient of the satisfaction behind NPS, over its documented range.
``segments.<segment>.<parameter>``
    A segment's ``incentive_sensitivity`` (0.5x to 1.5x its value),
    ``deal_prone_share`` (+-0.1), ``redeem_propensity`` (0.75x to 1.25x),
    ``satisfaction_mean`` (+-0.5 points) or ``purchase_rate_factor`` (a factor on the
    mean purchase rate, 0.8 to 1.2): judgements (U), to be replaced by the scenario's
    ranges where the firm knows better.
``economics.<field>``
    ``gross_margin`` (0.8x to 1.2x), ``annual_discount_rate`` (0.5x to 1.5x) and
    ``fixed_cost_per_week`` (0.75x to 1.25x), also judgements.

Commands and scenarios name inputs by group, by prefix (``response.goal_gradient``,
``segments.basic``) or in full. A scenario's ``[uncertainty.ranges]`` replaces any
input's range or gives it a distribution (uniform by default; ``triangular`` with a
``mode``; ``normal`` with a ``mean`` and ``sd``, truncated at the input's hard
bounds), and ``[parameters]`` sets
the assumed value of any response, satisfaction or segment input (the economics are set
in ``[economics]``). Hard bounds hold for every value set or drawn: a coefficient is
>= 0 and at most ten times its plausible range's top (a time scale at least a tenth of
its bottom, a share at most 1; :func:`loyaltylab.agents.coefficients.hard_bounds`), an
incentive sensitivity at most 10, a purchase rate factor in [0.1, 10].
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator
from scipy import stats

from loyaltylab.agents import CustomerBehaviour, PopulationSpec
from loyaltylab.agents.coefficients import hard_bounds
from loyaltylab.agents.coupon_use import CouponUse
from loyaltylab.agents.redemption import Redemption
from loyaltylab.agents.satisfaction import Satisfaction
from loyaltylab.agents.segments import MAX_SENSITIVITY
from loyaltylab.sim import Economics

if TYPE_CHECKING:
    from loyaltylab.agents.coefficients import Coefficients

#: The groups of inputs, in the order they are listed.
GROUPS = ("response", "satisfaction", "segments", "economics")
#: Groups varied when a scenario or command names none: the behavioural judgements.
DEFAULT_GROUPS = ("response", "satisfaction")
#: Share of an unbounded distribution a sensitivity analysis scans: its central 95%.
CENTRAL = 0.95

Distribution = Literal["uniform", "triangular", "normal"]


class InputRange(BaseModel):
    """A scenario's range or distribution for one input (``[uncertainty.ranges]``).

    ``uniform`` (default) needs ``low`` and ``high``; ``triangular`` also a ``mode``;
    ``normal`` a ``mean`` and an ``sd`` (truncated at the input's hard bounds).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    distribution: Distribution = "uniform"
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    mean: float | None = None
    sd: float | None = None

    @model_validator(mode="after")
    def _complete(self) -> InputRange:
        needs = {"uniform": ("low", "high"), "triangular": ("low", "mode", "high"),
                 "normal": ("mean", "sd")}[self.distribution]
        for name in ("low", "high", "mode", "mean", "sd"):
            value = getattr(self, name)
            if name not in needs and value is not None:
                raise ValueError(f"{name}: not a parameter of the {self.distribution} "
                                 f"distribution (it takes {', '.join(needs)})")
            if name in needs and value is None:
                raise ValueError(f"{name}: required by the {self.distribution} distribution")
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{name}: must be finite, got {value}")
        if self.distribution == "normal":
            if self.sd is not None and self.sd <= 0:
                raise ValueError(f"sd: must be > 0, got {self.sd}")
        elif not self.low < self.high:  # type: ignore[operator]
            raise ValueError(f"high: must be greater than low ({self.low}), got {self.high}")
        if self.distribution == "triangular" and not (
                self.low <= self.mode <= self.high):  # type: ignore[operator]
            raise ValueError(f"mode: must be in [low, high], got {self.mode}")
        return self


@dataclass(frozen=True)
class UncertainInput:
    """One uncertain input: its assumed value, its range or distribution, its bounds.

    Attributes
    ----------
    name : str
        Dotted name (``response.goal_gradient.strength``).
    group : str
        One of :data:`GROUPS`.
    value : float
        The value assumed by the scenario.
    low, high : float
        Plausible range (uniform and triangular distributions; for a normal one, its
        central 95%).
    unit, source : str
        What the number means, and where its range comes from ("U": a judgement).
    lower, upper : float
        Hard bounds: no value outside them is ever used.
    distribution : str
        ``uniform``, ``triangular`` or ``normal``.
    mode, mean, sd : float or None
        Parameters of the triangular and normal distributions.
    """

    name: str
    group: str
    value: float
    low: float
    high: float
    unit: str
    source: str
    lower: float = 0.0
    upper: float = math.inf
    distribution: Distribution = "uniform"
    mode: float | None = None
    mean: float | None = None
    sd: float | None = None

    def quantile(self, u: Any) -> np.ndarray:
        """Values at probabilities ``u`` (in [0, 1]) of the input's distribution."""
        u = np.asarray(u, dtype=np.float64)
        if self.distribution == "uniform":
            return self.low + (self.high - self.low) * u
        if self.distribution == "triangular":
            width = self.high - self.low
            return stats.triang.ppf(u, (self.mode - self.low) / width,  # type: ignore[operator]
                                    loc=self.low, scale=width)
        lo = (self.lower - self.mean) / self.sd  # type: ignore[operator]
        hi = (self.upper - self.mean) / self.sd  # type: ignore[operator]
        # clipped: the truncated normal's quantile can round past its bounds
        return np.clip(stats.truncnorm.ppf(u, lo, hi, loc=self.mean, scale=self.sd),
                       self.lower, self.upper)

    def scan(self, u: Any) -> np.ndarray:
        """Values a sensitivity analysis uses at ``u`` in [0, 1]: the whole range of a
        bounded distribution, the central 95% of a normal one."""
        u = np.asarray(u, dtype=np.float64)
        if self.distribution == "normal":
            u = (1 - CENTRAL) / 2 + CENTRAL * u
        return self.quantile(u)

    def with_range(self, spec: InputRange) -> UncertainInput:
        """This input with the scenario's range or distribution (a normal one's range
        is its central 95%)."""
        item = replace(self, distribution=spec.distribution, mode=spec.mode, mean=spec.mean,
                       sd=spec.sd, source="the scenario's [uncertainty.ranges]")
        if spec.distribution == "normal":
            low, high = item.quantile([(1 - CENTRAL) / 2, (1 + CENTRAL) / 2])
            return replace(item, low=float(low), high=float(high))
        for name, bound in (("low", spec.low), ("high", spec.high)):
            if not self.lower <= bound <= self.upper:  # type: ignore[operator]
                raise ValueError(f"{name}: must be in [{self.lower:g}, {self.upper:g}] "
                                 f"(the input's hard bounds), got {bound}")
        return replace(item, low=float(spec.low), high=float(spec.high))  # type: ignore[arg-type]


# ---------------------------------------------------------------------- the inputs
def _coefficient_inputs(prefix: str, group: str, coefficients: Coefficients
                        ) -> list[UncertainInput]:
    out = []
    for f in fields(coefficients):
        low, high = f.metadata["range"]
        lower, upper = hard_bounds(f)
        out.append(UncertainInput(
            name=f"{prefix}.{f.name}", group=group, value=float(getattr(coefficients, f.name)),
            low=float(low), high=float(high), unit=f.metadata["unit"],
            source=f.metadata["source"], lower=float(lower), upper=float(upper)))
    return out


def _behaviours(spec: PopulationSpec) -> list[CustomerBehaviour]:
    """The distinct behaviours of the population that have response coefficients."""
    seen: dict[int, CustomerBehaviour] = {}
    for behaviour in spec.behaviours():
        if isinstance(behaviour, CustomerBehaviour):
            seen.setdefault(id(behaviour), behaviour)
    return list(seen.values())


def _parts(behaviour: CustomerBehaviour) -> list[tuple[str, Any]]:
    """(name, owner of ``coefficients``) of the behaviour's response parts."""
    return [*((t.name, t) for t in behaviour.terms), ("redemption", behaviour.redemption),
            ("coupon_use", behaviour.coupons)]


def _relative(name: str, value: float, low: float, high: float, unit: str, *,
              upper: float = math.inf, floor: float = 0.0) -> UncertainInput:
    """A judgement range around the scenario's value (clipped to the hard bounds)."""
    lo, hi = max(low, floor), min(high, upper)
    if hi <= lo:  # a value of 0 has no relative range: no uncertainty to vary
        hi = lo
    return UncertainInput(name=name, group=name.split(".")[0], value=value, low=lo, high=hi,
                          unit=unit, source="U", lower=floor, upper=upper)


def all_inputs(spec: PopulationSpec, economics: Economics) -> dict[str, UncertainInput]:
    """Every uncertain input of a population and its economics, by name, with the
    values they assume and their default ranges."""
    out: list[UncertainInput] = []
    behaviours = _behaviours(spec)
    seen: set[str] = set()
    for behaviour in behaviours:
        for part, owner in _parts(behaviour):
            for item in _coefficient_inputs(f"response.{part}", "response",
                                            owner.coefficients):
                if item.name not in seen:
                    seen.add(item.name)
                    out.append(item)
    if behaviours:
        out += _coefficient_inputs("satisfaction", "satisfaction",
                                   behaviours[0].satisfaction.coefficients)
    for s in spec.segments:
        base = f"segments.{s.name}"
        v = s.incentive_sensitivity
        out.append(_relative(f"{base}.incentive_sensitivity", v, 0.5 * v, 1.5 * v,
                             "scale of the incentive response of deal-prone customers",
                             upper=MAX_SENSITIVITY))
        v = s.deal_prone_share
        out.append(_relative(f"{base}.deal_prone_share", v, v - 0.1, v + 0.1,
                             "share of deal-prone customers", upper=1.0))
        v = s.redeem_propensity
        out.append(_relative(f"{base}.redeem_propensity", v, 0.75 * v, 1.25 * v,
                             "probability of thinking of redeeming at the goal", upper=1.0))
        v = s.satisfaction_mean
        out.append(_relative(f"{base}.satisfaction_mean", v, v - 0.5, v + 0.5,
                             "mean satisfaction with no program, 0-10", upper=10.0))
        # a tenth to ten times the rate: the purchase rates stay within float32
        out.append(_relative(f"{base}.purchase_rate_factor", 1.0, 0.8, 1.2,
                             "factor on the segment's mean purchase rate", floor=0.1,
                             upper=10.0))
    e = economics
    out.append(_relative("economics.gross_margin", e.gross_margin, 0.8 * e.gross_margin,
                         1.2 * e.gross_margin, "share of list price after cost of goods",
                         upper=1.0))
    out.append(_relative("economics.annual_discount_rate", e.annual_discount_rate,
                         0.5 * e.annual_discount_rate, 1.5 * e.annual_discount_rate,
                         "per year, for CLV", upper=10.0))
    out.append(_relative("economics.fixed_cost_per_week", e.fixed_cost_per_week,
                         0.75 * e.fixed_cost_per_week, 1.25 * e.fixed_cost_per_week,
                         f"{e.currency} per week"))
    return {item.name: item for item in out}


def named(inputs: Mapping[str, UncertainInput], name: str, field: str) -> UncertainInput:
    """The input called ``name`` in full; anything else raises ValueError naming
    ``field``."""
    if name not in inputs:
        raise ValueError(f"{field}: unknown input {name!r}; give an input's full name, "
                         f"e.g. {next(iter(inputs))}")
    return inputs[name]


def select(inputs: Mapping[str, UncertainInput], names: Iterable[str],
           field: str = "inputs") -> list[UncertainInput]:
    """The inputs named by ``names``: groups (``response``), prefixes
    (``response.goal_gradient``: a term's coefficients, ``segments.basic``) or input
    names, in order, without those whose range is a single value; an unknown name
    raises ValueError naming ``field``."""
    chosen: dict[str, UncertainInput] = {}
    for name in names:
        found = {k: v for k, v in inputs.items() if k == name or k.startswith(f"{name}.")}
        if not found:
            raise ValueError(f"{field}: unknown input or group {name!r}; groups are "
                             f"{', '.join(GROUPS)}, prefixes e.g. response.goal_gradient, "
                             f"inputs e.g. {next(iter(inputs))}")
        chosen.update(found)
    return [v for v in chosen.values() if v.high > v.low or v.distribution == "normal"]


# ---------------------------------------------------------------------- applying
def _split(values: Mapping[str, float]) -> dict[str, dict[str, dict[str, float]]]:
    """``{group: {owner: {field: value}}}`` (owner empty for satisfaction/economics)."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name, value in values.items():
        group, *rest = name.split(".")
        owner, field = (rest[0], rest[1]) if len(rest) == 2 else ("", rest[0])
        out.setdefault(group, {}).setdefault(owner, {})[field] = float(value)
    return out


def _replaced(coefficients: Coefficients, changes: Mapping[str, float], prefix: str
              ) -> Coefficients:
    try:
        return replace(coefficients, **changes)
    except ValueError as exc:  # a hard bound, named by the field
        raise ValueError(f"{prefix}.{exc}") from None


def _behaviour_with(behaviour: CustomerBehaviour, response: Mapping[str, Mapping[str, float]],
                    satisfaction: Mapping[str, float]) -> CustomerBehaviour:
    out = copy.deepcopy(behaviour)
    for part, changes in response.items():
        prefix = f"response.{part}"
        if part == "redemption":
            out.redemption = Redemption(_replaced(out.redemption.coefficients, changes, prefix))
        elif part == "coupon_use":
            out.coupons = CouponUse(_replaced(out.coupons.coefficients, changes, prefix))
        else:
            term = out.term(part)
            if term is not None:
                term.coefficients = _replaced(term.coefficients, changes, prefix)
    if satisfaction:
        out.satisfaction = Satisfaction(_replaced(out.satisfaction.coefficients, satisfaction,
                                                  "satisfaction"))
    return out


def apply_inputs(spec: PopulationSpec, values: Mapping[str, float]) -> PopulationSpec:
    """The population with response, satisfaction and segment inputs set to ``values``
    (economics inputs are the scenario's; see :func:`with_inputs`).

    With the same seed the population draws the same customers' luck: only the inputs
    differ (a twin world).
    """
    groups = _split(values)
    response = groups.get("response", {})
    satisfaction = groups.get("satisfaction", {}).get("", {})
    segments = groups.get("segments", {})
    if not (response or satisfaction or segments):
        return spec
    copies: dict[int, Any] = {}

    def own(behaviour: Any) -> Any:
        if not isinstance(behaviour, CustomerBehaviour) or not (response or satisfaction):
            return behaviour
        if id(behaviour) not in copies:
            copies[id(behaviour)] = _behaviour_with(behaviour, response, satisfaction)
        return copies[id(behaviour)]

    population = own(spec.behaviour or CustomerBehaviour())
    new_segments = []
    for s in spec.segments:
        changes: dict[str, Any] = dict(segments.get(s.name, {}))
        factor = changes.pop("purchase_rate_factor", 1.0)
        if factor != 1.0:
            changes["bgnbd"] = s.bgnbd.model_copy(update={"alpha": s.bgnbd.alpha / factor})
        if s.behaviour is not None:
            changes["behaviour"] = own(s.behaviour)
        new_segments.append(type(s).model_validate({**dict(s), **changes}) if changes else s)
    return spec.replace(segments=new_segments, behaviour=population)


def apply_economics(economics: Economics, values: Mapping[str, float]) -> Economics:
    """The economics with ``economics.*`` inputs set to ``values``."""
    changes = _split(values).get("economics", {}).get("", {})
    if not changes:
        return economics
    return Economics.model_validate({**economics.model_dump(), **changes})


def draw_values(inputs: Sequence[UncertainInput], unit: np.ndarray,
                scan: bool = False) -> list[dict[str, float]]:
    """One ``{name: value}`` per row of ``unit`` (points of the unit hypercube, one
    column per input), through each input's quantile function (``scan``: the range a
    sensitivity analysis covers, see :meth:`UncertainInput.scan`)."""
    columns = [(i.scan if scan else i.quantile)(unit[:, k]) for k, i in enumerate(inputs)]
    return [{i.name: float(columns[k][row]) for k, i in enumerate(inputs)}
            for row in range(unit.shape[0])]
