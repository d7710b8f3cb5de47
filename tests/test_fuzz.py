"""Property-based fuzzing of loyaltylab's error contract.

Whatever a user feeds loyaltylab (a scenario, a policy's parameters, a transaction log,
options, a damaged results folder), it either works or fails with an
:class:`~loyaltylab.errors.InputError`: one line per problem naming the field, row,
option or file and the reason, no pydantic dump, no traceback, exit code 2 on the
command line and nothing written. Any other exception is a bug. A scenario that
validates also runs.

Every test runs twice: a quick default profile (a few examples each, derandomized, so a
run is reproducible) and a long one, ``LONG`` times as many examples (fewer for the
command that runs experiments), marked slow::

    pytest tests/test_fuzz.py                # the default profile
    pytest tests/test_fuzz.py -m slow        # the long profile
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import hashlib
import io
import json
import math
import re
import shutil
import signal
import tempfile
import tomllib
import warnings
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import pandas as pd
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from loyaltylab.agents import (
    SEGMENT_NAMES,
    SegmentRules,
    calibrate,
    default_population,
    read_transactions,
    summarise,
)
from loyaltylab.app.scenario_file import inline
from loyaltylab.cli import main
from loyaltylab.errors import InputError
from loyaltylab.experiments import (
    METRICS,
    Arm,
    InputRange,
    PopulationConfig,
    Scenario,
    ScenarioError,
    Search,
    Sweep,
    Target,
    Uncertainty,
    load_scenario,
    read_results,
    run,
)
from loyaltylab.experiments.inputs import all_inputs
from loyaltylab.experiments.scenario import field_errors
from loyaltylab.experiments.sweep import Dimension
from loyaltylab.policies import Campaign, Extension, Tier, policy_class, registered
from loyaltylab.sim import Economics, LoyaltyModel

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))

#: Factor on every test's examples in the long profile.
LONG = 20
#: Seconds an example may take before it counts as a hang.
HANG_S = 120

#: The fields of a scenario file's top level.
TOP_LEVEL = set(Scenario.model_fields)
#: Problems of a scenario file as a whole (not of a field).
FILE_PROBLEMS = ("not valid TOML", "not UTF-8 text", "no such file", "cannot read")

PROFILES = [pytest.param(False, id="default"),
            pytest.param(True, id="long", marks=pytest.mark.slow)]


def fuzz(examples: int, *strategies: st.SearchStrategy[Any], long: int | None = None
         ) -> Callable[[Callable[..., None]], Callable[[bool], None]]:
    """Make ``check`` a test of ``examples`` generated cases, and of ``long`` (default
    ``LONG`` times as many) in the long profile; derandomized so that a run is
    reproducible. A RuntimeWarning fails an example wherever it is raised: the
    project's filter catches loyaltylab's own, and an overflow in numpy called by
    loyaltylab is one too."""
    def decorate(check: Callable[..., None]) -> Callable[[bool], None]:
        @pytest.mark.parametrize("is_long", PROFILES)
        def test(is_long: bool) -> None:
            count = (long or LONG * examples) if is_long else examples
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)
                settings(max_examples=count, derandomize=True, deadline=None,
                         database=None, suppress_health_check=list(HealthCheck),
                         )(given(*strategies)(check))()

        test.__doc__ = check.__doc__
        return test

    return decorate


@contextlib.contextmanager
def no_hang(seconds: int = HANG_S) -> Iterator[None]:
    """Fail an example that runs past ``seconds`` (a hang is a bug too)."""
    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


#: A problem's line: something named (a field, row, option or file), then the reason.
LINE = re.compile(r"^\S[^\n]*?: \S[^\n]*$")
_KEY = r"(?:[A-Za-z_][\w-]*|\[\d+\]|\[(?:'[^'\n]*'|\"[^\"\n]*\")\])"
#: A scenario's problem: the field's path (odd keys quoted), then the reason.
FIELD = re.compile(rf"^(?P<root>{_KEY})(?:\.?{_KEY})*: \S")


#: How pydantic names the member of a union type a value failed.
UNION_MEMBER = re.compile(r"\.(?:int|float|str|bool)(?=[.:\[])|(?:list|dict)\[union")


def assert_clean(exc: InputError) -> None:
    """Every line of ``exc`` names an input and the reason, on one line, no dump; a
    scenario's problems name a field by its path from the scenario's top level."""
    lines = exc.lines()
    assert lines, exc
    for line in lines:
        assert LINE.match(line), f"not one line naming the input and the reason: {line!r}"
        for leak in ("errors.pydantic.dev", "Traceback", "For further information",
                     "validation error"):
            assert leak not in line, f"a pydantic dump or traceback: {line!r}"
        assert not UNION_MEMBER.search(line), f"a union's member in a path: {line!r}"
    if isinstance(exc, ScenarioError) and exc.errors[0].split(":")[0] not in FILE_PROBLEMS:
        for error in exc.errors:
            match = FIELD.match(error)
            assert match, f"not a field's path and the reason: {error!r}"
            # an unknown key is named as written; any other problem by a known field
            assert (match["root"] in TOP_LEVEL or match["root"].startswith("[")
                    or error.endswith("Extra inputs are not permitted")), error


@contextlib.contextmanager
def input_errors_only() -> Iterator[None]:
    """Accept an :class:`InputError` whose lines are clean; any other exception fails
    the test."""
    try:
        yield
    except InputError as exc:
        assert_clean(exc)


# ---------------------------------------------------------------------- values
#: Numbers at and around the bounds loyaltylab's fields use, and beyond any of them.
EDGES: list[Any] = [
    0, 1, -1, 0.5, -0.0, 5e-324, 1e-300, 0.999999, 52, 53, 127, 128, 255, 256, 520, 521,
    32767, 32768, 1000, 1001, 10**6, 10**6 + 1, 10**9, 10**9 + 1, 2**31 - 1, 2**31, 2**53,
    2**63 - 1, 2**63, 2**64, 10**30, 1e15, 1e300, 1e308, -1e308, math.inf, -math.inf,
    math.nan,
]
WORDS = ["", " ", "x" * 5000, "$\\frac{$", "é", "💥", "core_loyal", "dormant", "nan",
         "inf", "-1", "1e400", "today", "none", "rules", "Gold", "points"]

SCALARS = st.one_of(
    st.sampled_from(EDGES), st.integers(), st.floats(), st.booleans(),
    st.sampled_from(WORDS), st.text(max_size=12))
WEIRD = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.text(max_size=6), children, max_size=3)),
    max_leaves=6)


def numeric(info: FieldInfo) -> bool:
    """Whether a field holds a number (or None)."""
    union = get_origin(info.annotation) in (Union, UnionType)
    kinds = (set(get_args(info.annotation)) if union else {info.annotation}) - {type(None)}
    return bool(kinds) and kinds <= {int, float}


@cache
def field_edges(info: FieldInfo) -> tuple[list[Any], list[Any]]:
    """Values at a numeric field's bounds (huge ones if it has no upper bound), and
    values just past them: those the field accepts, and those it refuses."""
    candidates: list[Any] = [0, 1]
    upper = False
    for item in info.metadata:
        for name in ("ge", "gt", "le", "lt"):
            bound = getattr(item, name, None)
            if isinstance(bound, int | float):
                candidates += [bound, bound + 1, bound - 1, math.nextafter(bound, math.inf),
                               math.nextafter(bound, -math.inf)]
                upper = upper or name in ("le", "lt")
    if not upper:
        candidates += [2**31, 2**53 + 1, 2**63 - 1, 2**63, 10**18, 1e18, 1e300, 1e308]
    checker = TypeAdapter(Annotated[info.annotation, info])
    accepted, refused = [], []
    for value in candidates:
        try:
            checker.validate_python(value)
        except ValidationError:
            refused.append(value)
        else:
            accepted.append(value)
    return accepted, refused


def field_values(info: FieldInfo) -> st.SearchStrategy[Any]:
    """Values for a field: mostly at its bounds (on the inside more often), or odd."""
    if not numeric(info):
        return st.one_of(st.sampled_from(EDGES), WEIRD)
    accepted, refused = field_edges(info)
    return st.one_of(st.sampled_from(accepted), st.sampled_from(accepted),
                     st.sampled_from(accepted), st.sampled_from(refused + EDGES))


# ---------------------------------------------------------------------- TOML
def toml_text(data: dict[str, Any]) -> str:
    """A TOML document of ``data``."""
    return "".join(f"{inline(str(k))} = {inline(v)}\n" for k, v in data.items())


# ---------------------------------------------------------------------- scenarios
@cache
def shipped(path: Path) -> dict[str, Any]:
    """A shipped scenario made tiny: 200 customers, 6 weeks, one replication."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    data.update(horizon_weeks=6, replications=1)
    if "burn_in_weeks" in data:
        data["burn_in_weeks"] = min(data["burn_in_weeks"], 4)
    data["population"]["size"] = 200
    return data


