"""The expected value of a customer after the horizon (the residual of the CLV).

A customer alive at the horizon keeps buying. In the simulator's model (continuous-time
BG/NBD seen weekly) customer *i* places orders at rate :math:`\\lambda_i m` while alive
and drops out with weekly hazard :math:`h_i = \\lambda_i p_i d` (:mod:`loyaltylab.agents.
behaviour`), where :math:`m` and :math:`d` are what the program does to the order rate
and to the dropout hazard. Alive at the start of a week, the customer places
:math:`\\lambda_i m (1 - e^{-h_i}) / h_i` orders in it on average and is still alive at
its end with probability :math:`e^{-h_i}`. With the weekly discount factor
:math:`\\delta` the expected discounted orders after the horizon are

.. math::

    \\lambda_i m \\frac{1 - e^{-h_i}}{h_i} \\cdot \\frac{\\delta}{1 - \\delta e^{-h_i}},

and the residual is that times the recurring margin per order, brought back to the
program's start. This is the weekly-discounted counterpart of the BG/NBD's expected
discounted residual transactions, :math:`\\lambda/(\\lambda p + \\ln(1/\\delta))` for a
customer known to be alive (it differs by the half week of discount of orders placed
within a week); the tests check the cohort's mean against the closed form given each
customer's history (Fader, Hardie & Lee 2005) and against simulating further.

The program's steady effect is measured over the *residual window*, the second half of
the horizon and at most its last 26 weeks, per segment:

- ``lift`` (:math:`m`): orders placed / orders expected without a program;
- ``dropout_factor`` (:math:`d`): dropouts / dropouts expected without a program;
- ``margin_per_order``: (gross revenue x gross margin - recurring program cost) / orders,
  the program cost counted on the accrual basis (points at their expected redemption).

Costs of the launch (sign-up bonuses, welcome coupons, the first weeks' extra orders)
fall in the first half of the horizon and are not extrapolated; neither is the fixed
program cost, which no single customer causes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Most weeks of the residual window.
RESIDUAL_WINDOW_WEEKS = 26


def residual_window(horizon_weeks: int) -> int:
    """Weeks of the residual window: the second half of the horizon, at most 26.

    >>> residual_window(52), residual_window(26), residual_window(104)
    (26, 13, 26)
    """
    return max(1, min(RESIDUAL_WINDOW_WEEKS, horizon_weeks // 2))


def alive_share_of_week(hazard: np.ndarray) -> np.ndarray:
    """Expected share of a week a customer alive at its start spends alive,
    ``(1 - exp(-h)) / h`` for the weekly hazard ``h`` (1 without dropout).

    >>> alive_share_of_week(np.array([0.0, np.log(2)])).round(4).tolist()
    [1.0, 0.7213]
    """
    h = np.asarray(hazard, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(h > 1e-12, -np.expm1(-h) / h, 1.0 - h / 2)


def expected_discounted_orders(lam: np.ndarray, hazard: np.ndarray,
                               factor: float) -> np.ndarray:
    """Expected discounted orders after now of customers alive now, per unit of lift.

    ``lam``: weekly order rate; ``hazard``: weekly dropout hazard; ``factor``: weekly
    discount factor. Orders of week *k* after now are discounted by ``factor**k``.

    >>> float(expected_discounted_orders(np.array([1.0]), np.array([0.0]), 0.5)[0])
    1.0
    """
    h = np.asarray(hazard, dtype=np.float64)
    return lam * alive_share_of_week(h) * factor / (1.0 - factor * np.exp(-h))


@dataclass(frozen=True)
class WindowRates:
    """What the program does per segment, measured over the residual window.

    Attributes
    ----------
    lift, dropout_factor, margin_per_order : array
        Per segment (see the module docstring); 1, 1 and 0 where nothing was observed.
    """

    lift: np.ndarray
    dropout_factor: np.ndarray
    margin_per_order: np.ndarray


def base_exposure(lam: np.ndarray, p_drop: np.ndarray, weeks_alive: np.ndarray,
                  segment: np.ndarray, segments: int) -> tuple[np.ndarray, np.ndarray]:
    """Per segment, the orders and dropouts expected without a program over the weeks
    each customer started alive (``weeks_alive``).

    >>> orders, drops = base_exposure(np.array([1.0]), np.array([0.0]), np.array([3]),
    ...                               np.array([0]), 1)
    >>> float(orders[0]), float(drops[0])
    (3.0, 0.0)
    """
    lam = lam.astype(np.float64)
    h = lam * p_drop.astype(np.float64)
    weeks = weeks_alive.astype(np.float64)
    orders = np.bincount(segment, weights=weeks * lam * alive_share_of_week(h),
                         minlength=segments)
    dropouts = np.bincount(segment, weights=weeks * -np.expm1(-h), minlength=segments)
    return orders, dropouts


def window_rates(
    expected: tuple[np.ndarray, np.ndarray],
    orders: np.ndarray,
    dropouts: np.ndarray,
    recurring_margin: np.ndarray,
) -> WindowRates:
    """Per-segment lift, dropout factor and recurring margin per order of the window,
    from the orders and dropouts ``expected`` without a program
    (:func:`base_exposure`) and the window's observed ``orders``, ``dropouts`` and
    ``recurring_margin`` per segment."""
    expected_orders, expected_dropouts = expected
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where(expected_orders > 0, orders / expected_orders, 1.0)
        factor = np.where(expected_dropouts > 0, dropouts / expected_dropouts, 1.0)
        margin = np.where(orders > 0, recurring_margin / orders, 0.0)
    return WindowRates(lift=lift, dropout_factor=factor, margin_per_order=margin)


def residual_value(
    alive: np.ndarray, lam: np.ndarray, p_drop: np.ndarray, segment: np.ndarray,
    rates: WindowRates, factor: float, weeks_ahead: int,
) -> np.ndarray:
    """Expected present value at the program's start of each customer's margin after the
    horizon (0 for customers who have dropped out).

    ``weeks_ahead``: weeks from the program's start to the horizon.
    """
    hazard = lam.astype(np.float64) * p_drop * rates.dropout_factor[segment]
    orders = expected_discounted_orders(lam * rates.lift[segment], hazard, factor)
    value = orders * rates.margin_per_order[segment] * factor**weeks_ahead
    return np.where(alive, value, 0.0)
