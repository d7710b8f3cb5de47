"""Verdicts over plausible worlds: the experiment rerun on coefficient sets drawn from
the uncertain inputs' ranges (probabilistic sensitivity analysis).

A run with ``draws = N`` draws N points of the uncertain inputs by Latin hypercube
(scipy's :class:`~scipy.stats.qmc.LatinHypercube`, seeded from the scenario's seed)
through each input's distribution (:mod:`loyaltylab.experiments.inputs`), and runs
every arm at each point with its own luck (replications that the main experiment does
not share, so the spread over the draws is parameter uncertainty plus Monte Carlo
error). The arms of one draw share customers and luck, so each draw is a twin-world
comparison in a world where the assumptions are those drawn.

From the draws:

- per arm and metric, the interval over the draws (2.5th to 97.5th percentile) of the
  estimate and of the effect against the control (``plausible_low``,
  ``plausible_high``, ``effect_plausible_low``, ``effect_plausible_high`` in
  summary.csv), and ``prob_effect_positive``, the share of draws with a positive effect
  (for ROI: the probability that the program pays);
- per target, ``met_share``: the share of plausible worlds where the arm meets it;
- the probability that each arm is the best, by incremental margin among the arms whose
  program cost per customer is within a cap, over a range of caps (an acceptability
  curve, as in health economics' cost-effectiveness acceptability curves).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import qmc

from loyaltylab.experiments.inputs import draw_values
from loyaltylab.experiments.metrics import own_effect
from loyaltylab.experiments.scenario import Scenario
from loyaltylab.experiments.stats import twin_summary
from loyaltylab.experiments.targets import target_table
from loyaltylab.experiments.units import SampleTask

#: Tag of the draws' random stream (the design, not the customers' luck).
_STREAM = 0x756E63
#: Replication indices of the draws start here, apart from the main experiment's.
DRAW_REPLICATIONS = 1_000_000
#: Percentiles of the interval over the draws.
PLAUSIBLE = (2.5, 97.5)


def draw_points(scenario: Scenario, draws: int) -> tuple[list[str], np.ndarray]:
    """Names of the uncertain inputs, and a Latin-hypercube sample of ``draws`` points
    of the unit hypercube (one row per draw, one column per input)."""
    inputs = scenario.uncertain()
    seed = np.random.SeedSequence(scenario.seed, spawn_key=(_STREAM,))
    sampler = qmc.LatinHypercube(d=len(inputs), rng=np.random.default_rng(seed))
    return [i.name for i in inputs], sampler.random(draws)


def draw_tasks(scenario: Scenario, draws: int, size: int, backend: str) -> list[SampleTask]:
    """One unit of work per draw: its input values, ``replications_per_draw`` times."""
    if draws == 0:
        return []
    inputs = scenario.uncertain()
    _, unit = draw_points(scenario, draws)
    per = scenario.uncertainty.replications_per_draw
    return [SampleTask(key=f"draw-{d:05d}", scenario=scenario, points=(point,) * per,
                       replications=tuple(DRAW_REPLICATIONS + d * per + j for j in range(per)),
                       first=d * per, size=size, backend=backend)
            for d, point in enumerate(draw_values(inputs, unit))]


def _draw_values(blocks: Sequence[pd.DataFrame]) -> list[pd.DataFrame]:
    """Each draw's metric values (columns replication, arm, metric, value)."""
    return [block.drop(columns="point") for block in blocks]


def _change(table: pd.DataFrame) -> pd.Series:
    """Each row's effect against the control; the value itself where that is the effect
    (:func:`~loyaltylab.experiments.metrics.own_effect`)."""
    only = table["metric"].map(own_effect)
    return table["effect_vs_control"].where(~only, table["estimate"])


