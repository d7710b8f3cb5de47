"""Behavioural coefficients with a default, a plausible range, a unit and a source.

A coefficient class is a frozen dataclass whose fields are made with :func:`coef`;
:class:`Coefficients` checks them on construction and lists them with ``describe()``.
Codes in the sources (GG1, T4, ...) are the rows of the project's table of stylized
facts; "U" marks a value that is a judgement, not a published estimate.
"""

from __future__ import annotations

import math
from dataclasses import Field, dataclass, field, fields
from typing import Any

import pandas as pd

#: How far past its plausible range a coefficient may go (for sensitivity analysis): to
#: ten times the range's top, and a time scale down to a tenth of its bottom; beyond,
#: the engine's float32 arithmetic overflows.
RANGE_FACTOR = 10.0


def coef(default: float, low: float, high: float, unit: str, source: str, *,
         positive: bool = False, at_most: float | None = None) -> Any:
    """A coefficient field: its default, plausible range ``[low, high]``, unit and source.

    Hard bounds, checked at construction (:func:`hard_bounds`): every coefficient is a
    number >= 0; ``positive`` makes it > 0 (a time scale), ``at_most`` caps it (1 for a
    share).
    """
    return field(default=default, metadata={"range": (low, high), "unit": unit,
                                            "source": source, "positive": positive,
                                            "at_most": at_most})


def hard_bounds(f: Field[Any]) -> tuple[float, float]:
    """The least and the largest value of coefficient field ``f``: 0 (a time scale: a
    tenth of its plausible range's bottom) and its ``at_most``, or ten times its
    plausible range's top (:data:`RANGE_FACTOR`)."""
    low, high = f.metadata["range"]
    lower = max(low / RANGE_FACTOR, math.ulp(0.0)) if f.metadata.get("positive") else 0.0
    most = f.metadata.get("at_most")
    return lower, RANGE_FACTOR * high if most is None else most


@dataclass(frozen=True)
class Coefficients:
    """Base of coefficient tables: every field a number >= 0, listed by ``describe()``.

    Values outside the plausible range are allowed (for sensitivity analysis) but must
    respect the hard bounds checked at construction.
    """

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or value != value or value < 0:
                raise ValueError(f"{f.name}: must be a number >= 0, got {value!r}")
            if f.metadata.get("positive") and value == 0:
                raise ValueError(f"{f.name}: must be > 0, got {value!r}")
            lower, upper = hard_bounds(f)
            if not lower <= value <= upper:
                raise ValueError(f"{f.name}: must be in [{lower:g}, {upper:g}], got {value!r}")

    @classmethod
    def describe(cls, values: Coefficients | None = None) -> pd.DataFrame:
        """Table of the coefficients: name, value, default, range, unit, source."""
        values = values or cls()
        return pd.DataFrame(
            [
                {
                    "name": f.name,
                    "value": getattr(values, f.name),
                    "default": f.default,
                    "low": f.metadata["range"][0],
                    "high": f.metadata["range"][1],
                    "unit": f.metadata["unit"],
                    "source": f.metadata["source"],
                }
                for f in fields(cls)
            ]
        )
