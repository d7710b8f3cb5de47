"""Checkpoints of long runs: each finished unit of work kept on disk, so that an
interrupted run continues where it stopped.

A run writing ``DIR`` keeps its finished units (replications, draws, samples) in the
hidden folder ``.DIR.partial`` beside it, one Parquet file per table of a unit, and the
plan of the run (``plan.json``: the scenario and every setting that changes results).
``--resume`` reloads the units of a run with the same plan and computes the others;
results are identical to an uninterrupted run's, since every unit's luck depends on the
scenario's seed and the unit's index alone. The folder is removed once ``DIR`` is
complete. Each unit is written to a temporary folder renamed into place, so a unit is
on disk whole or not at all, whenever the run is killed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from loyaltylab.errors import InputError

#: Name of the plan file of a checkpoint folder.
PLAN = "plan.json"


def checkpoint_folder(destination: Path) -> Path:
    """The checkpoint folder of a results folder: ``.DIR.partial`` beside ``DIR``."""
    return destination.parent / f".{destination.name}.partial"


def _differences(saved: dict[str, Any], plan: dict[str, Any], where: str = "") -> list[str]:
    out = []
    for key in sorted(set(saved) | set(plan)):
        a, b = saved.get(key), plan.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{where}{key}.")
        elif a != b:
            out.append(f"{where}{key} ({a!r} then, {b!r} now)")
    return out


class Checkpoint:
    """The finished units of a run, on disk.

    Parameters
    ----------
    destination : Path
        The results folder the run will write.
    plan : dict
        Everything that determines the results (JSON-serialisable); a resumed run must
        have the same.
    resume : bool
        Continue the interrupted run whose units are in the checkpoint folder. Without
        it, an existing checkpoint folder is an error (it holds another run's work).
    """

    def __init__(self, destination: Path, plan: dict[str, Any], resume: bool) -> None:
        self.folder = checkpoint_folder(destination)
        self.plan = json.loads(json.dumps(plan))
        exists = self.folder.exists()
        if exists and not resume:
            raise InputError(f"out: {self.folder} holds an interrupted run of {destination}: "
                             "add --resume to continue it, or delete that folder")
        if exists:
            self._check_plan(destination)
        else:
            self.folder.mkdir(parents=True)
            with open(self.folder / PLAN, "w", encoding="utf-8") as handle:
                json.dump(self.plan, handle, indent=1, sort_keys=True)
        self.resumed = exists

    def _check_plan(self, destination: Path) -> None:
        try:
            saved = json.loads((self.folder / PLAN).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"--resume: {self.folder / PLAN}: cannot read: {exc}") from None
        changed = _differences(saved, self.plan)
        if changed:
            raise InputError(f"--resume: the interrupted run of {destination} had other "
                             f"settings: {'; '.join(changed[:3])}; give the same ones, or "
                             f"delete {self.folder}")

    def _unit(self, key: str) -> Path:
        return self.folder / key

    def done(self) -> set[str]:
        """Keys of the units on disk."""
        return {p.name for p in self.folder.iterdir()
                if p.is_dir() and not p.name.startswith(".")}

    def save(self, key: str, tables: dict[str, pd.DataFrame | None]) -> None:
        """Keep a finished unit: its tables (None: the unit has no such table)."""
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=self.folder))
        try:
            for name, table in tables.items():
                if table is not None:
                    table.to_parquet(tmp / f"{name}.parquet", index=False)
            os.replace(tmp, self._unit(key))
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def load(self, key: str) -> dict[str, pd.DataFrame]:
        """The tables of a finished unit."""
        unit = self._unit(key)
        try:
            return {p.stem: pd.read_parquet(p) for p in sorted(unit.glob("*.parquet"))}
        except (OSError, ValueError) as exc:
            raise InputError(f"--resume: {unit}: cannot read: {exc}; delete it to compute "
                             "that unit again") from None

    def remove(self) -> None:
        """Delete the checkpoint (once the results folder is complete)."""
        shutil.rmtree(self.folder, ignore_errors=True)
