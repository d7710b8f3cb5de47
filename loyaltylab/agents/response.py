"""How customers respond to incentives: coefficients with defaults, ranges and sources.

The incentive multiplier of customer *i* in week *t* scales the BG/NBD purchase rate,

.. math::

    m_{it} = \\exp\\Big(s_i \\big[\\log(1 + g\\,\\pi_{it}) + \\epsilon\\,\\rho_{it}
             + \\beta_s \\sigma_{it} - w\\,\\beta_s (\\hat\\sigma_{it} - \\sigma_{it})
             + \\beta_c c_{it} + \\beta_r r_{it} + \\log(1-\\kappa) z_{it}
             + \\beta_n e^{-(t - t^0_i)/\\tau}\\big]\\Big)

with incentive sensitivity :math:`s_i` (deal-prone customers 1, others lower), goal
progress :math:`\\pi`, rebate share :math:`\\rho`, tier status :math:`\\sigma` and its
peak :math:`\\hat\\sigma`, usable coupon value relative to the usual order :math:`c`,
reminder :math:`r`, post-reward flag :math:`z` and weeks since enrolment
:math:`t - t^0_i`. The dropout probability after a purchase is multiplied by

.. math::

    d_{it} = \\exp\\Big(s_i \\big[-\\gamma_s \\sigma_{it}
             + w\\,\\gamma_s(\\hat\\sigma_{it} - \\sigma_{it})
             + \\log(1 + \\zeta z_{it})\\big]\\Big) \\times \\text{service factor}.

Codes in the sources (GG1, T4, ...) are the rows of the project's table of stylized
facts; "U" marks a value that is a judgement, not a published estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

from loyaltylab.agents.coefficients import Coefficients, coef


@dataclass(frozen=True)
class ResponseCoefficients(Coefficients):
    """Coefficients of the incentive response terms (see module docstring).

    Every field has a default, a plausible range and a source; ``describe()`` lists them.
    Values outside the plausible range are allowed (for sensitivity analysis) but must
    respect the hard bounds checked at construction.
    """

    goal_gradient: float = coef(
        0.25, 0.15, 0.35, "rate x (1 + g x progress)",
        "GG1: Kivetz, Urminsky & Zheng 2006 JMR 43:39-58, Study 1 (inter-purchase time "
        "falls ~20% from first to last stamp)",
    )
    rebate_elasticity: float = coef(
        1.0, 0.5, 2.6, "log-lift per unit of rebate share",
        "P1: Bijmolt, van Heerde & Pieters 2005 JMR 42(2), mean price elasticity -2.62 "
        "(upper bound: a deferred reward is less salient than a price cut; U)",
    )
    status_lift: float = coef(
        0.15, 0.05, 0.39, "log-lift at top status",
        "T2: Tanford 2013 IJHM, share of nights 53% base vs 78% elite, log(78/53) = 0.39 "
        "includes self-selection, so the causal default is lower (U)",
    )
    status_dropout: float = coef(
        0.30, 0.10, 0.50, "log-reduction of dropout at top status",
        "T1/T2: switching cost rises with status (Orhun, Guo & Hagemann); size U",
    )
    demotion_loss_weight: float = coef(
        2.0, 1.5, 2.5, "loss per unit of status lost / gain per unit held",
        "T4: Wagner, Hennig-Thurau & Rudolph 2009 JM 73(3), demoted end below "
        "never-promoted; weight ~2x (U)",
    )
    coupon_lift: float = coef(
        0.5, 0.2, 1.0, "log-lift per unit of coupon value / usual order",
        "C3/C4: Milkman & Beshears 2009 (incremental spend 16% of face value); "
        "Venkatesan & Farris 2012 JM (exposure lift); size U",
    )
    reminder_lift: float = coef(
        0.05, 0.0, 0.15, "log-lift in a reminder week",
        "C4: Venkatesan & Farris 2012 JM, ~60% of lift among non-redeemers (U)",
    )
    post_reward_reset: float = coef(
        0.20, 0.10, 0.30, "share of rate lost until the next purchase",
        "GG3/GG4: Kivetz et al. 2006; Nunes & Dreze 2010 (hazard -10..30% for 1-2 "
        "intervals, U)",
    )
    post_reward_dropout: float = coef(
        0.20, 0.0, 0.50, "relative rise of dropout until the next purchase",
        "GG3: churn risk highest right after redemption (qualitative; size U)",
    )
    novelty_lift: float = coef(
        0.10, 0.0, 0.30, "log-lift in the week of enrolment",
        "LP7/LP3: Lin 2020 (launch spike); Meyer-Waarden 2007 J Retailing 83(2) (lift "
        "erodes by month 6-9); size U",
    )
    novelty_weeks: float = coef(
        13.0, 8.0, 26.0, "weeks (e-folding time of the novelty lift)",
        "LP3: Meyer-Waarden 2007, lift ~0 by month 6-9 (13 weeks gives 10% left at 30)",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.post_reward_reset >= 1:
            raise ValueError("post_reward_reset: must be < 1 (a share of the rate)")
        if self.novelty_weeks <= 0:
            raise ValueError("novelty_weeks: must be > 0")
