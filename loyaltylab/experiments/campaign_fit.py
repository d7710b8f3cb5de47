"""The coupon response learnt from past campaigns, by the method of simulated moments.

Three coefficients say how customers respond to a coupon:

- ``coupon_use.attention`` (:class:`loyaltylab.agents.CouponUseCoefficients`): the share
  of coupons their holders notice;
- ``topup_share`` (:class:`loyaltylab.agents.Segment`): how far short of the minimum
  spend, as a share of the order, a buyer still tops the order up to it (one value for
  every segment: a campaign log rarely identifies one per segment);
- ``coupon_trips.trip_rate`` (:class:`loyaltylab.agents.terms.CouponTripsCoefficients`):
  the extra purchase occasions a noticed coupon prompts.

:func:`fit_campaign_response` chooses the values whose simulated campaigns reproduce
the moments of the real ones (:mod:`loyaltylab.experiments.campaign_moments`:
redemption by threshold relative to the usual order, bunching at the threshold, extra
trips of exposed customers over unexposed ones):

1. the observed moments :math:`\\hat m` and their covariance :math:`\\Omega` (a Poisson
   bootstrap over customers);
2. a simulated customer base ``simulations`` (S) times the log's size, drawn from the
   calibrated population, with every campaign replayed in its weeks to the shares of
   customers the log shows in each class of purchase history
   (:class:`loyaltylab.policies.replay.ReplayedCoupons`), exported as logs
   (:func:`loyaltylab.sim.transaction_log`) and summarised by the same code as the
   data, giving :math:`m(\\theta)`;
3. :math:`\\hat\\theta` minimises :math:`(\\hat m - m(\\theta))' W (\\hat m -
   m(\\theta))`, :math:`W = [(1 + 1/S)\\Omega]^{-1}`, by Nelder-Mead over log attention,
   logit top-up and log trip rate. Every evaluation uses the same seed (common random
   numbers), so the objective moves only through the coefficients;
4. standard errors from the MSM sandwich, which with this efficient weighting is
   :math:`\\text{Var}(\\hat\\theta) = (1 + 1/S)(G'\\Omega^{-1}G)^{-1}` with
   :math:`G = \\partial m / \\partial\\theta` by central differences on common random
   numbers; the minimised objective is Hansen's J statistic, :math:`\\chi^2` with
   (moments - coefficients) degrees of freedom when the model is right.

Assumptions: the calibrated population describes the customers of the log (the
transaction fit's BG/NBD and Gamma-Gamma), who all start at the log's first purchase
date (a cohort); exposure depends on nothing but the purchase history class (selection
on observables: exact for a randomised campaign); the coupon's terms are the same for
every customer of a campaign group; the response coefficients are the same for all
customers (attention and trips scaled by the incentive sensitivity the population
gives them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from loyaltylab.agents import CustomerBehaviour, PopulationSpec
from loyaltylab.errors import InputError
from loyaltylab.experiments.campaign_moments import (
    MOMENT_NAMES,
    CampaignData,
    campaign_data,
    moments,
)
from loyaltylab.experiments.inputs import apply_inputs
from loyaltylab.policies.replay import ReplayedCoupons
from loyaltylab.sim import LoyaltyModel, campaign_log, transaction_log
from loyaltylab.sim.logs import DAYS_PER_WEEK

#: The fitted coefficients, by the names of a population file's ``[response]`` table.
PARAMETERS = ("coupon_use.attention", "topup_share", "coupon_trips.trip_rate")
#: Fewest exposures (or redemptions, for ``topped_share``) behind a moment that is used.
MIN_COUNT = 30


@dataclass(frozen=True)
class CampaignFit:
    """The result of :func:`fit_campaign_response`.

    Attributes
    ----------
    estimates, standard_errors : dict of str to float
        By name in :data:`PARAMETERS`: attention (share of coupons noticed), top-up
        tolerance (share of the order), trip rate (per week per unit of coupon value /
        usual order).
    covariance : numpy.ndarray
        Covariance of the estimates, in the order of :data:`PARAMETERS`.
    moments : pandas.DataFrame
        Indexed by moment name: ``observed``, ``observed_se`` (bootstrap),
        ``simulated`` (at the estimates), ``used``.
    j_statistic : float or None
        Hansen's J (None when exactly identified); ``j_dof`` its degrees of freedom and
        ``j_pvalue`` its chi-square p-value.
    simulations : int
        S: simulated customers per customer of the log.
    seed : int
        Seed of the simulations (the same for every evaluation).
    evaluations : int
        Simulations run by the optimiser.
    exposures : int
        Exposures used; ``left_out`` those of customers with no earlier purchase.
    notes : tuple of str
        Caveats (moments left out).
    """

    estimates: dict[str, float]
    standard_errors: dict[str, float]
    covariance: np.ndarray
    moments: pd.DataFrame
    j_statistic: float | None
    j_dof: int
    j_pvalue: float | None
    simulations: int
    seed: int
    evaluations: int
    exposures: int
    left_out: int
    notes: tuple[str, ...] = ()

    def table(self) -> pd.DataFrame:
        """One row per coefficient: estimate and standard error."""
        return pd.DataFrame({"estimate": self.estimates, "se": self.standard_errors})

    def response_values(self) -> dict[str, float]:
        """The response coefficients by name, for a population file's ``[response]``
        table (``topup_share`` is a segment field: :meth:`segment_updates`)."""
        return {k: v for k, v in self.estimates.items() if k != "topup_share"}

    def segment_updates(self, population: PopulationSpec) -> dict[str, dict[str, float]]:
        """``{segment: {"topup_share": value}}`` for every segment of ``population``."""
        return {s.name: {"topup_share": self.estimates["topup_share"]}
                for s in population.segments}

    def inputs(self, population: PopulationSpec) -> dict[str, float]:
        """The estimates as named inputs of
        :func:`loyaltylab.experiments.inputs.apply_inputs`."""
        return _inputs(self.estimates, population)

    def behaviour(self, population: PopulationSpec) -> CustomerBehaviour:
        """The behaviour of ``population`` (its default one if it has none) with the
        fitted attention and trip rate."""
        return self.apply(population).behaviour

    def apply(self, population: PopulationSpec) -> PopulationSpec:
        """``population`` with the fitted coefficients (behaviour and segments)."""
        return apply_inputs(population, self.inputs(population))


@dataclass(frozen=True)
class _Replay:
    """How to simulate the log's campaigns: the policies, weeks and export origin."""

    policies: list[ReplayedCoupons]
    weeks: int
    origin: pd.Timestamp
    customers: int


