"""Global sensitivity analysis: which assumptions move the verdict.

The uncertain inputs (:mod:`loyaltylab.experiments.inputs`) are varied over their
ranges with SALib's designs, Morris screening (elementary effects along ``r``
trajectories; Morris 1991, Campolongo et al. 2007) or Sobol indices (Saltelli's
sampling, first-order ``S1`` and total ``ST``), and every point of the design is a
twin-world experiment: the same customers with the same luck under each assumption set,
so the differences between points are the assumptions' effects, not noise.

One more input, ``luck``, changes the replication (the customers' luck) instead of an
assumption: its index is the Monte Carlo noise of each output at the population size
used. An assumption ranked below ``luck`` moves the result less than chance does, and
the ranking among such inputs means nothing; a larger population lowers that line.

Outputs, for each treatment arm: the effect against the control of the headline
metrics (``retention``: the change in retention; ``incremental_margin``, ``roi``: as
they are), and each target's change (``target: NPS +25%``).
"""

from __future__ import annotations

import importlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from loyaltylab.errors import InputError, integer
from loyaltylab.experiments.atomic import atomic_folder
from loyaltylab.experiments.checkpoint import Checkpoint
from loyaltylab.experiments.inputs import UncertainInput, draw_values
from loyaltylab.experiments.metrics import headline, lookup, own_effect
from loyaltylab.experiments.results import check_destination, write_manifest
from loyaltylab.experiments.runner import overridden, run_units
from loyaltylab.experiments.scenario import Scenario, load_scenario
from loyaltylab.experiments.stats import twin_summary
from loyaltylab.experiments.targets import target_table
from loyaltylab.experiments.units import SampleResult, SampleTask

Method = Literal["morris", "sobol"]
#: Default design size: Morris trajectories, or Sobol base samples.
DEFAULT_SAMPLES = {"morris": 10, "sobol": 256}
#: Levels of the Morris grid.
MORRIS_LEVELS = 4
#: The pseudo-input whose index is the Monte Carlo noise.
LUCK = "luck"
#: Distinct lucks of the Sobol design's luck input.
_SOBOL_LUCKS = 2**20
#: Bootstrap resamples of the confidence intervals.
RESAMPLES = 1000


@dataclass
class SensitivityResult:
    """What a sensitivity analysis produced.

    Attributes
    ----------
    scenario : Scenario
        The scenario analysed (with any size or seed override).
    method : str
        ``morris`` or ``sobol``.
    inputs : list of UncertainInput
        The inputs varied (``luck`` comes on top).
    indices : DataFrame
        sensitivity.csv: input, arm, output, index (``mu_star``, ``sigma``, ``mu`` for
        Morris; ``S1``, ``ST`` for Sobol), estimate, ci_low, ci_high (95%; NaN where
        SALib gives none).
    samples : DataFrame
        One row per point of the design: point, replication, the inputs' values, and
        one column per arm and output (``arm: output``).
    manifest : dict
        Settings, versions, run time.
    """

    scenario: Scenario
    method: str
    inputs: list[UncertainInput]
    indices: pd.DataFrame
    samples: pd.DataFrame
    manifest: dict[str, Any]

    @property
    def index(self) -> str:
        """The index that ranks the inputs: ``mu_star`` (Morris) or ``ST`` (Sobol)."""
        return "mu_star" if self.method == "morris" else "ST"

    def ranking(self, output: str, arm: str | None = None) -> pd.DataFrame:
        """Inputs by importance for ``output`` (:attr:`index`), largest first."""
        rows = self.indices[(self.indices["output"] == output)
                            & (self.indices["index"] == self.index)]
        if arm is not None:
            rows = rows[rows["arm"] == arm]
        if rows.empty:
            raise KeyError(f"output: no {output!r}; outputs are "
                           f"{sorted(self.indices['output'].unique())}")
        return rows.sort_values("estimate", ascending=False).reset_index(drop=True)


    def top_inputs(self, k: int = 3) -> pd.DataFrame:
        """Per arm and output, the ``k`` inputs with the largest :attr:`index` as text,
        and the index of ``luck`` (the Monte Carlo noise)."""
        table = self.indices[self.indices["index"] == self.index]
        rows = []
        for (arm, output), group in table.groupby(["arm", "output"], sort=False):
            ranked = group.sort_values("estimate", ascending=False)
            noise = ranked[ranked["input"] == LUCK]["estimate"]
            named = ranked[ranked["input"] != LUCK].head(k)
            rows.append({"arm": arm, "output": output,
                         "largest": ", ".join(f"{i} ({v:.3g})" for i, v in zip(
                             named["input"], named["estimate"], strict=True)),
                         "luck": f"{noise.iloc[0]:.3g}" if len(noise) else "-"})
        return pd.DataFrame(rows, columns=["arm", "output", "largest", "luck"])


