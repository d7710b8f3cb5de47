"""Maximum-likelihood fits of the BG/NBD purchase model and the Gamma-Gamma spend model.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy
way: an alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284 (BG/NBD,
log-likelihood eq. 6).

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: using iso-value curves
for customer base analysis. Journal of Marketing Research 42(4), 415-430; and Fader &
Hardie (2013), "The Gamma-Gamma model of monetary value" (Gamma-Gamma).

Both likelihoods are written with :func:`scipy.special.gammaln` and
:func:`scipy.special.betaln` and maximised over the logarithms of the parameters, so the
optimiser is unconstrained and never evaluates a negative shape. Each fit carries the
covariance of its estimates from the observed information and flags for estimates that
cannot be trusted (:mod:`loyaltylab.agents.information`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from scipy import optimize, special

from loyaltylab.agents.information import (
    FitFlag,
    Uncertainty,
    observed_covariance,
    uncertainty_flags,
)
from loyaltylab.agents.segments import BGNBD, GammaGamma

#: Parameters are kept within exp(+-LOG_BOUND) (about 3e-7 to 3e6): far beyond any
#: sensible value, but finite, so a likelihood that rises towards a limit stops there.
LOG_BOUND = 15.0
#: Largest ``a + b`` of the dropout Beta and largest shape ``r`` of the purchase-rate
#: Gamma: the Beta's standard deviation is then below 0.005 and the Gamma's coefficient
#: of variation 1%, point masses for any practical purpose; beyond them ``gammaln`` and
#: ``betaln`` differences lose the precision that the optimiser needs.
MAX_CONCENTRATION = 1e4
#: A fit has converged when a Newton step from it would move no free log-parameter by
#: more than this many of its standard errors (|gradient| / sqrt(curvature)).
GRADIENT_TOLERANCE = 1e-2
#: A log-parameter that L-BFGS-B leaves this close to a bound, at a point that is not
#: stationary, is tried at the bound itself.
EDGE = 1.0
#: Gamma-Gamma: flag ``spend_cv`` when the observed within-customer coefficient of
#: variation of order values exceeds the implied one, 1/sqrt(p), by more than this
#: factor (CDNOW: 0.50 observed against 0.40 implied, a factor of 1.25).
CV_RATIO_LIMIT = 3.0


@dataclass(frozen=True)
class BGNBDFit(Uncertainty):
    """A maximum-likelihood BG/NBD fit.

    Attributes
    ----------
    r, alpha, a, b : float
        Estimates; ``alpha`` in weeks (the unit of recency and T).
    log_likelihood : float
        Maximised log-likelihood (FHL 2005, eq. 6), summed over customers.
    n_customers : int
        Customers in the fit.
    n_repeat_buyers : int
        Customers with at least one repeat purchase.
    converged : bool
        Whether the optimiser reported success.
    message : str
        The optimiser's message.
    at_bound : tuple of str
        Parameters that ended at the edge of the search space (see :data:`LOG_BOUND`),
        where the likelihood still rises towards a limit. ``"a+b"``: the dropout
        probability is practically the same for every customer (a Beta collapsed to its
        mean ``a/(a+b)``, stopped at :data:`MAX_CONCENTRATION`); ``"r"``: the same for
        the purchase rate (``r`` stopped at :data:`MAX_CONCENTRATION`, mean ``r/alpha``
        kept); ``"a/(a+b)"``: nobody (or everybody) drops out; ``"r/alpha"`` at the lower
        bound: hardly any repeat buyer.
    covariance : array of shape (4, 4) or None
        Covariance of ``(r, alpha, a, b)`` from the observed information
        (:func:`loyaltylab.agents.information.observed_covariance`); see :attr:`se`,
        :meth:`ci`.
    flags : tuple of FitFlag
        Warnings: ``at_bound``, ``singular_information``, ``unidentified`` and
        ``infinite_lifetime`` (``a <= 1``: a customer's expected purchases over an
        unlimited lifetime, :math:`E[1/p] = (a+b-1)/(a-1)`, are infinite; forecasts over
        a finite horizon, CLV with discounting and P(alive) are unaffected; CDNOW has
        ``a = 0.79``). :attr:`degenerate` says whether one makes the fit unusable.
    """

    parameter_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: int
    n_repeat_buyers: int
    converged: bool
    message: str = ""
    at_bound: tuple[str, ...] = ()
    covariance: np.ndarray | None = field(default=None, compare=False, repr=False)
    flags: tuple[FitFlag, ...] = ()

    @property
    def params(self) -> BGNBD:
        """The estimates as :class:`loyaltylab.agents.BGNBD` (weekly units)."""
        return BGNBD(r=self.r, alpha=self.alpha, a=self.a, b=self.b)


@dataclass(frozen=True)
class GammaGammaFit(Uncertainty):
    """A maximum-likelihood Gamma-Gamma fit.

    Attributes
    ----------
    p, q, gamma : float
        Estimates; ``gamma`` in currency units.
    log_likelihood : float
        Maximised log-likelihood of the customers' mean repeat order values.
    n_customers : int
        Customers in the fit (those with at least one repeat purchase).
    converged : bool
        Whether the optimiser reported success.
    message : str
        The optimiser's message.
    at_bound : tuple of str
        Parameters that ended at the edge of the search space (``p`` and ``gamma``
        together: practically no spread of order values around each customer's mean;
        ``q`` and ``gamma`` together: practically the same mean for all customers).
    covariance : array of shape (3, 3) or None
        Covariance of ``(p, q, gamma)`` from the observed information; see :attr:`se`.
    flags : tuple of FitFlag
        Warnings: ``at_bound``, ``singular_information``, ``unidentified`` and
        ``spend_cv`` (the implied within-customer coefficient of variation of order
        values, :math:`1/\\sqrt{p}`, is more than :data:`CV_RATIO_LIMIT` times below the
        observed one: ``p`` describes customers whose orders all cost the same, which
        the data deny). :attr:`degenerate` says whether one makes the fit unusable.
    observed_cv : float or None
        Observed within-customer coefficient of variation of order values,
        :math:`\\sqrt{\\text{mean}(s_i^2 / m_i^2)}` over customers with two or more
        repeat orders (None: no spread given, or no such customer).
    """

    parameter_names: ClassVar[tuple[str, ...]] = ("p", "q", "gamma")

    p: float
    q: float
    gamma: float
    log_likelihood: float
    n_customers: int
    converged: bool
    message: str = ""
    at_bound: tuple[str, ...] = ()
    covariance: np.ndarray | None = field(default=None, compare=False, repr=False)
    flags: tuple[FitFlag, ...] = ()
    observed_cv: float | None = None

    @property
    def implied_cv(self) -> float:
        """Within-customer coefficient of variation of order values, :math:`1/\\sqrt{p}`."""
        return 1.0 / np.sqrt(self.p)

    @property
    def mean_order(self) -> float:
        """Mean order value across customers, ``p gamma / (q - 1)`` (inf if q <= 1)."""
        return self.p * self.gamma / (self.q - 1) if self.q > 1 else float("inf")

    @property
    def params(self) -> GammaGamma:
        """The estimates as :class:`loyaltylab.agents.GammaGamma`.

        Raises
        ------
        ValueError
            If ``q <= 1``: spend so heavy-tailed that the mean order is infinite, which
            the simulator cannot use.
        """
        if self.q <= 1:
            raise ValueError(
                f"gamma_gamma.q: the fit gives q = {self.q:.4g} <= 1 (infinite mean order)")
        return GammaGamma(p=self.p, q=self.q, gamma=self.gamma)


def _arrays(*columns: Any) -> list[np.ndarray]:
    arrays = [np.asarray(c, dtype=float) for c in columns]
    n = len(arrays[0])
    if any(a.ndim != 1 or len(a) != n for a in arrays):
        raise ValueError("frequency, recency and T must be 1-d arrays of the same length")
    if n == 0:
        raise ValueError("no customers to fit")
    if any(not np.all(np.isfinite(a)) for a in arrays):
        raise ValueError("inputs must be finite")
    return arrays


def bgnbd_log_likelihood(
    r: float, alpha: float, a: float, b: float, frequency: Any, recency: Any,
    T: Any,  # noqa: N803 - the T of the BG/NBD literature
    truncation: Any = None,
) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood (FHL 2005, eq. 6).

    .. math::

        L = \\frac{B(a, b+x)}{B(a, b)} \\frac{\\Gamma(r+x)\\alpha^r}{\\Gamma(r)}
        \\left[(\\alpha+T)^{-(r+x)} + \\delta_{x>0}\\frac{a}{b+x-1}(\\alpha+t_x)^{-(r+x)}
        \\right]

    Parameters
    ----------
    r, alpha, a, b : float
        BG/NBD parameters (``alpha`` in the unit of the times, weeks here).
    frequency : array of int
        Repeat purchases ``x``.
    recency : array of float
        Time of the last purchase since the first, ``t_x`` (weeks).
    T : array of float
        Time since the first purchase, ``T`` (weeks).
    truncation : array of float, optional
        For an existing customer of a left-truncated log (time 0: the log's start; he or
        she was seen because of a purchase in its first ``w`` weeks), ``w``; 0 for a new
        customer. The likelihood is then conditioned on a purchase in ``(0, w]``, whose
        probability is one minus the NBD zero term, :math:`1 - (\\alpha/(\\alpha+w))^r`
        (no purchase, no chance to drop out).

    Returns
    -------
    array of float
        The log-likelihood of each customer.
    """
    x, t_x, age = _arrays(frequency, recency, T)
    return _bgnbd_log_likelihood(r, alpha, a, b, _BGNBDTerms.of(r, alpha, a, b, x, t_x, age,
                                                                 truncation))