#: The model that validates a table, by the key holding it (root: the scenario).
MODELS: dict[str, type[BaseModel]] = {
    "arms": Arm, "economics": Economics, "population": PopulationConfig,
    "uncertainty": Uncertainty, "targets": Target, "tiers": Tier, "campaigns": Campaign,
    "extension": Extension, "search": Search, "sweep": Sweep, "segment_rules": SegmentRules}
#: The model of the tables held by a table, by the key holding that table.
MEMBERS: dict[str, type[BaseModel]] = {"space": Dimension, "ranges": InputRange}


def model_at(path: tuple[Any, ...], node: Any) -> type[BaseModel] | None:
    """The model of the table at ``path`` of a scenario (policies by their type)."""
    if not path:
        return Scenario
    key = next((p for p in reversed(path) if isinstance(p, str)), None)
    if key == "policies" and isinstance(path[-1], int) and isinstance(node, dict):
        kind = node.get("type")
        return policy_class(kind) if kind in registered() else None
    if len(path) > 1 and path[-2] in MEMBERS:
        return MEMBERS[path[-2]]
    return MODELS.get(key) if key is not None else None


def nodes(tree: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every ``(path, value)`` of a tree of dicts and lists, the root first."""
    yield path, tree
    items = tree.items() if isinstance(tree, dict) else (
        enumerate(tree) if isinstance(tree, list) else ())
    for key, value in items:
        yield from nodes(value, (*path, key))


def parent(tree: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        tree = tree[key]
    return tree


def segment_shares() -> st.SearchStrategy[dict[str, Any]]:
    """``[population] segments``: known and unknown names, shares odd and plain."""
    names = st.sampled_from([*SEGMENT_NAMES, "vip", ""])
    return st.dictionaries(names, st.one_of(st.sampled_from(EDGES), st.floats(0, 1),
                                            SCALARS), max_size=5)


#: Names of the uncertain inputs of the default population (and an unknown one).
INPUTS = [*all_inputs(default_population(10), Economics()), "response.nope"]


def sections() -> st.SearchStrategy[tuple[tuple[str, ...], Any]]:
    """Tables the shipped scenarios leave out, with odd and edge values: assumed
    inputs, uncertainty ranges and draws, targets, segment rules."""
    number = st.one_of(st.sampled_from(EDGES), st.floats(-2, 2))
    ranges = st.fixed_dictionaries({}, optional={
        "distribution": st.sampled_from(["uniform", "triangular", "normal", "beta"]),
        "low": number, "high": number, "mode": number, "mean": number, "sd": number})
    target = st.fixed_dictionaries(
        {"metric": st.sampled_from([*METRICS, "repurchase_rate_13w", "nope"]),
         "threshold": number},
        optional={"segment": st.sampled_from([*SEGMENT_NAMES, "vip"]),
                  "segment_basis": st.sampled_from(["observed", "label"]),
                  "period_weeks": st.sampled_from(EDGES),
                  "change": st.sampled_from(["relative", "absolute"])})
    rules = st.dictionaries(st.sampled_from(sorted(SegmentRules.model_fields)),
                            st.one_of(number, st.sampled_from(["yuan", "USD", ""])),
                            max_size=3)
    return st.one_of(
        st.tuples(st.just(("parameters",)),
                  st.dictionaries(st.sampled_from(INPUTS), number, max_size=2)),
        st.tuples(st.just(("uncertainty",)), st.fixed_dictionaries({}, optional={
            "draws": st.sampled_from([0, 1, 2, -1, 10**6]),
            "replications_per_draw": st.sampled_from([1, 2, 0, 101]),
            "inputs": st.lists(st.sampled_from([*INPUTS, "response", "segments", ""]),
                               max_size=2),
            "ranges": st.dictionaries(st.sampled_from(INPUTS), ranges, max_size=2)})),
        st.tuples(st.just(("targets",)), st.lists(target, max_size=2)),
        st.tuples(st.just(("population", "segment_rules")), rules),
    )


@st.composite
def scenario_cases(draw: st.DrawFn, most: int = 3) -> dict[str, Any]:
    """A shipped scenario with up to ``most`` mutations: fields of its tables set at and
    past their bounds (most often), keys deleted, values replaced by odd ones, unknown
    keys added, the segments' shares changed."""
    data = copy.deepcopy(shipped(draw(st.sampled_from(SCENARIOS))))
    for _ in range(draw(st.integers(1, most))):
        everything = list(nodes(data))
        tables = [(p, n) for p, n in everything
                  if isinstance(n, dict) and model_at(p, n) is not None]
        kind = draw(st.sampled_from(["edge"] * 6 + ["field", "delete", "replace", "add",
                                                     "shares", "section", "section"]))
        if kind in ("edge", "field") and tables:
            path, table = draw(st.sampled_from(tables))
            fields = model_at(path, table).model_fields  # type: ignore[union-attr]
            names = sorted(n for n in fields if kind == "field" or numeric(fields[n]))
            if names:
                name = draw(st.sampled_from(names))
                table[name] = draw(field_values(fields[name]) if kind == "edge" else WEIRD)
        elif kind == "delete" and len(everything) > 1:
            path, _ = draw(st.sampled_from(everything[1:]))
            del parent(data, path)[path[-1]]
        elif kind == "replace" and len(everything) > 1:
            path, _ = draw(st.sampled_from(everything[1:]))
            parent(data, path)[path[-1]] = draw(WEIRD)
        elif kind == "add":
            path, table = draw(st.sampled_from(
                [(p, n) for p, n in everything if isinstance(n, dict)]))
            table[draw(st.text(max_size=8))] = draw(WEIRD)
        elif kind == "shares" and isinstance(data.get("population"), dict):
            data["population"]["segments"] = draw(segment_shares())
        elif kind == "section":
            path, value = draw(sections())
            if isinstance(parent(data, path), dict):
                parent(data, path)[path[-1]] = value
    return data


def load(data: dict[str, Any], folder: Path) -> Scenario:
    """``data`` written as a TOML file and read back by :func:`load_scenario`."""
    path = folder / "scenario.toml"
    path.write_text(toml_text(data), encoding="utf-8")
    return load_scenario(path)


def small_enough(scenario: Scenario) -> bool:
    """Whether a tiny run of ``scenario`` is quick (weeks and arms are not overridden)."""
    return (scenario.horizon_weeks + scenario.burn_in <= 60 and len(scenario.arms) <= 12
            and scenario.uncertainty.replications_per_draw <= 3)


def run_tiny(scenario: Scenario) -> None:
    """Run ``scenario`` on 200 customers, one replication, at most one draw."""
    run(scenario, size=200, replications=1, workers=1, facts=False,
        uncertainty=min(scenario.uncertainty.draws, 1))


@fuzz(60, scenario_cases())
def test_a_scenario_is_valid_or_each_problem_is_one_line(case: dict[str, Any]) -> None:
    """A mutated scenario loads, or its problems are one line each."""
    with tempfile.TemporaryDirectory() as folder, no_hang(), input_errors_only():
        load(case, Path(folder))


@fuzz(12, scenario_cases(most=2))
def test_a_scenario_that_validates_runs(case: dict[str, Any]) -> None:
    """What ``loyaltylab validate`` accepts, ``loyaltylab run`` runs (an input error at
    run time would be one that validate should have reported)."""
    with tempfile.TemporaryDirectory() as folder, no_hang():
        try:
            scenario = load(case, Path(folder))
        except InputError as exc:
            assert_clean(exc)
            return
        if small_enough(scenario):
            run_tiny(scenario)


# ---------------------------------------------------------------------- policies
# loyaltylab's own policies (other test modules register plain ones of their own)
POLICY_FIELDS = {name: policy_class(name).model_fields for name in registered()
                 if policy_class(name).__module__.startswith("loyaltylab.")}


@st.composite
def policy_cases(draw: st.DrawFn) -> tuple[str, dict[str, Any], list[str]]:
    """A registered policy type, parameters at and past their bounds (and unknown
    ones), and the companion policies it runs with (points, tiers)."""
    kind = draw(st.sampled_from(sorted(POLICY_FIELDS)))
    fields = POLICY_FIELDS[kind]
    params: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(sorted(fields)), max_size=4, unique=True)):
        params[name] = draw(field_values(fields[name]))
    if draw(st.booleans()):
        params[draw(st.text(min_size=1, max_size=8))] = draw(SCALARS)
    companions = draw(st.lists(st.sampled_from(["points", "tiers"]), max_size=2,
                               unique=True))
    return kind, params, [c for c in companions if c != kind]


