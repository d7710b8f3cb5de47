"""Design spaces over an arm's policy parameters: grids to sweep and ranges to search.

A ``[[sweep]]`` table turns one arm of a scenario (the template) into one arm per
combination of the values of a grid, run against the control on the same customers
with the same luck, like any other arms::

    [[arms]]
    name = "points"
    [[arms.policies]]
    type = "points"
    value_per_point = 0.1

    [[sweep]]
    arm = "points"                                 # the template: an arm that lists policies
    [sweep.grid]
    value_per_point = [0.01, 0.02, 0.05, 0.1]      # a parameter unique among its policies
    "coupons.min_spend" = [1000, 2000, 3000]       # or policy-type.parameter

The template is replaced by the combinations (the cartesian product, in grid order: the
last parameter varies fastest), named from the template and the values
(``points (value_per_point=0.02, min_spend=2000)``), each keeping the template's other
parameters and recording its values in :attr:`Arm.design_point
<loyaltylab.experiments.scenario.Arm.design_point>`. A scenario may sweep several arms,
each in its own ``[[sweep]]``, up to :data:`MAX_ARMS` arms in all.

A parameter is addressed by its name when one policy of the arm has it, by the policy's
type and the name (``coupons.min_spend``), or, when the type repeats in the arm, by its
position among the policies of that type (``coupons[1].min_spend``). Values are numbers,
strings, booleans or lists of them (``"coupons.segments" = [["basic"], ["dormant"]]``).
``[search]`` (:class:`Search`, run by ``loyaltylab
optimise``, :mod:`loyaltylab.experiments.search`) addresses the parameters it searches
the same way.

Every problem is reported with its path: an unknown arm (``sweep[0].arm``), an unknown or
ambiguous parameter (``sweep[0].grid.segments``), an empty list, a value the policy
rejects, with the policy's own reason (``sweep[0].grid.coupons.min_spend[2]: must be
greater than amount_off (500), got 300``), too many arms.
"""

from __future__ import annotations

import inspect
import itertools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from loyaltylab.policies import policy_class

if TYPE_CHECKING:
    from loyaltylab.experiments.scenario import Arm, PolicyConfig, Scenario

#: A searched value: a number, a string or a boolean.
Scalar = bool | int | float | str
#: A swept value: a scalar, or a list of them (``"coupons.segments" = [["basic"], ["dormant"]]``).
Value = Scalar | list[Scalar]
#: Most arms a scenario may have once its sweeps are expanded.
MAX_ARMS = 200

#: ``name``, ``type.name`` or ``type[k].name``.
_KEY = re.compile(r"^(?:(?P<type>[A-Za-z_]\w*)(?:\[(?P<index>\d+)\])?\.)?(?P<name>[A-Za-z_]\w*)$")


def member(key: str) -> str:
    """``key`` as the last part of a path: ``.key``, or quoted if it is not a parameter
    key (empty, or holding a space, a colon or a newline) so that an error stays one
    readable line."""
    return f".{key}" if _KEY.match(key) else f"[{key!r}]"


