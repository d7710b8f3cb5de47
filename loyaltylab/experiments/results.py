"""The results folder of a run, written atomically, and read back.

A run writes ``DIR/`` (by default ``results/<scenario>-<timestamp>/``):

- ``manifest.json``: the scenario as run, seed, replications, size, package versions,
  start time and run time, and the list of files;
- ``summary.csv``: one row per arm and metric (estimate, ci_low, ci_high,
  effect_vs_control, effect_ci_low, effect_ci_high, p_value; in field mode also power
  and twin_effect);
- ``targets.csv``: the strategy's targets, met or not, for each treatment arm;
- ``weekly.parquet``: weekly series per replication and arm;
- ``customers.parquet``: per-customer outcomes of replication 0;
- ``trials.csv`` (field mode): one row per replication, treatment arm and metric;
- ``facts.csv``: the stylized facts checked for the population and behaviour in use
  (:mod:`loyaltylab.validation`);
- ``draws.parquet`` and ``draw_inputs.csv`` (with parameter-uncertainty draws): each
  draw's estimates and effects per arm and metric, and its input values
  (:mod:`loyaltylab.experiments.uncertainty`);
- ``search_trials.csv`` (``loyaltylab optimise``): one row per trial of the design search
  (:mod:`loyaltylab.experiments.search`);
- ``report.html``: the planner's ROI report (:mod:`loyaltylab.experiments.report`).

Everything is written into a hidden temporary folder beside ``DIR`` that is renamed to
``DIR`` only when complete, so an interrupted run leaves no half-written results folder
(a run killed with SIGKILL may leave the hidden ``.DIR.partial-*`` folder, never
``DIR``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from os import PathLike
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from loyaltylab.errors import InputError, as_path
from loyaltylab.experiments.atomic import atomic_folder, check_writable
from loyaltylab.experiments.report import write_report
from loyaltylab.experiments.scenario import Scenario, field_errors
from loyaltylab.experiments.targets import TARGET_COLUMNS

#: Default parent folder of results.
RESULTS_DIR = Path("results")
#: Columns of the tables that every run writes and the report reads: a file without one
#: of them is damaged (edited, or another file saved under its name).
REQUIRED_COLUMNS = {
    "summary.csv": ("arm", "metric", "estimate", "ci_low", "ci_high", "effect_vs_control",
                    "effect_ci_low", "effect_ci_high"),
    "targets.csv": TARGET_COLUMNS,
    "weekly.parquet": ("replication", "arm", "week", "retention", "margin", "program_cost",
                       "points_earned", "points_outstanding", "points_expired"),
}


@dataclass
class ExperimentResult:
    """Everything a run produced.

    Attributes
    ----------
    scenario : Scenario
        The scenario as run (with any overrides of size, seed and replications).
    summary : DataFrame
        One row per arm and metric: estimate, ci_low, ci_high, effect_vs_control,
        effect_ci_low, effect_ci_high, p_value (and power, twin_effect in field mode).
    targets : DataFrame
        The strategy's targets for each treatment arm: estimate, CI, status.
    weekly : DataFrame
        Weekly series per replication and arm (``retention`` is the cohort's curve).
    customers : DataFrame
        Per-customer outcomes of replication 0 (field mode: each under their own arm).
    trials : DataFrame or None
        Field mode: one row per replication, treatment arm and metric.
    manifest : dict
        Scenario, seed, versions, run time.
    facts : DataFrame or None
        The stylized facts checked for the scenario's population and behaviour
        (:func:`loyaltylab.validation.check_facts`), one row per fact.
    draws : DataFrame or None
        With parameter-uncertainty draws: per draw, arm and metric the estimate and the
        effect (:func:`loyaltylab.experiments.uncertainty.summarise_draws`).
    draw_inputs : DataFrame or None
        Each draw's input values.
    search : DataFrame or None
        The trials of the design search whose best designs the run re-ran
        (:func:`loyaltylab.experiments.search.optimise`), one row per trial.
    """

    scenario: Scenario
    summary: pd.DataFrame
    targets: pd.DataFrame
    weekly: pd.DataFrame
    customers: pd.DataFrame
    trials: pd.DataFrame | None
    manifest: dict[str, Any]
    facts: pd.DataFrame | None = None
    draws: pd.DataFrame | None = None
    draw_inputs: pd.DataFrame | None = None
    search: pd.DataFrame | None = None

    def metric(self, name: str, arm: str | None = None) -> pd.Series:
        """The summary row of ``name`` for ``arm`` (default: the first treatment arm)."""
        if arm is None:
            arm = next(a.name for a in self.scenario.arms if a is not self.scenario.control)
        rows = self.summary[(self.summary["arm"] == arm) & (self.summary["metric"] == name)]
        if rows.empty:
            raise KeyError(f"metric: no {name!r} for arm {arm!r}")
        return rows.iloc[0]


def default_destination(name: str, parent: Path = RESULTS_DIR) -> Path:
    """``results/<name>-<YYYYmmdd-HHMMSS>``, numbered if that folder exists; the name
    is cut to 80 characters (file systems allow 255 bytes a name)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:80] or "scenario"
    path = parent / f"{safe}-{stamp}"
    k = 1
    while path.exists():
        k += 1
        path = parent / f"{safe}-{stamp}-{k}"
    return path


