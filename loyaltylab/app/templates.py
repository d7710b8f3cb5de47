"""Where a scenario comes from: a shipped scenario file, or a design template.

The templates are the strategy's own designs (:func:`loyaltylab.policies.full_strategy`)
against no program: the full program as the ready-made design scenario files name
(``design = "full_strategy"``), its points program alone, or its coupons for the
segments alone. The policies of the last two are read from the design, keeping the
parameters it sets away from their defaults, so the forms show what the strategy chose.

Examples
--------
>>> [p["type"] for p in template("points only")["arms"][1]["policies"]]
['points']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loyaltylab.policies import full_strategy
from loyaltylab.sim import Policy

#: The settings every template starts with: a year of the program after a year without
#: one (the firm sees its segments on the trailing 12 months), as the shipped
#: full-strategy scenario does.
BASE: dict[str, Any] = {"horizon_weeks": 52, "replications": 10, "seed": 2026,
                        "mode": "twin", "burn_in_weeks": 52,
                        "population": {"size": 100_000}}

#: Each template: (the treatment arm's name, the question it asks).
TEMPLATES: dict[str, tuple[str, str]] = {
    "full program": ("full strategy", "The strategy's full program against no program"),
    "points only": ("points", "The strategy's points program against no program"),
    "coupons only": ("coupons", "The strategy's segment coupons against no program"),
}


def policy_table(policy: Policy) -> dict[str, Any]:
    """``policy`` as a scenario file lists it: its type and the parameters it sets away
    from their defaults."""
    defaults = type(policy)().get_params()
    return {"type": policy.name,
            **{k: v for k, v in policy.get_params().items() if v != defaults[k]}}


def _policies(name: str) -> list[dict[str, Any]]:
    design = full_strategy()
    if name == "points only":
        chosen = [p for p in design if p.name == "points"]
    else:  # the coupons aimed at segments: tier-targeted ones need the tiers policy
        chosen = [p for p in design if p.name == "coupons"
                  and p.get_params().get("tiers") is None]
    return [policy_table(p) for p in chosen]


def template(name: str) -> dict[str, Any]:
    """The scenario table of the design template ``name`` (one of :data:`TEMPLATES`)."""
    if name not in TEMPLATES:
        raise KeyError(f"template: unknown {name!r}; templates are {', '.join(TEMPLATES)}")
    arm, question = TEMPLATES[name]
    treatment: dict[str, Any] = {"name": arm}
    if name == "full program":
        treatment["design"] = "full_strategy"
    else:
        treatment["policies"] = _policies(name)
    return {"name": name.replace(" ", "_"), "description": question, **BASE,
            "population": dict(BASE["population"]),
            "arms": [{"name": "no program", "control": True}, treatment]}


def shipped_scenarios(folders: list[Path] | None = None) -> list[Path]:
    """The scenario files shipped with loyaltylab (``scenarios/`` of the source tree)
    and those in ``scenarios/`` of the working folder, by name."""
    if folders is None:
        folders = [Path("scenarios"), Path(__file__).resolve().parents[2] / "scenarios"]
    found: dict[str, Path] = {}
    for folder in folders:
        if folder.is_dir():
            for path in sorted(folder.glob("*.toml")):
                found.setdefault(path.name, path)
    return [found[name] for name in sorted(found)]
