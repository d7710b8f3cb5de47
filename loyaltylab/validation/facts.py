"""Stylized facts as executable checks: the registry, the result table and its statistics.

A *study* is a small simulated experiment designed like a published one (a stamp card
against a worthless twin card on the same customers, a coupon campaign against its
no-coupon twin). It measures one or more *facts*: a number with its Monte Carlo standard
error, compared with the band the literature gives. Studies are registered by name with
:func:`study`; :func:`check_facts` runs them for a population and a behaviour, the way
Gymnasium's environment checker serves new environments.

Standard errors come from the delete-a-group jackknife over customers (Quenouille 1956;
Efron & Stein 1981): customers are split into :data:`GROUPS` groups by row, every
statistic is a smooth function of per-group sums (rates are ratios of sums), and the
spread of the statistic with one group left out gives its error. Customers are
independent given the program (except referral chains, which stay within the referrer's
group), so this is the Monte Carlo error of the study.

A fact *passes* when the whole 95% interval (estimate ± 1.96 SE) lies inside its band,
*fails* when the interval lies wholly outside, and is *uncertain* otherwise: a larger
``size`` decides it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from loyaltylab.agents import PopulationSpec, default_population
from loyaltylab.errors import InputError
from loyaltylab.sim import Behaviour

#: Groups of customers of the jackknife.
GROUPS = 20
#: Two-sided 95% normal quantile.
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Fact:
    """A published effect and the band a simulated study must land in.

    Attributes
    ----------
    id : str
        Code in the project's table of stylized facts (``"GG1"``), with a suffix for a
        second number of the same study (``"GG1-control"``).
    claim : str
        What the model must reproduce, in words.
    measure : str
        What the study measures and in what unit.
    low, high : float
        The band (inclusive); ``-inf`` / ``inf`` for a one-sided fact.
    source : str
        The publication.
    """

    id: str
    claim: str
    measure: str
    low: float
    high: float
    source: str


@dataclass(frozen=True)
class Measurement:
    """A study's estimate of one fact: value, Monte Carlo standard error, details."""

    fact: Fact
    value: float
    se: float
    details: str = ""

    @property
    def status(self) -> str:
        """``pass``, ``fail`` or ``uncertain`` (module docstring)."""
        if not math.isfinite(self.value):
            return "fail"
        lo, hi = self.value - Z95 * self.se, self.value + Z95 * self.se
        if self.fact.low <= lo and hi <= self.fact.high:
            return "pass"
        if hi < self.fact.low or lo > self.fact.high:
            return "fail"
        return "uncertain"


@dataclass(frozen=True)
class StudyContext:
    """What every study receives.

    Attributes
    ----------
    population : PopulationSpec
        The customers under test (segments, shares, behaviours), at the study size.
    seed : int
        Root seed; each study derives its own models' seeds from it.
    """

    population: PopulationSpec
    seed: int

    @property
    def size(self) -> int:
        """Customers in a study population."""
        return self.population.size

    def mean_order(self) -> float:
        """Mean order value over the population's segments, weighted by their shares."""
        spec = self.population
        return float(sum(share * s.gamma_gamma.mean_order
                         for s, share in zip(spec.segments, spec.shares, strict=True)))


@dataclass(frozen=True)
class Study:
    """A registered study: its name, the facts it measures and the function that runs it."""

    name: str
    facts: tuple[Fact, ...]
    run: Callable[[StudyContext], list[Measurement]]


_STUDIES: dict[str, Study] = {}


def study(name: str, facts: Sequence[Fact]) -> Callable[
        [Callable[[StudyContext], list[Measurement]]],
        Callable[[StudyContext], list[Measurement]]]:
    """Register a study function under ``name`` (decorator); its module docstring says
    how the study is designed."""

    def add(run: Callable[[StudyContext], list[Measurement]]) -> Callable[
            [StudyContext], list[Measurement]]:
        if name in _STUDIES:
            raise ValueError(f"study {name!r} is registered already")
        _STUDIES[name] = Study(name, tuple(facts), run)
        return run

    return add


def studies() -> dict[str, Study]:
    """The registered studies by name, in registration order."""
    return dict(_STUDIES)


def facts() -> list[Fact]:
    """Every fact of every registered study."""
    return [f for s in _STUDIES.values() for f in s.facts]


# ---------------------------------------------------------------------- statistics
def group_of(rows: Any, groups: int = GROUPS) -> Any:
    """Jackknife group of each customer row."""
    return np.asarray(rows) % groups


def group_sums(groups: Any, values: Any) -> np.ndarray:
    """Per-group sums of ``values`` (one per customer) for :data:`GROUPS` groups."""
    return np.bincount(np.asarray(groups), weights=np.asarray(values, dtype=float),
                       minlength=GROUPS).astype(float)