def check_destination(path: str | PathLike[str]) -> Path:
    """``path`` as a Path; raise :class:`~loyaltylab.errors.InputError` (a ValueError)
    if it cannot receive a results folder: it is not a path, it exists and is not an
    empty folder, or it cannot be created."""
    path = as_path("out", path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise InputError(f"out: {path} already exists; results never overwrite a folder")
    check_writable(path, "out", folder=True)
    return path


def write_results(result: ExperimentResult, path: Path) -> Path:
    """Write the results folder atomically (see the module docstring); return its path."""
    check_destination(path)
    with atomic_folder(path) as tmp:
        files = ["manifest.json", "summary.csv", "targets.csv", "weekly.parquet",
                 "customers.parquet"]
        result.summary.to_csv(tmp / "summary.csv", index=False)
        result.targets.to_csv(tmp / "targets.csv", index=False)
        result.weekly.to_parquet(tmp / "weekly.parquet", index=False)
        result.customers.to_parquet(tmp / "customers.parquet", index=False)
        if result.trials is not None:
            result.trials.to_csv(tmp / "trials.csv", index=False)
            files.append("trials.csv")
        if result.facts is not None:
            result.facts.to_csv(tmp / "facts.csv", index=False)
            files.append("facts.csv")
        if result.draws is not None and result.draw_inputs is not None:
            result.draws.to_parquet(tmp / "draws.parquet", index=False)
            result.draw_inputs.to_csv(tmp / "draw_inputs.csv", index=False)
            files += ["draws.parquet", "draw_inputs.csv"]
        if result.search is not None:
            result.search.to_csv(tmp / "search_trials.csv", index=False)
            files.append("search_trials.csv")
        write_report(result, tmp / "report.html")
        files.append("report.html")
        write_manifest(tmp, result.manifest, files)
    return path


def write_manifest(folder: Path, manifest: dict[str, Any], files: list[str]) -> None:
    """``manifest.json`` of a folder, listing its ``files``."""
    (folder / "manifest.json").write_text(
        json.dumps({**manifest, "files": files}, indent=2) + "\n", encoding="utf-8")


def read_results(path: str | Path) -> ExperimentResult:
    """Read a results folder back."""
    path = as_path("results", path)
    if path.exists() and not path.is_dir():
        raise InputError(f"results: {path}: not a folder; give the folder a run wrote")
    try:
        manifest: dict[str, Any] = json.loads((path / "manifest.json").read_text("utf-8"))
    except FileNotFoundError:
        raise InputError(f"results: {path} has no manifest.json") from None
    except (OSError, ValueError) as exc:  # unreadable, not UTF-8 or not JSON
        raise InputError(f"results: {path / 'manifest.json'}: cannot read: {exc}") from None
    if not isinstance(manifest, dict) or "scenario" not in manifest:
        raise InputError(f"results: {path / 'manifest.json'}: no scenario")
    try:
        scenario = Scenario.model_validate(manifest["scenario"])
    except ValidationError as exc:
        raise InputError("\n".join(f"results: {path / 'manifest.json'}: {error}"
                                   for error in field_errors(exc, "scenario"))) from None
    absent = [name for name in ("summary.csv", "targets.csv", "weekly.parquet",
                                "customers.parquet") if not (path / name).is_file()]
    if absent:
        raise InputError(f"results: {path} has no {absent[0]}")
    trials = path / "trials.csv"
    facts = path / "facts.csv"
    draws = path / "draws.parquet"
    draw_inputs = path / "draw_inputs.csv"
    search = path / "search_trials.csv"
    try:
        result = ExperimentResult(
            scenario=scenario,
            summary=pd.read_csv(path / "summary.csv"),
            targets=pd.read_csv(path / "targets.csv"),
            weekly=pd.read_parquet(path / "weekly.parquet"),
            customers=pd.read_parquet(path / "customers.parquet"),
            trials=pd.read_csv(trials) if trials.exists() else None,
            manifest=manifest,
            facts=pd.read_csv(facts, keep_default_na=False, na_values=[""])
            if facts.exists() else None,
            draws=pd.read_parquet(draws) if draws.exists() else None,
            draw_inputs=pd.read_csv(draw_inputs) if draw_inputs.exists() else None,
            search=pd.read_csv(search) if search.exists() else None,
        )
    except (OSError, ValueError) as exc:  # unreadable or damaged files
        raise InputError(f"results: {path}: cannot read: {exc}") from None
    tables = {"summary.csv": result.summary, "targets.csv": result.targets,
              "weekly.parquet": result.weekly}
    for name, columns in REQUIRED_COLUMNS.items():
        absent = [c for c in columns if c not in tables[name].columns]
        if absent:
            raise InputError(f"results: {path / name}: no column(s) {absent}; the file is "
                             "damaged")
    return result
