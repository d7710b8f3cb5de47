"""The experiment runner: replications of a scenario, in parallel, and their summary.

Each replication is one task: every arm simulated on the same customers with the same
luck (a seed derived from the scenario's seed and the replication's index alone), its
metrics, and in field-trial mode the analysis of that replication's simulated pilot.
Tasks run in this process, in local worker processes, or on a Dask cluster
(:mod:`loyaltylab.experiments.cluster`); results are gathered by replication index, so
they are bit-identical whatever the executor and the number of workers.
"""

from __future__ import annotations

import multiprocessing
import platform
import sys
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from loyaltylab.errors import InputError, integer
from loyaltylab.experiments import cluster, resources
from loyaltylab.experiments.arm import ArmOutcome, simulate_arm
from loyaltylab.experiments.atomic import claim_pool_folder, remove_stale_pool_folders
from loyaltylab.experiments.checkpoint import Checkpoint
from loyaltylab.experiments.field import analyse_pilot, assign
from loyaltylab.experiments.metrics import arm_metrics, effect_metrics, lookup
from loyaltylab.experiments.results import ExperimentResult, check_destination, write_results
from loyaltylab.experiments.scenario import (
    MAX_DRAWS,
    MAX_REPLICATIONS,
    Arm,
    Scenario,
    load_scenario,
)
from loyaltylab.experiments.stats import twin_summary
from loyaltylab.experiments.sweep import design_columns
from loyaltylab.experiments.targets import target_table
from loyaltylab.experiments.uncertainty import (
    draw_tasks,
    plausible,
    summarise_draws,
    targets_over_draws,
)
from loyaltylab.experiments.units import (
    FactsTask,
    ReplicationResult,
    SampleResult,
    SampleTask,
    Task,
    replication_seed,
)
from loyaltylab.sim import MAX_CUSTOMERS, Streams
from loyaltylab.sim.backend import device_name, get_namespace
from loyaltylab.validation import check_facts

#: Customers per study of the stylized facts checked with every run (about 1.5 s).
FACTS_SIZE = 20_000

#: Most local worker processes.
MAX_WORKERS = 1024

#: Packages whose versions the manifest records.
_VERSIONED = ("loyaltylab", "numpy", "pandas", "scipy", "statsmodels", "mesa", "pydantic",
              "pyarrow")


def _long(metrics: dict[str, float], arm: str, replication: int) -> pd.DataFrame:
    return pd.DataFrame({"replication": replication, "arm": arm,
                         "metric": list(metrics), "value": list(metrics.values())})


def _values(names: list[str], outcomes: list[ArmOutcome], control: int, replication: int,
            only: Collection[str] | None = None,
            known: dict[int, dict[str, float]] | None = None) -> pd.DataFrame:
    """Every metric of every arm of one replication, effects against the control
    (``only``: the registered metrics of these names; ``known``: arms' metrics already
    computed, by position)."""
    known = known or {}
    per_arm = [dict(known[k]) if k in known else arm_metrics(o, only)
               for k, o in enumerate(outcomes)]
    components = sorted({m for metrics in per_arm for m in metrics if m.startswith("cost_")})
    values = []
    for k, (name, metrics) in enumerate(zip(names, per_arm, strict=True)):
        metrics.update({c: metrics.get(c, 0.0) for c in components})
        if k != control:
            metrics.update(effect_metrics(outcomes[k], outcomes[control], only))
        values.append(_long(metrics, name, replication))
    return pd.concat(values, ignore_index=True)


def _simulate(scenario: Scenario, arm: Arm, size: int, replication: int,
              backend: str) -> ArmOutcome:
    return simulate_arm(scenario.spec(size), scenario.policies(arm), scenario.economics,
                        replication_seed(scenario.seed, replication), scenario.horizon_weeks,
                        scenario.burn_in, backend, scenario.periods)