@fuzz(60, policy_cases())
def test_a_policy_builds_or_names_its_parameter(
        case: tuple[str, dict[str, Any], list[str]]) -> None:
    """A policy's parameters build it or fail naming the parameter; once built and set
    up, it runs."""
    kind, params, companions = case
    try:
        policy = policy_class(kind)(**params)
    except ValidationError as exc:
        lines = field_errors(exc, "arms[1].policies[0]")
        assert_clean(InputError("\n".join(lines)))
        return
    policies = [policy, *(policy_class(c)() for c in companions)]
    with no_hang():
        try:
            model = LoyaltyModel(default_population(200), policies=policies, seed=1)
        except ValueError as exc:  # set-up errors name the field (scenarios add the path)
            assert_clean(InputError(str(exc)))
            return
        model.run(4)


# ---------------------------------------------------------------------- logs
DATES = st.one_of(
    st.dates(min_value=pd.Timestamp("2020-01-01").date(),
             max_value=pd.Timestamp("2020-06-30").date()).map(str),
    st.sampled_from(["today", "now", "0001-01-01", "9999-12-31", "2024-02-30", "20240101",
                     "2024-01-01T10:00:00Z", "2024-01-01 10:00:00+08:00", "1e5", "",
                     "01/02/2024", "2262-04-12", "1677-09-21", "nan"]),
    st.text(max_size=10))
