"""Random variates built from the per-customer uniforms of :mod:`loyaltylab.sim.streams`.

Each function turns uniforms into a distribution by inversion or by a rejection scheme
whose attempts use numbered draws, so the value is a deterministic function of the
customer's own luck (common random numbers) and the code is array operations only.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

from loyaltylab.sim.streams import DRAWS_PER_ROW, Streams


def poisson_count_given_positive(mu: Any, u: Any, xp: Any) -> Any:
    """Count ``N >= 1`` of a Poisson(``mu``) variable conditioned on ``N >= 1``, by inversion.

    Parameters
    ----------
    mu : array of float
        Poisson means (> 0).
    u : array of float
        Uniforms on (0, 1), one per mean (0 gives the count at which the
        probabilities underflow).

    Notes
    -----
    With survival function :math:`S(k) = P(N \\ge k)` the count is the largest ``k`` with
    :math:`u < S(k) / S(1)`. The loop runs over ``k`` (a handful of rounds), never over
    customers.
    """
    mu = xp.asarray(mu, dtype=xp.float64)
    s1 = -xp.expm1(-mu)
    target = u * s1  # compare with unconditional survival
    count = xp.ones(mu.shape, dtype=xp.int64)
    pmf = xp.exp(-mu) * mu  # P(N = 1)
    surv = s1 - pmf  # P(N >= 2)
    active = xp.nonzero(target < surv)[0]
    k = 1
    while active.size:
        count[active] += 1
        k += 1
        pmf_a = pmf[active] * mu[active] / k
        surv_a = surv[active] - pmf_a
        pmf[active] = pmf_a
        surv[active] = surv_a
        # pmf_a > 0 ends the loop even for u = 0, where the survival never drops below
        # the target in floating point
        active = active[(target[active] < surv_a) & (pmf_a > 0)]
    return count


def geometric_trials(p: Any, u: Any, xp: Any) -> Any:
    """Number of Bernoulli(``p``) trials up to and including the first success.

    By inversion, :math:`G = \\lfloor \\log(1-u) / \\log(1-p) \\rfloor + 1`; ``p = 0`` gives a
    huge number (never), ``p = 1`` gives 1.
    """
    p = xp.clip(xp.asarray(p, dtype=xp.float64), 0.0, 1.0)
    with _quiet(xp):
        g = xp.floor(xp.log1p(-u) / xp.log1p(-p)) + 1.0
    g = xp.where(p <= 0.0, 2.0**62, g)
    return xp.minimum(g, 2.0**62).astype(xp.int64)


def standard_normal(streams: Streams, purpose: str, week: int, rows: Any, draw: int) -> Any:
    """Standard normals by Box-Muller from draws ``draw`` and ``draw + 1``."""
    xp = streams.xp
    u1, u2 = streams.uniforms(purpose, week, rows, draw, 2)
    return _box_muller(u1, u2, xp)


def _box_muller(u1: Any, u2: Any, xp: Any) -> Any:
    radius = xp.sqrt(-2.0 * xp.log1p(-u1))
    # The angle in float32: its cosine is 30 times faster than float64's on the CPU,
    # and a relative error of 1e-7 in a variate is far below any simulated effect.
    angle = u2.astype(xp.float32)
    angle *= xp.float32(2.0 * math.pi)
    return radius * xp.cos(angle, out=angle)


def standard_gamma(
    shape: Any, streams: Streams, purpose: str, week: int, rows: Any, first_draw: int = 0
) -> Any:
    """Gamma(``shape``, 1) variates, one per row, by Marsaglia & Tsang (2000).

    Each attempt uses three numbered draws (two for a Box-Muller normal, one for the
    acceptance test); rows still pending after an attempt retry with the next three.
    Shapes below 1 use the boost :math:`G(a) = G(a+1) U^{1/a}` with one more draw.

    Parameters
    ----------
    shape : array of float
        Shape parameters (> 0), one per row.
    first_draw : int
        First draw index to use; the function uses at most 64 consecutive draws.

    References
    ----------
    Marsaglia, G. & Tsang, W. W. (2000). A simple method for generating gamma variables.
    ACM Transactions on Mathematical Software 26(3), 363-372.
    """
    xp = streams.xp
    rows = xp.asarray(rows)
    shape = xp.asarray(shape, dtype=xp.float64)
    small = xp.nonzero(shape < 1.0)[0]
    a = shape.copy()
    a[small] += 1.0
    d = a - 1.0 / 3.0
    c = xp.sqrt(9.0 * d)
    xp.reciprocal(c, out=c)
    out = xp.empty(shape.shape, dtype=xp.float64)
    pending = None  # every row, without gathering them
    draw = first_draw + 1  # first_draw is kept for the boost uniform
    last = first_draw + 64
    if last > DRAWS_PER_ROW:
        raise ValueError(f"first_draw: must leave 64 draws below {DRAWS_PER_ROW}")
    while pending is None or pending.size:
        if pending is None:
            at, d_at, c_at = rows, d, c
        else:
            at, d_at, c_at = rows[pending], d[pending], c[pending]
        if draw + 3 > last:
            # Acceptance is >= 95% per attempt, so 21 rejections in a row have
            # probability below 1e-27; finish with the (excellent) mean-matched value.
            out[pending] = d_at
            break
        u1, u2, u = streams.uniforms(purpose, week, at, draw, 3)
        z = _box_muller(u1, u2, xp)
        draw += 3
        v = c_at * z
        v += 1.0
        cube = v * v
        cube *= v
        with _quiet(xp):
            # log(1 - u) < z^2 / 2 + d (1 - v^3 + log v^3), with v > 0
            bound = xp.log(xp.maximum(cube, 1e-300))
            bound -= cube
            bound += 1.0
            bound *= d_at
            z *= z
            z *= 0.5
            bound += z
            ok = xp.log1p(-u) < bound
        ok &= v > 0
        value = cube
        value *= d_at
        if pending is None:
            out[...] = value
            pending = xp.nonzero(~ok)[0]
        else:
            out[pending[ok]] = value[ok]
            pending = pending[~ok]
    if small.size:
        u = streams.uniform(purpose, week, rows[small], first_draw)
        out[small] *= (1.0 - u) ** (1.0 / shape[small])
    return out


def _quiet(xp: Any) -> contextlib.AbstractContextManager[Any]:
    """Silence floating-point warnings of an expected edge case (log of 0, 0/0)."""
    errstate = getattr(xp, "errstate", None)
    if errstate is None:  # CuPy raises no floating-point warnings
        return contextlib.nullcontext()
    return errstate(divide="ignore", invalid="ignore")