class Sweep(BaseModel):
    """One ``[[sweep]]`` table: the template arm and the values of each parameter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    arm: str = Field(min_length=1)
    grid: dict[str, list[Value]]

    @model_validator(mode="after")
    def _grid(self) -> Sweep:
        if not self.grid:
            raise ValueError("grid: give at least one parameter and its values")
        for key, values in self.grid.items():
            if not values:
                raise ValueError(f"grid{member(key)}: empty list; give at least one value")
            repeated = [v for k, v in enumerate(values) if v in values[:k]]
            if repeated:
                raise ValueError(f"grid{member(key)}: {repeated[0]!r} appears twice")
        sizes = [len(values) for values in self.grid.values()]
        if math.prod(sizes) > MAX_ARMS:
            raise ValueError(f"grid: {' x '.join(map(str, sizes))} = {math.prod(sizes)} "
                             f"combinations; a scenario has at most {MAX_ARMS} arms")
        return self

    def points(self) -> list[dict[str, Value]]:
        """Every combination of the grid's values, in grid order (the last parameter
        varies fastest)."""
        return [dict(zip(self.grid, values, strict=True))
                for values in itertools.product(*self.grid.values())]

    def arm_names(self) -> list[str]:
        """The names of the arms the sweep makes, in the order of :meth:`points`."""
        return [arm_name(self.arm, point) for point in self.points()]


class Dimension(BaseModel):
    """The range of one searched parameter (``[search.space]``).

    ``{ low, high }`` with an optional ``step`` (the values low, low + step, ... up to
    high) or ``log = true`` (sampled uniformly on the log scale); integers when low, high
    and step are integers. ``{ choices = [...] }``: one of the listed values.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    low: int | float | None = Field(None, allow_inf_nan=False)
    high: int | float | None = Field(None, allow_inf_nan=False)
    step: int | float | None = Field(None, gt=0, allow_inf_nan=False)
    log: bool = False
    choices: list[Scalar] | None = None

    @model_validator(mode="after")
    def _range(self) -> Dimension:
        if self.choices is not None:
            if self.low is not None or self.high is not None or self.step or self.log:
                raise ValueError("choices: give choices, or low and high, not both")
            if not self.choices:
                raise ValueError("choices: empty list; give at least one value")
            return self
        if self.low is None or self.high is None:
            raise ValueError("low: give low and high (or choices)")
        if self.low >= self.high:
            raise ValueError(f"high: must be greater than low ({self.low}), got {self.high}")
        if self.log and self.low <= 0:
            raise ValueError(f"low: must be > 0 on a log scale, got {self.low}")
        if self.log and self.step is not None:
            raise ValueError("step: give a step or log = true, not both")
        if self.step is not None:
            count = (self.high - self.low) / self.step
            if abs(count - round(count)) > 1e-9 * max(1.0, count):
                raise ValueError(f"step: high - low ({self.high - self.low:g}) must be a "
                                 f"multiple of the step ({self.step:g})")
        return self

    @property
    def integer(self) -> bool:
        """Whether the values are integers: low, high and any step are integers."""
        return self.choices is None and all(
            isinstance(v, int) for v in (self.low, self.high, self.step) if v is not None)

    @property
    def range(self) -> tuple[float, float]:
        """(low, high) of a range (not of choices)."""
        assert self.low is not None and self.high is not None  # checked by the validator
        return self.low, self.high

    def endpoints(self) -> list[tuple[str, Scalar]]:
        """(path, value) of the values that bound the range: low and high, or each choice."""
        if self.choices is not None:
            return [(f"choices[{k}]", v) for k, v in enumerate(self.choices)]
        low, high = self.range
        return [("low", low), ("high", high)]


