"""Logs exported from a simulation: recording changes nothing, the export adds up, and a
no-program log read back and calibrated gives back the BG/NBD parameters."""

import numpy as np
import pandas as pd
import pytest

from loyaltylab.agents import (
    btyd_population,
    calibrate,
    default_population,
    read_transactions,
    summarise,
)
from loyaltylab.policies.coupons import CouponPolicy
from loyaltylab.sim import LoyaltyModel, simulate_logs
from loyaltylab.sim.logs import CAMPAIGN_COLUMNS, DAYS_PER_WEEK

COUPON = CouponPolicy(amount_off=50, min_spend=400, validity_weeks=4)


@pytest.fixture(scope="module")
def recorded():
    model = LoyaltyModel(default_population(5000), [COUPON], seed=3, record=True)
    model.run(20)
    return model


def test_recording_changes_nothing(recorded):
    plain = LoyaltyModel(default_population(5000), [COUPON], seed=3)
    plain.run(20)
    pd.testing.assert_frame_equal(recorded.weekly, plain.weekly)
    assert plain.logs is None
    with pytest.raises(ValueError, match="record=True"):
        plain.transaction_log()


def test_transaction_log_adds_up(recorded):
    log = recorded.transaction_log()
    weekly = recorded.weekly
    n = recorded.population.n
    assert list(log.columns) == ["customer_id", "date", "amount"]
    # one row per order, plus each customer's joining purchase
    assert len(log) == weekly["purchases"].sum() + n
    assert log["customer_id"].nunique() == n
    joining = log.groupby("customer_id").cumcount() == 0
    assert log.loc[~joining, "amount"].sum() == pytest.approx(weekly["net_revenue"].sum(),
                                                              rel=1e-6)
    assert (log["amount"] >= 0).all()
    # orders of a week on distinct days of that week
    assert not log.duplicated(["customer_id", "date"]).any()
    assert log.equals(recorded.transaction_log())  # reproducible


def test_campaign_log_matches_the_ledger(recorded):
    log = recorded.transaction_log()
    campaigns = recorded.campaign_log()
    weekly = recorded.weekly
    assert list(campaigns.columns) == list(CAMPAIGN_COLUMNS)
    assert len(campaigns) == weekly["coupons_issued"].sum()
    used = campaigns[campaigns["redeemed"].notna()]
    assert len(used) == weekly["coupons_redeemed"].sum()
    assert ((used["redeemed"] >= used["start"]) & (used["redeemed"] <= used["end"])).all()
    assert ((campaigns["end"] - campaigns["start"]).dt.days
            == 4 * DAYS_PER_WEEK - 1).all()
    # each redemption is on an order of the customer, worth at least the minimum spend
    orders = used.merge(log, left_on=["customer_id", "redeemed"],
                        right_on=["customer_id", "date"])
    assert len(orders) == len(used)
    assert (orders["amount"] + orders["amount_off"] >= orders["min_spend"] - 1e-3).all()
    assert orders["amount_off"].sum() == pytest.approx(weekly["discounts"].sum())


def test_exported_log_calibrates_back_to_the_truth(tmp_path):
    truth = {"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 4.0}
    log, _, _ = simulate_logs(btyd_population(20_000, **truth), weeks=52, seed=11)
    path = tmp_path / "transactions.csv"
    log.to_csv(path, index=False)
    summary = summarise(read_transactions(path))
    fit = calibrate(summary).cohort_bgnbd
    se = np.array([fit.se[k] for k in truth])  # from the fit's observed information
    estimate = np.array([fit.r, fit.alpha, fit.a, fit.b])
    z = (estimate - np.array(list(truth.values()))) / se
    assert np.all(np.abs(z) < 3), (estimate, se, z)
    assert np.all(se / estimate < 0.2)