# ---------------------------------------------------------------------- the design
def problem(names: Sequence[str]) -> dict[str, Any]:
    """SALib's problem over the unit hypercube (inputs are mapped to their ranges by
    their own quantile functions afterwards)."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def _salib(module: str) -> Any:
    # Imported when used: SALib takes about a second to import, which every command of
    # the CLI would otherwise pay.
    return importlib.import_module(f"SALib.{module}")


def design(method: Method, names: Sequence[str], samples: int, seed: int) -> np.ndarray:
    """Points of the unit hypercube (one row per point, one column per name): Morris
    trajectories, ``samples * (k + 1)`` rows, or Saltelli's Sobol sample,
    ``samples * (k + 2)`` rows, first-order and total indices only."""
    if method == "morris":
        return _salib("sample.morris").sample(problem(names), samples,
                                              num_levels=MORRIS_LEVELS, seed=seed)
    return _salib("sample.sobol").sample(problem(names), samples, calc_second_order=False,
                                         scramble=True, seed=seed)


def block_size(method: Method, k: int) -> int:
    """Consecutive points of a design that form one unit of work: a Morris trajectory
    (``k + 1``), or one Sobol base point with its ``k + 1`` radial partners."""
    return k + 1 if method == "morris" else k + 2


def analyse(method: Method, names: Sequence[str], unit: np.ndarray, y: np.ndarray,
            seed: int) -> pd.DataFrame:
    """SALib's indices of one output ``y`` (one value per point of ``unit``).

    Returns
    -------
    DataFrame
        Columns input, index, estimate, ci_low, ci_high.
    """
    rows = []
    if method == "morris":
        res = _salib("analyze.morris").analyze(
            problem(names), unit, y, num_resamples=RESAMPLES, conf_level=0.95,
            num_levels=MORRIS_LEVELS, seed=seed)
        for i, name in enumerate(names):
            star, conf = float(res["mu_star"][i]), float(res["mu_star_conf"][i])
            rows += [(name, "mu_star", star, star - conf, star + conf),
                     (name, "sigma", float(res["sigma"][i]), math.nan, math.nan),
                     (name, "mu", float(res["mu"][i]), math.nan, math.nan)]
    else:
        res = _salib("analyze.sobol").analyze(
            problem(names), y, calc_second_order=False, num_resamples=RESAMPLES,
            conf_level=0.95, seed=seed)
        for i, name in enumerate(names):
            for index in ("S1", "ST"):
                value, conf = float(res[index][i]), float(res[f"{index}_conf"][i])
                rows.append((name, index, value, value - conf, value + conf))
    return pd.DataFrame(rows, columns=["input", "index", "estimate", "ci_low", "ci_high"])


def luck_replication(method: Method, u: float) -> int:
    """The replication of a point from the unit value of its ``luck`` input: Morris's
    levels each a luck of their own (every step of the luck input changes it), Sobol's
    a fresh luck almost surely."""
    if method == "morris":
        return round(u * (MORRIS_LEVELS - 1))
    return min(int(u * _SOBOL_LUCKS), _SOBOL_LUCKS - 1)


# ---------------------------------------------------------------------- outputs
def needed(scenario: Scenario) -> tuple[str, ...]:
    """The registered metrics the outputs need: the headline's and the targets'."""
    names = [name for name, _ in headline(scenario.repurchase_period_weeks)]
    names += [t.summary_metric for t in scenario.targets]
    return tuple(sorted({lookup(name)[0].name for name in names}))


def outputs(values: pd.DataFrame, scenario: Scenario) -> dict[str, float]:
    """A point's outputs from its metric values (one replication): ``arm: output``."""
    control = scenario.control.name
    names = [name for name, _ in headline(scenario.repurchase_period_weeks)]
    table = twin_summary(values[values["metric"].isin(names)], control, [])
    out: dict[str, float] = {}
    for row in table[table["arm"] != control].itertuples(index=False):
        out[f"{row.arm}: {row.metric}"] = float(row.estimate if own_effect(row.metric)
                                               else row.effect_vs_control)
    targets = target_table(values, control, scenario.targets)
    for row in targets.itertuples(index=False):
        out[f"{row.arm}: target: {row.target}"] = float(row.estimate)
    return out


