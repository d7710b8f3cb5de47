"""Population files: a calibrated population as a small, human-readable TOML file.

Example (the CDNOW sample, one segment)::

    # loyaltylab population file
    format = 1
    size = 2357
    method = "none"

    [[segments]]
    name = "cohort"
    share = 1.0
    bgnbd = { r = 0.2426, alpha = 4.4136, a = 0.7929, b = 2.4259 }   # weekly units
    gamma_gamma = { p = 6.2496, q = 3.7442, gamma = 15.4435 }         # currency units
    customers = 2357
    log_likelihood = -9582.43
    incentive_sensitivity = 1.0
    ...

``bgnbd`` and ``gamma_gamma`` are required in every segment; the behavioural fields of
:class:`loyaltylab.agents.Segment` are optional (defaults apply). Fit information
(``customers``, ``repeat_buyers``, ``log_likelihood``, ``gamma_gamma_log_likelihood``,
``bgnbd_source``, ``gamma_gamma_source``, ``notes``) is kept for the record and ignored
when the population is read. Floats are written with ``repr``, so they read back
bit-identical.

Optional top-level fields: ``currency`` (of the spend parameters; a scenario's economics
follow it), ``notes`` (everything the calibration had to say: returns netted, the
warm-up, late joiners, fallbacks, defaults used), a ``[segment_rules]`` table (the
firm's segment thresholds, :class:`loyaltylab.agents.SegmentRules`) and a ``[response]``
table of response coefficients fitted from campaigns, by the names of
:mod:`loyaltylab.experiments.inputs` without their ``response.`` prefix::

    [response]   # fitted from campaigns: estimate and standard error
    "coupon_use.attention" = { value = 0.175, se = 0.062 }

A population read from a file with ``[response]`` has a behaviour with those
coefficients (the others keep their defaults). Each segment also records its
``bgnbd_se`` and ``gamma_gamma_se`` (standard errors; ``inf`` at a bound, ``nan`` not
identified) and its fit ``flags``.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from loyaltylab.agents.calibration import Calibration, SegmentFit
from loyaltylab.agents.segment_rules import SegmentRules
from loyaltylab.agents.segments import PopulationSpec, Segment
from loyaltylab.errors import MAX_TEXT_BYTES, InputError, input_file

#: Version of the file layout, written as ``format``.
FORMAT = 1
_TOP_KEYS = {"format", "size", "method", "source", "segments", "currency", "notes",
             "segment_rules", "response"}
_FIT_KEYS = {"customers", "repeat_buyers", "log_likelihood", "gamma_gamma_log_likelihood",
             "bgnbd_source", "gamma_gamma_source", "notes", "bgnbd_se", "gamma_gamma_se",
             "flags"}
_SEGMENT_KEYS = set(Segment.model_fields) - {"behaviour"}


class PopulationFileError(InputError):
    """A population file that cannot be read; the message names the file and the field."""


# ---------------------------------------------------------------------- writing
def _value(value: Any) -> str:
    """One TOML value: bool, int, float, string, list or inline table."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write the non-finite number {value}")
        return repr(value)
    if isinstance(value, str):
        # JSON string escapes are valid TOML basic-string escapes.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, Iterable):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _standard_errors(values: Mapping[str, float]) -> str:
    """An inline table of standard errors; TOML's ``inf`` (a parameter at a bound) and
    ``nan`` (not identified) are kept, since they are what the reader must see."""
    def one(v: float) -> str:
        return repr(float(v)) if math.isfinite(v) else ("inf" if v > 0 else "nan")

    return "{ " + ", ".join(f"{k} = {one(v)}" for k, v in values.items()) + " }"


def _fits_by_name(fits: Calibration | Iterable[SegmentFit] | None) -> dict[str, SegmentFit]:
    if fits is None:
        return {}
    items = fits.segments if isinstance(fits, Calibration) else fits
    return {f.name: f for f in items}