AMOUNTS = st.one_of(
    st.floats(0, 1e4, allow_nan=False).map(lambda v: f"{v:.2f}"),
    st.sampled_from(["1e400", "nan", "inf", "-inf", "-5", "0", "", "1,000", "abc", "1e308",
                     "-1e308", "5e-324", " 12 ", "0x10", "\u0661\u0662"]),
    st.text(max_size=6))
IDS = st.one_of(st.sampled_from(["a", "b", "c", "d", "e", " a ", "", "nan", "NULL"]),
                st.text(max_size=6))
COLUMNS = ["customer_id", "date", "amount", "interactions"]


def one_in(k: int) -> st.SearchStrategy[bool]:
    """True one time in ``k`` (False in the examples hypothesis tries first)."""
    return st.integers(1, k).map(lambda i: i == k)


@st.composite
def log_bytes(draw: st.DrawFn) -> bytes:
    """A transaction log as the bytes of a CSV file: the columns in any order, at times
    one missing, doubled or extra; odd cells in some rows; at times a ragged or broken
    line, a BOM or another encoding. Most logs are plausible, so that the summary and
    the fit are fuzzed too."""
    columns = draw(st.permutations(COLUMNS))
    if draw(one_in(4)):
        columns = columns[:draw(st.integers(1, 3))]
    if draw(one_in(8)):
        columns.append(draw(st.sampled_from(columns)))
    if draw(one_in(4)):
        columns.append(draw(st.text(max_size=5)))
    odd_cells = {"customer_id": IDS, "date": DATES, "amount": AMOUNTS,
                 "interactions": st.one_of(st.sampled_from(["0", "1", "", "-1", "2.5"]),
                                           AMOUNTS)}
    plain = {"customer_id": st.sampled_from("abcdefgh"),
             "date": st.dates(min_value=pd.Timestamp("2020-01-01").date(),
                              max_value=pd.Timestamp("2020-06-30").date()).map(str),
             "amount": st.floats(1, 500).map(lambda v: f"{v:.2f}"),
             "interactions": st.sampled_from(["0", "1", "3"])}
    rows = []
    for _ in range(draw(st.integers(0, 40))):
        odd = draw(one_in(8))
        rows.append([draw((odd_cells if odd else plain).get(c, st.text(max_size=4)))
                     for c in columns])
    out = io.StringIO()
    pd.DataFrame(rows, columns=columns).to_csv(out, index=False)
    text = out.getvalue()
    if draw(one_in(10)):
        text += draw(st.sampled_from(['"unclosed,2020-01-01,1\n', "a,b,c,d,e,f,g\n",
                                      "\x00\x00\n", "a\n"]))
    encoding = draw(odd_or("utf-8", st.sampled_from(["utf-8-sig", "utf-16", "latin-1"])))
    return text.encode(encoding, errors="replace")