def run_replication(task: Task) -> ReplicationResult:
    """Simulate every arm of one replication and compute its metrics (and pilot)."""
    scenario = task.scenario
    seed = replication_seed(scenario.seed, task.replication)
    names = [arm.name for arm in scenario.arms]
    control = names.index(scenario.control.name)
    outcomes = [_simulate(scenario, arm, task.size, task.replication, task.backend)
                for arm in scenario.arms]
    values = _values(names, outcomes, control, task.replication)

    weekly = pd.concat(
        [o.weekly.assign(replication=task.replication, arm=name)
         for name, o in zip(names, outcomes, strict=True)], ignore_index=True)
    weekly = weekly[["replication", "arm", *[c for c in weekly if c not in
                                             ("replication", "arm")]]]
    trials = customers = None
    if scenario.mode == "field":
        segments = outcomes[0].customers["segment"].cat.codes.to_numpy()
        assignment = assign(segments, scenario.shares,
                            Streams(seed).generator("assignment"))
        trials = analyse_pilot(outcomes, names, control, assignment, scenario.shares,
                               adjust=scenario.burn_in > 0)
        trials.insert(0, "replication", task.replication)
        if task.keep_customers:
            customers = pd.concat(
                [o.customers[assignment == k].assign(customer=np.nonzero(assignment == k)[0],
                                                     arm=names[k])
                 for k, o in enumerate(outcomes)]).sort_values("customer", kind="stable")
    elif task.keep_customers:
        customers = pd.concat([o.customers.assign(customer=np.arange(o.size), arm=name)
                               for name, o in zip(names, outcomes, strict=True)])
    if customers is not None:
        customers = customers[["customer", "arm", *[c for c in customers if c not in
                                                    ("customer", "arm")]]]
        customers = customers.reset_index(drop=True)
    return ReplicationResult(task.replication, values, weekly, customers, trials)


def run_sample(task: SampleTask) -> SampleResult:
    """Simulate the points of a block (metrics only, twin worlds, whatever the mode).

    The control arm of a point is taken from an earlier point of the block when the two
    differ in response coefficients only and the control runs no program: without a
    program, customers are plain BG/NBD + Gamma-Gamma buyers, untouched by how they
    would respond to incentives (the behaviour's contract).
    """
    base = task.scenario
    names = [arm.name for arm in base.arms]
    control = names.index(base.control.name)
    cacheable = not base.control.policies and base.control.design is None
    controls: dict[tuple[Any, ...], tuple[ArmOutcome, dict[str, float]]] = {}
    frames = []
    for index, (point, replication) in enumerate(zip(task.points, task.replications,
                                                     strict=True)):
        scenario = base.with_inputs(point)
        key = (replication, tuple(sorted((n, v) for n, v in point.items()
                                         if not n.startswith("response."))))
        cached = controls.get(key) if cacheable else None
        outcomes = [cached[0] if k == control and cached is not None
                    else _simulate(scenario, arm, task.size, replication, task.backend)
                    for k, arm in enumerate(scenario.arms)]
        if cached is None:
            cached = (outcomes[control], arm_metrics(outcomes[control], task.metrics))
            if cacheable:
                controls[key] = cached
        frames.append(_values(names, outcomes, control, replication, task.metrics,
                              {control: cached[1]}).assign(point=task.first + index))
    values = pd.concat(frames, ignore_index=True)
    return SampleResult(task.key, values[["point", *values.columns[:-1]]])


def run_facts(task: FactsTask) -> pd.DataFrame:
    """Check the stylized facts for the scenario's population and behaviour."""
    return check_facts(population=task.scenario.spec(), size=FACTS_SIZE,
                       seed=task.scenario.seed)


# ---------------------------------------------------------------------- units
Unit = Task | FactsTask | SampleTask
Outcome = ReplicationResult | pd.DataFrame | SampleResult


def unit_key(task: Unit) -> str:
    """Name of a unit of work (in checkpoints): ``replication-00003``, ``facts``, or a
    block's own key."""
    if isinstance(task, Task):
        return f"replication-{task.replication:05d}"
    return "facts" if isinstance(task, FactsTask) else task.key


def run_unit(task: Unit) -> tuple[str, Outcome]:
    """Run one unit of work (a replication, the facts check or a block of points);
    return its key and outcome."""
    if isinstance(task, FactsTask):
        return unit_key(task), run_facts(task)
    if isinstance(task, SampleTask):
        return unit_key(task), run_sample(task)
    return unit_key(task), run_replication(task)


def _tables(outcome: Outcome) -> dict[str, pd.DataFrame | None]:
    if isinstance(outcome, pd.DataFrame):
        return {"facts": outcome}
    if isinstance(outcome, SampleResult):
        return {"values": outcome.values}
    return {"values": outcome.values, "weekly": outcome.weekly,
            "customers": outcome.customers, "trials": outcome.trials}


def _outcome(key: str, tables: dict[str, pd.DataFrame]) -> Outcome:
    if key == "facts":
        return tables["facts"]
    if not key.startswith("replication-"):
        return SampleResult(key, tables["values"])
    return ReplicationResult(int(key.split("-")[1]), tables["values"], tables["weekly"],
                             tables.get("customers"), tables.get("trials"))


