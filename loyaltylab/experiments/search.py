"""Design search: the best values of an arm's policy parameters, found by Optuna.

A scenario declares the search space in ``[search]``, its parameters addressed as in
``[[sweep]]`` (:mod:`loyaltylab.experiments.sweep`)::

    [search]
    arm = "points"                                       # the arm whose parameters vary
    [search.space]
    value_per_point = { low = 0.005, high = 0.1, log = true }
    "coupons.min_spend" = { low = 500, high = 5000, step = 100 }
    "coupons.trigger" = { choices = ["always", "inactive"] }

A range gives floats, or integers when low, high and step are integers; ``log = true``
samples it uniformly on the log scale; ``choices`` lists values (numbers, strings or
booleans). :func:`optimise` (``loyaltylab optimise``) then:

1. asks Optuna for designs in batches of a fixed size (``batch``): its TPE sampler for
   one objective, NSGA-II for two (a generation per batch), both seeded from the
   scenario's seed;
2. runs each batch as one twin-world experiment, the control and the batch's designs on
   the same customers with the same luck (``replications`` replications). Every batch
   runs on the same worlds, so all trials are compared on common random numbers; these
   worlds are seeded apart from the final run's (:func:`search_seed`), so the final
   estimates of the designs chosen are not biased by the choice (the winner's curse);
3. tells Optuna each design's objectives, its difference from the control
   (:func:`~loyaltylab.experiments.metrics.against_control`: ``retention`` is the
   effect on retention; ``incremental_margin`` and ``roi`` are differences already),
   and its constraints (``cost_to_revenue <= 0.05``, on the same difference; feasible
   when every one holds);
4. re-runs the best designs, the ``top`` best feasible trials for one objective or the
   Pareto front of the feasible trials for two (at most ``top``, spread along the first
   objective), with the scenario's seed and ``final_replications``, as one ordinary
   experiment: its results folder, plus ``search_trials.csv`` and the report's "Design
   search". If no trial meets the constraints, the ``top`` trials closest to meeting
   them (the smallest total violation) are re-run, and the search says so.

The trials do not depend on the number of workers: the batches are fixed, each batch's
results are bit-identical whatever the workers, and Optuna sees them in the same order.
"""

from __future__ import annotations

import contextlib
import difflib
import math
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from loyaltylab.errors import InputError, integer
from loyaltylab.experiments.metrics import METRICS, against_control, lookup
from loyaltylab.experiments.results import ExperimentResult, check_destination, write_results
from loyaltylab.experiments.runner import Progress, overridden, run
from loyaltylab.experiments.scenario import Arm, Scenario, load_scenario
from loyaltylab.experiments.sweep import Search, Value, arm_name, with_point

if TYPE_CHECKING:
    import optuna

Direction = Literal["maximize", "minimize"]

#: Metrics a search minimises unless told otherwise (costs, churn, the payback week); it
#: maximises the others.
MINIMISED = ("churn", "program_cost", "program_cost_cash", "cost_to_revenue",
             "cost_{component}", "incremental_program_cost", "points_liability",
             "payback_week")
#: Spawn key of the seed of the worlds the trials are evaluated on.
SEARCH_STREAM = 0x5EA2C4


