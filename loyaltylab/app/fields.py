"""Form fields of a parameter model, read from the model itself.

A policy's or a scenario table's fields come from its pydantic model: the name, the type
(which input to show), the default, the bounds of ``Field(ge=..., lt=...)`` and the help
text, which is the field's ``description`` or else its entry in the class docstring's
numpydoc ``Attributes`` (or ``Parameters``) section, where loyaltylab documents every
parameter with its unit. The app keeps no list of parameters of its own: a new policy,
or a new parameter, shows up in the forms as it is registered.

What a user types is turned into the value a scenario file would hold
(:func:`from_text`), and a value into the text shown (:func:`to_text`). Text that is
not a value of the field's type is kept as typed: validating the scenario then rejects
it with the message the command line gives for the same value in a file.

Examples
--------
>>> from loyaltylab.policies import PointsPolicy
>>> value = next(f for f in form_fields(PointsPolicy) if f.name == "value_per_point")
>>> value.kind, value.default, value.bounds, value.unit
('number', 0.1, 'in [1e-12, 1e+06]', 'yuan')
>>> from_text(value, "0.05")
0.05
"""

from __future__ import annotations

import re
import tomllib
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from loyaltylab.app.scenario_file import DEFAULT, inline

#: What input a field gets: a number, a whole number, one of some choices, a yes/no
#: flag, a list of names (comma-separated), free text, or a table (a TOML inline value:
#: a list of tiers, a campaign, ...).
Kind = Literal["number", "integer", "choice", "flag", "names", "text", "table"]

_SECTION = re.compile(r"^\s*(Attributes|Parameters)\s*\n\s*-{3,}\s*$", re.M)
_ENTRY = re.compile(r"^( *)([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*) +:", re.M)


@dataclass(frozen=True)
class FormField:
    """One field of a form.

    Attributes
    ----------
    name : str
        The parameter's name, as in a scenario file.
    kind : str
        Which input it gets (:data:`Kind`).
    default : object
        Its default as plain data (None: none, or the field is required).
    required : bool
        The model has no default: the field must be given.
    optional : bool
        None is a value of the field that a scenario file can hold: leaving the field
        empty means None (its default is None).
    choices : tuple of str
        The values of a ``choice`` field.
    bounds : str
        The allowed range from the model's constraints (``"in [0, 1)"``, ``">= 1"``).
    unit : str
        The unit of the value (``"yuan"``, ``"weeks"``, ``"share"``), or "".
    help : str
        What the field means, from the model's documentation.
    """

    name: str
    kind: Kind
    default: Any
    required: bool
    optional: bool
    choices: tuple[str, ...]
    bounds: str
    unit: str
    help: str

    @property
    def label(self) -> str:
        """The name with its unit, as the form shows it."""
        return f"{self.name} ({self.unit})" if self.unit else self.name


def documented(model: type) -> dict[str, str]:
    """Help text per field from ``model``'s numpydoc ``Attributes`` or ``Parameters``
    section (each entry's description on one line); an entry naming several fields
    (``target_min, target_max : float``) applies to each."""
    text = model.__doc__ or ""
    section = _SECTION.search(text)
    if section is None:
        return {}
    body = text[section.end():]
    end = re.search(r"^\s*\w[\w ]*\n\s*-{3,}\s*$", body, re.M)  # the next section
    body = body[:end.start()] if end else body
    entries = list(_ENTRY.finditer(body))
    if not entries:
        return {}
    indent = min(len(entry.group(1)) for entry in entries)
    entries = [entry for entry in entries if len(entry.group(1)) == indent]
    out: dict[str, str] = {}
    for k, entry in enumerate(entries):
        stop = entries[k + 1].start() if k + 1 < len(entries) else len(body)
        lines = body[entry.end():stop].split("\n")[1:]
        paragraph = " ".join(line.strip() for line in lines).strip()
        for name in entry.group(2).split(","):
            out[name.strip()] = paragraph
    return out


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without ``| None`` and ``Annotated``, and whether None was allowed."""
    optional = False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        annotation = args[0] if len(args) == 1 else annotation
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation, optional


def _kind(annotation: Any) -> tuple[Kind, tuple[str, ...]]:
    if typing.get_origin(annotation) is Literal:
        return "choice", tuple(str(a) for a in typing.get_args(annotation))
    if annotation is bool:
        return "flag", ()
    if annotation is int:
        return "integer", ()
    if annotation is float:
        return "number", ()
    if annotation is str:
        return "text", ()
    if typing.get_origin(annotation) is list and typing.get_args(annotation) == (str,):
        return "names", ()
    return "table", ()


def _number(value: float) -> str:
    return f"{value:g}"


def bounds_text(info: FieldInfo) -> str:
    """The range a field's constraints allow, as ``"in [0, 1)"``, ``"> 0"`` or ``""``."""
    low = high = None
    for item in info.metadata:
        if isinstance(item, annotated_types.Ge):
            low = f"[{_number(item.ge)}"
        elif isinstance(item, annotated_types.Gt):
            low = f"({_number(item.gt)}"
        elif isinstance(item, annotated_types.Le):
            high = f"{_number(item.le)}]"
        elif isinstance(item, annotated_types.Lt):
            high = f"{_number(item.lt)})"
    if low and high:
        return f"in {low}, {high}"
    if low:
        return (">= " if low[0] == "[" else "> ") + low[1:]
    if high:
        return ("<= " if high[-1] == "]" else "< ") + high[:-1]
    return ""


