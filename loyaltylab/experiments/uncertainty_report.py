"""Report sections of decisions under uncertainty: the experiment report's verdicts over
plausible worlds, and the page of a sensitivity analysis."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from loyaltylab.experiments.atomic import atomic_path
from loyaltylab.experiments.metrics import against_control, format_cell, headline
from loyaltylab.experiments.report import _figure, _panels, _table, page, plain_text
from loyaltylab.experiments.uncertainty import PLAUSIBLE, acceptability

if TYPE_CHECKING:
    from loyaltylab.experiments.results import ExperimentResult
    from loyaltylab.experiments.sensitivity import SensitivityResult

#: Outputs charted first on a sensitivity page (the others are in the table).
KEY_OUTPUTS = ("incremental_margin", "roi", "clv", "retention", "nps", "program_cost")
#: Inputs shown per chart.
TOP = 10


def interval_text(metric: str, low: float, high: float) -> str:
    """``[low, high]`` in the metric's unit, as an effect; "-" if not finite."""
    return format_cell(metric, low, low, high, effect=True)[1] or "-"


def uncertainty_section(result: ExperimentResult) -> str:
    """Verdicts over plausible worlds (only for a run with parameter-uncertainty draws)."""
    draws = result.draws
    if draws is None or result.draw_inputs is None:
        return ""
    scenario = result.scenario
    control = scenario.control.name
    n = int(draws["draw"].nunique())
    inputs = len(result.draw_inputs.columns) - 1
    summary = result.summary.set_index(["arm", "metric"])
    arms = [a.name for a in scenario.arms if a.name != control]
    rows = []
    for metric, label in headline(scenario.repurchase_period_weeks):
        for arm in arms:
            if (arm, metric) not in summary.index:
                continue
            row = summary.loc[(arm, metric)]
            _, low, high = against_control(metric)
            rows.append({"metric": label, "arm": arm,
                         "Monte Carlo 95% interval": interval_text(metric, row[low], row[high]),
                         "over plausible worlds": interval_text(
                             metric, row["effect_plausible_low"], row["effect_plausible_high"]),
                         "P(effect > 0)": f"{row['prob_effect_positive']:.0%}"
                         if np.isfinite(row["prob_effect_positive"]) else "-"})
    targets = result.targets
    met = ""
    if "met_share" in targets and len(targets):
        shown = targets.assign(**{"met in plausible worlds": [
            f"{v:.0%}" if np.isfinite(v) else "-" for v in targets["met_share"]]})
        met = ("<h3>Targets over plausible worlds</h3>"
               + _table(shown[["arm", "target", "status", "met in plausible worlds"]]))
    low, high = PLAUSIBLE
    text = (f"<h2>Over plausible worlds</h2><p>{n} draws of {inputs} uncertain inputs "
            f"(Latin hypercube over their ranges or distributions), each run with its own "
            f"luck. The headline's intervals are Monte Carlo error given the assumptions; "
            f"the interval over plausible worlds ({low:g}th to {high:g}th percentile of the "
            f"draws) adds the uncertainty of the assumptions themselves. Effects against "
            f"{html.escape(control)}.</p>")
    return (text + _table(pd.DataFrame(rows)) + met + _draw_histograms(result)
            + _acceptability_chart(result))