@fuzz(40, log_bytes(), st.sampled_from(["net", "drop", "error"]),
      st.sampled_from(["none", "rules", "kmeans:2", "kmeans:0", "kmeans:x", "other"]),
      st.sampled_from([0, 1, 4, 1000]), st.booleans())
def test_a_log_is_read_and_calibrated_or_each_problem_is_one_line(
        log: bytes, returns: str, segments: str, warm_up: int, interactions: bool) -> None:
    """A transaction log is read, summarised and calibrated (holdout off), or fails
    with one line per problem."""
    with tempfile.TemporaryDirectory() as folder, no_hang(), input_errors_only():
        path = Path(folder) / "log.csv"
        path.write_bytes(log)
        transactions = read_transactions(
            path, returns=returns, interactions="interactions" if interactions else None)
        summary = summarise(transactions, warm_up_weeks=warm_up)
        calibrate(summary, segments, seed=0)


# ---------------------------------------------------------------------- command line
def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder`` with a digest of its contents."""
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest()
                                         if p.is_file() else "folder")
            for p in sorted(folder.rglob("*"))}


def invoke(argv: list[str], folder: Path) -> tuple[int, str]:
    """Run the command in ``folder`` (the default results folder is relative); return
    its exit code and standard error, and check that a failure wrote nothing."""
    before = snapshot(folder)
    err = io.StringIO()
    with (contextlib.chdir(folder), no_hang(), contextlib.redirect_stderr(err),
          contextlib.redirect_stdout(io.StringIO())):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: bad options
            code = exc.code if isinstance(exc.code, int) else 2
    text = err.getvalue()
    assert "Traceback" not in text and "internal error" not in text, text
    assert code in (0, 2), (code, text)
    if code == 2:
        assert text, "exit code 2 without a word"
        for line in text.splitlines():
            if line.startswith("loyaltylab: error: "):
                assert LINE.match(line.removeprefix("loyaltylab: error: ")), line
        assert snapshot(folder) == before, f"{argv} failed and wrote {snapshot(folder)}"
    return code, text


def tiny_scenario(folder: Path) -> Path:
    """The win-back scenario, tiny, in ``folder``."""
    path = folder / "tiny.toml"
    path.write_text(toml_text(shipped(ROOT / "scenarios" / "winback.toml")), "utf-8")
    return path


def place(kind: str, folder: Path) -> str:
    """A path of some ``kind`` in ``folder`` (made there if it should exist)."""
    if kind == "new":
        return str(folder / "out")
    if kind == "empty folder":
        (folder / "empty").mkdir(exist_ok=True)
        return str(folder / "empty")
    if kind == "full folder":
        (folder / "full").mkdir(exist_ok=True)
        (folder / "full" / "keep.txt").write_text("mine")
        return str(folder / "full")
    if kind == "file":
        (folder / "file.txt").write_text("mine")
        return str(folder / "file.txt")
    if kind == "under a file":
        (folder / "file.txt").write_text("mine")
        return str(folder / "file.txt" / "out")
    if kind == "missing":
        return str(folder / "missing" / "deeper" / "x.toml")
    return kind  # a literal: "", "/dev/null", "."


NUMBERS = st.sampled_from(["1", "0", "-1", "x", "1.5", "1e3", "", str(2**63),
                           "99999999999999999999", "\u0661"])
PLACES = st.sampled_from(["new", "new", "empty folder", "full folder", "file",
                          "under a file", "missing", "", "/dev/null", "."])


def odd_or(plausible: str, odd: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Mostly ``plausible``, one time in five an odd value: most commands get past the
    options, so the runs and their failures are fuzzed too."""
    # the odd value last: the examples hypothesis tries first (and shrinks to) are plain
    return st.integers(0, 4).flatmap(lambda k: odd if k == 4 else st.just(plausible))