def unit_of(name: str, help_text: str, currency: str) -> str:
    """The unit of a numeric parameter, by loyaltylab's conventions: units are in the
    names (``expiry_weeks``, ``reward_points``) and in the first clause of the
    documentation ("currency units"; shares are fractions, 0.05 for 5%)."""
    first = re.split(r"\. |;", help_text, maxsplit=1)[0].lower()
    if re.search(r"currency (unit|value)|per member-week", first):
        return f"points per {currency}" if first.startswith("points") else currency
    if name.endswith("_weeks") or name == "weeks":
        return "weeks"
    if "points" in name or first.startswith("points") or " points " in f" {first} ":
        return "points"
    if re.search(r"(share|pct|margin|probability)", name):
        return "share"
    return ""


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_defaults=True)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def form_fields(model: type[BaseModel], currency: str = "yuan") -> list[FormField]:
    """The form of ``model``: one :class:`FormField` per field, in the model's order.

    Parameters
    ----------
    model : pydantic model class
        A policy (``policy_class("points")``) or a table of the scenario
        (``Economics``).
    currency : str
        The scenario's currency, for the units of money.

    Returns
    -------
    list of FormField
    """
    helps = {}
    for cls in reversed(model.__mro__):  # a subclass documents its own fields last
        if isinstance(cls, type) and issubclass(cls, BaseModel):
            helps.update(documented(cls))
    out = []
    for name, info in model.model_fields.items():
        annotation, optional = _unwrap(info.annotation)
        kind, choices = _kind(annotation)
        required = info.is_required()
        default = None if required else _plain(info.get_default(call_default_factory=True))
        help_text = info.description or helps.get(name, "")
        out.append(FormField(name=name, kind=kind, default=default, required=required,
                             optional=optional and default is None and not required,
                             choices=choices, bounds=bounds_text(info),
                             unit=unit_of(name, help_text, currency)
                             if kind in ("number", "integer") else "", help=help_text))
    return out


def to_text(field: FormField, value: Any) -> str:
    """``value`` of ``field`` as the form shows it ("" for a value left out)."""
    if value is None or value is DEFAULT:
        return ""
    if field.kind == "names" and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if field.kind == "table" or isinstance(value, list | dict):
        return inline(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _toml_value(text: str) -> Any:
    """``text`` as a TOML value (``[1, 2]``, ``{ tier = "Gold" }``); raise ValueError."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not a TOML value: {exc}") from None


def from_text(field: FormField, text: str) -> Any:
    """What ``text`` typed into ``field`` puts in the scenario.

    Empty text is :data:`DEFAULT` (the key is left out: the default holds, which is None
    for an optional field). Numbers are read as numbers; text that is not one is kept as
    typed, for validation to reject with the command line's message. A table is a TOML
    inline value; text that is not TOML raises ``ValueError`` with the reason.
    """
    text = text.strip()
    if not text:
        return DEFAULT
    if field.kind == "integer":
        try:
            return int(text.replace(",", "").replace("_", ""))
        except ValueError:
            return _number_or_text(text)
    if field.kind == "number":
        return _number_or_text(text)
    if field.kind == "flag":
        return {"true": True, "false": False}.get(text.lower(), text)
    if field.kind == "names":
        return [name.strip() for name in text.split(",") if name.strip()]
    if field.kind == "table":
        return _toml_value(text)
    return text


def _number_or_text(text: str) -> Any:
    try:
        value = float(text.replace(",", "").replace("_", ""))
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() \
        else value