def save_population(
    spec: PopulationSpec | Calibration,
    path: str | PathLike[str],
    fits: Calibration | Iterable[SegmentFit] | None = None,
    *,
    source: str | None = None,
    notes: Iterable[str] = (),
    response: Mapping[str, tuple[float, float]] | None = None,
) -> Path:
    """Write a population (and, optionally, its fits) as a TOML population file.

    Parameters
    ----------
    spec : PopulationSpec or Calibration
        The population; a :class:`Calibration` brings its own fits.
    path : str or path-like
        File to write (conventionally ``*.toml``).
    fits : Calibration or iterable of SegmentFit, optional
        Fit information per segment, matched by name: customers, log-likelihoods,
        sources and notes are written next to the parameters.
    source : str, optional
        Where the population comes from (e.g. the transaction log), for the record.
    notes : iterable of str
        What the reader should know (written with a :class:`Calibration`'s own notes).
    response : mapping, optional
        Fitted response coefficients, ``name -> (value, standard error)`` with names such
        as ``"coupon_use.attention"`` (the ``[response]`` table).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        If a segment has its own behaviour object (it cannot be written to a file).
    """
    method = None
    notes = list(notes)
    if isinstance(spec, Calibration):
        fits = spec if fits is None else fits
        method = spec.method
        notes += [n for n in spec.notes if n not in notes]
        spec = spec.population
    by_name = _fits_by_name(fits)
    calibration = fits if isinstance(fits, Calibration) else None
    if calibration is not None:
        method = calibration.method
    if spec.behaviour is not None:
        raise ValueError("behaviour: a population with its own behaviour cannot be saved")
    lines = ["# loyaltylab population file (load with loyaltylab.agents.load_population)",
             "# bgnbd: weekly units (alpha in weeks); gamma_gamma: currency units",
             f"format = {FORMAT}", f"size = {spec.size}"]
    if method is not None:
        lines.append(f"method = {_value(method)}")
    if source is not None:
        lines.append(f"source = {_value(source)}")
    if spec.currency is not None:
        lines.append(f"currency = {_value(spec.currency)}")
    if notes:
        lines.append("notes = [")
        lines += [f"  {_value(note)}," for note in notes]
        lines.append("]")
    if spec.segment_rules is not None:
        lines += ["", "[segment_rules]   # the firm's segments: yearly thresholds in currency"]
        lines += [f"{k} = {_value(v)}" for k, v in spec.segment_rules.model_dump().items()]
    if response:
        lines += ["", "[response]   # fitted from campaigns: estimate and standard error"]
        lines += [f"{_value(name)} = {{ value = {_value(float(value))}, se = "
                  f"{_standard_errors({'se': se})[7:-2]} }}"
                  for name, (value, se) in response.items()]
    for i, (segment, share) in enumerate(zip(spec.segments, spec.shares, strict=True)):
        if segment.behaviour is not None:
            raise ValueError(f"segments[{i}].behaviour: a segment with its own behaviour "
                             "cannot be saved")
        lines += ["", "[[segments]]", f"name = {_value(segment.name)}",
                  f"share = {_value(float(share))}",
                  f"bgnbd = {_value(segment.bgnbd.model_dump())}",
                  f"gamma_gamma = {_value(segment.gamma_gamma.model_dump())}"]
        fit = by_name.get(segment.name)
        if fit is not None:
            lines += [f"customers = {fit.n_customers}",
                      f"repeat_buyers = {fit.n_repeat_buyers}",
                      f"log_likelihood = {_value(fit.log_likelihood)}"]
            if fit.gamma_gamma_log_likelihood is not None:
                lines.append(f"gamma_gamma_log_likelihood = "
                             f"{_value(fit.gamma_gamma_log_likelihood)}")
            lines += [f"bgnbd_source = {_value(fit.bgnbd_source)}",
                      f"gamma_gamma_source = {_value(fit.gamma_gamma_source)}"]
            if calibration is not None:
                se = calibration.standard_errors(fit)
                for name, model in (("bgnbd", segment.bgnbd), ("gamma_gamma",
                                                               segment.gamma_gamma)):
                    own = {k: se[k] for k in model.model_dump()}
                    lines.append(f"{name}_se = {_standard_errors(own)}")
            lines += [f"flags = {_value([f.message for f in fit.flags])}",
                      f"notes = {_value(list(fit.notes))}"]
        habits = segment.model_dump(exclude={"name", "bgnbd", "gamma_gamma", "behaviour"})
        lines += [f"{k} = {_value(float(v))}" for k, v in habits.items()]
    path = Path(path)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------------- reading