@st.composite
def run_arguments(draw: st.DrawFn) -> tuple[str, dict[str, str | None]]:
    """A scenario (tiny, or a path of some kind) and options of ``loyaltylab run``,
    each left out, plausible or odd."""
    scenario = draw(odd_or("tiny", st.sampled_from(["full folder", "file", "under a file",
                                                    "missing"])))
    options: dict[str, str | None] = {}
    for option, values in (("--size", odd_or("200", NUMBERS)),
                           ("--seed", odd_or("3", NUMBERS)),
                           ("--replications", odd_or("1", NUMBERS)),
                           ("--workers", odd_or("1", NUMBERS)),
                           ("--uncertainty", odd_or("0", NUMBERS)),
                           ("--out", odd_or("new", PLACES)),
                           ("--backend", odd_or("numpy", st.sampled_from(["cupy", "jax"]))),
                           ("--executor", odd_or("local", st.just("dask")))):
        # one process: the default, every core, starts a pool for each run
        if option == "--workers" or draw(st.booleans()):
            options[option] = draw(values)
    if draw(st.integers(0, 9)) == 0:
        options["--resume"] = None
    return scenario, options


@fuzz(6, run_arguments(), long=60)  # a run takes seconds: the report and the facts
def test_run_exits_0_or_2_and_a_failure_writes_nothing(
        case: tuple[str, dict[str, str | None]]) -> None:
    """``loyaltylab run`` with odd options and paths: code 0, or code 2 with one line
    per problem and nothing written."""
    scenario, options = case
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        argv = ["run", str(tiny_scenario(folder)) if scenario == "tiny"
                else place(scenario, folder), "--quiet"]
        for option, value in options.items():
            argv += [option] if value is None else [
                option, place(value, folder) if option == "--out" else value]
        invoke(argv, folder)


