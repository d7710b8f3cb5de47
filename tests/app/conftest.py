"""Small runs the workbench's tests read, in one results folder."""

import pytest

from loyaltylab.experiments import run, validate_scenario


def small(name, arms, **extra):
    """A quick twin-world scenario: 400 customers, 8 weeks, 2 replications."""
    return validate_scenario({"name": name, "population": {"size": 400}, "horizon_weeks": 8,
                              "replications": 2, "seed": 5, "arms": arms, **extra})


@pytest.fixture(scope="session")
def runs(tmp_path_factory):
    """The folder the runs below are written to (a workbench's ``--results``)."""
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="session")
def strategy_run(runs):
    """The full strategy against no program: every chart applies."""
    return run(small("strategy", [{"name": "no program", "control": True},
                                  {"name": "full strategy", "design": "full_strategy"}]),
               out=runs / "strategy", facts=False)


@pytest.fixture(scope="session")
def sweep_run(runs):
    """A sweep of a point's value."""
    return run(small("sweep", [{"name": "none", "control": True},
                               {"name": "points", "policies": [{"type": "points"}]}],
                     sweep=[{"arm": "points", "grid": {"value_per_point": [0.05, 0.1]}}]),
               out=runs / "sweep", facts=False)