def jackknife(statistic: Callable[[np.ndarray], float], sums: np.ndarray) -> tuple[float, float]:
    """Estimate and delete-a-group jackknife standard error of ``statistic(total)``.

    Parameters
    ----------
    statistic : callable
        Maps a vector of totals (one per summed quantity) to the statistic.
    sums : array of shape (groups, k)
        Per-group sums of the ``k`` quantities.

    Examples
    --------
    >>> sums = np.array([[1.0, 2.0], [2.0, 2.0], [3.0, 2.0], [2.0, 2.0]])
    >>> est, se = jackknife(lambda t: t[0] / t[1], sums)
    >>> round(est, 3), round(se, 3)
    (1.0, 0.204)
    """
    sums = np.asarray(sums, dtype=float)
    total = sums.sum(axis=0)
    g = sums.shape[0]
    leave_out = np.array([statistic(total - sums[i]) for i in range(g)])
    estimate = float(statistic(total))
    if not np.all(np.isfinite(leave_out)):
        return estimate, math.inf
    se = math.sqrt((g - 1) / g * float(((leave_out - leave_out.mean()) ** 2).sum()))
    return estimate, se


# ---------------------------------------------------------------------- running
def check_facts(
    behaviour: Behaviour | None = None,
    population: PopulationSpec | None = None,
    size: int = 20_000,
    seed: int = 0,
    only: Iterable[str] | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> pd.DataFrame:
    """Run the stylized-facts studies and return one row per fact.

    Parameters
    ----------
    behaviour : Behaviour, optional
        The behaviour under test for every segment without its own (default: the
        population's, else :class:`loyaltylab.agents.CustomerBehaviour` at defaults).
    population : PopulationSpec, optional
        Segments and shares of the customers (default: the strategy's four segments);
        its size is replaced by ``size``.
    size : int
        Customers per study population. The Monte Carlo error shrinks as
        ``1 / sqrt(size)``.
    seed : int
        Root seed of every study.
    only : iterable of str, optional
        Names of the studies to run (see :func:`studies`); default all.
    progress : callable, optional
        Called with each study's name and its run time in seconds, after it ran.

    Returns
    -------
    pandas.DataFrame
        Columns ``fact, claim, measure, value, se, ci_low, ci_high, low, high, status,
        study, details, source``.

    Examples
    --------
    >>> table = check_facts(size=2_000, only=["breakage"])
    >>> table["fact"].tolist()
    ['B2', 'B2-value']
    """
    if size < 1:
        raise InputError(f"size: must be >= 1, got {size}")
    spec = population if population is not None else default_population(size)
    spec = spec.with_size(size)
    if behaviour is not None:
        spec = spec.with_behaviour(behaviour)
    chosen = list(_STUDIES) if only is None else list(only)
    unknown = [n for n in chosen if n not in _STUDIES]
    if unknown:
        raise InputError(f"only: unknown study {unknown[0]!r}; studies are {list(_STUDIES)}")
    context = StudyContext(spec, seed)
    rows = []
    for name in chosen:
        start = time.perf_counter()
        for m in _STUDIES[name].run(context):
            rows.append({
                "fact": m.fact.id, "claim": m.fact.claim, "measure": m.fact.measure,
                "value": m.value, "se": m.se,
                "ci_low": m.value - Z95 * m.se, "ci_high": m.value + Z95 * m.se,
                "low": m.fact.low, "high": m.fact.high, "status": m.status,
                "study": name, "details": m.details, "source": m.fact.source,
            })
        if progress is not None:
            progress(name, time.perf_counter() - start)
    return pd.DataFrame(rows, columns=[
        "fact", "claim", "measure", "value", "se", "ci_low", "ci_high", "low", "high",
        "status", "study", "details", "source"])


@dataclass
class Totals:
    """Per-group sums of named quantities, filled during a study (see :func:`jackknife`)."""

    sums: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, name: str, groups: Any, values: Any) -> None:
        """Add per-customer ``values`` of customers in ``groups`` to quantity ``name``."""
        s = group_sums(groups, values)
        if name in self.sums:
            self.sums[name] += s
        else:
            self.sums[name] = s

    def get(self, name: str) -> np.ndarray:
        """The per-group sums of ``name`` (zeros if nothing was added)."""
        return self.sums.get(name, np.zeros(GROUPS))

    def estimate(self, names: Sequence[str],
                 statistic: Callable[[np.ndarray], float]) -> tuple[float, float]:
        """Jackknife of ``statistic`` over the totals of ``names`` (in that order)."""
        return jackknife(statistic, np.column_stack([self.get(n) for n in names]))