def _replay(transactions: pd.DataFrame, data: CampaignData) -> _Replay:
    """Replayed campaigns: one policy per campaign and terms, issuing in the weeks of
    its groups to their shares of each history class. Week 0 ends on the log's first
    purchase day, where the simulated cohort makes its joining purchase."""
    first = pd.to_datetime(transactions["date"]).min().normalize()
    origin = first - pd.Timedelta(days=DAYS_PER_WEEK - 1)
    groups = data.groups.assign(
        week=(pd.to_datetime(data.groups["start"]) - origin).dt.days // DAYS_PER_WEEK,
        validity=np.maximum(1, np.round(
            ((pd.to_datetime(data.groups["end"]) - pd.to_datetime(data.groups["start"]))
             .dt.days + 1) / DAYS_PER_WEEK)).astype(int))
    if (groups["week"] < 1).any():
        raise InputError("campaigns: a campaign starts in the first week of the "
                         "transaction log; customers need a purchase history before it")
    policies = []
    for (_, amount, pct, spend), part in groups.groupby(
            ["campaign", "amount_off", "pct_off", "min_spend"], sort=True):
        schedule: dict[int, list[float]] = {}
        for week, shares in zip(part["week"], part["shares"], strict=True):
            old = schedule.get(int(week), [0.0] * len(shares))
            schedule[int(week)] = [min(1.0, a + b) for a, b in zip(old, shares, strict=True)]
        policies.append(ReplayedCoupons(
            amount_off=float(amount), pct_off=float(pct), min_spend=float(spend),
            validity_weeks=int(part["validity"].mode().iloc[0]), schedule=schedule))
    weeks = int((groups["week"] + groups["validity"]).max())
    return _Replay(policies, weeks, origin, data.customers)