def summarise_draws(scenario: Scenario, blocks: Sequence[pd.DataFrame],
                    relative: Sequence[str]) -> pd.DataFrame:
    """Per draw, arm and metric, the draw's estimate and effect.

    Returns
    -------
    DataFrame
        Columns draw, arm, metric, estimate, effect (the effect against the control,
        or the value of a metric that is its own effect).
    """
    control = scenario.control.name
    tables = []
    for d, values in enumerate(_draw_values(blocks)):
        table = twin_summary(values, control, relative)
        tables.append(pd.DataFrame({"draw": d, "arm": table["arm"], "metric": table["metric"],
                                    "estimate": table["estimate"],
                                    "effect": _change(table)}))
    return pd.concat(tables, ignore_index=True)


def plausible(summary: pd.DataFrame, draws: pd.DataFrame) -> pd.DataFrame:
    """The summary with the intervals over the draws and the probability of a positive
    effect, per arm and metric."""
    grouped = draws.groupby(["arm", "metric"], sort=False)
    low, high = PLAUSIBLE
    table = pd.DataFrame({
        "plausible_low": grouped["estimate"].quantile(low / 100),
        "plausible_high": grouped["estimate"].quantile(high / 100),
        "effect_plausible_low": grouped["effect"].quantile(low / 100),
        "effect_plausible_high": grouped["effect"].quantile(high / 100),
        "prob_effect_positive": grouped["effect"].apply(
            lambda x: float((x.dropna() > 0).mean()) if x.notna().any() else np.nan),
    })
    return summary.join(table, on=["arm", "metric"])


def targets_over_draws(targets: pd.DataFrame, scenario: Scenario,
                       blocks: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The targets table with ``met_share`` (share of draws where the arm's change is
    past the threshold) and the change's interval over the draws."""
    control = scenario.control.name
    rows = [target_table(values, control, scenario.targets)
            for values in _draw_values(blocks)]
    table = pd.concat(rows, ignore_index=True)
    threshold = table["threshold"]
    met = np.where(table["direction"] == ">=", table["estimate"] >= threshold,
                   table["estimate"] <= threshold)
    table = table.assign(met=np.where(table["estimate"].notna(), met, np.nan))
    grouped = table.groupby(["arm", "target"], sort=False)
    low, high = PLAUSIBLE
    extra = pd.DataFrame({
        "met_share": grouped["met"].mean(),
        "plausible_low": grouped["estimate"].quantile(low / 100),
        "plausible_high": grouped["estimate"].quantile(high / 100),
    })
    return targets.join(extra, on=["arm", "target"])


def acceptability(draws: pd.DataFrame, control: str, caps: Sequence[float]) -> pd.DataFrame:
    """Probability that each arm is the best design, by cost cap.

    In each draw the best arm is the one with the largest incremental margin among
    those whose program cost per customer is at most the cap; the control (no
    incremental margin, at its own cost) is always allowed.

    Returns
    -------
    DataFrame
        Columns cap, then one column per arm: the share of draws where it is best.
    """
    wide = draws[draws["metric"].isin(["incremental_margin", "program_cost"])].pivot_table(
        index="draw", columns=["metric", "arm"], values="estimate", sort=False)
    arms = [a for a in dict.fromkeys(draws["arm"]) if a != control]
    margin = np.column_stack([np.zeros(len(wide)),
                              *[wide[("incremental_margin", a)].to_numpy() for a in arms]])
    cost = np.column_stack([np.zeros(len(wide)),
                            *[wide[("program_cost", a)].to_numpy() for a in arms]])
    rows = []
    for cap in caps:
        allowed = np.where(cost <= cap, margin, -np.inf)
        allowed[:, 0] = 0.0
        best = np.argmax(np.nan_to_num(allowed, nan=-np.inf), axis=1)
        shares = np.bincount(best, minlength=len(arms) + 1) / len(best)
        rows.append({"cap": float(cap), control: shares[0],
                     **{a: shares[k + 1] for k, a in enumerate(arms)}})
    return pd.DataFrame(rows)