def run_units(tasks: Sequence[Unit], *, workers: int | None = 1,
              scheduler: str | None = None,
              progress: bool | Callable[[int, int], None] = False,
              checkpoint: Checkpoint | None = None, unit: str = "unit"
              ) -> dict[str, Outcome]:
    """Run units of work on the executor, keeping each in ``checkpoint`` as it finishes
    and taking those it already holds from it; return the outcomes by key.

    ``progress`` counts the units other than the facts check (``unit`` names them on the
    bar), those taken from the checkpoint included.
    """
    remove_stale_pool_folders()
    done = checkpoint.done() if checkpoint is not None else set()
    out: dict[str, Outcome] = {}
    for task in tasks:
        key = unit_key(task)
        if key in done:
            assert checkpoint is not None
            out[key] = _outcome(key, checkpoint.load(key))
    todo = [t for t in tasks if unit_key(t) not in out]
    counted = sum(not isinstance(t, FactsTask) for t in tasks)
    try:
        stream = (cluster.stream(run_unit, {unit_key(t): t for t in todo}, scheduler)
                  if scheduler is not None
                  else _local(todo, _planned(todo, workers, progress is True)))
        with Progress(progress, counted, unit) as tick:
            for _ in range(sum(k != "facts" for k in out)):
                tick()
            for key, outcome in stream:
                if checkpoint is not None:
                    checkpoint.save(key, _tables(outcome))
                out[key] = outcome
                if key != "facts":
                    tick()
    except BaseException:
        # A checkpoint with nothing in it (no scheduler answered, a worker failed at
        # once) would only make the next run ask for --resume: leave no trace of it.
        if checkpoint is not None and not checkpoint.done():
            checkpoint.remove()
        raise
    return out


# ---------------------------------------------------------------------- executors


def _planned(tasks: Sequence[Unit], workers: int | None, say: bool) -> int:
    """Local workers for ``tasks``, checked by the resource guard (None: as many as the
    cores and the memory allow); ``say`` prints the estimate of a probed run."""
    work = [t for t in tasks if isinstance(t, Task | SampleTask)]
    if not work:
        return 1
    first = work[0]
    scenario = first.scenario
    points = len(first.points) if isinstance(first, SampleTask) else 1
    found = resources.estimate(partial(_probe, first), units=len(work), size=first.size,
                               arms=len(scenario.arms), points=points,
                               weeks=scenario.horizon_weeks + scenario.burn_in)
    chosen = resources.plan_workers(found, workers)
    if say and found.probed:
        print(f"loyaltylab: {found.text(chosen)}", file=sys.stderr, flush=True)
    return chosen


def _probe(task: Task | SampleTask, size: int) -> Outcome:
    """One point of ``task`` with ``size`` customers (the resource guard's probe)."""
    changes: dict[str, Any] = {"size": size}
    if isinstance(task, SampleTask):
        changes |= {"points": task.points[:1], "replications": task.replications[:1]}
    else:  # the first replication's per-customer table is the most a unit keeps
        changes["keep_customers"] = True
    return run_unit(replace(task, **changes))[1]


def _local(tasks: Sequence[Unit], workers: int) -> Iterator[tuple[str, Outcome]]:
    if workers <= 1:
        for task in tasks:
            yield run_unit(task)
        return
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    claim_pool_folder()
    # A multiprocessing pool rather than concurrent.futures: on Ctrl-C or SIGTERM its
    # workers are terminated at once instead of finishing their replications.
    pool = multiprocessing.get_context(method).Pool(workers)
    try:
        yield from pool.imap_unordered(run_unit, tasks)
    except BaseException:
        pool.terminate()
        raise
    else:
        pool.close()
    finally:
        pool.join()


# ---------------------------------------------------------------------- summary
def _relative(metrics: Sequence[str]) -> list[str]:
    """The metrics whose change relative to the control is reported too."""
    found = [(name, *lookup(name)) for name in metrics]
    return [name for name, m, rel in found if m.relative and not rel]


def _units(summary: pd.DataFrame) -> pd.DataFrame:
    """``unit`` of each summary row: the metric's, "relative" for relative changes."""
    units = {name: ("relative" if rel else m.unit)
             for name in summary["metric"].unique() for m, rel in [lookup(name)]}
    return summary.assign(unit=summary["metric"].map(units))


