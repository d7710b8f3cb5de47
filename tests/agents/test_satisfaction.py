"""Latent satisfaction and the NPS survey."""

import numpy as np
import pytest

from loyaltylab.agents import default_population
from loyaltylab.agents.satisfaction import (
    SatisfactionCoefficients,
    net_promoter_score,
    satisfaction_of,
)
from loyaltylab.policies import full_strategy
from loyaltylab.sim import LoyaltyModel


def survey(model):
    active = np.nonzero(model.population["last_purchase"] > model.week - 26)[0]
    return satisfaction_of(model).survey(model, active)


def test_without_a_program_there_is_no_goodwill_and_answers_repeat():
    model = LoyaltyModel(default_population(5000), seed=2)
    model.run(20)
    assert not model.population["goodwill"].any()
    answers = survey(model)
    assert answers.dtype == np.int8 and answers.min() >= 0 and answers.max() <= 10
    assert (answers == survey(model)).all()


def test_net_promoter_score_by_hand():
    assert net_promoter_score(np.array([10, 9, 9, 7, 3])) == pytest.approx(40.0)
    assert np.isnan(net_promoter_score(np.array([], dtype=np.int8)))


def test_the_full_strategy_raises_nps():
    """Goodwill from rewards, status and service lifts NPS well beyond sampling error."""
    spec = default_population(20_000)
    scores = []
    for policies in ((), full_strategy()):
        model = LoyaltyModel(spec, policies, seed=5)
        model.run(26)
        answers = survey(model)
        points = np.where(answers >= 9, 100.0, np.where(answers <= 6, -100.0, 0.0))
        scores.append((points.mean(), points.std(ddof=1) / np.sqrt(len(points))))
    (control, se0), (program, se1) = scores
    assert (program - control) / np.hypot(se0, se1) > 4


@pytest.mark.parametrize(("field", "value"), [("learning_rate", 0.0), ("memory_weeks", 0.0),
                                              ("value", -1.0)])
def test_bad_coefficients_are_named(field, value):
    with pytest.raises(ValueError, match=field):
        SatisfactionCoefficients(**{field: value})


def test_describe_lists_every_coefficient_with_a_source():
    table = SatisfactionCoefficients.describe()
    assert len(table) == 8 and table["source"].str.len().min() > 0