def _draw_histograms(result: ExperimentResult) -> str:
    draws = result.draws
    assert draws is not None
    control = result.scenario.control.name
    currency = result.scenario.economics.currency
    fig, axes = _panels(2, 11, 3.6)
    for ax, metric, title in ((axes[0], "incremental_margin",
                               f"Incremental margin per customer ({currency})"),
                              (axes[1], "roi", "ROI")):
        for arm in dict.fromkeys(draws["arm"]):
            if arm == control:
                continue
            x = draws[(draws["arm"] == arm) & (draws["metric"] == metric)]["estimate"]
            x = x[np.isfinite(x)]
            if len(x):
                ax.hist(x, bins=min(30, max(5, len(x) // 4)), alpha=0.55,
                        label=f"{arm}: P(> 0) = {(x > 0).mean():.0%}")
        ax.axvline(0, color="grey", linewidth=0.8)
        ax.set_title(title)
        ax.set_ylabel("draws")
        ax.legend(fontsize=8)
    return _figure(fig, "Distribution over plausible worlds of each arm's incremental margin "
                        "and ROI against the control; the legend gives the probability that "
                        "each is positive.")


def _acceptability_chart(result: ExperimentResult) -> str:
    draws = result.draws
    assert draws is not None
    control = result.scenario.control.name
    costs = draws[(draws["metric"] == "program_cost") & (draws["arm"] != control)]["estimate"]
    if costs.empty or not np.isfinite(costs).any():
        return ""
    caps = np.linspace(0.0, float(np.nanmax(costs)) * 1.05, 60)
    curve = acceptability(draws, control, caps)
    fig, axes = _panels(1, 8, 3.8)
    for arm in curve.columns[1:]:
        axes[0].plot(curve["cap"], curve[arm], label=arm)
    axes[0].set_xlabel(f"cap on program cost per customer ({result.scenario.economics.currency})")
    axes[0].set_ylabel("probability of being the best arm")
    axes[0].set_ylim(-0.02, 1.02)
    axes[0].legend(fontsize=8)
    return _figure(fig, "Acceptability: the probability that each arm has the largest "
                        "incremental margin among the arms whose program cost per customer "
                        "is within the cap (the control always qualifies), over plausible "
                        "worlds.")


# ---------------------------------------------------------------------- sensitivity
def _ranked_chart(result: SensitivityResult, arm: str, outputs: list[str]) -> str:
    from loyaltylab.experiments.sensitivity import LUCK

    rows = (len(outputs) + 1) // 2
    fig, grid = plt.subplots(rows, 2, figsize=(14, 3.0 * rows), squeeze=False,
                             layout="constrained")
    axes = list(grid.ravel())
    for ax, output in zip(axes, outputs, strict=False):
        rows = result.ranking(output, arm)
        noise = rows[rows["input"] == LUCK]["estimate"]
        top = rows[rows["input"] != LUCK].head(TOP).iloc[::-1]
        err = np.vstack([top["estimate"] - top["ci_low"], top["ci_high"] - top["estimate"]])
        ax.barh(top["input"], top["estimate"], xerr=np.nan_to_num(err), color="#4c72b0")
        if result.method == "sobol":
            first = result.indices[(result.indices["output"] == output)
                                   & (result.indices["arm"] == arm)
                                   & (result.indices["index"] == "S1")].set_index("input")
            ax.barh(top["input"], first.loc[top["input"], "estimate"], color="#dd8452",
                    height=0.4, label="S1")
        if len(noise):
            ax.axvline(float(noise.iloc[0]), color="#b3261e", linestyle="--",
                       label="luck (Monte Carlo noise)")
        ax.set_title(output, fontsize=10)
        ax.tick_params(axis="y", labelsize=7)
        ax.legend(fontsize=7)
    for ax in axes[len(outputs):]:
        ax.set_visible(False)
    what = ("mu_star: mean absolute change of the output when the input moves across its "
            "range, with its 95% bootstrap interval" if result.method == "morris" else
            "ST (bars): total Sobol index, S1 (narrow bars): first-order index, with 95% "
            "bootstrap intervals")
    return _figure(fig, f"{arm}: the {TOP} assumptions that move each output most ({what}); "
                        "the dashed line is the index of luck, the Monte Carlo noise.")


def sensitivity_page(result: SensitivityResult) -> str:
    """The HTML page of a sensitivity analysis."""
    scenario = result.scenario
    m = result.manifest
    indices = result.indices
    method = ("Morris screening (elementary effects)" if result.method == "morris"
              else "Sobol indices (Saltelli's design)")
    intro = (f"{method} of {len(result.inputs)} assumptions of {html.escape(scenario.name)}: "
             f"{m['points']:,} twin-world experiments of {m['size']:,} customers over "
             f"{scenario.horizon_weeks} weeks, seed {scenario.seed}, {m['run_seconds']:.0f} s. "
             "Every point simulates the same customers with the same luck, so differences "
             "between points are the assumptions' effects; the input <b>luck</b> changes the "
             "luck instead, and its index is the Monte Carlo noise: assumptions ranked "
             "below it move the result less than chance does.")
    body = []
    arms = list(dict.fromkeys(indices["arm"]))
    for arm in arms:
        outputs = [o for o in KEY_OUTPUTS if o in set(indices["output"])]
        outputs += [o for o in dict.fromkeys(indices["output"]) if o.startswith("target: ")]
        body.append(f"<h2>{html.escape(arm)} against {html.escape(scenario.control.name)}</h2>")
        if outputs:
            body.append(_ranked_chart(result, arm, outputs))
        top = result.top_inputs(5)
        body.append(f"<h3>The five assumptions with the largest {result.index}, per "
                    "output</h3>"
                    + _table(top[top["arm"] == arm][["output", "largest", "luck"]]))
    inputs = pd.DataFrame([{"input": i.name, "assumed": i.value, "low": i.low,
                            "high": i.high, "distribution": i.distribution,
                            "unit": i.unit, "source": i.source} for i in result.inputs])
    body.append("<h2>Inputs varied</h2>" + _table(inputs, 4))
    if m.get("left_out"):
        body.append("<p>Outputs left out (missing at some point, or the same everywhere): "
                    + html.escape(", ".join(m["left_out"])) + ".</p>")
    return page(f"loyaltylab sensitivity: {scenario.name}", intro, "".join(body))


def write_sensitivity_report(result: SensitivityResult, path: Path) -> Path:
    """Write the sensitivity page to ``path`` atomically."""
    with plain_text():
        text = sensitivity_page(result)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    plt.close("all")
    return path
