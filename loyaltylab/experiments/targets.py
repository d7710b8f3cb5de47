"""Targets a strategist sets, and whether each design meets them.

A scenario lists its targets as ``[[targets]]`` tables; without any it gets the
strategy's four (:data:`DEFAULT_TARGETS`)::

    [[targets]]
    label = "core-customer repurchase rate +45%"
    metric = "repurchase_rate"   # a registered metric (loyaltylab.experiments.metrics)
    segment = "core_loyal"       # optional: the customers of one segment ...
    segment_basis = "observed"   # ... as the firm sees them at launch (or "label")
    period_weeks = 4             # repurchase within each 4-week month (复购率)
    change = "relative"          # or "absolute": in the metric's unit (pp, points, yuan)
    direction = ">="
    threshold = 0.45

A target is met when the whole 95% interval of the change (over replications, paired
with the control in each) lies past the threshold, not met when it lies wholly on the
wrong side, and uncertain otherwise.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from loyaltylab.agents import SEGMENT_NAMES
from loyaltylab.experiments.metrics import METRICS, RELATIVE_FORMAT, format_cell
from loyaltylab.experiments.stats import mean_interval

#: Metrics whose relative change is not meaningful: a score that can be 0 or negative.
_SIGNED = ("nps",)


class Target(BaseModel):
    """One target (see the module docstring).

    Attributes
    ----------
    metric : str
        A registered customers' or effect metric (``retention``, ``churn``,
        ``repurchase_rate``, ``clv``, ``nps``, ``roi``, ...).
    segment : str or None
        Restrict to one segment (the metric must be per segment).
    segment_basis : {"observed", "label"}
        ``observed``: the segment the firm sees at launch (the strategy's rules on the
        trailing 12 months; needs a burn-in); ``label``: the simulation's segment.
    period_weeks : int or None
        For ``repurchase_rate`` only: repurchase within periods of this many weeks
        instead of over the whole horizon.
    change : {"relative", "absolute"}
        Relative: (arm - control) / |control|. Absolute: arm - control in the metric's
        unit (a share in fractions, so 0.05 is +5 pp; NPS in points; money in currency).
    direction : {">=", "<="}
        Whether the change must reach at least or at most the threshold.
    threshold : float
    label : str or None
        Words for tables (default: generated).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str
    threshold: float = Field(allow_inf_nan=False)
    direction: Literal[">=", "<="] = ">="
    change: Literal["relative", "absolute"] = "relative"
    segment: str | None = None
    segment_basis: Literal["observed", "label"] = "observed"
    period_weeks: int | None = Field(None, ge=1, le=520)
    label: str | None = None

    @model_validator(mode="after")
    def _known(self) -> Target:
        m = METRICS.get(self.metric)
        if self.metric == "repurchase_rate" and self.period_weeks is not None:
            m = METRICS["repurchase_rate_{p}w"]
        if m is None or m.kind not in ("customers", "effect"):
            known = [k for k, v in METRICS.items()
                     if v.kind in ("customers", "effect") and "{" not in k]
            raise ValueError(f"metric: unknown metric {self.metric!r}; known: {known}")
        if self.period_weeks is not None and self.metric != "repurchase_rate":
            raise ValueError("period_weeks: only for metric = 'repurchase_rate'")
        if self.segment is not None and not m.segmented:
            raise ValueError(f"segment: {self.metric!r} is not reported per segment")
        if (self.segment is not None and self.segment_basis == "observed"
                and self.segment not in SEGMENT_NAMES):
            raise ValueError(f"segment: the firm's segments are {list(SEGMENT_NAMES)}, got "
                             f"{self.segment!r}")
        if m.kind == "effect" and self.change == "relative":
            raise ValueError(f"change: {self.metric!r} is already a difference from the "
                             "control; use change = 'absolute'")
        return self

    @property
    def summary_metric(self) -> str:
        """The name of the metric's row in ``summary.csv`` that the target reads."""
        name = self.metric
        if self.period_weeks is not None:
            name = f"{name}_{self.period_weeks}w"
        if self.segment is not None:
            name += f"_{self.segment}" + ("_observed" if self.segment_basis == "observed"
                                          else "")
        return name

    @property
    def title(self) -> str:
        """The label, or one made from the definition."""
        if self.label:
            return self.label
        sign = f"{self.threshold:+.0%}" if self.change == "relative" else f"{self.threshold:+g}"
        return f"{self.summary_metric} {self.direction} {sign}"