def simulated_moments(
    population: PopulationSpec, replay: _Replay, values: Mapping[str, float], simulations: int,
    seed: int,
) -> np.ndarray:
    """The moments of the log's campaigns simulated with coefficients ``values`` (by
    name in :data:`PARAMETERS`) on ``simulations`` times the log's customers."""
    spec = population.with_size(simulations * replay.customers)
    model = LoyaltyModel(apply_inputs(spec, _inputs(values, spec)), replay.policies,
                         seed=seed, record=True)
    model.run(replay.weeks)
    return moments(campaign_data(transaction_log(model, replay.origin),
                                 campaign_log(model, replay.origin)))


def _counts(data: CampaignData) -> np.ndarray:
    """How many exposures (redemptions for ``topped_share``, exposures with peers for
    ``trip_lift``) lie behind each moment."""
    e = data.exposure
    return np.array([*np.bincount(e["bin"], minlength=3),
                     (e["redeemed"] * e["threshold"]).sum(), len(e["bin"])])


def fit_campaign_response(
    transactions: pd.DataFrame,
    campaigns: pd.DataFrame,
    population: PopulationSpec,
    *,
    seed: int = 0,
    simulations: int = 2,
    bootstrap: int = 200,
    start: Mapping[str, float] | None = None,
    max_evaluations: int = 80,
) -> CampaignFit:
    """Fit attention, top-up tolerance and trip rate to a campaign log (module docstring).

    Parameters
    ----------
    transactions : pandas.DataFrame
        The transaction log (:func:`loyaltylab.agents.read_transactions`).
    campaigns : pandas.DataFrame
        The campaign log (:func:`loyaltylab.agents.read_campaigns`).
    population : PopulationSpec
        The customers calibrated on ``transactions``
        (:func:`loyaltylab.agents.calibrate`); its behaviour supplies every other
        coefficient.
    seed : int
        Seed of the simulations and of the bootstrap.
    simulations : int
        S, simulated customers per customer of the log (the standard errors grow by
        :math:`\\sqrt{1 + 1/S}`).
    bootstrap : int
        Bootstrap resamples for the moments' covariance.
    start : mapping, optional
        Starting values by name (default: the population's defaults).
    max_evaluations : int
        Most simulations the optimiser runs.

    Returns
    -------
    CampaignFit

    Raises
    ------
    InputError
        If the log leaves fewer usable moments than coefficients.
    """
    if simulations < 1:
        raise InputError(f"simulations: must be >= 1, got {simulations}")
    data = campaign_data(transactions, campaigns)
    observed = moments(data)
    rng = np.random.default_rng(seed)
    draws = np.array([moments(data, rng.poisson(1.0, data.customers))
                      for _ in range(bootstrap)])
    enough = np.isfinite(observed) & (_counts(data) >= MIN_COUNT) & np.isfinite(draws).all(0)
    # A moment that no resample moves (no redemption at all in its group) carries no
    # information and would make the weighting matrix singular.
    varies = np.zeros_like(enough)
    varies[enough] = draws[:, enough].std(axis=0) > 0
    used = enough & varies
    notes = [f"moment {name} left out: fewer than {MIN_COUNT} observations behind it"
             if not ok else f"moment {name} left out: no variation across customers "
             f"(observed {value:.3g})"
             for name, ok, good, value in zip(MOMENT_NAMES, enough, used, observed,
                                              strict=True) if not good]
    if used.sum() < len(PARAMETERS):
        raise InputError(f"campaigns: only {int(used.sum())} usable moments for "
                         f"{len(PARAMETERS)} coefficients ({'; '.join(notes)})")
    omega = np.atleast_2d(np.cov(draws[:, used], rowvar=False))
    if np.linalg.cond(omega) > 1e12:
        raise InputError(f"campaigns: the moments {list(np.asarray(MOMENT_NAMES)[used])} "
                         "are linearly dependent in this log; the response cannot be fitted")
    weight = np.linalg.inv((1.0 + 1.0 / simulations) * omega)
    replay = _replay(transactions, data)
    evaluations = 0

    def simulate(theta: np.ndarray) -> np.ndarray:
        nonlocal evaluations
        evaluations += 1
        values = dict(zip(PARAMETERS, theta, strict=True))
        return simulated_moments(population, replay, values, simulations, seed)[used]

    def objective(x: np.ndarray) -> float:
        gap = observed[used] - simulate(_theta(x))
        return float(gap @ weight @ gap) if np.isfinite(gap).all() else 1e12

    x0 = _x(np.array([(start or {}).get(k, v) for k, v in _defaults(population).items()]))
    simplex = np.vstack([x0, x0 + np.diag(np.full(len(x0), 0.7))])
    result = optimize.minimize(objective, x0, method="Nelder-Mead", options={
        "initial_simplex": simplex, "maxfev": max_evaluations, "xatol": 0.02,
        "fatol": 0.05})
    theta = _theta(result.x)
    gradient = _gradient(simulate, theta)
    covariance = (1.0 + 1.0 / simulations) * np.linalg.pinv(
        gradient.T @ np.linalg.inv(omega) @ gradient)
    simulated = np.full(len(MOMENT_NAMES), np.nan)
    simulated[used] = simulate(theta)
    dof = int(used.sum()) - len(PARAMETERS)
    j = float(result.fun) if dof > 0 else None
    table = pd.DataFrame({"observed": observed, "observed_se": draws.std(axis=0),
                          "simulated": simulated, "used": used},
                         index=pd.Index(MOMENT_NAMES, name="moment"))
    return CampaignFit(
        estimates=dict(zip(PARAMETERS, theta.tolist(), strict=True)),
        standard_errors=dict(zip(PARAMETERS, np.sqrt(np.diag(covariance)).tolist(),
                                 strict=True)),
        covariance=covariance, moments=table, j_statistic=j, j_dof=dof,
        j_pvalue=None if j is None else float(stats.chi2.sf(j, dof)),
        simulations=simulations, seed=seed, evaluations=evaluations,
        exposures=len(data.exposure["bin"]), left_out=data.left_out, notes=tuple(notes))


