"""Simulating an arm: the accounts on the accrual basis add up, the segments seen at
launch, repurchase periods, and the residual value against the BG/NBD's closed form and
against simulating further."""

import numpy as np
import pytest
from scipy import stats

from loyaltylab.agents import default_population
from loyaltylab.agents.btyd import (
    expected_discounted_residual_transactions,
    expected_order_value,
    weekly_discount_rate,
)
from loyaltylab.experiments.arm import simulate_arm
from loyaltylab.experiments.residual import expected_discounted_orders, residual_window
from loyaltylab.policies import make
from loyaltylab.sim import Economics


@pytest.fixture(scope="module")
def points_arm():
    economics = Economics(fixed_cost_per_week=100.0)
    return simulate_arm(default_population(3000), [make("points")], economics, 4,
                        horizon_weeks=30, burn_in_weeks=5)


def test_accounts_add_up_on_the_accrual_basis(points_arm):
    c, weekly = points_arm.customers, points_arm.weekly
    assert weekly["week"].tolist() == list(range(1, 31))
    assert len(c) == 3000
    # per-customer sums match the weekly totals of the program's weeks, in both views
    for column in ("net_revenue", "program_cost", "program_cost_cash", "margin",
                   "margin_cash"):
        assert c[column].sum() == pytest.approx(weekly[column].sum()), column
    assert points_arm.fixed_cost == pytest.approx(3000.0)
    # accrual = cash + the expected redemption of the points still held (the liability)
    liability = weekly["points_liability"].iloc[-1]
    assert liability > 0
    assert (c["program_cost"] - c["program_cost_cash"]).sum() == pytest.approx(liability)
    assert weekly["cost_rewards"].sum() - weekly["cost_rewards_cash"].sum() == pytest.approx(
        liability)
    assert (c["margin_cash"] - c["margin"]).sum() == pytest.approx(liability)
    assert (c["pre_spend"] > 0).any()
    assert weekly["retention"].iloc[-1] == pytest.approx(c["active"].mean())
    # residuals only for the living; answers only from the active
    assert (c.loc[~c["alive"], "residual"] == 0).all()
    assert c["nps_answer"].notna().sum() == c["active"].sum()


def test_repurchase_periods_count_complete_periods(points_arm):
    c = points_arm.customers
    bought, repeat = c["periods_bought_13w"], c["periods_repeat_13w"]
    assert bought.max() <= 2 and (repeat <= bought).all()  # 30 weeks: two full quarters
    # bought twice in a quarter implies two purchases in the horizon
    assert (c.loc[repeat > 0, "purchases"] >= 2).all()


def test_segments_seen_at_launch_follow_the_trailing_year():
    outcome = simulate_arm(default_population(4000), [], Economics(), 2, horizon_weeks=4,
                           burn_in_weeks=52)
    c = outcome.customers
    assert c["segment_observed"].notna().all()
    seen = c["segment_observed"].astype(str)
    label = c["segment"].astype(str)
    # the firm's rules mostly agree with the latent labels of the heavy buyers, and a
    # dormant label is never seen as core. Measured: 93.8% of 10,000 core labels seen as
    # core (the demo); here 400 of them, binomial sd 1.2 points: 4 sd below is 0.88
    assert (seen[label == "core_loyal"] == "core_loyal").mean() > 0.88
    assert not ((label == "dormant") & (seen == "core_loyal")).any()
    none = simulate_arm(default_population(200), [], Economics(), 2, horizon_weeks=4)
    assert none.customers["segment_observed"].isna().all()


def test_expected_discounted_orders_by_hand():
    # hazard 0: lam * sum_k factor^k
    assert expected_discounted_orders(np.array([2.0]), np.array([0.0]), 0.9)[0] == (
        pytest.approx(2 * 0.9 / 0.1))
    # hazard h: lam (1 - e^-h)/h * factor / (1 - factor e^-h)
    h = 0.3
    want = 2 * (1 - np.exp(-h)) / h * 0.9 / (1 - 0.9 * np.exp(-h))
    assert expected_discounted_orders(np.array([2.0]), np.array([h]), 0.9)[0] == (
        pytest.approx(want))
    assert residual_window(52) == 26 and residual_window(26) == 13


