"""Scenario files: a question a user asks, as TOML, validated before anything runs.

A scenario is a population, the economics, a horizon, replications and a seed, and two
or more arms, each a list of policies (one arm is the control)::

    name = "winback"
    horizon_weeks = 52
    replications = 10
    seed = 2026

    [population]
    size = 100000
    # shares of the default segments; leave out for the default mix
    segments = { core_loyal = 0.1, potential_loyal = 0.2, basic = 0.4, dormant = 0.3 }

    [economics]
    gross_margin = 0.3

    [[arms]]
    name = "no program"
    control = true

    [[arms]]
    name = "win-back"
    [[arms.policies]]
    type = "coupons"
    segments = ["dormant"]
    trigger = "inactive"
    min_spend = 200
    amount_off = 100

An arm may name a ready-made design instead of listing policies
(``design = "full_strategy"``). ``[[sweep]]`` tables turn an arm into one arm per
combination of a grid of its parameters, and ``[search]`` declares the parameters
``loyaltylab optimise`` searches (:mod:`loyaltylab.experiments.sweep`). Every error
names the field path and the reason (``arms[1].policies[0].min_spend: must be greater
than amount_off (500), got 300``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from loyaltylab.agents import (
    SEGMENT_NAMES,
    STRATEGY_RULES,
    PopulationSpec,
    SegmentRules,
    default_population,
    load_population,
)
from loyaltylab.errors import MAX_TEXT_BYTES, InputError, input_file
from loyaltylab.experiments.arm import REPURCHASE_PERIOD_WEEKS
from loyaltylab.experiments.inputs import (
    DEFAULT_GROUPS,
    InputRange,
    UncertainInput,
    all_inputs,
    apply_economics,
    apply_inputs,
    named,
    select,
)
from loyaltylab.experiments.sweep import (
    Search,
    Sweep,
    Value,
    expand_sweeps,
    point_errors,
    search_errors,
)
from loyaltylab.experiments.targets import DEFAULT_TARGETS, Target
from loyaltylab.policies import full_strategy, policy_class
from loyaltylab.sim import MAX_CUSTOMERS, Economics, LoyaltyModel, Policy

#: Most parameter-uncertainty draws a scenario may ask for.
MAX_DRAWS = 10_000
#: Most replications of a scenario: the checkpoint names a unit with five digits.
MAX_REPLICATIONS = 99_999

#: Ready-made designs an arm can name.
DESIGNS: dict[str, Callable[[], list[Policy]]] = {"full_strategy": full_strategy}


class ScenarioError(InputError):
    """A scenario file is invalid; ``errors`` holds one ``"path: reason"`` per problem."""

    def __init__(self, errors: list[str], source: str = "scenario") -> None:
        self.errors = errors
        self.source = source
        super().__init__(f"{source}: " + "; ".join(errors))

    def lines(self) -> list[str]:
        """One ``"source: path: reason"`` line per problem."""
        return [f"{self.source}: {error}" for error in self.errors]


class PolicyConfig(BaseModel):
    """One policy of an arm: its registered ``type`` and its parameters."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str

    @property
    def params(self) -> dict[str, Any]:
        """The policy's parameters (every key but ``type``)."""
        return dict(self.model_extra or {})