def _where(loc: Iterable[Any]) -> str:
    """A pydantic location as a field path: ``segments[1].bgnbd.r``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _check_keys(where: str, data: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise PopulationFileError(f"{where}: unknown field(s) {unknown}; allowed: "
                                  f"{sorted(allowed)}")


def population_from_dict(data: Mapping[str, Any], where: str = "population") -> PopulationSpec:
    """Validate the content of a population file and build the specification.

    Errors name the field: ``population.toml: segments[1].bgnbd.r: Input should be
    greater than 0``.
    """
    def fail(message: str) -> PopulationFileError:
        return PopulationFileError(f"{where}: {message}")

    try:
        _check_keys(where, data, _TOP_KEYS)
        if data.get("format", FORMAT) != FORMAT:
            raise fail(f"format: expected {FORMAT}, got {data.get('format')!r}")
        for key in ("size", "segments"):
            if key not in data:
                raise fail(f"{key}: missing")
        raw = data["segments"]
        if not isinstance(raw, list) or not raw:
            raise fail("segments: expected one or more [[segments]] tables")
        segments, shares = [], []
        for i, seg in enumerate(raw):
            if not isinstance(seg, Mapping):
                raise fail(f"segments[{i}]: expected a table")
            _check_keys(f"{where}: segments[{i}]", seg, _SEGMENT_KEYS | _FIT_KEYS | {"share"})
            for key in ("name", "share", "bgnbd", "gamma_gamma"):
                if key not in seg:
                    raise fail(f"segments[{i}].{key}: missing")
            shares.append(seg["share"])
            segments.append({k: v for k, v in seg.items() if k in _SEGMENT_KEYS})
        extra = {k: data[k] for k in ("currency", "segment_rules") if k in data}
        spec = PopulationSpec.model_validate(
            {"size": data["size"], "segments": segments, "shares": shares, **extra})
        return _with_response(spec, data.get("response", {}), fail)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        # A model-level check already names its field in the message ("shares: ...").
        text = f"{_where(loc)}: {message}" if loc else message
        raise fail(text) from None


def _regular(path: Path) -> None:
    """A population or rules file must be a regular file of a sensible size."""
    try:
        input_file(path, MAX_TEXT_BYTES)
    except InputError as exc:
        raise PopulationFileError(str(exc)) from None


def _read_toml(path: Path) -> dict[str, Any]:
    _regular(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise PopulationFileError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise PopulationFileError(f"{path}: not UTF-8 text: {exc.reason} at byte "
                                  f"{exc.start}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PopulationFileError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise PopulationFileError(f"{path}: not valid TOML: arrays or tables nested too "
                                  "deeply") from None


def _with_response(spec: PopulationSpec, response: Any,
                   fail: Any) -> PopulationSpec:
    """The population with the ``[response]`` table's coefficients in its behaviour."""
    if not response:
        return spec
    # The names and their checks are the uncertain inputs' (experiments), imported here
    # rather than at the top because experiments builds on this package.
    from loyaltylab.experiments.inputs import all_inputs, apply_inputs
    from loyaltylab.sim import Economics

    if not isinstance(response, Mapping):
        raise fail("response: expected a table of name = { value = ..., se = ... }")
    known = all_inputs(spec, Economics())
    values = {}
    for name, entry in response.items():
        full = f"response.{name}"
        if full not in known:
            options = sorted(k.removeprefix("response.") for k in known
                             if k.startswith("response."))
            raise fail(f"response.{name}: unknown coefficient; known: {options}")
        value = entry.get("value") if isinstance(entry, Mapping) else None
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise fail(f"response.{name}.value: expected a number, got {value!r}")
        item = known[full]
        if not item.lower <= value <= item.upper:
            raise fail(f"response.{name}.value: must be in [{item.lower:g}, {item.upper:g}], "
                       f"got {value!r}")
        values[full] = float(value)
    return apply_inputs(spec, values)


def load_segment_rules(path: str | PathLike[str]) -> SegmentRules:
    """Read segment rules from a TOML file: their fields at the top level, or in a
    ``[segment_rules]`` table (so a population file's rules can be reused).

    Raises
    ------
    PopulationFileError
        Naming the file and the field.
    """
    path = Path(path)
    data = _read_toml(path)
    table = data.get("segment_rules", data)
    where = "segment_rules." if "segment_rules" in data else ""
    try:
        return SegmentRules.model_validate(table)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise PopulationFileError(f"{path}: {where}{_where(first['loc'])}: "
                                  f"{first['msg']}") from None


def load_population(path: str | PathLike[str]) -> PopulationSpec:
    """Read a population file written by :func:`save_population`.

    Parameters
    ----------
    path : str or path-like
        A TOML population file; a ``.json`` file holding
        ``PopulationSpec.model_dump_json()`` is read too.

    Returns
    -------
    PopulationSpec
        The validated population.

    Raises
    ------
    PopulationFileError
        If the file cannot be read or parsed, or a field is missing, unknown or invalid;
        the message names the file and the field.
    """
    path = Path(path)
    if path.suffix.lower() == ".json":
        _regular(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else f"not UTF-8 text: {exc}"
            raise PopulationFileError(f"{path}: cannot read: {reason}") from None
        try:
            return PopulationSpec.model_validate_json(text)
        except ValidationError as exc:
            first = exc.errors()[0]
            message = first["msg"].removeprefix("Value error, ")
            loc = _where(first["loc"])
            raise PopulationFileError(f"{path}: {loc + ': ' if loc else ''}{message}") from None
    return population_from_dict(_read_toml(path), where=str(path))