#: Seeds of the residual studies: the residual's error has a part shared by a segment's
#: customers (its dropout factor and lift are estimated from the window's few dropouts),
#: so the error is measured across independent replications.
SEEDS = range(11, 19)


def _closed_form(spec, c, horizon, economics):
    """The BG/NBD's expected discounted residual transactions given each customer's
    history, times the Gamma-Gamma expected order value and the gross margin, at the
    program's start."""
    delta = weekly_discount_rate(economics.annual_discount_rate)
    x = c["purchases"].to_numpy(dtype=float)
    # the week of the last purchase: mid-week in continuous time; none since the start
    t_x = np.where(x > 0, horizon - c["weeks_since_purchase"].to_numpy() - 0.5, 0.0)
    closed = np.zeros(len(c))
    codes = c["segment"].cat.codes.to_numpy()
    gross = c["gross_revenue"].to_numpy()
    for k, segment in enumerate(spec.segments):
        rows = codes == k
        g, gg = segment.bgnbd, segment.gamma_gamma
        dert = expected_discounted_residual_transactions(
            x[rows], t_x[rows], float(horizon), g.r, g.alpha, g.a, g.b, delta)
        spend = gross[rows] / np.maximum(x[rows], 1)
        value = expected_order_value(spend, x[rows], gg.p, gg.q, gg.gamma)
        # orders within a week are discounted at its end: half a week more than
        # continuous discounting
        closed[rows] = dert * value * economics.gross_margin * np.exp(-delta / 2)
    return closed * np.exp(-delta * horizon)


@pytest.fixture(scope="module")
def residual_errors():
    """Per replication (20,000 customers, no program, 26 weeks): the mean residual minus
    the closed form, and minus the margin realised by continuing the same run for 20
    more years (plus that run's own, small, residual)."""
    spec, economics = default_population(20_000), Economics()
    errors = []
    for seed in SEEDS:
        short = simulate_arm(spec, [], economics, seed, horizon_weeks=26)
        long = simulate_arm(spec, [], economics, seed, horizon_weeks=26 + 1040)
        c = short.customers
        realised = long.customers["clv"] - c["margin_pv"]
        closed = _closed_form(spec, c, 26, economics)
        errors.append((c["residual"].mean() - realised.mean(),
                       c["residual"].mean() - closed.mean(), c["residual"].mean()))
    return np.array(errors)


def _t_bound(values: np.ndarray) -> float:
    """Half-width of the 99.9% t interval of the mean of ``values``."""
    return stats.t.ppf(0.9995, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))


def test_residual_matches_simulating_further(residual_errors):
    # measured: +0.1% +- 0.7% (6 replications of 40,000 customers, 40 more years)
    error, level = residual_errors[:, 0], residual_errors[:, 2]
    assert abs(error.mean()) < _t_bound(error), (error, level.mean())


def test_residual_matches_the_bgnbd_closed_form(residual_errors):
    error, level = residual_errors[:, 1], residual_errors[:, 2]
    assert abs(error.mean()) < _t_bound(error), (error, level.mean())


def test_a_one_off_coupon_is_not_extrapolated():
    """A launch coupon's cost is a one-off: the CLV effect at 26 weeks is close to the
    effect seen by simulating 5 years."""
    spec = default_population(20_000)
    coupon = make("coupons", min_spend=0.0, amount_off=0.0, pct_off=0.2, validity_weeks=4)
    effect = {}
    for weeks in (26, 260):
        base = simulate_arm(spec, [], Economics(), 5, horizon_weeks=weeks)
        arm = simulate_arm(spec, [coupon], Economics(), 5, horizon_weeks=weeks)
        effect[weeks] = (arm.customers["clv"] - base.customers["clv"]).to_numpy()
    # The coupon changes nothing once it has expired, so with the same customers and
    # the same luck both horizons give the same CLV effect up to rounding (measured:
    # -3.06 yuan at both); a residual that extrapolated the launch weeks' cost gave
    # -295 at 26 weeks.
    assert effect[26].mean() == pytest.approx(effect[260].mean(), rel=1e-9)
    assert -5.0 < effect[26].mean() < 0.0