def _field_effects(summary: pd.DataFrame, trials: pd.DataFrame) -> pd.DataFrame:
    """Field mode: effects are what the simulated pilots show, with their power."""
    pilots = trials[trials["metric"] != "sample_ratio"]
    # Power counts the pilots that find the effect in the direction of the truth; a
    # significant result of the wrong sign is an error, reported beside it.
    agrees = np.sign(pilots["estimate"]) == np.sign(pilots["twin_effect"])
    pilots = pilots.assign(right_sign=pilots["significant"] & agrees,
                           wrong_sign=pilots["significant"] & ~agrees)
    grouped = pilots.groupby(["arm", "metric"], sort=False)
    table = pd.DataFrame({
        "effect_vs_control": grouped["estimate"].mean(),
        "effect_ci_low": grouped["ci_low"].mean(),
        "effect_ci_high": grouped["ci_high"].mean(),
        "p_value": grouped["p_value_holm"].median(),
        "power": grouped["right_sign"].mean(),
        "wrong_sign": grouped["wrong_sign"].mean(),
        "twin_effect": grouped["twin_effect"].mean(),
    })
    keyed = summary.set_index(["arm", "metric"])
    for column in ("power", "wrong_sign", "twin_effect"):
        keyed[column] = np.nan
    common = keyed.index.intersection(table.index)
    keyed.loc[common, table.columns] = table.loc[common]
    return keyed.reset_index()


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def overridden(scenario: Scenario, *, seed: int | None = None,
               replications: int | None = None, size: int | None = None) -> Scenario:
    """The scenario with another seed, number of replications or population size (the
    fixed program cost scales with the size, so per-customer results of a quick look at
    another size stay comparable)."""
    updates: dict[str, Any] = {}
    if seed is not None:
        updates["seed"] = integer("seed", seed, 0)
    if replications is not None:
        updates["replications"] = integer("replications", replications, 1, MAX_REPLICATIONS)
    if size is not None:
        size = integer("size", size, 1, MAX_CUSTOMERS)
        updates["population"] = scenario.population.model_copy(update={"size": size})
        fixed = scenario.economics.fixed_cost_per_week * size / scenario.population.customers
        updates["economics"] = scenario.economics.model_copy(
            update={"fixed_cost_per_week": fixed})
    return scenario.model_copy(update=updates)