class Arm(BaseModel):
    """An arm of the experiment: a name and a program (policies or a named design).

    ``share`` is the arm's share of the customers in field-trial mode (default: equal
    shares; give every arm a share, or none). ``design_point`` holds the values of the
    parameters a sweep or a search set (parameter key -> value, keys as in
    :mod:`loyaltylab.experiments.sweep`); results get a column per parameter. An arm
    written by hand may declare one too: it is checked against its policies.

    Attributes
    ----------
    name : str
        The arm's name in tables and charts; unique within the scenario.
    control : bool
        The arm the others are compared with (default: the first arm).
    share : float or None
        Field-trial mode: the arm's share of the customers, in (0, 1].
    design : str or None
        A ready-made design instead of policies (``full_strategy``).
    policies : list of PolicyConfig
        The arm's program: each a registered policy ``type`` and its parameters.
    design_point : dict
        Values of the parameters a sweep or a search set, by parameter key.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    control: bool = False
    share: float | None = Field(None, gt=0, le=1)
    design: str | None = None
    policies: list[PolicyConfig] = Field(default_factory=list)
    design_point: dict[str, Value] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_program(self) -> Arm:
        if self.design is not None:
            if self.policies:
                raise ValueError("design: give a design or policies, not both")
            if self.design not in DESIGNS:
                raise ValueError(f"design: unknown design {self.design!r}; known: "
                                 f"{sorted(DESIGNS)}")
        return self


class PopulationConfig(BaseModel):
    """Who the customers are: a size, and a mix of the default segments or a file.

    ``file`` is a population file (TOML, as written by ``loyaltylab calibrate``, or
    ``PopulationSpec.model_dump_json()``), relative to the scenario file; ``size``
    replaces its size if given. ``population = "path"`` is short for
    ``[population] file = "path"``. ``segment_rules`` are the firm's segment rules
    (thresholds in a currency, :class:`loyaltylab.agents.SegmentRules`), replacing the
    file's or the strategy's.

    Attributes
    ----------
    size : int or None
        Customers at the start of the run, 1 to 1,000,000,000 (default: the population
        file's).
    segments : dict or None
        Shares of the default segments (core_loyal, potential_loyal, basic, dormant);
        None: the default mix.
    file : path or None
        A population file, relative to the scenario file.
    segment_rules : SegmentRules or None
        The firm's segment thresholds, in a currency.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    size: int | None = Field(None, ge=1, le=MAX_CUSTOMERS)
    segments: dict[str, float] | None = None
    file: Path | None = None
    segment_rules: SegmentRules | None = None
    _loaded: PopulationSpec | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"file": data} if isinstance(data, str | Path) else data

    @model_validator(mode="after")
    def _known_segments(self) -> PopulationConfig:
        if self.file is not None:
            if self.segments is not None:
                raise ValueError("file: give a population file or segments, not both")
            try:
                self._loaded = load_population(self.file)
            except (OSError, ValueError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) else str(exc)
                raise ValueError(f"file: cannot read {self.file}: {reason}") from None
        elif self.size is None:
            raise ValueError("size: required unless a population file gives it")
        if self.segments is not None:
            unknown = sorted(set(self.segments) - set(SEGMENT_NAMES))
            if unknown:
                raise ValueError(f"segments: unknown segment(s) {unknown}; the default "
                                 f"segments are {list(SEGMENT_NAMES)}")
            # checked here, by name: the population's own check sees a list of shares
            for name, share in self.segments.items():
                if not 0.0 <= share <= 1.0:
                    raise ValueError(f"segments.{name}: a share must be in [0, 1], got "
                                     f"{share}")
            total = sum(self.segments.get(name, 0.0) for name in SEGMENT_NAMES)
            if abs(total - 1.0) > 1e-9:  # the population's tolerance, summed in its order
                raise ValueError(f"segments: the shares must sum to 1, got {total:.6g}")
        return self

    @property
    def customers(self) -> int:
        """Customers at the start: ``size``, or the population file's."""
        if self.size is not None:
            return self.size
        assert self._loaded is not None  # the validator requires one of them
        return self._loaded.size

    @property
    def currency(self) -> str | None:
        """Currency of the population file's amounts, if it says."""
        return None if self._loaded is None else self._loaded.currency

    def spec(self, size: int | None = None) -> PopulationSpec:
        """The population specification (optionally with another size)."""
        size = size or self.customers
        if self._loaded is not None:
            spec = self._loaded.with_size(size)
        elif self.segments is None:
            spec = default_population(size)
        else:
            shares = tuple(float(self.segments.get(name, 0.0)) for name in SEGMENT_NAMES)
            spec = default_population(size, shares)
        if self.segment_rules is not None:
            spec = spec.replace(segment_rules=self.segment_rules)
        return spec


