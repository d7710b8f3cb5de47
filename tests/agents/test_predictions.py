"""Customer-level predictions: each customer with his or her own segment's parameters."""

import numpy as np
import pandas as pd
import pytest

from loyaltylab.agents import (
    BGNBD,
    Calibration,
    GammaGamma,
    PopulationSpec,
    Segment,
    conditional_expected_purchases,
    expected_discounted_residual_transactions,
    expected_purchases,
    p_alive,
    predicted_clv,
    weekly_discount_rate,
)
from loyaltylab.errors import InputError

A = Segment(name="a", bgnbd=BGNBD(r=1.0, alpha=10.0, a=1.0, b=3.0),
            gamma_gamma=GammaGamma(p=2.0, q=3.0, gamma=10.0))
B = Segment(name="b", bgnbd=BGNBD(r=0.5, alpha=4.0, a=0.8, b=2.5),
            gamma_gamma=GammaGamma(p=4.0, q=5.0, gamma=40.0))


@pytest.fixture
def tiny():
    """Three customers, two segments, and a calibration that only assigns them."""
    summary = pd.DataFrame({"frequency": [2, 0, 0], "recency": [10.0, 0.0, 0.0],
                            "T": [20.0, 15.0, 30.0], "mean_repeat_spend": [20.0, np.nan, np.nan]},
                           index=pd.Index(["c1", "c2", "c3"], name="customer_id"))
    cal = Calibration(population=PopulationSpec(size=3, segments=[A, B], shares=[0.5, 0.5]),
                      segments=(), cohort_bgnbd=None, cohort_gamma_gamma=None,
                      assignment=pd.Series(["a", "b", "a"], index=summary.index), method="test")
    return summary, cal


def test_p_alive_by_hand(tiny):
    summary, cal = tiny
    got = p_alive(summary, cal)
    # c1 in a: odds of being dead a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)
    #        = 1/4 x (30 / 20)^3 = 0.84375; customers without a repeat purchase are alive
    assert got["c1"] == pytest.approx(1 / 1.84375, rel=1e-12)
    assert list(got[["c2", "c3"]]) == [1.0, 1.0] and got.name == "p_alive"


def test_expected_purchases_use_each_customers_segment(tiny):
    summary, cal = tiny
    got = expected_purchases(summary, cal, 26.0)
    for cid, seg in (("c1", A), ("c2", B), ("c3", A)):
        row = summary.loc[cid]
        assert got[cid] == pytest.approx(float(conditional_expected_purchases(
            26.0, row["frequency"], row["recency"], row["T"], **seg.bgnbd.model_dump())))
    assert (expected_purchases(summary, cal, 0.0) == 0).all()
    with pytest.raises(InputError, match="weeks"):
        expected_purchases(summary, cal, -1.0)


def test_predicted_clv_by_hand(tiny):
    summary, cal = tiny
    # expected next order: c1 p (gamma + m x) / (p x + q - 1) = 2 x 50 / 6; c2 the
    # segment mean p gamma / (q - 1) = 4 x 40 / 4; c3 2 x 10 / 2
    order = pd.Series({"c1": 100 / 6, "c2": 40.0, "c3": 10.0})
    horizon = predicted_clv(summary, cal, gross_margin=0.3, weeks=26.0)
    np.testing.assert_allclose(horizon, 0.3 * order * expected_purchases(summary, cal, 26.0))
    lifetime = predicted_clv(summary, cal, gross_margin=0.3, annual_discount_rate=0.1)
    dert = expected_discounted_residual_transactions(2, 10.0, 20.0, 1.0, 10.0, 1.0, 3.0,
                                                     weekly_discount_rate(0.1))
    assert lifetime["c1"] == pytest.approx(0.3 * order["c1"] * float(dert), rel=1e-12)
    assert lifetime["c1"] > horizon["c1"]  # a lifetime is longer than half a year
    with pytest.raises(InputError, match="annual_discount_rate"):
        predicted_clv(summary, cal, gross_margin=0.3, annual_discount_rate=0.0)
    with pytest.raises(InputError, match="gross_margin"):
        predicted_clv(summary, cal, gross_margin=1.5)


def test_bad_summaries(tiny):
    summary, cal = tiny
    with pytest.raises(InputError, match=r"did not assign.*'c9'"):
        p_alive(summary.rename(index={"c3": "c9"}), cal)
    with pytest.raises(InputError, match="recency"):
        p_alive(summary.drop(columns="recency"), cal)
    with pytest.raises(InputError, match="mean_repeat_spend"):
        predicted_clv(summary.drop(columns="mean_repeat_spend"), cal, gross_margin=0.3)