#: The strategy's 12-month targets. Core customers repurchase within each 4-week month:
#: within a quarter 79% of them already buy twice without a program (README, Targets),
#: so +45% would be out of reach of any design.
DEFAULT_TARGETS = (
    Target(label="core-customer repurchase rate +45%", metric="repurchase_rate",
           segment="core_loyal", period_weeks=4, threshold=0.45),
    Target(label="churn -30%", metric="churn", direction="<=", threshold=-0.30),
    Target(label="NPS +25%", metric="nps", threshold=0.25),
    Target(label="average CLV +35%", metric="clv", threshold=0.35),
)


#: Columns of :func:`target_table` (and of a results folder's ``targets.csv``).
TARGET_COLUMNS = ("arm", "target", "metric", "change", "direction", "threshold", "estimate",
                  "ci_low", "ci_high", "status", "note")


def target_table(values: pd.DataFrame, control: str, targets: tuple[Target, ...] | list[Target]
                 ) -> pd.DataFrame:
    """Each target for each treatment arm: estimate, 95% interval, status and a note.

    ``values``: one row per replication, arm and metric (columns replication, arm,
    metric, value), as the runner collects them.
    """
    wide = values.pivot_table(index="replication", columns=["arm", "metric"],
                              values="value", dropna=False, sort=False)
    rows = []
    arms = [a for a in dict.fromkeys(values["arm"]) if a != control]
    for arm in arms:
        for t in targets:
            name = t.summary_metric
            est = low = high = math.nan
            note = ""
            if (arm, name) not in wide:
                note = _missing(name)
            else:
                x = wide[(arm, name)].to_numpy()
                base = wide[(control, name)].to_numpy() if (control, name) in wide else None
                if METRICS.get(t.metric) is not None and METRICS[t.metric].kind == "effect":
                    change = x
                elif t.change == "absolute":
                    change = x - base
                elif t.metric in _SIGNED and not (base > 0).all():
                    change = np.full_like(x, np.nan)
                    note = ("the control's score is not positive in every replication: a "
                            "relative change of a score that can be negative has no "
                            "meaning; set an absolute target in points")
                else:
                    with np.errstate(divide="ignore", invalid="ignore"):
                        change = (x - base) / np.abs(base)
                est, low, high = mean_interval(change)
            rows.append({"arm": arm, "target": t.title, "metric": name, "change": t.change,
                         "direction": t.direction, "threshold": t.threshold,
                         "estimate": est, "ci_low": low, "ci_high": high,
                         "status": _status(t, est, low, high), "note": note})
    return pd.DataFrame(rows, columns=list(TARGET_COLUMNS))


def _status(t: Target, est: float, low: float, high: float) -> str:
    if math.isnan(est):
        return "not measured"
    good, bad = (low, high) if t.direction == ">=" else (-high, -low)
    bound = t.threshold if t.direction == ">=" else -t.threshold
    if math.isnan(good):  # one replication: no interval
        return "uncertain"
    return "met" if good >= bound else "not met" if bad < bound else "uncertain"


def _missing(name: str) -> str:
    if name.endswith("_observed"):
        return ("segments as the firm sees them need a history before launch: set "
                "burn_in_weeks (52 for the strategy's 12-month rules)")
    return f"{name} was not measured in this run"


def change_text(row: Any) -> tuple[str, str, str]:
    """A target row's change, its interval and its threshold as tables show them:
    relative changes in %, absolute ones in the metric's unit (pp, points, currency)."""
    metric, change = row.metric, row.change
    if change == "relative":
        def fmt(v: float) -> str:
            return "-" if not np.isfinite(v) else RELATIVE_FORMAT.format(v)

        interval = (f"[{fmt(row.ci_low)}, {fmt(row.ci_high)}]"
                    if np.isfinite(row.ci_low) and np.isfinite(row.ci_high) else "")
        return fmt(row.estimate), interval, f"{row.threshold:+.0%}"
    text, interval = format_cell(metric, row.estimate, row.ci_low, row.ci_high, effect=True)
    return text, interval, format_cell(metric, row.threshold, np.nan, np.nan, effect=True)[0]
