"""The worked example of extending behaviour without touching the engine: a streak bonus.

A new incentive is one policy (it publishes what customers see under a name of its own)
plus one response term (how customers respond to it). Neither ``sim/`` nor the default
behaviour's code learns the name "streak"; the fast purchase draw stays exact because
the term declares its bound.
"""

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import Field

from loyaltylab.agents import Coefficients, CustomerBehaviour, coef, default_population
from loyaltylab.agents.terms import ResponseTerm, default_terms
from loyaltylab.policies import ParamPolicy, PointsPolicy, check_policy
from loyaltylab.sim import LoyaltyModel


@dataclass
class StreakOffer:
    """What a member of the streak program sees: weeks bought in a row, and the goal."""

    streak: Any
    weeks: int


class StreakBonus(ParamPolicy):
    """Buy in ``weeks`` consecutive weeks and get ``bonus_points`` (on the points ledger)."""

    name: ClassVar[str] = "streak_bonus"
    order: ClassVar[int] = 35  # after points, so the bonus joins the week's earnings

    weeks: int = Field(4, ge=2, le=255)
    bonus_points: int = Field(500, ge=1)

    def setup(self, model: LoyaltyModel) -> None:
        if not model.find_policies(PointsPolicy):
            raise ValueError("bonus_points: a streak bonus needs a points policy")
        model.population.ensure_column("streak", np.uint8, 0)

    def make_offers(self, model, offers, week):
        offers.publish("streak", StreakOffer(model.population["streak"], self.weeks))

    def end_of_week(self, model, week):
        pop = model.population
        bought = pop["last_purchase"] == week
        streak = np.where(bought, pop["streak"] + 1, 0).astype(np.uint8)
        done = np.nonzero(streak >= self.weeks)[0]
        model.points.earn(done, self.bonus_points)
        streak[done] = 0
        pop["streak"] = streak


@dataclass(frozen=True)
class StreakCoefficients(Coefficients):
    pull: float = coef(0.3, 0.1, 0.5, "log-lift one purchase from completing a streak",
                       "worked example; U")


class StreakTerm(ResponseTerm):
    """Members buy more as their streak nears its goal (a goal gradient in weeks)."""

    name = "streak"
    coefficients_class = StreakCoefficients

    def upper_bound(self, model, offers, week):
        return 0.0 if offers.get("streak") is None else self.coefficients.pull

    def log_lift(self, model, rows, offers, week):
        seen = offers.get("streak")
        if seen is None:
            return None
        progress = seen.streak[rows].astype(np.float32) / np.float32(seen.weeks - 1)
        return np.minimum(progress, 1.0) * np.float32(self.coefficients.pull)


def with_streaks() -> CustomerBehaviour:
    return CustomerBehaviour(terms=[*default_terms(), StreakTerm()])


DESIGN = [PointsPolicy(), StreakBonus()]


def test_a_new_term_and_policy_run_without_touching_the_engine():
    plain = default_population(20_000)
    streaky = plain.with_behaviour(with_streaks())
    without = LoyaltyModel(plain, policies=DESIGN, seed=9)
    with_term = LoyaltyModel(streaky, policies=DESIGN, seed=9)
    without.run(26)
    with_term.run(26)
    d = (with_term.population["purchases"].astype(float)
         - without.population["purchases"].astype(float))
    assert d.mean() / (d.std(ddof=1) / np.sqrt(d.size)) > 4  # paired: the streak lifts
    assert with_term.weekly["points_earned"].sum() > 0
    assert "streak" in with_term.behaviours[0].describe()["term"].tolist()


def test_the_fast_draw_stays_exact_with_the_new_term():
    class Dense(CustomerBehaviour):
        def purchase_rate(self, model, rows, offers, week):
            return super().purchase_rate(model, rows, offers, week)

    terms = [*default_terms(), StreakTerm()]
    spec = default_population(10_000).with_behaviour(CustomerBehaviour(terms=terms))
    thinned = LoyaltyModel(spec, policies=DESIGN, seed=2)
    dense = LoyaltyModel(spec.with_behaviour(Dense(terms=[*default_terms(), StreakTerm()])),
                         policies=DESIGN, seed=2)
    thinned.run(12)
    dense.run(12)
    pd.testing.assert_frame_equal(thinned.weekly, dense.weekly)


def test_the_new_policy_passes_the_policy_checker():
    check_policy(StreakBonus(), companions=[PointsPolicy()], weeks=10)