def run(
    scenario: Scenario | str | Path,
    *,
    out: str | Path | None = None,
    seed: int | None = None,
    replications: int | None = None,
    size: int | None = None,
    workers: int | None = 1,
    executor: Literal["local", "dask"] = "local",
    scheduler: str | None = None,
    progress: bool | Callable[[int, int], None] = False,
    backend: str = "numpy",
    facts: bool = True,
    uncertainty: int | None = None,
    resume: bool = False,
) -> ExperimentResult:
    """Run a scenario's experiment and summarise it.

    Parameters
    ----------
    scenario : Scenario or path
        A validated scenario, or a scenario file.
    out : path, optional
        Write the results folder there (atomically; it must not exist yet).
    seed, replications, size : int, optional
        Override the scenario's seed, number of replications or population size (the
        fixed program cost scales with the size).
    workers : int or None
        Local worker processes (1: run in this process; None: as many as the cores and
        the memory allow). The resource guard (:mod:`loyaltylab.experiments.resources`)
        refuses workers that would need more memory than is available.
    executor : {"local", "dask"}
        ``"dask"`` runs the replications on the Dask cluster at ``scheduler``.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:8786``).
    progress : bool or callable
        Show a progress bar on standard error, or call ``progress(done, total)``.
    backend : {"numpy", "cupy"}
        The engine's array library: ``"cupy"`` simulates on a GPU (the optional extra
        ``gpu``). Results are statistically, not bitwise, equal to the CPU's (the
        random streams differ).
    facts : bool
        Check the stylized facts for the scenario's population and behaviour
        (:func:`loyaltylab.validation.check_facts` at ``FACTS_SIZE`` customers per
        study, about 1.5 s, beside the replications): ``result.facts``, ``facts.csv``
        and the report's assumptions. False skips it (a sweep of many runs).
    uncertainty : int, optional
        Parameter-uncertainty draws (default: the scenario's ``[uncertainty] draws``):
        coefficient sets drawn by Latin hypercube over the uncertain inputs' ranges or
        distributions, each run with its own luck beside the replications
        (:mod:`loyaltylab.experiments.uncertainty`); 0 for none.
    resume : bool
        Continue the interrupted run writing ``out`` from its checkpoint
        (:mod:`loyaltylab.experiments.checkpoint`); the results equal an uninterrupted
        run's.

    Returns
    -------
    ExperimentResult

    Examples
    --------
    A quick look at a shipped scenario (run from the project's root)::

        result = run("scenarios/winback.toml", size=2000, replications=2)
        result.metric("retention")["effect_vs_control"]
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    scenario = overridden(scenario, seed=seed, replications=replications, size=size)
    if workers is not None:
        workers = integer("workers", workers, 1, MAX_WORKERS)
    if executor not in ("local", "dask"):
        raise InputError(f"executor: must be 'local' or 'dask', got {executor!r}")
    if (executor == "dask") != (scheduler is not None):
        raise InputError("scheduler: give a scheduler address with the dask executor only")
    device = device_name(get_namespace(backend))  # a clear error now, not in each worker
    if out is not None:
        out = check_destination(out)

    draws = (scenario.uncertainty.draws if uncertainty is None
             else integer("uncertainty", uncertainty, 0, MAX_DRAWS))
    if draws and not scenario.uncertain():
        raise InputError("uncertainty: no uncertain input has a range (see "
                         "[uncertainty] inputs and ranges)")
    checkpoint = None
    if out is not None:
        plan = {"command": "run", "scenario": scenario.model_dump(mode="json"),
                "facts": facts, "backend": backend, "draws": draws}
        checkpoint = Checkpoint(Path(out), plan, resume)

    started = datetime.now(UTC)
    clock = time.perf_counter()
    size = scenario.population.customers
    tasks: list[Unit] = [Task(scenario, r, size, keep_customers=(r == 0), backend=backend)
                         for r in range(scenario.replications)]
    tasks += draw_tasks(scenario, draws, size, backend)
    if facts:  # beside the replications, first out so that it overlaps them
        tasks.insert(0, FactsTask(scenario))
    outcomes = run_units(tasks, workers=workers, scheduler=scheduler, progress=progress,
                         checkpoint=checkpoint, unit="unit" if draws else "replication")
    checked = outcomes.get("facts")
    done = [outcomes[unit_key(t)] for t in tasks if isinstance(t, Task)]

    values = pd.concat([r.values for r in done], ignore_index=True)
    control = scenario.control.name
    relative = _relative(list(dict.fromkeys(values["metric"])))
    summary = twin_summary(values, control, relative)
    summary = _units(summary)
    targets = target_table(values, control, scenario.targets)
    draw_table = draw_inputs = None
    if draws:
        units = [t for t in tasks if isinstance(t, SampleTask)]
        blocks = [outcomes[t.key].values for t in units]
        draw_table = summarise_draws(scenario, blocks, relative)
        draw_inputs = pd.DataFrame([{"draw": d, **t.points[0]} for d, t in enumerate(units)])
        summary = plausible(summary, draw_table)
        targets = targets_over_draws(targets, scenario, blocks)
    trials = None
    if scenario.mode == "field":
        trials = pd.concat([r.trials for r in done if r.trials is not None],
                           ignore_index=True)
        summary = _field_effects(summary, trials)
    customers = done[0].customers if done[0].customers is not None else pd.DataFrame()
    manifest = {
        "scenario": scenario.model_dump(mode="json"),
        "sweep": [sweep.model_dump(mode="json") for sweep in scenario.sweep],
        "name": scenario.name,
        "mode": scenario.mode,
        "seed": scenario.seed,
        "replications": scenario.replications,
        "uncertainty_draws": draws,
        "size": scenario.population.customers,
        "horizon_weeks": scenario.horizon_weeks,
        "burn_in_weeks": scenario.burn_in,
        "control": control,
        "executor": executor,
        "workers": workers if executor == "local" else None,
        "backend": backend,
        "device": device,
        "versions": _versions(),
        "started": started.isoformat(timespec="seconds"),
        "run_seconds": round(time.perf_counter() - clock, 3),
    }
    result = ExperimentResult(
        scenario=scenario, summary=design_columns(summary, scenario.arms),
        targets=design_columns(targets, scenario.arms),
        weekly=pd.concat([r.weekly for r in done], ignore_index=True),
        customers=customers, trials=trials, manifest=manifest, facts=checked,
        draws=draw_table, draw_inputs=draw_inputs,
    )
    if out is not None:
        assert checkpoint is not None
        write_results(result, Path(out))
        checkpoint.remove()
    return result


class Progress:
    """Progress of the replications (or other ``unit``s of work): a tqdm bar, a
    callback, or nothing."""

    def __init__(self, progress: bool | Callable[[int, int], None], total: int,
                 unit: str = "replication") -> None:
        self.total = total
        self.done = 0
        self.callback = progress if callable(progress) else None
        self.bar: Any = None
        if progress is True:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=unit, desc="loyaltylab", leave=False)

    def __enter__(self) -> Callable[[], None]:
        return self.tick

    def tick(self) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        if self.callback is not None:
            self.callback(self.done, self.total)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()
