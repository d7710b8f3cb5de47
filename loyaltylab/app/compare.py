"""Results folders: which there are, and runs side by side.

The app lists the folders in its results folder (``loyaltylab app --results DIR``): each
a run's, a sweep's or a search's (a run whose arms carry design parameters), or a
sensitivity analysis's. Two runs are compared by putting their headline tables (the
command line's :func:`loyaltylab.cli.headline_table`) side by side; a sweep or a search
is shown as its designs' effects against the control, and a sensitivity analysis as
the assumptions that move each verdict most.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from loyaltylab.cli import headline_table
from loyaltylab.experiments.metrics import format_value, headline
from loyaltylab.experiments.results import ExperimentResult
from loyaltylab.experiments.sensitivity import read_sensitivity

Kind = Literal["run", "sweep", "search", "sensitivity"]


@dataclass(frozen=True)
class Folder:
    """A results folder.

    Attributes
    ----------
    path : Path
        The folder.
    kind : str
        ``run``, ``sweep`` (arms from a ``[[sweep]]`` grid), ``search`` (``loyaltylab
        optimise``) or ``sensitivity``.
    scenario : str
        The scenario's name.
    started : str
        When the run started (ISO 8601), as its manifest says.
    size : int or None
        Customers per replication.
    """

    path: Path
    kind: Kind
    scenario: str
    started: str
    size: int | None

    @property
    def label(self) -> str:
        """The folder's name and kind, for lists."""
        return f"{self.path.name} ({self.kind})"


def describe(path: Path) -> Folder | None:
    """What the folder ``path`` holds, from its manifest; None if it is not a results
    folder (no readable manifest)."""
    try:
        manifest = json.loads((path / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or "scenario" not in manifest:
        return None
    kind: Kind = "run"
    if (path / "sensitivity.csv").is_file():
        kind = "sensitivity"
    elif manifest.get("search"):
        kind = "search"
    elif manifest.get("sweep"):
        kind = "sweep"
    scenario = manifest["scenario"]
    name = manifest.get("name") or (scenario.get("name") if isinstance(scenario, dict) else "")
    return Folder(path, kind, str(name), str(manifest.get("started", "")),
                  manifest.get("size"))


def results_folders(parent: Path) -> list[Folder]:
    """The results folders in ``parent``, the newest first (hidden folders, such as a
    run's checkpoint, left out)."""
    if not parent.is_dir():
        return []
    found = [describe(p) for p in parent.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return sorted((f for f in found if f is not None), key=lambda f: (f.started, f.path.name),
                  reverse=True)


def side_by_side(runs: dict[str, ExperimentResult]) -> pd.DataFrame:
    """The headline tables of ``runs`` side by side: one column per run and arm (and
    effect), named ``"<run>: <column>"``; metrics one only has are "-" in the others."""
    tables = [headline_table(result).add_prefix(f"{label}: ")
              for label, result in runs.items()]
    return pd.concat(tables, axis=1).fillna("-")


def sweep_table(result: ExperimentResult) -> pd.DataFrame:
    """A sweep's or a search's designs: one row per treatment arm with its parameters
    and each headline metric's effect against the control."""
    control = result.scenario.control.name
    keys = list(dict.fromkeys(k for arm in result.scenario.arms for k in arm.design_point))
    summary = result.summary.set_index(["arm", "metric"])
    rows = []
    for arm in result.scenario.arms:
        if arm.name == control:
            continue
        row: dict[str, object] = {"arm": arm.name,
                                  **{k: arm.design_point.get(k, "-") for k in keys}}
        for metric, label in headline(result.scenario.repurchase_period_weeks):
            value = (summary.at[(arm.name, metric), "effect_vs_control"]
                     if (arm.name, metric) in summary.index else float("nan"))
            row[label] = format_value(metric, value, effect=True)
        rows.append(row)
    return pd.DataFrame(rows)


def sensitivity_table(path: Path, top: int = 3) -> pd.DataFrame:
    """A sensitivity analysis's ``top`` assumptions per arm and output, with the luck
    line (:meth:`loyaltylab.experiments.SensitivityResult.top_inputs`)."""
    return read_sensitivity(path).top_inputs(top)