@dataclass(frozen=True)
class _BGNBDTerms:
    """What the BG/NBD log-likelihood and its score share, per customer: the data, the
    log of the likelihood's two last terms (alive at ``T``; dropped out after the last
    purchase, -inf without a repeat purchase), and the truncation's ``log(alpha /
    (alpha + w))`` for the customers seen in a warm-up (``seen``)."""

    x: np.ndarray
    t_x: np.ndarray
    age: np.ndarray
    repeat: np.ndarray
    log_alive: np.ndarray
    log_dead: np.ndarray
    seen: np.ndarray | None
    log_ratio: np.ndarray | None

    @classmethod
    def of(cls, r: float, alpha: float, a: float, b: float, x: np.ndarray, t_x: np.ndarray,
           age: np.ndarray, truncation: Any) -> _BGNBDTerms:
        repeat = x > 0
        log_alive = -(r + x) * np.log(alpha + age)
        # The second term exists only for repeat buyers (x > 0); elsewhere b + x - 1 may
        # be <= 0, so it is masked rather than computed and discarded.
        log_dead = np.full_like(x, -np.inf)
        log_dead[repeat] = (np.log(a) - np.log(b + x[repeat] - 1)
                            - (r + x[repeat]) * np.log(alpha + t_x[repeat]))
        seen = log_ratio = None
        if truncation is not None:
            w = np.broadcast_to(np.asarray(truncation, dtype=float), x.shape)
            seen = w > 0
            log_ratio = np.log(alpha) - np.log(alpha + w[seen])
        return cls(x, t_x, age, repeat, log_alive, log_dead, seen, log_ratio)


