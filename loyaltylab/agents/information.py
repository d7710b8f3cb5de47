"""How far a maximum-likelihood fit can be trusted: standard errors from the observed
information, and flags for estimates that are degenerate or not identified.

The covariance of the estimates is the inverse of the observed information, the negative
Hessian of the log-likelihood at the optimum. The fits search over unconstrained
parameters :math:`\\theta` (logs and logits); the Hessian is taken there, where the
likelihood is close to quadratic, by :func:`statsmodels.tools.numdiff.approx_hess3`,
and carried to the natural parameters :math:`\\phi(\\theta)` by the delta method,

.. math::

    \\operatorname{Cov}(\\hat\\phi) = J\\, \\left[-H(\\hat\\theta)\\right]^{-1} J^\\top,
    \\qquad J = \\partial\\phi / \\partial\\theta.

A search parameter stopped at its bound is not at a stationary point, so the quadratic
approximation says nothing about it: it is held fixed, and every natural parameter that
depends on it gets an infinite standard error (the others' are conditional on it).

References
----------
Pawitan, Y. (2001). *In All Likelihood*, ch. 2.6 and 4.7 (observed information, the
delta method, intervals on a log scale).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy import stats
from statsmodels.tools.numdiff import approx_hess3

#: A parameter whose standard error exceeds this multiple of its estimate is not
#: identified by the data: its 95% interval on the log scale spans more than a factor of
#: exp(2 x 1.96) = 50.
RELATIVE_SE_LIMIT = 1.0
#: Smallest eigenvalue of the observed information, relative to its largest, for the
#: information to count as positive definite (below it the inverse is rounding noise).
CONDITION_LIMIT = 1e-12
#: Flags that make a fit unusable for simulation; calibration replaces such a segment
#: fit by the cohort's. Not among them: ``at_bound`` (a boundary estimate, say the same
#: dropout probability for everyone, is a legitimate if extreme description) and
#: ``unidentified`` (on CDNOW's k-means clusters it is mostly a ridge: the concentration
#: ``a + b`` or the pair ``p, gamma`` undetermined while the mean dropout or the mean
#: order is well determined; the likelihood is flat along the ridge, so any point of it
#: simulates the segment as well, and the cohort's fit would replace a well-determined
#: mean by another segment's).
DEGENERATE_FLAGS = frozenset({"singular_information", "spend_cv"})


@dataclass(frozen=True)
class FitFlag:
    """A warning about a fit.

    Attributes
    ----------
    code : str
        Machine-readable kind: ``"at_bound"`` (a search parameter stopped at its bound;
        the parameters depending on it have infinite standard errors),
        ``"singular_information"`` (no parameter at a bound, yet the observed information
        is not positive definite), ``"unidentified"`` (a standard error above
        :data:`RELATIVE_SE_LIMIT` x the estimate), ``"spend_cv"`` (Gamma-Gamma) or
        ``"infinite_lifetime"`` (BG/NBD). Codes in :data:`DEGENERATE_FLAGS` make the fit
        unusable.
    message : str
        What it means, with the numbers.
    """

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def observed_covariance(
    log_likelihood: Callable[[np.ndarray], float], theta: np.ndarray, jacobian: np.ndarray,
    free: np.ndarray,
) -> tuple[np.ndarray, bool]:
    """Covariance of the natural parameters from the observed information.

    Parameters
    ----------
    log_likelihood : callable
        Total log-likelihood as a function of the search parameters ``theta``.
    theta : array, shape (m,)
        The optimum.
    jacobian : array, shape (k, m)
        :math:`\\partial\\phi_i / \\partial\\theta_j` at the optimum.
    free : array of bool, shape (m,)
        Search parameters not stopped at a bound.

    Returns
    -------
    covariance : array, shape (k, k)
        In the squared units of the natural parameters. Rows and columns of parameters
        that depend on a bound search parameter are NaN with an infinite variance; all
        NaN if the information of the free parameters is not positive definite.
    regular : bool
        Whether the information of the free parameters is finite and positive definite.
    """
    k = jacobian.shape[0]
    cov = np.full((k, k), np.nan)
    tied = np.any(jacobian[:, ~free] != 0, axis=1)
    regular = True
    if free.any():

        def at(free_theta: np.ndarray) -> float:
            full = theta.copy()
            full[free] = free_theta
            return log_likelihood(full)

        with np.errstate(all="ignore"):
            information = -approx_hess3(theta[free], at)
        eig = (np.linalg.eigvalsh(information) if np.all(np.isfinite(information))
               else np.array([np.nan]))
        regular = bool(np.all(np.isfinite(eig)) and eig.min() > CONDITION_LIMIT * eig.max())
        if regular:
            j = jacobian[:, free]
            cov = j @ np.linalg.inv(information) @ j.T
            cov[tied, :] = np.nan
            cov[:, tied] = np.nan
    cov[np.diag_indices(k)] = np.where(tied, np.inf, np.diag(cov))
    return cov, regular


def uncertainty_flags(
    names: tuple[str, ...], estimates: np.ndarray, covariance: np.ndarray, regular: bool,
    at_bound: tuple[str, ...], locations: tuple[str, ...] = (),
) -> list[FitFlag]:
    """The flags every fit shares: ``at_bound``, ``singular_information``,
    ``unidentified`` (see :class:`FitFlag`).

    ``locations`` are the search parameters that are means (BG/NBD's mean purchase rate
    and mean dropout). A concentration at its bound is a legitimate description (everyone
    has the same dropout probability); a mean at its bound with a singular information
    is the same improper optimum as one found just short of the bound (everyone drops
    out after a purchase), so it is flagged ``singular_information`` too, and the
    decision does not depend on where the optimiser happened to stop.
    """
    flags = []
    if not regular and any(n in locations for n in at_bound):
        flags.append(FitFlag("singular_information",
                             f"{', '.join(n for n in at_bound if n in locations)} at the edge "
                             "of the search space with a singular information: not a proper "
                             "maximum"))
    if at_bound:
        # A bound can leave other directions flat (a Beta whose mean is 0 has no
        # identifiable concentration), so a singular information then belongs to it.
        flat = "" if regular else (" and leaves the other parameters' information "
                                   "singular (standard errors NaN)")
        flags.append(FitFlag("at_bound", f"{', '.join(at_bound)} stopped at the edge of "
                                         f"the search space{flat}"))
    elif not regular:
        flags.append(FitFlag("singular_information",
                             "the observed information is not positive definite: the "
                             "optimum is not a proper maximum, standard errors are NaN"))
    se = np.sqrt(np.diag(covariance))
    loose = [f"{n} = {v:.4g} (SE {s:.3g})" for n, v, s in zip(names, estimates, se, strict=True)
             if np.isfinite(s) and s > RELATIVE_SE_LIMIT * abs(v)]
    if loose:
        flags.append(FitFlag("unidentified",
                             f"standard error above {RELATIVE_SE_LIMIT:g} x the estimate: "
                             f"{', '.join(loose)}"))
    return flags


class Uncertainty:
    """Standard errors, intervals and flags of a fit (a mixin of the fit classes).

    The class lists its natural parameters in ``parameter_names``; an instance holds them
    as attributes, with ``covariance`` (None: not computed) and ``flags``.
    """

    parameter_names: ClassVar[tuple[str, ...]]
    covariance: np.ndarray | None
    flags: tuple[FitFlag, ...]

    @property
    def estimates(self) -> dict[str, float]:
        """The natural parameters by name."""
        return {n: float(getattr(self, n)) for n in self.parameter_names}

    @property
    def se(self) -> dict[str, float]:
        """Standard error of each natural parameter, in its units (inf: at a bound; NaN:
        the information is singular, or not computed)."""
        if self.covariance is None:
            return dict.fromkeys(self.parameter_names, float("nan"))
        return dict(zip(self.parameter_names, np.sqrt(np.diag(self.covariance)).tolist(),
                        strict=True))

    def ci(self, level: float = 0.95) -> dict[str, tuple[float, float]]:
        """Wald intervals on the log scale, :math:`\\hat\\phi \\exp(\\pm z\\,
        \\text{SE}/\\hat\\phi)`, which stay positive like the parameters.

        Parameters
        ----------
        level : float
            Coverage, in (0, 1).
        """
        if not 0 < level < 1:
            raise ValueError(f"level: must be in (0, 1), got {level}")
        z = float(stats.norm.ppf(0.5 + level / 2))
        out = {}
        for name, value in self.estimates.items():
            spread = np.exp(z * self.se[name] / value)
            out[name] = (float(value / spread), float(value * spread))
        return out

    @property
    def degenerate(self) -> bool:
        """Whether a flag in :data:`DEGENERATE_FLAGS` makes the fit unusable."""
        return any(f.code in DEGENERATE_FLAGS for f in self.flags)