class Uncertainty(BaseModel):
    """How uncertain the assumptions are (``[uncertainty]``; see
    :mod:`loyaltylab.experiments.inputs`).

    Attributes
    ----------
    draws : int
        Coefficient sets drawn (Latin hypercube) and run beside the experiment, each
        with its own luck: the verdicts over plausible worlds (0: none).
    replications_per_draw : int
        Replications of each draw (their mean is the draw's value).
    inputs : list of str
        Groups (``response``, ``satisfaction``, ``segments``, ``economics``) or input
        names that are uncertain; the others keep the scenario's values.
    ranges : dict
        Ranges or distributions replacing the defaults, by input name.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    draws: int = Field(0, ge=0, le=MAX_DRAWS)
    replications_per_draw: int = Field(1, ge=1, le=100)
    inputs: list[str] = Field(default_factory=lambda: list(DEFAULT_GROUPS), min_length=1)
    ranges: dict[str, InputRange] = Field(default_factory=dict)


class Scenario(BaseModel):
    """A validated scenario (see the module docstring).

    ``sweep`` is consumed by :func:`validate_scenario`, which replaces each template arm
    by its combinations: the scenario keeps it for the results' manifest and report, but
    its dump holds only the arms it made, so a dump validates again as is.

    Attributes
    ----------
    name : str
        The scenario's name: the results folder and the report's title.
    description : str
        The question the scenario asks, for the report.
    population : PopulationConfig
        Who the customers are.
    economics : Economics
        Gross margin, discount rate and fixed program cost.
    horizon_weeks : int
        Weeks the program runs, 1 to 32,767 (52: a year).
    replications : int
        Independent repeats of the experiment, each with its own luck (95% intervals
        over them).
    seed : int
        Seed of every random draw: the same scenario and seed give the same numbers.
    mode : {"twin", "field"}
        Twin worlds (the same customers under every arm) or a field trial (customers
        randomised to arms and analysed as a real A/B test).
    burn_in_weeks : int or None
        Weeks without a program before the start, 0 to 520 (default: 0 twin, 13 field).
    repurchase_period_weeks : int
        Repurchase is measured within periods of this many weeks (13: a quarter).
    arms : list of Arm
        Two or more programs compared; one is the control.
    targets : list of Target
        The verdicts asked for (default: the strategy's four).
    parameters : dict
        Assumed values of response, satisfaction and segment inputs, by name.
    uncertainty : Uncertainty
        How uncertain the assumptions are.
    sweep : list of Sweep
        Grids that turn an arm into one arm per combination of its parameters.
    search : Search or None
        The design space of ``loyaltylab optimise``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    description: str = ""
    population: PopulationConfig
    economics: Economics = Field(default_factory=Economics)
    horizon_weeks: int = Field(52, ge=1, le=32767)
    replications: int = Field(10, ge=1, le=MAX_REPLICATIONS)
    seed: int = Field(0, ge=0)
    mode: Literal["twin", "field"] = "twin"
    burn_in_weeks: int | None = Field(None, ge=0, le=520)
    repurchase_period_weeks: int = Field(REPURCHASE_PERIOD_WEEKS, ge=1, le=520)
    arms: list[Arm] = Field(min_length=2)
    targets: list[Target] = Field(default_factory=lambda: list(DEFAULT_TARGETS))
    parameters: dict[str, float] = Field(default_factory=dict)
    uncertainty: Uncertainty = Field(default_factory=Uncertainty)
    sweep: list[Sweep] = Field(default_factory=list, exclude=True)
    search: Search | None = None

    @model_validator(mode="after")
    def _currency(self) -> Scenario:
        # A population file says what currency its amounts are in; the economics follow
        # it unless they say otherwise, and then they must agree.
        given = self.population.currency
        if given is not None:
            if "currency" not in self.economics.model_fields_set:
                object.__setattr__(self, "economics",
                                   self.economics.model_copy(update={"currency": given}))
            elif self.economics.currency != given:
                raise ValueError(f"economics.currency: {self.economics.currency!r}, but the "
                                 f"population file's amounts are in {given!r}")
        rules = self.population.segment_rules or self.population.spec(10).segment_rules
        if rules is not None:
            rules.check_currency(self.economics.currency, "population.segment_rules")
        elif self.burn_in > 0 and self.economics.currency != STRATEGY_RULES.currency:
            # The firm's segments at launch (segment_observed) need thresholds in the
            # currency of the amounts.
            STRATEGY_RULES.check_currency(self.economics.currency, "population.segment_rules")
        return self

    @model_validator(mode="after")
    def _arms(self) -> Scenario:
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise ValueError(f"arms: names must be unique, got {names}")
        controls = [i for i, a in enumerate(self.arms) if a.control]
        if len(controls) > 1:
            raise ValueError(f"arms: one control arm, got {len(controls)}")
        given = [a.share for a in self.arms if a.share is not None]
        if given:
            if len(given) != len(self.arms):
                raise ValueError("arms: give every arm a share, or none")
            if abs(sum(given) - 1.0) > 1e-9:
                raise ValueError(f"arms: shares must sum to 1, got {sum(given):.6g}")
        labels = self.population.spec(10).segment_names
        for i, target in enumerate(self.targets):
            if (target.segment is not None and target.segment_basis == "label"
                    and target.segment not in labels):
                raise ValueError(f"targets[{i}].segment: unknown segment "
                                 f"{target.segment!r}; the population's are {list(labels)}")
        self._check_inputs()
        return self

    def _check_inputs(self) -> None:
        known = all_inputs(self.population.spec(10), self.economics)
        for name, value in self.parameters.items():
            item = named(known, name, f"parameters.{name}")
            if item.group == "economics":
                raise ValueError(f"parameters.{name}: set the economics in [economics]")
            if not item.lower <= value <= item.upper:
                raise ValueError(f"parameters.{name}: must be in [{item.lower:g}, "
                                 f"{item.upper:g}], got {value}")
        try:
            apply_inputs(self.population.spec(10), self.parameters)
        except ValueError as exc:
            raise ValueError(f"parameters: {exc}") from None
        for name, spec in self.uncertainty.ranges.items():
            item = named(known, name, f"uncertainty.ranges.{name}")
            try:
                item.with_range(spec)
            except ValueError as exc:
                raise ValueError(f"uncertainty.ranges.{name}.{exc}") from None
        for i, name in enumerate(self.uncertainty.inputs):
            select(known, [name], f"uncertainty.inputs[{i}]")

    def spec(self, size: int | None = None) -> PopulationSpec:
        """The population (optionally with another size) with the scenario's
        ``parameters`` set."""
        return apply_inputs(self.population.spec(size), self.parameters)

    def inputs(self) -> dict[str, UncertainInput]:
        """Every uncertain input by name: the value this scenario assumes, and its range
        or distribution (the scenario's ``[uncertainty.ranges]`` where given)."""
        known = all_inputs(self.spec(10), self.economics)
        for name, spec in self.uncertainty.ranges.items():
            known[name] = known[name].with_range(spec)
        return known

    def uncertain(self, names: list[str] | None = None) -> list[UncertainInput]:
        """The inputs varied: ``names`` (groups or inputs), by default the scenario's
        ``[uncertainty] inputs``; those whose range is one value are left out."""
        return select(self.inputs(), names or self.uncertainty.inputs)

    def with_inputs(self, values: dict[str, float]) -> Scenario:
        """This scenario with some inputs set: economics in ``economics``, the others
        in ``parameters``."""
        economics = {k: v for k, v in values.items() if k.startswith("economics.")}
        parameters = {**self.parameters,
                      **{k: v for k, v in values.items() if k not in economics}}
        return self.model_copy(update={"economics": apply_economics(self.economics, economics),
                                       "parameters": parameters})

    @property
    def periods(self) -> tuple[int, ...]:
        """Repurchase periods (weeks) to measure: the scenario's and the targets'."""
        asked = {t.period_weeks for t in self.targets if t.period_weeks is not None}
        return tuple(sorted({self.repurchase_period_weeks, *asked}))

    @property
    def burn_in(self) -> int:
        """Weeks without a program before the start: ``burn_in_weeks``, or by default 13
        in field-trial mode (the pre-period of CUPED) and 0 in twin-world mode."""
        if self.burn_in_weeks is not None:
            return self.burn_in_weeks
        return 13 if self.mode == "field" else 0

    @property
    def shares(self) -> list[float]:
        """Each arm's share of the customers in field-trial mode."""
        if self.arms[0].share is None:
            return [1.0 / len(self.arms)] * len(self.arms)
        return [float(a.share or 0.0) for a in self.arms]

    @property
    def control(self) -> Arm:
        """The control arm: the one marked ``control = true``, else the first."""
        return next((a for a in self.arms if a.control), self.arms[0])

    def policies(self, arm: Arm) -> list[Policy]:
        """Fresh policy objects for ``arm``."""
        if arm.design is not None:
            return DESIGNS[arm.design]()
        return [policy_class(p.type)(**p.params) for p in arm.policies]

    def program_error(self, arm: Arm) -> str | None:
        """Why ``arm``'s policies cannot be built from their parameters or set up on a
        small copy of the population, or None."""
        try:
            policies = self.policies(arm)
        except ValidationError as exc:
            return "; ".join(field_errors(exc))
        except (ValueError, TypeError) as exc:
            return str(exc)
        return _setup_error(self, policies)


#: A key written as is in a field's path: a name, or a dotted input or parameter key.
_PLAIN_KEY = re.compile(r"[A-Za-z_][\w.\-\[\]]*")
#: A key quoted in a path (``['a b']``, as :func:`repr` writes it).
_QUOTED_KEY = r"\[(?:'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\")\]"
#: A message that starts with the field it is about: ``name: reason``.
_NAMED = re.compile(rf"^((?:[A-Za-z_][\w\[\]\.]*|{_QUOTED_KEY})+): (.*)$", flags=re.S)
#: How pydantic locates the error of a value against one member of a union type, and
#: the start of the type of such an error.
_UNION_MEMBERS = {"int": "int_", "float": "float_", "str": "string_", "bool": "bool_",
                  "list": "list_", "dict": "dict_"}
#: Where pydantic locates the errors inside a container member of a union type.
_CONTAINER_MEMBER = re.compile(r"(?:list|dict|tuple|set)\[.*\]")


def _path(loc: tuple[Any, ...]) -> str:
    """A field's dotted path; a key that is not a plain name (an unknown key holding a
    space, a colon or a newline) is quoted, so that the error stays one readable line."""
    out = ""
    for part in loc:
        if isinstance(part, str) and _CONTAINER_MEMBER.fullmatch(part):
            continue  # the member of a union that a nested value failed: no field
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f"[{str(part)!r}]"
    return out


def _join(path: str, message: str) -> str:
    """``path: message``, folding a message that starts with a field name into the path."""
    message = re.sub(r"^(Value|Assertion) error, ", "", message)
    match = _NAMED.match(message)
    if match:
        field, rest = match.groups()
        path = f"{path}{'' if field.startswith('[') else '.'}{field}" if path else field
        message = rest
    return f"{path}: {message}" if path else message


def _member(error: dict[str, Any]) -> bool:
    """Whether ``error`` is the error of a value against one member of a union type:
    pydantic locates it by the member's type."""
    last = error["loc"][-1] if error["loc"] else None
    base = last.split("[")[0] if isinstance(last, str) else ""
    return base in _UNION_MEMBERS and error["type"].startswith(_UNION_MEMBERS[base])


def _same_value(first: dict[str, Any], other: dict[str, Any]) -> bool:
    """Whether ``first`` and ``other`` are the errors of one value against two members
    of a union type (pydantic reports one error per member)."""
    a, b = tuple(first["loc"]), tuple(other["loc"])
    return (len(a) == len(b) and a[:-1] == b[:-1] and other["input"] is first["input"]
            and _member(first) and _member(other))


def _either(messages: list[str]) -> str:
    """One message for a value that fits no member of a union type."""
    prefix = "Input should be "
    if not all(m.startswith(prefix) for m in messages):
        return "; or ".join(messages)
    kinds = list(dict.fromkeys(m.removeprefix(prefix).split(",")[0] for m in messages))
    return prefix + (f"{', '.join(kinds[:-1])} or {kinds[-1]}" if len(kinds) > 1
                     else kinds[0])


def field_errors(exc: ValidationError, prefix: str = "") -> list[str]:
    """One ``"path: reason"`` per problem of a pydantic error, the path (after
    ``prefix``) dotted as in a scenario file; a value that fits no member of a union type
    is one problem, not one per member."""
    raw = exc.errors()
    errors = []
    k = 0
    while k < len(raw):
        group = [raw[k]]
        while k + len(group) < len(raw) and _same_value(raw[k], raw[k + len(group)]):
            group.append(raw[k + len(group)])
        k += len(group)
        loc = tuple(group[0]["loc"])
        if len(group) > 1:
            loc, message = loc[:-1], _either([e["msg"] for e in group])
        else:
            message = group[0]["msg"]
        where = _path(loc)
        if prefix and where:
            where = f"{prefix}{'' if where.startswith('[') else '.'}{where}"
        errors.append(_join(where or prefix, message))
    return errors


def _setup_error(scenario: Scenario, policies: list[Policy]) -> str | None:
    """The error of setting ``policies`` up on a small copy of the population, if any."""
    try:
        LoyaltyModel(scenario.spec(size=50), policies=policies,
                     economics=scenario.economics, seed=scenario.seed)
    except (ValueError, TypeError) as exc:
        return str(exc)
    return None


def _culprit(scenario: Scenario, arm: Arm, i: int, message: str) -> str:
    """Path of the policy whose set-up fails with ``message`` (with the arm's tiers)."""
    if arm.design is not None:
        return f"arms[{i}].design"
    policies = scenario.policies(arm)
    tiers = [p for p in policies if p.name == "tiers"]
    for j, policy in enumerate(policies):
        companions = [t for t in tiers if t is not policy]
        if _setup_error(scenario, [*companions, policy]) == message:
            return f"arms[{i}].policies[{j}]"
    return f"arms[{i}]"


def _build(where: str, kind: str, params: dict[str, Any]) -> tuple[Policy | None, list[str]]:
    """The policy of type ``kind`` with ``params``, or None and its errors, each with the
    path of the policy (``where``) in front."""
    try:
        return policy_class(kind)(**params), []
    except ValidationError as exc:
        return None, field_errors(exc, where)
    except (ValueError, TypeError) as exc:
        return None, [_join(f"{where}.type" if "policy" in str(exc) else where, str(exc))]


def _raw_policy_errors(data: Any) -> list[str]:
    """The errors of the policies of a scenario whose schema failed elsewhere, read from
    the raw data: a user fixing a file then sees every problem at once."""
    arms = data.get("arms") if isinstance(data, dict) else None
    errors = []
    for i, arm in enumerate(arms if isinstance(arms, list) else []):
        policies = arm.get("policies") if isinstance(arm, dict) else None
        for j, p in enumerate(policies if isinstance(policies, list) else []):
            # a policy without a type, or not a table, is among the schema's errors
            if isinstance(p, dict) and isinstance(p.get("type"), str):
                params = {k: v for k, v in p.items() if k != "type"}
                errors += _build(f"arms[{i}].policies[{j}]", p["type"], params)[1]
    return errors


def validate_scenario(data: dict[str, Any], source: str = "scenario") -> Scenario:
    """Validate a scenario given as a dict (parsed TOML); raise :class:`ScenarioError`.

    Beyond the schema, every policy is built from its parameters, and every arm is set up
    on a small copy of the population, so errors that need the population (an unknown
    segment or tier in a target) are caught before anything runs. Sweeps are expanded
    (every value and combination checked the same way) and the search's ranges checked.
    A schema error elsewhere does not hide the policies' parameter errors.
    """
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(field_errors(exc) + _raw_policy_errors(data),
                            source) from None
    errors: list[str] = []
    for i, arm in enumerate(scenario.arms):
        policies: list[Policy] = []
        arm_errors: list[str] = []
        for j, p in enumerate(arm.policies):
            policy, problems = _build(f"arms[{i}].policies[{j}]", p.type, p.params)
            policies += [policy] if policy is not None else []
            arm_errors += problems
        errors += arm_errors
        if arm_errors:  # the arm cannot be set up without all its policies
            continue
        message = _setup_error(scenario, scenario.policies(arm))
        if message is not None:
            errors.append(_join(_culprit(scenario, arm, i, message), message))
        errors.extend(f"arms[{i}].design_point{e}" for e in point_errors(
            arm, [policy.get_params() for policy in policies]))
    if errors:
        raise ScenarioError(errors, source)
    arms, errors = expand_sweeps(scenario, scenario.program_error)
    errors += search_errors(scenario, arms, scenario.program_error)
    if errors:
        raise ScenarioError(errors, source)
    return scenario.model_copy(update={"arms": arms})


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raise :class:`ScenarioError` if it is invalid."""
    return validate_scenario(read_scenario_data(path), str(Path(path)))


def read_scenario_data(path: str | Path) -> dict[str, Any]:
    """The table of a scenario file as parsed, not yet validated (a population file's
    path made relative to the working folder); raise :class:`ScenarioError` if the file
    cannot be read or is not TOML."""
    path = Path(path)
    try:
        input_file(path, MAX_TEXT_BYTES)
    except InputError as exc:
        raise ScenarioError([str(exc).removeprefix(f"{path}: ")], str(path)) from None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ScenarioError([f"no such file: {path}"], str(path)) from None
    except OSError as exc:
        raise ScenarioError([f"cannot read: {exc.strerror}"], str(path)) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError([f"not UTF-8 text: {exc.reason} at byte {exc.start}"],
                            str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([f"not valid TOML: {exc}"], str(path)) from None
    except RecursionError:
        raise ScenarioError(["not valid TOML: arrays or tables nested too deeply"],
                            str(path)) from None
    population = data.get("population")
    if isinstance(population, str):
        data["population"] = population = {"file": population}
    if isinstance(population, dict) and isinstance(population.get("file"), str):
        # A population file is found relative to the scenario file.
        population["file"] = str(path.parent / population["file"])
    return data