def _bgnbd_log_likelihood(r: float, alpha: float, a: float, b: float,
                          terms: _BGNBDTerms) -> np.ndarray:
    x = terms.x
    out = (special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
           + special.betaln(a, b + x) - special.betaln(a, b)
           + np.logaddexp(terms.log_alive, terms.log_dead))
    if terms.seen is not None:
        out[terms.seen] -= np.log(-np.expm1(r * terms.log_ratio))
    return out


def bgnbd_score(
    r: float, alpha: float, a: float, b: float, frequency: Any, recency: Any,
    T: Any,  # noqa: N803 - the T of the BG/NBD literature
    truncation: Any = None,
) -> np.ndarray:
    """Per-customer gradient of :func:`bgnbd_log_likelihood` with respect to
    ``(r, alpha, a, b)``, shape ``(n, 4)``.

    The likelihood's last factor is a sum of two terms (alive at ``T``, or dropped out
    after the last purchase); each term's derivative is weighted by its share of the sum.
    Digamma differences come from the ``gammaln`` and ``betaln`` of the likelihood; the
    truncation term adds :math:`P_0'/(1 - P_0)` with :math:`P_0 = (\\alpha/(\\alpha+w))^r`.
    """
    x, t_x, age = _arrays(frequency, recency, T)
    return _bgnbd_score(r, alpha, a, b, _BGNBDTerms.of(r, alpha, a, b, x, t_x, age,
                                                       truncation))


