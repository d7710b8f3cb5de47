"""The command line's checks of a scenario being edited, placed beside their fields.

A scenario is checked by :func:`loyaltylab.experiments.validate_scenario`, the check of
``loyaltylab validate`` and ``loyaltylab run``; every problem is the line the command
line prints (``arms[1].policies[0].min_spend: must be greater than amount_off (500),
got 300``), and its field path (the part before ``": "``) says which field it belongs
to. The run's own settings (size, replications) are checked as ``loyaltylab run``
checks ``--size`` and ``--replications``.

Examples
--------
>>> check({"name": "x", "population": {"size": 0},
...        "arms": [{"name": "a"}, {"name": "b"}]}).errors
{'population.size': ['population.size: Input should be greater than or equal to 1']}
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from loyaltylab.errors import InputError
from loyaltylab.experiments.runner import overridden
from loyaltylab.experiments.scenario import Scenario, ScenarioError, validate_scenario

_PATH = re.compile(r"^([A-Za-z_][\w\[\]\.]*): ")


def whole_number(text: str) -> int | str:
    """``text`` as an int when it is one (``"5,000"`` too), else as typed: checked as an
    option's value, it is then refused with the command line's message."""
    try:
        return int(text.strip().replace(",", "").replace("_", ""))
    except ValueError:
        return text


def path_of(keys: tuple[str | int, ...]) -> str:
    """The field path of ``keys`` as problems name it: ``("arms", 1, "name")`` ->
    ``"arms[1].name"``."""
    out = ""
    for key in keys:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else key)
    return out


def field_path(line: str) -> str:
    """The field path a problem names (``"arms[1].name: ..."`` -> ``"arms[1].name"``),
    or "" for a problem of the whole scenario."""
    match = _PATH.match(line)
    return match.group(1) if match else ""


@dataclass
class Check:
    """The outcome of checking a scenario (and the run's settings).

    Attributes
    ----------
    scenario : Scenario or None
        The validated scenario with the run's settings, or None if a check failed.
    errors : dict
        The problems (lines as the command line prints them) by field path.
    """

    scenario: Scenario | None
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No problem was found."""
        return not self.errors

    def at(self, path: str) -> str:
        """The problems of the field at ``path``, one line each ("" if none)."""
        return "\n".join(self.errors.get(path, []))

    def elsewhere(self, shown: Iterable[str]) -> list[str]:
        """The problems of fields other than those ``shown`` beside their inputs."""
        placed = set(shown)
        return [line for path, lines in self.errors.items() if path not in placed
                for line in lines]


def _by_field(lines: Iterable[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in lines:
        out.setdefault(field_path(line), []).append(line)
    return out


def check(data: dict[str, Any], size: Any = None, replications: Any = None) -> Check:
    """Check the scenario table ``data`` as ``loyaltylab run --size --replications``
    would, without running anything.

    Parameters
    ----------
    data : dict
        The scenario's table (as a scenario file parses).
    size, replications : int, optional
        The run's population size and replications, if they override the scenario's
        (what was typed: text that is not a whole number is refused as ``run`` refuses
        it, naming ``size`` or ``replications``).

    Returns
    -------
    Check
    """
    try:
        scenario = validate_scenario(data)
    except ScenarioError as exc:
        return Check(None, _by_field(exc.errors))
    errors: list[str] = []
    for name, value in (("size", size), ("replications", replications)):
        try:
            scenario = overridden(scenario, **{name: value})
        except InputError as exc:
            errors += exc.lines()
    return Check(None if errors else scenario, _by_field(errors))
