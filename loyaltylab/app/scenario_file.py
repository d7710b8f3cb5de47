"""A scenario being edited, written back as a scenario file.

The app edits a scenario as the table its TOML file parses to (what
:func:`loyaltylab.experiments.scenario.read_scenario_data` returns), so that what is
saved is what a user would have written: only the keys given, sweeps and a search kept
as they are. :func:`to_toml` writes such a table as TOML (Python's ``tomllib`` reads
TOML but does not write it); :func:`save_scenario` validates the table as
``loyaltylab validate`` does, then writes the file atomically. A table holds plain data
only, so nothing in a scenario file is ever executed.

Examples
--------
>>> print(to_toml({"name": "demo", "population": {"size": 1000},
...                "arms": [{"name": "no program"}, {"name": "points",
...                          "policies": [{"type": "points", "value_per_point": 0.05}]}]}))
name = "demo"
<BLANKLINE>
[population]
size = 1000
<BLANKLINE>
[[arms]]
name = "no program"
<BLANKLINE>
[[arms]]
name = "points"
<BLANKLINE>
[[arms.policies]]
type = "points"
value_per_point = 0.05
<BLANKLINE>
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
from pathlib import Path
from typing import Any

from loyaltylab.errors import InputError, as_path
from loyaltylab.experiments.atomic import atomic_path, check_writable
from loyaltylab.experiments.scenario import Scenario, validate_scenario

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")

#: A value left out of the scenario (a field left empty): its default holds.
DEFAULT = object()


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name, ensure_ascii=False)


def inline(value: Any) -> str:
    """``value`` as a TOML inline value: a string, number, boolean, array or inline
    table (None is not a TOML value: keys holding None are left out)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        # JSON's escapes are TOML's, but for DEL, which TOML wants escaped too.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(inline(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        items = [f"{_key(k)} = {inline(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    if isinstance(value, os.PathLike):
        return inline(os.fspath(value))
    raise TypeError(f"{type(value).__name__} is not a TOML value: {value!r}")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _table(path: str, table: dict[str, Any], out: list[str]) -> None:
    """Append ``table`` at ``path``: its values, then its tables, then its arrays of
    tables (TOML gives every key after a header to that header's table)."""
    for key, value in table.items():
        if value is None or isinstance(value, dict) or _is_table_array(value):
            continue
        out.append(f"{_key(key)} = {inline(value)}")
    for key, value in table.items():
        if isinstance(value, dict):
            name = f"{path}.{_key(key)}" if path else _key(key)
            out.append(f"\n[{name}]")
            _table(name, value, out)
    for key, value in table.items():
        if _is_table_array(value):
            name = f"{path}.{_key(key)}" if path else _key(key)
            for item in value:
                out.append(f"\n[[{name}]]")
                _table(name, item, out)


def to_toml(data: dict[str, Any]) -> str:
    """A scenario table (or any table of plain data) as TOML text."""
    out: list[str] = []
    _table("", data, out)
    return "\n".join(out).lstrip("\n") + "\n"


def edited(data: dict[str, Any], keys: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """A copy of ``data`` with the value at ``keys`` (``("arms", 1, "name")``) set to
    ``value``, or left out when ``value`` is :data:`DEFAULT`;
    missing tables on the way are created. ``data`` itself is not changed."""
    out = copy.deepcopy(data)
    table: Any = out
    for key in keys[:-1]:
        if isinstance(key, str) and not isinstance(table.get(key), dict | list):
            table[key] = {}
        table = table[key]
    if value is DEFAULT:
        if isinstance(table, dict):
            table.pop(keys[-1], None)
        else:
            del table[keys[-1]]
    else:
        table[keys[-1]] = value
    return out


def value_at(data: dict[str, Any], keys: tuple[str | int, ...]) -> Any:
    """The value at ``keys`` in ``data``, or :data:`DEFAULT` when
    it is not given."""
    value: Any = data
    for key in keys:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return DEFAULT
    return value


def relocated(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    """``data`` with its population file's path relative to ``folder`` (where the
    scenario file will be): a scenario file names it relative to itself."""
    population = data.get("population")
    if not (isinstance(population, dict) and isinstance(population.get("file"), str)):
        return data
    where = Path(population["file"]).resolve()
    moved = {**population, "file": os.path.relpath(where, folder.resolve())}
    return {**data, "population": moved}


def save_scenario(data: dict[str, Any], path: str | os.PathLike[str]) -> Scenario:
    """Validate ``data`` and write it to ``path`` as a scenario file.

    Parameters
    ----------
    data : dict
        The scenario's table (population file relative to the working folder).
    path : path
        The file to write; an existing file is replaced (atomically).

    Returns
    -------
    Scenario
        The validated scenario, as ``loyaltylab validate`` would load the file.

    Raises
    ------
    ScenarioError
        ``data`` is not a valid scenario: nothing is written.
    InputError
        ``path`` cannot be written.
    """
    path = as_path("path", path)
    scenario = validate_scenario(data, str(path))
    check_writable(path, "path")
    try:
        with atomic_path(path) as tmp:
            tmp.write_text(to_toml(relocated(data, path.parent)), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"path: cannot write {path}: {exc.strerror or exc}") from None
    return scenario
