"""The conditional-expectation diagnostic of BG/NBD against a holdout period."""

import matplotlib
import numpy as np
import pandas as pd
import pytest
from helpers import conditional_purchases_by_series

from loyaltylab.agents import (
    calibrate,
    conditional_expectation_table,
    conditional_expectation_table_from_log,
    expected_purchases,
    plot_conditional_expectations,
)
from loyaltylab.errors import InputError

#: FHL (2005) Figure 4 as tabulated by the BTYD package's CDNOW vignette: customers and
#: actual mean holdout purchases for calibration frequencies 0, 1, ..., 6, 7+.
CDNOW_GROUPS = [1411, 439, 214, 100, 62, 38, 29, 64]
CDNOW_ACTUAL = [0.2367, 0.6970, 1.3925, 1.5600, 2.5323, 2.9474, 3.8621, 6.3594]


def test_table_by_hand(cdnow):
    cal = calibrate(cdnow)
    summary = cdnow[cdnow["frequency"].isin([0, 1, 3, 9])].groupby("frequency").head(2)
    holdout = pd.Series([1, 4, 2], index=summary.index[[0, 2, 4]])  # the rest: 0
    table = conditional_expectation_table(summary, holdout, cal, 39.0, max_frequency=2)
    assert list(table.index) == ["0", "1", "2+"] and table.index.name == "frequency"
    assert list(table["customers"]) == [2, 2, 4]
    expected = [holdout.reindex(summary.index, fill_value=0).to_numpy()[i].mean()
                for i in (slice(0, 2), slice(2, 4), slice(4, 8))]
    np.testing.assert_allclose(table["actual"], expected)
    predicted = expected_purchases(summary, cal, 39.0).to_numpy()
    np.testing.assert_allclose(table["predicted"],
                               [predicted[:2].mean(), predicted[2:4].mean(), predicted[4:].mean()])
    np.testing.assert_allclose(table["difference"], table["predicted"] - table["actual"])
    with pytest.raises(InputError, match="max_frequency"):
        conditional_expectation_table(summary, holdout, cal, 39.0, max_frequency=0)
    with pytest.raises(InputError, match="holdout_weeks"):
        conditional_expectation_table(summary, holdout, cal, 0.0)


def test_cdnow_reproduces_the_published_diagnostic(cdnow_log, cdnow):
    cal = calibrate(cdnow)
    table = conditional_expectation_table_from_log(cdnow_log, "1997-09-30", "1998-06-30", cal)
    assert list(table.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert list(table["customers"]) == CDNOW_GROUPS
    # the published means have four decimals
    np.testing.assert_allclose(table["actual"], CDNOW_ACTUAL, atol=1e-4)
    # predicted means against the series of E[min(N, G)], customer by customer
    bg = cal.population.segments[0].bgnbd.model_dump()
    each = np.array([conditional_purchases_by_series(39.0, x, t_x, big_t, **bg) for x, t_x, big_t
                     in cdnow[["frequency", "recency", "T"]].itertuples(index=False)])
    group = np.minimum(cdnow["frequency"].to_numpy(), 7)
    np.testing.assert_allclose(table["predicted"],
                               [each[group == g].mean() for g in range(8)], rtol=1e-7)
    # as in the paper's Figure 4: close for one-time buyers (0.23 against 0.24), under
    # the actual means by up to 0.4 purchases for repeat buyers
    assert table.loc["0", "predicted"] == pytest.approx(0.225, abs=1e-3)
    assert (table["difference"] < 0).all() and (table["difference"] > -0.4).all()
    with pytest.raises(InputError, match="holdout_end"):
        conditional_expectation_table_from_log(cdnow_log, "1997-09-30", "1997-09-01", cal)


def test_plot_is_agg_safe(cdnow_log, cdnow, tmp_path):
    matplotlib.use("Agg")
    table = conditional_expectation_table_from_log(cdnow_log, "1997-09-30", "1998-06-30",
                                                   calibrate(cdnow))
    ax = plot_conditional_expectations(table)
    assert [len(line.get_xdata()) for line in ax.get_lines()] == [8, 8]
    ax.figure.savefig(tmp_path / "conditional.png")
    assert (tmp_path / "conditional.png").stat().st_size > 0