@fuzz(8, st.fixed_dictionaries(
    {"--size": odd_or("200", NUMBERS), "--weeks": odd_or("4", NUMBERS)},
    optional={"--seed": odd_or("3", NUMBERS), "--out": odd_or("new", PLACES),
              "--program": odd_or("full-strategy", st.sampled_from(["none", "x", ""])),
              "--backend": odd_or("numpy", st.sampled_from(["cupy", "jax"]))}))
def test_simulate_exits_0_or_2_and_a_failure_writes_nothing(options: dict[str, str]) -> None:
    """``loyaltylab simulate`` with odd options: code 0, or code 2 with one line per
    problem and nothing written."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        argv = ["simulate"]
        for option, value in options.items():
            argv += [option, place(value, folder) if option == "--out" else value]
        invoke(argv, folder)


@fuzz(20, log_bytes(), st.fixed_dictionaries({}, optional={
    "--calibration-weeks": odd_or("20", NUMBERS), "--holdout-weeks": odd_or("4", NUMBERS),
    "--segments": odd_or("none", st.sampled_from(["rules", "kmeans:2", "kmeans:-1",
                                                  "kmeans:", "x"])),
    "--warm-up-weeks": odd_or("0", NUMBERS),
    "--returns": odd_or("net", st.sampled_from(["drop", "error", "x"])),
    "--currency": odd_or("USD", st.sampled_from(["", "yuan"])), "--out": odd_or("new", PLACES),
    "--amount": odd_or("amount", st.sampled_from(["date", "nope"])),
}))
def test_calibrate_exits_0_or_2_and_a_failure_writes_nothing(
        log: bytes, options: dict[str, str]) -> None:
    """``loyaltylab calibrate`` on odd logs with odd options: code 0, or code 2 with one
    line per problem and nothing written."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "log.csv").write_bytes(log)
        out = place(options.pop("--out", "new"), folder)
        argv = ["calibrate", str(folder / "log.csv"), "--out", out]
        for option, value in options.items():
            argv += [option, value]
        invoke(argv, folder)


