"""``check_policy``: what every policy, built-in or third-party, must respect."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from loyaltylab.agents import default_population
from loyaltylab.sim import LoyaltyModel, Policy, to_numpy
from loyaltylab.sim.model import CustomerSource


class PolicyCheckError(AssertionError):
    """A policy broke a rule of the engine; the message names the rule and the week."""


def check_policy(
    policy: Policy,
    *,
    population: CustomerSource | None = None,
    companions: Sequence[Policy] = (),
    weeks: int = 30,
    seed: int = 7,
) -> None:
    """Run ``policy`` on a small population and check the engine's rules every week.

    Rules:

    - determinism: two runs with the same seed give identical weekly series and state;
    - the points ledger balances exactly (earned = redeemed + expired + outstanding,
      customer by customer, no negative balance);
    - program costs are never negative and discounts never exceed the order value;
    - the population only grows and customers keep their rows;
    - the policy's parameters survive a clone (``get_params``).

    Parameters
    ----------
    policy : Policy
        The policy to check.
    population : CustomerSource, optional
        Customers to run it on (default: 3000 customers of the default mix).
    companions : sequence of Policy
        Policies it needs alongside (e.g. a tiers policy for tier-targeted coupons).
    weeks, seed : int
        Length and seed of the runs.

    Raises
    ------
    PolicyCheckError
        The first rule broken.
    """
    population = population if population is not None else default_population(3000)
    if policy.clone().get_params() != policy.get_params():
        raise PolicyCheckError(f"{policy!r}: clone() does not keep the parameters")
    runs = []
    for _ in range(2):
        model = LoyaltyModel(population, policies=[*companions, policy], seed=seed)
        last_n = model.population.n
        for week in range(1, weeks + 1):
            model.step()
            _check_week(model, week, last_n)
            last_n = model.population.n
        runs.append(model)
    a, b = runs
    try:
        pd.testing.assert_frame_equal(a.weekly, b.weekly)
        for column in a.population.columns:
            np.testing.assert_array_equal(to_numpy(a.population[column]),
                                          to_numpy(b.population[column]))
    except AssertionError as exc:
        raise PolicyCheckError(f"{policy!r}: not deterministic for a seed: {exc}") from None


def _check_week(model: LoyaltyModel, week: int, last_n: int) -> None:
    try:
        model.points.check_balance()
    except AssertionError as exc:
        raise PolicyCheckError(f"week {week}: {exc}") from None
    row = model.weekly.iloc[-1]
    for name in model.ledger.components:
        if row[f"cost_{name}"] < 0:
            raise PolicyCheckError(f"week {week}: negative program cost {name}")
    if row["discounts"] > row["gross_revenue"] + 1e-6:
        raise PolicyCheckError(f"week {week}: discounts exceed the order value")
    if model.population.n < last_n:
        raise PolicyCheckError(f"week {week}: customers were removed")
    cost = model.population["program_cost"]
    if cost.shape[0] and float(cost.min()) < 0:
        raise PolicyCheckError(f"week {week}: a customer has negative program cost")
