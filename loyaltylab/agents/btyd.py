"""Closed forms of the BG/NBD model, the oracle the simulator is tested against.

Reference: Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers"
the easy way: an alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special


def expected_repeat_purchases(t: Any, r: float, alpha: float, a: float, b: float) -> Any:
    """Expected repeat purchases of a new customer in ``(0, t]`` (FHL 2005, eq. 7).

    .. math::

        E[X(t)] = \\frac{a+b-1}{a-1}\\left[1 - \\left(\\frac{\\alpha}{\\alpha+t}\\right)^r
        {}_2F_1\\left(r, b; a+b-1; \\frac{t}{\\alpha+t}\\right)\\right]

    Parameters
    ----------
    t : float or array
        Time since the first purchase, in the units of ``alpha`` (weeks here).
    r, alpha, a, b : float
        BG/NBD parameters (``a != 1``).

    Examples
    --------
    >>> round(float(expected_repeat_purchases(39, 0.243, 4.414, 0.793, 2.426)), 4)
    1.1967
    """
    t = np.asarray(t, dtype=float)
    z = t / (alpha + t)
    return (a + b - 1) / (a - 1) * (
        1 - (alpha / (alpha + t)) ** r * special.hyp2f1(r, b, a + b - 1, z)
    )


def probability_no_repeat(t: Any, r: float, alpha: float) -> Any:
    """Probability of no repeat purchase in ``(0, t]`` (FHL 2005, eq. 8 with x = 0).

    A customer who has not bought again has had no chance to drop out, so this is the
    NBD zero term :math:`(\\alpha / (\\alpha + t))^r`.
    """
    t = np.asarray(t, dtype=float)
    return (alpha / (alpha + t)) ** r