# ---------------------------------------------------------------------- results folders
@cache
def results_folder() -> Path:
    """A tiny run's results folder, written once; the tests damage copies of it."""
    folder = Path(tempfile.mkdtemp(prefix="loyaltylab-fuzz-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    run(load_scenario(tiny_scenario(folder)), out=folder / "results", workers=1,
        facts=False)
    return folder / "results"


@st.composite
def damaged_manifests(draw: st.DrawFn) -> dict[str, Any]:
    """The results' manifest with up to three values replaced, keys deleted or added."""
    manifest = json.loads((results_folder() / "manifest.json").read_text("utf-8"))
    for _ in range(draw(st.integers(1, 3))):
        everything = list(nodes(manifest))[1:]
        path, _ = draw(st.sampled_from(everything))
        kind = draw(st.sampled_from(["delete", "replace", "replace"]))
        if kind == "delete":
            del parent(manifest, path)[path[-1]]
        else:
            parent(manifest, path)[path[-1]] = draw(
                WEIRD.filter(lambda v: not any(isinstance(x, float) and not math.isfinite(x)
                                               for _, x in nodes(v))))
    return manifest


@fuzz(15, damaged_manifests(), st.sampled_from(["", "summary.csv", "weekly.parquet",
                                                 "targets.csv", "customers.parquet"]))
def test_a_damaged_results_folder_is_reported_in_one_line(
        manifest: dict[str, Any], damaged: str) -> None:
    """``loyaltylab report`` on a results folder with a damaged manifest or file: code
    0, or code 2 naming the file and the field, the folder untouched."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name) / "results"
        shutil.copytree(results_folder(), folder)
        (folder / "manifest.json").write_text(json.dumps(manifest), "utf-8")
        if damaged:
            (folder / damaged).write_bytes(b"\x00garbage,\n1,2,3\n")
        code, text = invoke(["report", str(folder)], Path(name))
        if code == 2:
            assert "manifest.json" in text or damaged in text or "results" in text, text
        with input_errors_only():
            read_results(folder)


def test_the_scenario_fuzz_makes_valid_scenarios_and_invalid_ones() -> None:
    """Both outcomes occur: a property over cases that all fail (or all pass) to load
    would check little."""
    def loads(case: dict[str, Any]) -> bool:
        with tempfile.TemporaryDirectory() as folder:
            try:
                load(case, Path(folder))
            except InputError:
                return False
        return True

    quick = settings(max_examples=200, derandomize=True, database=None)
    assert loads(find(scenario_cases(), loads, settings=quick))
    assert not loads(find(scenario_cases(), lambda case: not loads(case), settings=quick))