class Search(BaseModel):
    """The ``[search]`` table: the arm whose parameters ``loyaltylab optimise`` searches,
    and each parameter's range (see :mod:`loyaltylab.experiments.search`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    arm: str = Field(min_length=1)
    space: dict[str, Dimension] = Field(min_length=1)


# ---------------------------------------------------------------------- addressing
def parameter_names(policy_type: str) -> list[str]:
    """The parameters of the policy registered as ``policy_type``: its pydantic fields,
    or its constructor's keyword arguments."""
    cls = policy_class(policy_type)
    if issubclass(cls, BaseModel):
        return list(cls.model_fields)
    signature = inspect.signature(cls.__init__)
    return [name for name, p in signature.parameters.items()
            if name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _qualified(policies: Sequence[PolicyConfig], j: int, name: str) -> str:
    """The shortest key that names parameter ``name`` of policy ``j`` by its type."""
    same = [k for k, p in enumerate(policies) if p.type == policies[j].type]
    kind = policies[j].type
    return f"{kind}.{name}" if len(same) == 1 else f"{kind}[{same.index(j)}].{name}"


def locate(policies: Sequence[PolicyConfig], key: str) -> tuple[int, str]:
    """The position of the policy among ``policies`` and the parameter that ``key``
    addresses (see the module docstring); a ValueError saying why if none or several.

    >>> from loyaltylab.experiments.scenario import PolicyConfig
    >>> arm = [PolicyConfig(type="points"), PolicyConfig(type="coupons")]
    >>> locate(arm, "value_per_point"), locate(arm, "coupons.min_spend")
    ((0, 'value_per_point'), (1, 'min_spend'))
    """
    match = _KEY.match(key)
    if match is None:
        raise ValueError("expected a parameter name, policy-type.name or policy-type[k].name")
    kind, index, name = match.group("type", "index", "name")
    types = [p.type for p in policies]
    if kind is None:
        owners = [j for j, p in enumerate(policies) if name in parameter_names(p.type)]
        if not owners:
            held = "; ".join(f"{p.type}: {', '.join(parameter_names(p.type))}" for p in policies)
            raise ValueError(f"unknown parameter {name!r}; "
                             + (f"the arm's policies have {held}" if held else
                                "the arm has no policies"))
        if len(owners) > 1:
            keys = " or ".join(repr(_qualified(policies, j, name)) for j in owners)
            raise ValueError(f"ambiguous: a parameter of {len(owners)} of the arm's policies; "
                             f"write {keys}")
        return owners[0], name
    of_type = [j for j, t in enumerate(types) if t == kind]
    if not of_type:
        raise ValueError(f"the arm has no {kind!r} policy; its policies: {types}")
    if index is None and len(of_type) > 1:
        keys = " or ".join(repr(f"{kind}[{k}].{name}") for k in range(len(of_type)))
        raise ValueError(f"the arm has {len(of_type)} {kind!r} policies; write {keys}")
    k = int(index or 0)
    if k >= len(of_type):
        raise ValueError(f"the arm has {len(of_type)} {kind!r} "
                         f"polic{'y' if len(of_type) == 1 else 'ies'}; no index {k}")
    if name not in parameter_names(kind):
        raise ValueError(f"{kind!r} has no parameter {name!r}; its parameters: "
                         f"{', '.join(parameter_names(kind))}")
    return of_type[k], name


def arm_name(template: str, point: Mapping[str, Value],
             text: Callable[[Value], str] = str) -> str:
    """The name of the arm made from ``template`` with the values of ``point``: each
    parameter by its own name unless two of them share it, its value written by
    ``text``.

    >>> arm_name("points", {"value_per_point": 0.02, "coupons.min_spend": 2000})
    'points (value_per_point=0.02, min_spend=2000)'
    """
    short = [key.rsplit(".", 1)[-1] for key in point]
    labels = [s if short.count(s) == 1 else key for s, key in zip(short, point, strict=True)]
    values = ", ".join(f"{label}={text(v)}" for label, v in zip(labels, point.values(),
                                                                strict=True))
    return f"{template} ({values})"


def with_point(arm: Arm, point: Mapping[str, Value], name: str) -> Arm:
    """A copy of ``arm`` named ``name``, a treatment arm, with the parameters of
    ``point`` set and recorded as its design point."""
    policies = list(arm.policies)
    for key, value in point.items():
        j, parameter = locate(policies, key)
        policies[j] = type(policies[j]).model_validate(
            {"type": policies[j].type, **policies[j].params, parameter: value})
    return type(arm).model_validate({
        **arm.model_dump(exclude={"policies", "design_point"}), "name": name,
        "control": False, "policies": [p.model_dump() for p in policies],
        "design_point": {**arm.design_point, **point}})


def _reason(message: str, parameter: str) -> str:
    """``message`` without the parameter's name in front (the path already names it)."""
    return message.removeprefix(f"{parameter}: ")


# ---------------------------------------------------------------------- validation
def point_errors(arm: Arm, params: Sequence[Mapping[str, object]]) -> list[str]:
    """Problems of the design point an arm declares: ``".key: reason"`` for each value
    that does not address one of its policies' parameters or differs from it.
    ``params[j]``: the parameters of the arm's policy ``j`` as built."""
    errors = []
    for key, value in arm.design_point.items():
        try:
            j, parameter = locate(arm.policies, key)
        except ValueError as exc:
            errors.append(f"{member(key)}: {exc}")
            continue
        actual = params[j].get(parameter)
        if actual != value:
            errors.append(f"{member(key)}: the arm's {arm.policies[j].type} policy has "
                          f"{actual!r}, not {value!r}")
    return errors


def _template_error(scenario: Scenario, arm: Arm) -> str | None:
    """Why ``arm`` cannot be a template of a sweep or a search, if it cannot."""
    if arm is scenario.control:
        return f"{arm.name!r} is the control; choose a treatment arm"
    if arm.design is not None:
        return (f"{arm.name!r} names a design ({arm.design!r}); choose an arm that lists "
                "its policies")
    if arm.share is not None:
        return (f"{arm.name!r} has a share of the customers, which its copies cannot "
                "split; leave shares out (equal shares)")
    return None


def _value_errors(template: Arm, key: str, where: str, values: Sequence[tuple[str, Value]],
                  problem: Callable[[Arm], str | None]) -> list[str]:
    """``where.<path>: reason`` for each value of ``key`` the template's policy rejects
    (built with that value alone, on the scenario's population)."""
    parameter = locate(template.policies, key)[1]
    errors = []
    for path, value in values:
        reason = problem(with_point(template, {key: value}, template.name))
        if reason is not None:
            errors.append(f"{where}{path}: {_reason(reason, parameter)}")
    return errors


def _locate_errors(template: Arm, keys: Sequence[str], where: str) -> list[str]:
    errors = []
    for key in keys:
        try:
            locate(template.policies, key)
        except ValueError as exc:
            errors.append(f"{where}{member(key)}: {exc}")
    return errors


def expand_sweeps(scenario: Scenario, problem: Callable[[Arm], str | None]
                  ) -> tuple[list[Arm], list[str]]:
    """The scenario's arms with each sweep's template replaced by its combinations, and
    the problems found (``"path: reason"``).

    ``problem(arm)`` says why an arm's program cannot be built or set up on the
    scenario's population, or None; each value is checked alone, then each combination.
    """
    arms = list(scenario.arms)
    errors: list[str] = []
    for s, sweep in enumerate(scenario.sweep):
        where = f"sweep[{s}]"
        names = [a.name for a in arms]
        if sweep.arm not in names:
            earlier = [k for k, other in enumerate(scenario.sweep[:s]) if other.arm == sweep.arm]
            errors.append(f"{where}.arm: " + (
                f"{sweep.arm!r} is swept by sweep[{earlier[0]}] already; put every "
                "parameter in that sweep's grid" if earlier else
                f"unknown arm {sweep.arm!r}; the arms are {names}"))
            continue
        template = arms[names.index(sweep.arm)]
        reason = _template_error(scenario, template)
        if reason is not None:
            errors.append(f"{where}.arm: {reason}")
            continue
        found = _locate_errors(template, list(sweep.grid), f"{where}.grid") or [
            e for key, values in sweep.grid.items() for e in _value_errors(
                template, key, f"{where}.grid.{key}",
                [(f"[{k}]", v) for k, v in enumerate(values)], problem)]
        if found:
            errors.extend(found)
            continue
        made = [with_point(template, point, arm_name(sweep.arm, point))
                for point in sweep.points()]
        for arm in made:
            reason = problem(arm)
            if reason is not None:
                errors.append(f"{where}.grid: the combination {arm.name!r}: {reason}")
        k = names.index(sweep.arm)
        arms[k:k + 1] = made
    names = [a.name for a in arms]
    taken = sorted({n for n in names if names.count(n) > 1})
    if taken and not errors:
        errors.append(f"sweep: the swept arms' names {taken} are taken by other arms")
    if len(arms) > MAX_ARMS:
        errors.append(f"sweep: the sweeps make {len(arms)} arms; a scenario has at most "
                      f"{MAX_ARMS}")
    return arms, errors


def search_errors(scenario: Scenario, arms: Sequence[Arm], problem: Callable[[Arm], str | None]
                  ) -> list[str]:
    """Problems of the scenario's ``[search]`` on ``arms`` (the arms once swept):
    ``"path: reason"``, each range's bounds (or choices) checked like a sweep's values."""
    search = scenario.search
    if search is None:
        return []
    names = [a.name for a in arms]
    if search.arm not in names:
        swept = any(s.arm == search.arm for s in scenario.sweep)
        return [f"search.arm: unknown arm {search.arm!r}" + (
            "; it is swept, and a swept arm is replaced by its combinations" if swept else
            f"; the arms are {names}")]
    template = arms[names.index(search.arm)]
    reason = _template_error(scenario, template)
    if reason is not None:
        return [f"search.arm: {reason}"]
    return _locate_errors(template, list(search.space), "search.space") or [
        e for key, dimension in search.space.items() for e in _value_errors(
            template, key, f"search.space.{key}.",
            dimension.endpoints(), problem)]


# ---------------------------------------------------------------------- results
def design_columns(frame: pd.DataFrame, arms: Sequence[Arm]) -> pd.DataFrame:
    """``frame`` (one row per arm and more) with one column per parameter of the arms'
    design points after its ``arm`` column: the arm's value, missing for arms without."""
    keys = list(dict.fromkeys(key for arm in arms for key in arm.design_point))
    if not keys:
        return frame
    points = {arm.name: arm.design_point for arm in arms}
    out = frame.copy()
    at = out.columns.get_loc("arm") + 1
    for k, key in enumerate(keys):
        column = pd.Series([points.get(arm, {}).get(key) for arm in out["arm"]],
                           index=out.index, dtype=object)
        out.insert(at + k, key, column.convert_dtypes())  # integers stay integers
    return out