def _inputs(values: Mapping[str, float], population: PopulationSpec) -> dict[str, float]:
    """Coefficients by name of :data:`PARAMETERS` as named inputs: the response
    coefficients, and the one top-up tolerance for every segment."""
    inputs = {f"response.{k}": v for k, v in values.items() if k != "topup_share"}
    inputs.update({f"segments.{s.name}.topup_share": values["topup_share"]
                   for s in population.segments})
    return inputs


def _defaults(population: PopulationSpec) -> dict[str, float]:
    """Starting values: the population behaviour's coefficients, the mean top-up."""
    behaviour = population.behaviour or CustomerBehaviour()
    trips = behaviour.term("coupon_trips")
    return {"coupon_use.attention": behaviour.coupons.coefficients.attention,
            "topup_share": float(np.mean([s.topup_share for s in population.segments])),
            "coupon_trips.trip_rate": trips.coefficients.trip_rate if trips else 0.15}


#: Upper bounds of the coefficients of :data:`PARAMETERS`: two shares, one rate.
UPPER = (1.0, 1.0, np.inf)


def _x(theta: np.ndarray) -> np.ndarray:
    """Unbounded coordinates of the optimiser: log attention, logit top-up, log trips."""
    a, t, k = np.clip(theta, 1e-4, [1 - 1e-4, 1 - 1e-4, np.inf])
    return np.array([np.log(a), np.log(t / (1 - t)), np.log(k)])


def _theta(x: np.ndarray) -> np.ndarray:
    a = min(float(np.exp(x[0])), 1.0)
    return np.array([a, 1.0 / (1.0 + np.exp(-x[1])), float(np.exp(x[2]))])


def _gradient(simulate: Any, theta: np.ndarray) -> np.ndarray:
    """Central differences of the simulated moments in each coefficient (common random
    numbers), steps of a fifth of the value (at least 0.01)."""
    columns = []
    for i in range(len(theta)):
        step = max(0.2 * theta[i], 0.01)
        up, down = theta.copy(), theta.copy()
        up[i] = min(up[i] + step, UPPER[i])  # a share stays a share
        down[i] = max(down[i] - step, 1e-6)
        columns.append((simulate(up) - simulate(down)) / (up[i] - down[i]))
    return np.column_stack(columns)

