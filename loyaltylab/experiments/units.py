"""Units of work of the experiment runner: what a worker receives and sends back.

A unit's luck depends on the scenario's seed and the unit's own indices alone, so units
can run in any order, on any executor, be checkpointed and resumed, and the results are
bit-identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyaltylab.experiments.scenario import Scenario


@dataclass(frozen=True)
class Task:
    """One replication of a scenario (what a worker receives)."""

    scenario: Scenario
    replication: int
    size: int
    keep_customers: bool
    backend: str = "numpy"


@dataclass(frozen=True)
class FactsTask:
    """The stylized-facts check of a scenario's population and behaviour (a unit of
    work run beside the replications)."""

    scenario: Scenario


@dataclass(frozen=True)
class SampleTask:
    """A block of points of a design (sensitivity samples, or one uncertainty draw): the
    scenario with some inputs set at each point, one replication each, metrics only.

    Attributes
    ----------
    key : str
        Name of the block in a checkpoint.
    scenario : Scenario
        The scenario whose inputs the points set.
    points : tuple of dict
        Input values of each point (``{name: value}``).
    replications : tuple of int
        Replication (luck) of each point.
    first : int
        Index of the block's first point in the design.
    size : int
        Customers.
    backend : str
        The engine's array library.
    metrics : tuple of str, optional
        Registered metrics to compute (default: all).
    """

    key: str
    scenario: Scenario
    points: tuple[dict[str, float], ...]
    replications: tuple[int, ...]
    first: int
    size: int
    backend: str = "numpy"
    metrics: tuple[str, ...] | None = None


@dataclass
class SampleResult:
    """Metrics of a block's points: columns point, replication, arm, metric, value."""

    key: str
    values: pd.DataFrame


@dataclass
class ReplicationResult:
    """What a worker sends back for one replication."""

    replication: int
    values: pd.DataFrame
    weekly: pd.DataFrame
    customers: pd.DataFrame | None
    trials: pd.DataFrame | None


def replication_seed(seed: int, replication: int) -> np.random.SeedSequence:
    """Seed of a replication: depends on the scenario's seed and the index only."""
    return np.random.SeedSequence(seed, spawn_key=(replication,))
