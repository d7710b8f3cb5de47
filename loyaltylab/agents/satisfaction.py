"""Latent satisfaction and the NPS survey.

Each customer has a latent satisfaction on the 0-10 scale of the "how likely are you to
recommend us" question:

.. math::

    S_i(t) = \\mu_{s(i)} + \\sigma_u u_i + G_i(t)

with the segment's mean :math:`\\mu_s` (``Segment.satisfaction_mean``), a persistent
individual offset :math:`u_i \\sim N(0, 1)` and the program's *goodwill* :math:`G_i`.
Every purchase is an experience worth

.. math::

    x = \\beta_v \\frac{\\text{discount}}{\\text{order}} + \\beta_s \\sigma
        - \\beta_s w_d \\ell - \\beta_f \\log d^{\\text{service}}

(money off, tier status :math:`\\sigma`, the remembered loss of status
:math:`\\ell` (:class:`loyaltylab.agents.terms.Status`), service benefits through their
dropout factor), and moves goodwill part of the way
towards it, :math:`G \\leftarrow G + \\ell (x - G)`; between purchases goodwill fades
with a half-life of ``memory_weeks``. Customers without a program have no goodwill, so
the model is neutral when nothing is offered.

The survey asks every customer who is active (purchased in the last 26 weeks); the
answer is :math:`\\mathrm{round}(S_i + \\sigma_e e_i)` clipped to 0-10, with fresh
noise :math:`e_i`. Promoters answer 9-10, detractors 0-6, and
NPS = 100 x (promoters - detractors) / respondents (Reichheld 2003). Satisfaction does
not feed back into purchases or dropout: it is an outcome to report, not a driver.

Only buyers are updated (sparse); the fading is applied lazily from the week of the
last update.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loyaltylab.agents.coefficients import Coefficients, coef
from loyaltylab.sim.variates import standard_normal

if TYPE_CHECKING:
    from loyaltylab.sim import LoyaltyModel, Offers, Sale


@dataclass(frozen=True)
class SatisfactionCoefficients(Coefficients):
    """Coefficients of the latent satisfaction model (see module docstring)."""

    learning_rate: float = coef(
        0.3, 0.1, 0.5, "share of the gap to a purchase's experience closed by it",
        "adaptive expectations; U",
        positive=True, at_most=1.0,
    )
    memory_weeks: float = coef(
        26.0, 13.0, 52.0, "weeks (half-life of goodwill without purchases)",
        "LP3: Meyer-Waarden 2007, program effects erode over 6-9 months; U",
        positive=True,
    )
    value: float = coef(
        3.0, 1.0, 6.0, "points per unit of discount / order value",
        "a 10% saving is worth 0.3 points on the 0-10 scale; U",
    )
    status: float = coef(
        0.5, 0.2, 1.0, "points at top tier status",
        "T2: Tanford 2013, elite members prefer their brand most; U",
    )
    demotion_loss_weight: float = coef(
        2.0, 1.5, 2.5, "loss per unit of status lost / gain per unit held",
        "T4: Wagner, Hennig-Thurau & Rudolph 2009 JM 73(3); U",
    )
    service: float = coef(
        2.0, 1.0, 4.0, "points per unit of -log(service dropout factor)",
        "a dedicated manager (factor 0.85) is worth about a third of a point; U",
    )
    individual_sd: float = coef(
        1.2, 0.8, 1.6, "points (sd of the persistent individual offset)",
        "spread of 0-10 answers in retail NPS surveys; U",
    )
    response_sd: float = coef(
        0.8, 0.4, 1.2, "points (sd of answer noise)",
        "test-retest noise of single-item scales; U",
    )


class Satisfaction:
    """Latent satisfaction of the customers: goodwill updates and the NPS survey.

    Parameters
    ----------
    coefficients : SatisfactionCoefficients, optional
        Defaults from :class:`SatisfactionCoefficients`.
    """

    def __init__(self, coefficients: SatisfactionCoefficients | None = None) -> None:
        self.coefficients = coefficients or SatisfactionCoefficients()

    def setup(self, model: LoyaltyModel) -> None:
        """Add the goodwill columns."""
        pop = model.population
        pop.ensure_column("goodwill", model.xp.float32, 0.0)
        pop.ensure_column("goodwill_week", model.xp.int16, 0)

    def _faded(self, model: LoyaltyModel, rows: Any, week: int) -> Any:
        pop = model.population
        fade = (week - pop["goodwill_week"][rows]).astype(model.xp.float32)
        fade /= -self.coefficients.memory_weeks
        model.xp.exp2(fade, out=fade)
        fade *= pop["goodwill"][rows]
        return fade

    def experience(self, model: LoyaltyModel, sale: Sale, offers: Offers,
                   status_loss: Any = 0.0) -> Any:
        """Worth of each buyer's purchase experience, in satisfaction points
        (``status_loss``: each buyer's remembered loss of tier status)."""
        xp = model.xp
        c = self.coefficients
        rows = sale.rows
        x = sale.discount / xp.maximum(sale.gross, 1e-9)
        xp.minimum(x, 1.0, out=x)  # the share of the order paid by the program
        x *= c.value
        if offers.status is not None:
            x += c.status * (offers.status[rows] - c.demotion_loss_weight * status_loss)
        if offers.dropout_multiplier is not None:
            x -= c.service * xp.log(offers.dropout_multiplier[rows])
        return x

    def update(self, model: LoyaltyModel, sale: Sale, offers: Offers, week: int,
               status_loss: Any = 0.0) -> None:
        """Move the buyers' goodwill towards the worth of this week's experience
        (``status_loss``: the buyers' remembered loss of tier status)."""
        if len(sale) == 0 or not model.policies:
            return  # without a program every experience is worth 0 and goodwill stays 0
        pop = model.population
        rows = sale.rows
        goodwill = self._faded(model, rows, week)
        step = self.experience(model, sale, offers, status_loss)
        step -= goodwill
        step *= self.coefficients.learning_rate
        goodwill += step  # float32, as the column
        pop["goodwill"][rows] = goodwill
        pop["goodwill_week"][rows] = week

    def latent(self, model: LoyaltyModel, rows: Any) -> Any:
        """Latent satisfaction of ``rows`` now (0-10 scale, unclipped)."""
        pop = model.population
        mean = model.segment_params["satisfaction_mean"][pop["segment"][rows]]
        offset = standard_normal(model.streams, "satisfaction", 0, rows, 0)
        return mean + self.coefficients.individual_sd * offset + self._faded(
            model, rows, model.week)

    def survey(self, model: LoyaltyModel, rows: Any) -> Any:
        """Answers (int8, 0-10) of ``rows`` to the recommendation question this week."""
        xp = model.xp
        noise = standard_normal(model.streams, "satisfaction", model.week, rows, 2)
        answer = xp.rint(self.latent(model, rows) + self.coefficients.response_sd * noise)
        return xp.clip(answer, 0, 10).astype(xp.int8)


def net_promoter_score(answers: Any) -> float:
    """NPS of 0-10 answers: % promoters (9-10) minus % detractors (0-6); NaN if none.

    >>> import numpy as np
    >>> net_promoter_score(np.array([10, 9, 8, 7, 6]))
    20.0
    """
    n = len(answers)
    if n == 0:
        return float("nan")
    return 100.0 * (float((answers >= 9).sum()) - float((answers <= 6).sum())) / n


def satisfaction_of(model: LoyaltyModel) -> Satisfaction | None:
    """The model's satisfaction model (its first behaviour's that keeps one), or None."""
    return next((b.satisfaction for b in model.behaviours
                 if isinstance(getattr(b, "satisfaction", None), Satisfaction)), None)