def _bgnbd_score(r: float, alpha: float, a: float, b: float,
                 terms: _BGNBDTerms) -> np.ndarray:
    x, repeat, age = terms.x, terms.repeat, terms.age
    dead = special.expit(terms.log_dead - terms.log_alive)  # the dropped-out term's share
    alive = 1.0 - dead
    t_dead = np.where(repeat, terms.t_x, age)
    psi = special.digamma
    out = np.empty((len(x), 4))
    out[:, 0] = (psi(r + x) - psi(r) + np.log(alpha) - alive * np.log(alpha + age)
                 - dead * np.log(alpha + t_dead))
    out[:, 1] = r / alpha - (r + x) * (alive / (alpha + age) + dead / (alpha + t_dead))
    total = psi(a + b) - psi(a + b + x)
    out[:, 2] = total + dead / a
    b_minus = np.where(repeat, b + x - 1, 1.0)
    out[:, 3] = psi(b + x) - psi(b) + total - dead / b_minus
    if terms.seen is not None:
        log_ratio = terms.log_ratio
        share = np.exp(r * log_ratio) / -np.expm1(r * log_ratio)  # P0 / (1 - P0)
        # d/dθ of -log(1 - P0) is P0' / (1 - P0), with dP0/dr = P0 log ratio and
        # dP0/dalpha = P0 r w / (alpha (alpha + w)) = -P0 r expm1(log ratio) / alpha
        out[terms.seen, 0] += share * log_ratio
        out[terms.seen, 1] -= share * r * np.expm1(log_ratio) / alpha
    return out


def gamma_gamma_log_likelihood(
    p: float, q: float, gamma: float, frequency: Any, mean_spend: Any
) -> np.ndarray:
    """Per-customer Gamma-Gamma log-likelihood of a mean order value.

    With ``x`` orders of mean value ``m``, each worth ``Gamma(p, nu)`` and
    ``nu ~ Gamma(q, gamma)``,

    .. math::

        f(m \\mid x) = \\frac{\\Gamma(px+q)}{\\Gamma(px)\\Gamma(q)}
        \\frac{\\gamma^q\\, m^{px-1} x^{px}}{(\\gamma + m x)^{px+q}}

    Parameters
    ----------
    p, q, gamma : float
        Gamma-Gamma parameters (``gamma`` in currency units).
    frequency : array of int
        Orders averaged, ``x`` (> 0).
    mean_spend : array of float
        Mean order value ``m`` (> 0), currency units.
    """
    x, m = _arrays(frequency, mean_spend)
    px = p * x
    return (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q)
            + q * np.log(gamma) + (px - 1) * np.log(m) + px * np.log(x)
            - (px + q) * np.log(gamma + m * x))