def _metric(name: str, option: str) -> None:
    """Raise an InputError naming ``option`` unless ``name`` is a registered metric."""
    try:
        lookup(name)
    except KeyError:
        close = difflib.get_close_matches(name, [m for m in METRICS if "{" not in m], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputError(f"{option}: unknown metric {name!r}{hint} (the metrics are listed "
                         "in the README, Metrics)") from None


@dataclass(frozen=True)
class Objective:
    """A metric to optimise, read as its difference from the control."""

    metric: str
    direction: Direction

    @classmethod
    def of(cls, metric: str, direction: str | None = None) -> Objective:
        """The objective ``metric``, in ``direction`` (default: minimise the metrics of
        :data:`MINIMISED`, maximise the others)."""
        _metric(metric, "objective")
        if direction is None:
            direction = "minimize" if lookup(metric)[0].name in MINIMISED else "maximize"
        if direction not in ("maximize", "minimize"):
            raise InputError(f"direction: must be 'maximize' or 'minimize', got {direction!r}")
        return cls(metric, direction)  # type: ignore[arg-type]


_CONSTRAINT = re.compile(r"^\s*(?P<metric>[A-Za-z_]\w*)\s*(?P<op><=|>=)\s*(?P<bound>\S+)\s*$")


@dataclass(frozen=True)
class Constraint:
    """A bound on a metric's difference from the control (``cost_to_revenue <= 0.05``;
    shares are fractions)."""

    metric: str
    operator: Literal["<=", ">="]
    bound: float

    @classmethod
    def parse(cls, text: str) -> Constraint:
        """Read ``"METRIC <= NUMBER"`` or ``"METRIC >= NUMBER"``.

        >>> Constraint.parse("cost_to_revenue <= 0.05")
        Constraint(metric='cost_to_revenue', operator='<=', bound=0.05)
        """
        match = _CONSTRAINT.match(text)
        try:
            bound = float(match.group("bound")) if match else math.nan
        except ValueError:
            bound = math.nan
        if match is None or not math.isfinite(bound):
            raise InputError(f"constraint: cannot read {text!r}; write 'METRIC <= NUMBER' or "
                             "'METRIC >= NUMBER' (cost_to_revenue <= 0.05)")
        _metric(match.group("metric"), "constraint")
        return cls(match.group("metric"), match.group("op"), bound)  # type: ignore[arg-type]

    def value(self, x: float) -> float:
        """Optuna's constraint value of ``x``: at most 0 when ``x`` meets the bound (+inf
        when ``x`` is missing: a bound on a missing metric is not met)."""
        if math.isnan(x):
            return math.inf
        return x - self.bound if self.operator == "<=" else self.bound - x

    def __str__(self) -> str:
        return f"{self.metric} {self.operator} {self.bound:g}"


def search_seed(seed: int) -> int:
    """The seed of the worlds the trials are evaluated on: derived from the scenario's
    ``seed``, apart from the seed of the final run (the scenario's own)."""
    sequence = np.random.SeedSequence(seed, spawn_key=(SEARCH_STREAM,))
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


def pareto_front(values: np.ndarray) -> np.ndarray:
    """Whether each row of ``values`` (every column to maximise) is on the Pareto front:
    no other row is at least as good in every column and better in one.

    >>> pareto_front(np.array([[1, 2], [2, 1], [0, 0], [1, 1]])).tolist()
    [True, True, False, False]
    """
    at_least = (values[None, :, :] >= values[:, None, :]).all(axis=2)
    better = (values[None, :, :] > values[:, None, :]).any(axis=2)
    return ~(at_least & better).any(axis=1)


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Optuna without its line per trial (the progress bar says how far the search is)."""
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


def _study(goals: Sequence[Objective], batch: int, seed: int) -> optuna.Study:
    """A study with TPE for one objective, NSGA-II (a generation per batch) for two.

    TPE's first batch is drawn at random (nothing has been told before it is asked);
    the later batches come from its model, the pending trials of a batch counted as
    running (constant liar) so that a batch spreads out.
    """
    import optuna

    sampler: optuna.samplers.BaseSampler
    if len(goals) == 1:
        sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=batch,
                                             constant_liar=True)
    else:
        sampler = optuna.samplers.NSGAIISampler(seed=seed, population_size=batch)
    return optuna.create_study(directions=[g.direction for g in goals], sampler=sampler)


def _distributions(search: Search) -> dict[str, Any]:
    """Optuna's distribution of each searched parameter."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    out: dict[str, Any] = {}
    for key, d in search.space.items():
        if d.choices is not None:
            out[key] = CategoricalDistribution(d.choices)
            continue
        low, high = d.range
        if d.integer:
            out[key] = IntDistribution(int(low), int(high), log=d.log, step=int(d.step or 1))
        else:
            out[key] = FloatDistribution(low, high, log=d.log, step=d.step)
    return out


def _text(value: Value) -> str:
    """A searched value as arm names show it (floats to 4 significant digits)."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


@dataclass
class _Search:
    """A search in progress: what it needs to evaluate batches, and the trials so far."""

    scenario: Scenario
    template: Arm
    keys: Sequence[str]
    goals: Sequence[Objective]
    limits: Sequence[Constraint]
    replications: int
    size: int | None
    workers: int | None
    backend: str

    def __post_init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.params: dict[int, dict[str, Value]] = {}
        # every batch runs in twin worlds, with the scenario's burn-in; parameter
        # uncertainty draws, if the scenario asks for them, belong to the final run
        self.evaluation = self.scenario.model_copy(
            update={"mode": "twin", "burn_in_weeks": self.scenario.burn_in, "sweep": []})
        self.seed = search_seed(self.scenario.seed)

    def evaluate(self, study: optuna.Study, asked: Sequence[optuna.Trial], batch: int
                 ) -> None:
        """Run one batch of trials as one experiment against the control; tell Optuna."""
        from optuna.trial import TrialState

        designs = {t.number: with_point(self.template, t.params, f"trial {t.number}")
                   for t in asked}
        problems = {n: self.scenario.program_error(arm) for n, arm in designs.items()}
        runnable = [arm for n, arm in designs.items() if problems[n] is None]
        summary = pd.DataFrame()
        if runnable:
            summary = run(self.evaluation.model_copy(
                update={"arms": [self.scenario.control, *runnable]}),
                seed=self.seed, replications=self.replications, size=self.size,
                workers=self.workers, backend=self.backend, facts=False, uncertainty=0,
            ).summary.set_index(["arm", "metric"])
        for trial in asked:
            self.params[trial.number] = dict(trial.params)
            row: dict[str, Any] = {"trial": trial.number, "batch": batch, **trial.params}
            note = problems[trial.number]
            if note is None:
                scores = self._scores(summary, designs[trial.number].name, row)
                missing = [g.metric for g, s in zip(self.goals, scores, strict=True)
                           if math.isnan(s)]
                if missing:
                    note = f"{missing[0]} is missing for this design"
                else:
                    for k, limit in enumerate(self.limits):
                        trial.set_constraint(str(k), limit.value(row[limit.metric]))
                    study.tell(trial, scores)
            if note is not None:
                row.update(violation=math.nan, feasible=False)
                study.tell(trial, state=TrialState.FAIL)
            row.update(state="complete" if note is None else "fail",
                       note=math.nan if note is None else note)
            self.rows.append(row)

    def _scores(self, summary: pd.DataFrame, arm: str, row: dict[str, Any]) -> list[float]:
        """The objectives of ``arm`` (with their intervals) and its constrained metrics
        into ``row``; the objectives' values."""
        for metric, option in ([(g.metric, "objective") for g in self.goals]
                               + [(c.metric, "constraint") for c in self.limits]):
            if (arm, metric) not in summary.index:
                raise InputError(f"{option}: the results have no {metric!r} (a segment the "
                                 "population lacks, or a metric of other runs)")
            value, low, high = summary.loc[(arm, metric), list(against_control(metric))]
            row.update({metric: float(value), f"{metric}_ci_low": float(low),
                        f"{metric}_ci_high": float(high)})
        violation = sum(max(0.0, c.value(row[c.metric])) for c in self.limits)
        row.update(violation=violation, feasible=violation == 0.0)
        return [row[g.metric] for g in self.goals]

    def table(self) -> pd.DataFrame:
        """One row per trial: trial, batch, state, the parameters, the objectives with
        their intervals, the constrained metrics, violation, feasible, note."""
        frame = pd.DataFrame(self.rows)
        first = ["trial", "batch", "state", *self.keys]
        last = ["violation", "feasible", "note"]
        middle = [c for c in frame.columns if c not in (*first, *last)]
        return frame[first + middle + last]


def select(table: pd.DataFrame, goals: Sequence[Objective], top: int
           ) -> tuple[list[int], str]:
    """The trials to re-run and why: ``"best"`` (one objective: the ``top`` best feasible
    trials), ``"pareto"`` (two: the Pareto front of the feasible trials, at most ``top``
    spread along the first objective) or ``"closest"`` (no feasible trial: the ``top``
    with the smallest total violation of the constraints)."""
    done = table[table["state"] == "complete"]
    feasible = done[done["feasible"]]
    if feasible.empty:
        return done.sort_values(["violation", "trial"]).head(top)["trial"].tolist(), "closest"
    if len(goals) == 1:
        goal = goals[0]
        ranked = feasible.sort_values([goal.metric, "trial"],
                                      ascending=[goal.direction == "minimize", True])
        return ranked.head(top)["trial"].tolist(), "best"
    front = feasible[pareto_mask(feasible, goals)].sort_values(
        [goals[0].metric, "trial"], ascending=[goals[0].direction == "minimize", True])
    if len(front) > top:
        front = front.iloc[np.unique(np.round(np.linspace(0, len(front) - 1, top)).astype(int))]
    return front["trial"].tolist(), "pareto"


def pareto_mask(trials: pd.DataFrame, goals: Sequence[Objective]) -> np.ndarray:
    """Whether each of ``trials`` is on their Pareto front for ``goals``."""
    signs = np.array([1.0 if g.direction == "maximize" else -1.0 for g in goals])
    return pareto_front(trials[[g.metric for g in goals]].to_numpy(dtype=np.float64) * signs)


def optimise(
    scenario: Scenario | str | Path,
    objectives: Sequence[str],
    *,
    directions: Sequence[str] | None = None,
    constraints: Sequence[str] = (),
    trials: int = 40,
    batch: int = 8,
    replications: int = 2,
    final_replications: int | None = None,
    top: int = 3,
    size: int | None = None,
    seed: int | None = None,
    workers: int | None = 1,
    backend: str = "numpy",
    out: str | Path | None = None,
    progress: bool | Callable[[int, int], None] = False,
    facts: bool = True,
) -> ExperimentResult:
    """Search the scenario's ``[search]`` space for the best designs, and re-run them.

    Parameters
    ----------
    scenario : Scenario or path
        A validated scenario with a ``[search]`` table, or a scenario file.
    objectives : sequence of str
        One or two metrics (names of ``summary.csv``: ``retention``, ``clv_rel_change``,
        ``incremental_margin``, ``roi``, ...), each read as the design's difference from
        the control (see the module docstring).
    directions : sequence of {"maximize", "minimize"}, optional
        One per objective; default: minimise the metrics of :data:`MINIMISED` (costs,
        churn, payback week), maximise the others.
    constraints : sequence of str
        ``"METRIC <= NUMBER"`` or ``"METRIC >= NUMBER"`` on the difference from the
        control (shares as fractions: ``"cost_to_revenue <= 0.05"``).
    trials : int
        Designs to try.
    batch : int
        Designs asked of Optuna and run together as one experiment (a fixed size, so
        the trials do not depend on ``workers``; for two objectives, NSGA-II's
        population).
    replications : int
        Replications of each batch's experiment.
    final_replications : int, optional
        Replications of the final run of the best designs (default: the scenario's).
    top : int
        Most designs re-run.
    size, seed : int, optional
        Override the population size (search and final run) and the scenario's seed
        (the final run's seed; the samplers' and, through :func:`search_seed`, the
        trials' worlds').
    workers, backend
        As for :func:`~loyaltylab.experiments.runner.run`.
    out : path, optional
        Write the final run's results folder there (checked before the search starts).
    progress : bool or callable
        A progress bar of the trials (and of the final run's replications) on standard
        error, or ``progress(trials_done, trials)``.
    facts : bool
        Check the stylized facts beside the final run (as ``run`` does).

    Returns
    -------
    ExperimentResult
        The final run: the control and the designs chosen (each arm's ``design_point``
        holds its values), with ``search``, one row per trial (``search_trials.csv``:
        trial, batch, state, the parameters, each objective and constrained metric with
        its interval, violation, feasible, ``pareto`` for two objectives, selected, arm:
        its name in the final run, note), and ``manifest["search"]``.

    Examples
    --------
    A small search (run from the project's root)::

        result = optimise("scenarios/point_value_sweep.toml", ["incremental_margin"],
                          constraints=["retention >= 0.002"], trials=16, size=5000)
        result.search[result.search["selected"]]
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    search = scenario.search
    if search is None:
        raise InputError("search: the scenario has no [search] table; declare the arm and "
                         "the parameters to search (README, Scenario files)")
    if not 1 <= len(objectives) <= 2:
        raise InputError(f"objective: give one or two objectives, got {len(objectives)}")
    if directions is not None and len(directions) != len(objectives):
        raise InputError(f"direction: give one per objective ({len(objectives)}), or none; "
                         f"got {len(directions)}")
    goals = [Objective.of(m, d) for m, d in zip(
        objectives, directions or [None] * len(objectives), strict=True)]
    limits = [Constraint.parse(c) for c in constraints]
    counts = {"trials": trials, "batch": batch, "replications": replications, "top": top,
              "final_replications": final_replications}
    for name, value in counts.items():
        if value is not None:
            integer(name, value, 1)
    if len(goals) == 2 and batch < 2:
        raise InputError("batch: two objectives need batches of at least 2 (NSGA-II breeds "
                         "each batch from the last)")
    scenario = overridden(scenario, seed=seed)
    if out is not None:
        out = check_destination(out)

    template = next(a for a in scenario.arms if a.name == search.arm)
    state = _Search(scenario, template, list(search.space), goals, limits, replications, size,
                    workers, backend)
    distributions = _distributions(search)
    clock = time.perf_counter()
    with _quiet_optuna(), Progress(progress, trials, unit="trial") as tick:
        study = _study(goals, batch, scenario.seed)
        for number, start in enumerate(range(0, trials, batch)):
            asked = [study.ask(distributions) for _ in range(min(batch, trials - start))]
            state.evaluate(study, asked, number)
            for _ in asked:
                tick()
    seconds = time.perf_counter() - clock
    table = state.table()
    if not (table["state"] == "complete").any():
        raise InputError(f"objective: none of the {trials} trials could be scored "
                         f"({table['note'].iloc[0]})")
    chosen, selection = select(table, goals, top)
    names = {n: arm_name(f"{template.name} trial {n}", state.params[n], _text)
             for n in chosen}
    final = scenario.model_copy(update={"sweep": [], "arms": [
        scenario.control, *[with_point(template, state.params[n], names[n]) for n in chosen]]})
    result = run(final, replications=final_replications, size=size, workers=workers,
                 backend=backend, progress=progress is True, facts=facts)
    if len(goals) == 2:
        done = table["feasible"]
        table.insert(len(table.columns) - 1, "pareto", False)
        table.loc[done, "pareto"] = pareto_mask(table[done], goals)
    table.insert(len(table.columns) - 1, "selected", table["trial"].isin(chosen))
    table.insert(len(table.columns) - 1, "arm", table["trial"].map(names))
    result.search = table
    result.manifest["search"] = {
        "arm": search.arm,
        "space": search.model_dump(mode="json")["space"],
        "objectives": [g.metric for g in goals],
        "directions": [g.direction for g in goals],
        "constraints": [str(c) for c in limits],
        "trials": trials, "batch": batch, "replications": replications,
        "seed": state.seed,
        "sampler": type(study.sampler).__name__,
        "optuna": metadata.version("optuna"),
        "feasible": int(table["feasible"].sum()),
        "selection": selection, "selected": chosen,
        "search_seconds": round(seconds, 3),
    }
    if out is not None:
        write_results(result, Path(out))
    return result