# ---------------------------------------------------------------------- the command
def sensitivity(
    scenario: Scenario | str | Path,
    *,
    method: Method = "morris",
    samples: int | None = None,
    inputs: Sequence[str] | None = None,
    size: int | None = None,
    seed: int | None = None,
    out: str | Path | None = None,
    workers: int | None = 1,
    scheduler: str | None = None,
    progress: bool | Callable[[int, int], None] = False,
    resume: bool = False,
    backend: str = "numpy",
) -> SensitivityResult:
    """Run a sensitivity analysis of a scenario's verdicts to its assumptions.

    Parameters
    ----------
    scenario : Scenario or path
        The scenario (its arms, population, economics, ranges in ``[uncertainty]``).
    method : {"morris", "sobol"}
        Morris screening (cheap: ``samples * (k + 2)`` experiments for ``k`` inputs)
        or Sobol indices (``samples * (k + 3)``).
    samples : int, optional
        Morris trajectories (default 10) or Sobol base samples (default 256, a power
        of two).
    inputs : list of str, optional
        Groups (``response``, ``satisfaction``, ``segments``, ``economics``) or input
        names; default the scenario's ``[uncertainty] inputs``.
    size, seed : int, optional
        Override the population size (the fixed cost scales with it) or the seed.
    out : path, optional
        Write the results folder there (atomically; checkpointed for ``resume``).
    workers, scheduler, progress, resume, backend
        As for :func:`loyaltylab.experiments.run`.

    Returns
    -------
    SensitivityResult
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if method not in DEFAULT_SAMPLES:
        raise InputError(f"method: must be 'morris' or 'sobol', got {method!r}")
    samples = DEFAULT_SAMPLES[method] if samples is None else integer("samples", samples, 2)
    if method == "sobol" and samples & (samples - 1):
        raise InputError(f"samples: Sobol's design needs a power of two, got {samples}")
    scenario = overridden(scenario, seed=seed, size=size)
    try:
        chosen = scenario.uncertain(list(inputs) if inputs else None)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if not chosen:
        raise InputError("inputs: no input with a range to vary")
    names = [i.name for i in chosen] + [LUCK]
    checkpoint = None
    if out is not None:
        out = check_destination(out)
        plan = {"command": "sensitivity", "scenario": scenario.model_dump(mode="json"),
                "method": method, "samples": samples, "inputs": names, "backend": backend}
        checkpoint = Checkpoint(Path(out), plan, resume)

    started = datetime.now(UTC)
    clock = time.perf_counter()
    unit = design(method, names, samples, scenario.seed)
    points = draw_values(chosen, unit[:, :-1], scan=True)
    lucks = [luck_replication(method, u) for u in unit[:, -1]]
    step = block_size(method, len(names))
    size_now = scenario.population.customers
    tasks = [SampleTask(key=f"block-{b:05d}", scenario=scenario,
                        points=tuple(points[first:first + step]),
                        replications=tuple(lucks[first:first + step]), first=first,
                        size=size_now, backend=backend, metrics=needed(scenario))
             for b, first in enumerate(range(0, len(points), step))]
    done = run_units(tasks, workers=workers, scheduler=scheduler, progress=progress,
                     checkpoint=checkpoint, unit="block")
    blocks = [done[t.key] for t in tasks]
    assert all(isinstance(b, SampleResult) for b in blocks)
    values = pd.concat([b.values for b in blocks], ignore_index=True)  # type: ignore[union-attr]
    per_point = [outputs(frame.drop(columns="point"), scenario)
                 for _, frame in values.groupby("point", sort=True)]
    table = pd.DataFrame(per_point)
    samples_table = pd.concat([
        pd.DataFrame({"point": np.arange(len(points)), "replication": lucks}),
        pd.DataFrame(points), table], axis=1)
    indices, left_out = _indices(method, names, unit, table, scenario.seed)
    manifest = {
        "command": "sensitivity",
        "scenario": scenario.model_dump(mode="json"),
        "name": scenario.name,
        "method": method,
        "samples": samples,
        "points": len(points),
        "inputs": [{"name": i.name, "low": i.low, "high": i.high,
                    "distribution": i.distribution, "source": i.source} for i in chosen],
        "size": size_now,
        "seed": scenario.seed,
        "left_out": left_out,
        "workers": workers if scheduler is None else None,
        "backend": backend,
        "started": started.isoformat(timespec="seconds"),
        "run_seconds": round(time.perf_counter() - clock, 3),
    }
    result = SensitivityResult(scenario, method, chosen, indices, samples_table, manifest)
    if out is not None:
        assert checkpoint is not None
        write_sensitivity(result, Path(out))
        checkpoint.remove()
    return result


def _indices(method: Method, names: list[str], unit: np.ndarray, table: pd.DataFrame,
             seed: int) -> tuple[pd.DataFrame, list[str]]:
    """Indices of every output; outputs missing at some point or constant are left out
    (named in the second value)."""
    frames, left_out = [], []
    for column in table.columns:
        y = table[column].to_numpy(dtype=np.float64)
        if not np.isfinite(y).all() or np.ptp(y) == 0:
            left_out.append(column)
            continue
        arm, output = column.split(": ", 1)
        frame = analyse(method, names, unit, y, seed)
        frame.insert(1, "arm", arm)
        frame.insert(2, "output", output)
        frames.append(frame)
    columns = ["input", "arm", "output", "index", "estimate", "ci_low", "ci_high"]
    indices = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    return indices[columns], left_out


def write_sensitivity(result: SensitivityResult, path: Path) -> Path:
    """Write ``sensitivity.csv``, ``samples.csv``, ``manifest.json`` and ``report.html``
    into the folder ``path``, atomically."""
    from loyaltylab.experiments.uncertainty_report import write_sensitivity_report

    check_destination(path)
    with atomic_folder(path) as tmp:
        result.indices.to_csv(tmp / "sensitivity.csv", index=False)
        result.samples.to_csv(tmp / "samples.csv", index=False)
        write_sensitivity_report(result, tmp / "report.html")
        write_manifest(tmp, result.manifest, ["manifest.json", "sensitivity.csv",
                                              "samples.csv", "report.html"])
    return path


def read_sensitivity(path: str | Path) -> SensitivityResult:
    """Read a sensitivity folder back (``loyaltylab report`` rewrites its page)."""
    path = Path(path)
    try:
        manifest = json.loads((path / "manifest.json").read_text("utf-8"))
        scenario = Scenario.model_validate(manifest["scenario"])
        known = scenario.inputs()
        chosen = [known[item["name"]] for item in manifest["inputs"]]
        indices = pd.read_csv(path / "sensitivity.csv")
        samples = pd.read_csv(path / "samples.csv")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"results: {path}: cannot read a sensitivity analysis: "
                         f"{exc}") from None
    return SensitivityResult(scenario, manifest["method"], chosen, indices, samples, manifest)