def _derivatives(f: Any, x: np.ndarray, step: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
    """Central-difference gradient and diagonal curvature of ``f`` at ``x``.

    Errors are O(step^2); rounding noise (about 1e-12 of ``f``) divided by the step stays
    far below the tolerance.
    """
    f0 = f(x)
    grad = np.empty_like(x)
    curv = np.empty_like(x)
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = step
        up, down = f(x + e), f(x - e)
        grad[i] = (up - down) / (2 * step)
        curv[i] = (up - 2 * f0 + down) / step**2
    return grad, curv


def _maximise(
    negative: Any, start: np.ndarray, names: tuple[str, ...],
    bounds: list[tuple[float, float]] | None = None, with_gradient: Any = None,
) -> tuple[np.ndarray, float, bool, str, tuple[str, ...]]:
    """Minimise ``negative(log_params)`` within the bounds (default +-LOG_BOUND).

    L-BFGS-B first, to the tight tolerance that the published three decimals need; if it
    stops at a point that is not stationary (a poor start, a flat ridge), Nelder-Mead
    takes over from there and L-BFGS-B polishes its result. Both respect the bounds, so
    a likelihood that keeps rising towards a limit (e.g. a Beta collapsing to a point,
    ``a + b -> inf`` with ``a / (a + b)`` fixed) stops at the bound instead of wandering.

    ``with_gradient(log_params)``, if given, returns ``negative`` and its gradient at
    once; L-BFGS-B then needs one evaluation per step instead of one per parameter and
    direction.

    Returns the log-parameters, the minimum, the convergence flag, the optimiser's
    message and the names of the parameters that ended at a bound.
    """
    if bounds is None:
        bounds = [(-LOG_BOUND, LOG_BOUND)] * len(start)
    low, high = np.array(bounds).T
    start = np.clip(start, low + 0.5, high - 0.5)

    def safe(theta: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            value = negative(theta)
        return float(value) if np.isfinite(value) else 1e300

    def safe_with_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
        assert with_gradient is not None
        with np.errstate(all="ignore"):
            value, grad = with_gradient(theta)
        if not (np.isfinite(value) and np.all(np.isfinite(grad))):
            return 1e300, np.zeros_like(theta)
        return float(value), grad

    def polish(x0: np.ndarray) -> Any:
        return optimize.minimize(
            safe if with_gradient is None else safe_with_gradient, x0, method="L-BFGS-B",
            jac=with_gradient is not None, bounds=bounds,
            options={"ftol": 1e-15, "gtol": 1e-9, "maxiter": 10000})

    def stationary(x: np.ndarray) -> tuple[bool, tuple[str, ...]]:
        # What matters is not which optimiser's criterion fired (L-BFGS-B says
        # "ABNORMAL" when the gradient is at rounding noise) but that the gradient with
        # respect to the free log-parameters is negligible.
        at_bound = tuple(n for n, v, lo, hi in zip(names, x, low, high, strict=True)
                         if v <= lo + 1e-3 or v >= hi - 1e-3)
        free = np.array([n not in at_bound for n in names])
        grad, curv = _derivatives(safe, x)
        # A Newton step g / H away from the optimum, measured in standard errors
        # 1 / sqrt(H): |g| / sqrt(H). Where the curvature is not positive (a flat
        # direction) the gradient itself must vanish.
        scale = np.sqrt(np.maximum(curv, 1.0))
        return bool(np.all(np.abs(grad[free]) / scale[free] < GRADIENT_TOLERANCE)), at_bound

    best = polish(start)
    ok, at_bound = stationary(best.x)
    edge = (best.x > high - EDGE) | (best.x < low + EDGE)
    if not ok and edge.any():
        # L-BFGS-B gives up on a likelihood that rises ever more gently towards a bound
        # (a + b of a Beta collapsing to a point): try the bound itself before the slow
        # simplex search.
        pushed = polish(np.where(best.x > high - EDGE, high, np.where(best.x < low + EDGE,
                                                                     low, best.x)))
        if pushed.fun <= best.fun:
            best = pushed
            ok, at_bound = stationary(best.x)
    if not ok:
        rough = optimize.minimize(safe, best.x, method="Nelder-Mead", bounds=bounds,
                                  options={"xatol": 1e-7, "fatol": 1e-10, "maxiter": 4000})
        again = polish(rough.x)
        best = min((best, rough, again), key=lambda res: res.fun)
        ok, at_bound = stationary(best.x)
    return best.x, float(best.fun), ok, str(best.message), at_bound


def _uncertainty(
    negative: Any, theta: np.ndarray, jacobian: np.ndarray, search_names: tuple[str, ...],
    names: tuple[str, ...], estimates: list[float], at_bound: tuple[str, ...],
    locations: tuple[str, ...] = (),
) -> tuple[np.ndarray, list[FitFlag]]:
    """Covariance of the natural parameters and the flags shared by both models."""
    free = np.array([n not in at_bound for n in search_names])
    cov, regular = observed_covariance(lambda th: -negative(th), theta, jacobian, free)
    return cov, uncertainty_flags(names, np.array(estimates), cov, regular, at_bound,
                                  locations)


def fit_bgnbd(
    frequency: Any, recency: Any,
    T: Any,  # noqa: N803 - the T of the BG/NBD literature
    *, start: BGNBD | None = None, truncation: Any = None,
) -> BGNBDFit:
    """Maximum-likelihood BG/NBD fit (Fader, Hardie & Lee 2005).

    Parameters
    ----------
    frequency : array of int
        Repeat purchase occasions per customer, ``x``.
    recency : array of float
        Weeks from the first to the last purchase, ``t_x``.
    T : array of float
        Weeks from the first purchase to the end of the calibration period.
    start : BGNBD, optional
        Starting point; default ``r = a = b = 1`` and ``alpha`` from the mean purchase
        rate.
    truncation : array of float, optional
        Warm-up window (weeks) that selected each existing customer of a left-truncated
        log, 0 for new customers (:func:`bgnbd_log_likelihood`).

    Returns
    -------
    BGNBDFit
        Estimates (``alpha`` in weeks), log-likelihood, customers and convergence.

    Notes
    -----
    Customers with the same ``(x, t_x, T)`` are pooled and weighted, so a log of
    millions of customers with dates in days costs little more than a small one.

    Examples
    --------
    >>> fit = fit_bgnbd([0, 2, 1, 5], [0.0, 10.0, 3.0, 30.0], [39.0, 39.0, 20.0, 35.0])
    >>> fit.n_customers, fit.converged
    (4, True)
    """
    x, t_x, age = _arrays(frequency, recency, T)
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise ValueError("frequency: must be non-negative integers")
    if np.any(t_x < 0) or np.any(t_x > age + 1e-9):
        raise ValueError("recency: must be in [0, T]")
    if np.any((x > 0) & (t_x <= 0)):
        raise ValueError("recency: must be > 0 for customers with repeat purchases")
    w = np.zeros_like(x) if truncation is None else np.broadcast_to(
        np.asarray(truncation, dtype=float), x.shape)
    if np.any(~np.isfinite(w)) or np.any(w < 0) or np.any((w > 0) & (x < 1)):
        raise ValueError("truncation: must be >= 0, and > 0 only for customers with a "
                         "purchase (x >= 1)")
    unique, counts = np.unique(np.column_stack([x, t_x, age, w]), axis=0, return_counts=True)
    ux, ut, uage, uw = unique.T
    weights = counts.astype(float)

    # Both mixing distributions are searched as a location and a concentration: the
    # Gamma as its shape r and mean rate r / alpha (logs), the Beta as its mean
    # m = a / (a + b) (logit) and a + b (log). When the data say "every customer has the
    # same purchase rate" (or dropout probability), the likelihood keeps rising along
    # r -> inf (a + b -> inf) with the mean fixed: a ridge that is diagonal in
    # (log r, log alpha) or (log a, log b), where optimisers crawl, but one axis here,
    # capped at MAX_CONCENTRATION.
    def params(theta: np.ndarray) -> tuple[float, float, float, float]:
        r = np.exp(theta[0])
        m = special.expit(theta[2])
        k = np.exp(theta[3])
        return float(r), float(r / np.exp(theta[1])), float(m * k), float((1 - m) * k)

    truncated = uw if uw.any() else None

    def jacobian(r: float, alpha: float, a: float, b: float) -> np.ndarray:
        """d(r, alpha, a, b) / d(search parameters): rows natural, columns search."""
        spread = a * b / (a + b)  # d a / d logit(m) = m (1 - m) k
        return np.array([[r, 0, 0, 0], [alpha, -alpha, 0, 0], [0, 0, spread, a],
                         [0, 0, -spread, b]])

    def negative(theta: np.ndarray) -> float:
        r, alpha, a, b = params(theta)
        terms = _BGNBDTerms.of(r, alpha, a, b, ux, ut, uage, truncated)
        return -float(weights @ _bgnbd_log_likelihood(r, alpha, a, b, terms))

    def negative_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = params(theta)
        terms = _BGNBDTerms.of(r, alpha, a, b, ux, ut, uage, truncated)
        value = -float(weights @ _bgnbd_log_likelihood(r, alpha, a, b, terms))
        natural = weights @ _bgnbd_score(r, alpha, a, b, terms)
        return value, -(jacobian(r, alpha, a, b).T @ natural)

    if start is None:
        rate = max(float(x.sum()) / max(float(age.sum()), 1e-9), 1e-6)  # per week
        r0, alpha0, a0, b0 = 1.0, 1.0 / rate, 1.0, 1.0
    else:
        r0, alpha0, a0, b0 = start.r, start.alpha, start.a, start.b
    theta0 = np.array([np.log(r0), np.log(r0 / alpha0), np.log(a0 / b0), np.log(a0 + b0)])
    cap = np.log(MAX_CONCENTRATION)
    bounds = [(-LOG_BOUND, cap), (-LOG_BOUND, LOG_BOUND), (-LOG_BOUND, LOG_BOUND),
              (-LOG_BOUND, cap)]
    search = ("r", "r/alpha", "a/(a+b)", "a+b")
    theta, value, converged, message, at_bound = _maximise(negative, theta0, search, bounds,
                                                           negative_and_gradient)
    r, alpha, a, b = params(theta)
    cov, flags = _uncertainty(negative, theta, jacobian(r, alpha, a, b), search,
                              BGNBDFit.parameter_names,
                              [r, alpha, a, b], at_bound, locations=("r/alpha", "a/(a+b)"))
    if a <= 1:
        flags.append(FitFlag(
            "infinite_lifetime", f"a = {a:.3g} <= 1: expected purchases over an unlimited "
            "lifetime are infinite (finite-horizon forecasts are fine)"))
    return BGNBDFit(r=r, alpha=alpha, a=a, b=b, log_likelihood=-value,
                    n_customers=len(x), n_repeat_buyers=int(np.count_nonzero(x > 0)),
                    converged=converged, message=message, at_bound=at_bound,
                    covariance=cov, flags=tuple(flags))


def fit_gamma_gamma(
    frequency: Any, mean_spend: Any, *, start: GammaGamma | None = None,
    sd_spend: Any = None,
) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma fit on customers with repeat purchases.

    Parameters
    ----------
    frequency : array of int
        Repeat purchase occasions per customer; customers with 0 are left out (they
        have no repeat order value).
    mean_spend : array of float
        Mean value of a repeat occasion per customer, currency units (ignored where
        ``frequency`` is 0, so NaN is fine there). Occasions worth 0 cannot be fitted by
        a Gamma distribution; customers whose mean is 0 are left out.
    start : GammaGamma, optional
        Starting point; default ``p = q = 1``-ish from the moments.
    sd_spend : array of float, optional
        Standard deviation of each customer's repeat order values, currency units (NaN
        with fewer than two; ``sd_repeat_spend`` of
        :func:`loyaltylab.agents.summarise`). Not used by the fit; with it the fit
        checks ``p`` against the observed within-customer spread (flag ``spend_cv``).

    Returns
    -------
    GammaGammaFit
        Estimates (``gamma`` in currency units), log-likelihood and convergence.

    Raises
    ------
    ValueError
        If no customer has a repeat purchase with a positive value.
    """
    x = np.asarray(frequency, dtype=float)
    m = np.asarray(mean_spend, dtype=float)
    if x.shape != m.shape or x.ndim != 1:
        raise ValueError("frequency and mean_spend must be 1-d arrays of the same length")
    use = (x > 0) & np.isfinite(m) & (m > 0)
    if not np.any(use):
        raise ValueError("no customer with a repeat purchase of positive value to fit")
    observed_cv = None
    if sd_spend is not None:
        sd = np.asarray(sd_spend, dtype=float)
        if sd.shape != x.shape:
            raise ValueError("sd_spend: must have the shape of frequency")
        spread = use & (x >= 2) & np.isfinite(sd)
        if spread.any():
            observed_cv = float(np.sqrt(np.mean((sd[spread] / m[spread]) ** 2)))
    x, m = x[use], m[use]

    def negative(theta: np.ndarray) -> float:
        p, q, gamma = np.exp(theta)
        return -float(gamma_gamma_log_likelihood(p, q, gamma, x, m).sum())

    if start is None:
        # p = 1, q = 2 make the mean order gamma; start gamma at the observed mean.
        theta0 = np.log([1.0, 2.0, float(np.mean(m))])
    else:
        theta0 = np.log([start.p, start.q, start.gamma])
    names = GammaGammaFit.parameter_names
    theta, value, converged, message, at_bound = _maximise(negative, theta0, names)
    estimates = np.exp(theta)
    p, q, gamma = (float(v) for v in estimates)
    cov, flags = _uncertainty(negative, theta, np.diag(estimates), names, names,
                              [p, q, gamma], at_bound)
    implied_cv = 1.0 / np.sqrt(p)  # as GammaGammaFit.implied_cv
    if observed_cv is not None and observed_cv > CV_RATIO_LIMIT * implied_cv:
        flags.append(FitFlag(
            "spend_cv", f"p = {p:.4g} implies a within-customer coefficient of variation "
            f"of order values of {implied_cv:.3g}, the data show {observed_cv:.3g}"))
    return GammaGammaFit(p=p, q=q, gamma=gamma, log_likelihood=-value, n_customers=len(x),
                         converged=converged, message=message, at_bound=at_bound,
                         covariance=cov, flags=tuple(flags), observed_cv=observed_cv)
