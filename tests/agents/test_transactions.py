from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltylab.agents import (
    TransactionError,
    net_returns,
    read_transactions,
    summarise,
    truncation_sign,
)
from loyaltylab.errors import InputError

DATA = Path(__file__).parents[2] / "data" / "cdnow_sample.csv"


def _log(rows):
    frame = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def test_same_day_purchases_merge_and_times_are_weeks_since_first_purchase():
    log = _log([
        ("a", "2024-01-01", 10.0), ("a", "2024-01-01", 5.0),   # one occasion worth 15
        ("a", "2024-01-15", 20.0), ("a", "2024-01-15", 4.0),   # repeat 1 worth 24
        ("a", "2024-01-22", 30.0),                              # repeat 2 worth 30
        ("b", "2024-01-08", 7.0),                               # one-off
        ("c", "2024-01-03", 1.0), ("c", "2024-02-20", 2.0),    # repeat after the end
    ])
    s = summarise(log, calibration_end="2024-01-29")
    a, b, c = s.loc["a"], s.loc["b"], s.loc["c"]
    assert a["frequency"] == 2 and a["transactions"] == 5
    assert a["recency"] == pytest.approx(3.0)          # 21 days
    assert a["T"] == pytest.approx(4.0)                # 28 days
    assert a["weeks_since_purchase"] == pytest.approx(1.0)
    assert a["total_spend"] == pytest.approx(69.0)
    assert a["repeat_spend"] == pytest.approx(54.0)
    assert a["mean_repeat_spend"] == pytest.approx(27.0)  # (24 + 30) / 2, first left out
    assert a["sd_repeat_spend"] == pytest.approx(18.0**0.5)  # (3^2 + 3^2) / (2 - 1)
    assert a["purchases_per_year"] == 3 and a["annual_spend"] == pytest.approx(69.0)
    assert b["frequency"] == 0 and b["recency"] == 0 and b["T"] == pytest.approx(3.0)
    assert np.isnan(b["mean_repeat_spend"]) and np.isnan(b["sd_repeat_spend"])
    # transactions after the end are ignored
    assert c["frequency"] == 0 and c["total_spend"] == 1.0
    assert c["T"] == pytest.approx(26 / 7)


def test_calibration_end_drops_later_customers_and_defaults_to_the_last_date():
    log = _log([("a", "2024-01-01", 1.0), ("a", "2024-01-08", 1.0),
                ("b", "2024-03-01", 1.0)])
    assert list(summarise(log, "2024-02-01").index) == ["a"]
    full = summarise(log)
    assert list(full.index) == ["a", "b"]
    assert full.loc["b", "T"] == 0.0
    assert full.loc["a", "T"] == pytest.approx(60 / 7)


def test_annual_figures_count_the_last_52_weeks_only():
    log = _log([("a", "2022-01-03", 100.0), ("a", "2023-06-01", 40.0),
                ("a", "2023-12-01", 60.0)])
    s = summarise(log, "2023-12-31").loc["a"]
    assert s["purchases_per_year"] == 2 and s["annual_spend"] == pytest.approx(100.0)
    assert s["total_spend"] == pytest.approx(200.0) and s["frequency"] == 2


def test_rfm_scores_are_quintiles_with_ties_kept_together():
    rows = [(f"c{i}", "2024-01-01", float(10 * (i + 1))) for i in range(10)]
    rows += [("c9", "2024-02-01", 5.0), ("c8", "2024-02-01", 5.0)]
    s = summarise(_log(rows), "2024-03-01")
    assert list(s.loc[[f"c{i}" for i in range(8)], "m_score"]) == [1, 1, 2, 2, 3, 3, 4, 4]
    assert list(s.loc[["c8", "c9"], "m_score"]) == [5, 5]
    # frequency: eight customers tie at 0 and share the lowest score
    assert set(s["f_score"]) == {1, 5} and (s["f_score"] == 1).sum() == 8
    # recency: the two who came back are the most recent
    assert list(s.loc[["c8", "c9"], "r_score"]) == [5, 5]
    assert s.loc["c9", "rfm"] == 555


def test_read_csv_with_dates_datetimes_and_compact_dates(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("cust,when,value,visits\n"
                    "1,1997-01-01,10.5,2\n"
                    "1,1997-01-01T18:30:00,4,\n"
                    "2,19970105,3.25,1\n"
                    "2,1997-02-01 09:00:00+02:00,0,0\n")
    log = read_transactions(path, customer_id="cust", date="when", amount="value",
                            interactions="visits")
    assert list(log.columns) == ["customer_id", "date", "amount", "interactions"]
    assert list(log["customer_id"]) == ["1", "1", "2", "2"]
    assert list(log["date"].dt.strftime("%Y-%m-%d %H:%M")) == [
        "1997-01-01 00:00", "1997-01-01 18:30", "1997-01-05 00:00", "1997-02-01 07:00"]
    assert list(log["interactions"]) == [2.0, 0.0, 1.0, 0.0]
    s = summarise(log, "1997-02-28")
    assert s.loc["1", "frequency"] == 0 and s.loc["1", "total_spend"] == 14.5
    assert s.loc["1", "interactions"] == 2.0
    assert s.loc["2", "interactions_per_month"] == pytest.approx(1 / (54 / 7) * 52 / 12)


def test_read_parquet(tmp_path):
    frame = pd.DataFrame({"customer_id": [7, 7, 8],
                          "date": pd.to_datetime(["2024-01-01", "2024-01-09", "2024-01-02"]),
                          "amount": [1.0, 2.0, 3.0]})
    path = tmp_path / "log.parquet"
    frame.to_parquet(path)
    log = read_transactions(path)
    assert list(log["customer_id"]) == ["7", "7", "8"]
    assert summarise(log).loc["7", "frequency"] == 1


def test_bad_rows_are_reported_by_row_number_and_reason(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("customer_id,date,amount\n"
                    "1,1997-01-01,10\n"
                    ",1997-01-02,10\n"
                    "3,1997-13-45,10\n"
                    "4,1997-01-04,-5\n"
                    "5,1997-01-05,\n"
                    "6,,abc\n"
                    "7,1997-01-07,12.5\n")
    with pytest.raises(TransactionError) as info:
        read_transactions(path, returns="error")
    assert info.value.errors == [
        "row 2: customer_id: missing",
        "row 3: date: cannot parse '1997-13-45'",
        "row 4: amount: negative (-5)",
        "row 5: amount: missing",
        "row 6: date: missing",
        "row 6: amount: not a number: 'abc'",
    ]
    assert isinstance(info.value, ValueError)
    assert "6 bad row(s)" in str(info.value) and "row 3: date" in str(info.value)


def test_long_error_lists_are_capped_in_the_message(tmp_path):
    path = tmp_path / "many.csv"
    path.write_text("customer_id,date,amount\n" + "".join(f"{i},someday,1\n" for i in range(25)))
    with pytest.raises(TransactionError) as info:
        read_transactions(path)
    assert len(info.value.errors) == 25
    message = str(info.value)
    assert "row 20: date: cannot parse 'someday'" in message
    assert "row 21:" not in message and "... and 5 more" in message


def test_missing_columns_and_unknown_formats(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("id,date,amount\n1,2024-01-01,1\n")
    with pytest.raises(TransactionError, match="customer_id: no column 'customer_id'"):
        read_transactions(path)
    assert len(read_transactions(path, customer_id="id")) == 1
    with pytest.raises(ValueError, match=r"csv or \.parquet"):
        read_transactions(tmp_path / "log.xlsx")


def test_a_log_without_purchases_is_refused(tmp_path):
    # (once: `loyaltylab calibrate --calibration-weeks` failed on its start date, NaT)
    path = tmp_path / "log.csv"
    path.write_text("customer_id,date,amount\n")
    with pytest.raises(TransactionError, match="no purchases: the file has a header and no"):
        read_transactions(path)
    path.write_text("customer_id,date,amount\na,2024-01-01,-5\n")
    with pytest.raises(TransactionError, match=r"every row is a return \(returns='drop'\)"):
        read_transactions(path, returns="drop")


def test_vendored_cdnow_sample():
    log = read_transactions(DATA)
    assert len(log) == 6919 and log["customer_id"].nunique() == 2357
    assert log["date"].min() == pd.Timestamp("1997-01-01")
    assert log["date"].max() == pd.Timestamp("1998-06-30")
    s = summarise(log, "1997-09-30")
    # FHL 2005: 2,357 customers, 946 repeat buyers, 2,457 repeat purchases in 39 weeks
    assert len(s) == 2357 and (s["frequency"] > 0).sum() == 946
    assert s["frequency"].sum() == 2457
    assert s["T"].max() == pytest.approx(272 / 7)


def test_dates_must_be_dates_and_columns_must_be_named_once(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("customer_id,date,amount\n1,today,5\n1,0001-01-01,5\n1,2024-01-01,5\n")
    with pytest.raises(TransactionError) as info:
        read_transactions(path)
    assert info.value.errors == ["row 1: date: cannot parse 'today'",
                                 "row 2: date: cannot parse '0001-01-01'"]
    path.write_text("customer_id,date,amount,amount\n1,2024-01-01,5,6\n")
    with pytest.raises(InputError, match=r"column\(s\) \['amount'\] appear more than once"):
        read_transactions(path)
    path.write_bytes("customer_id,date,amount\n1,2024-01-01,5\n".encode("utf-16"))
    with pytest.raises(InputError, match="not UTF-8 text"):
        read_transactions(path)


# ---------------------------------------------------------------------- returns
def test_a_return_nets_against_the_latest_purchase_on_or_before_it():
    log = _log([("a", "2024-01-01", 30), ("a", "2024-01-08", 20), ("a", "2024-01-08", -5),
                ("a", "2024-01-20", 10), ("b", "2024-01-03", 40), ("b", "2024-01-02", -4)])
    out = net_returns(log)
    # a's return of 5 comes off the 20 bought that day; b's return precedes any purchase
    assert out["amount"].tolist() == [30.0, 15.0, 10.0, 40.0]
    assert out["customer_id"].tolist() == ["a", "a", "a", "b"]
    assert "4 found no earlier purchase" in out.attrs["notes"][0]


def test_a_return_larger_than_its_basket_spills_to_earlier_purchases():
    log = _log([("a", "2024-01-01", 30), ("a", "2024-01-05", 10), ("a", "2024-01-06", -25),
                ("a", "2024-01-09", 7), ("b", "2024-01-01", 5), ("b", "2024-01-02", -9)])
    out = net_returns(log)
    # 10 from the basket of 01-05 (returned in full, so no longer a purchase), 15 from 01-01;
    # b returns 9 against 5 bought: the purchase goes and 4 find nothing to net against
    assert out["amount"].tolist() == [15.0, 7.0]
    note = out.attrs["notes"][0]
    assert "2 return line(s) worth 34" in note and "30 netted" in note
    assert "2 purchase(s) returned in full" in note and "4 found no earlier" in note


def test_returns_can_be_dropped_or_refused(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("customer_id,date,amount\n1,2024-01-01,10\n1,2024-01-02,-4\n"
                    "2,2024-01-01,0\n")
    net = read_transactions(path)
    assert net["amount"].tolist() == [6.0, 0.0] and net.attrs["notes"]
    dropped = read_transactions(path, returns="drop")
    assert dropped["amount"].tolist() == [10.0, 0.0]
    assert "left out (--returns drop)" in dropped.attrs["notes"][0]
    with pytest.raises(TransactionError, match=r"row 2: amount: negative \(-4\)"):
        read_transactions(path, returns="error")
    with pytest.raises(InputError, match="returns: expected one of net, drop, error"):
        read_transactions(path, returns="keep")


def _netted_one_by_one(log):
    """The netting rule customer by customer, purchase by purchase: each return onto the
    latest purchase on or before it, then what a purchase cannot absorb onto the one
    before, from the last purchase back."""
    kept = {}
    for customer, lines in log.groupby("customer_id", sort=False):
        buys = lines[lines["amount"] >= 0].sort_values("date", kind="stable")
        left = buys["amount"].tolist()
        for _, ret in lines[lines["amount"] < 0].iterrows():
            earlier = [k for k, d in enumerate(buys["date"]) if d <= ret["date"]]
            if earlier:
                left[earlier[-1]] += ret["amount"]
        for k in range(len(left) - 1, 0, -1):
            if left[k] < 0:
                left[k - 1] += left[k]
                left[k] = 0.0
        kept[customer] = sum(v for v, a in zip(left, buys["amount"], strict=True)
                             if v > 0 or a == 0)
    return pd.Series(kept, dtype=float)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 20),
                          st.integers(-50, 80).filter(lambda v: v != 0)),
                min_size=1, max_size=30))
def test_netting_agrees_with_netting_one_purchase_at_a_time(rows):
    log = _log([(c, pd.Timestamp("2024-01-01") + pd.Timedelta(days=d), float(v))
                for c, d, v in rows])
    out = net_returns(log)
    assert (out["amount"] > 0).all()
    assert out["date"].isin(log["date"]).all()
    kept = out.groupby("customer_id")["amount"].sum()
    expected = _netted_one_by_one(log)
    assert np.allclose(kept.reindex(expected.index, fill_value=0.0), expected, atol=1e-9)


def test_two_spilling_purchases_in_a_row_lose_nothing():
    # (once the spill of the last purchase was lost when the one before spilled too)
    log = _log([("a", "2024-01-01", 10), ("a", "2024-01-02", 5), ("a", "2024-01-03", 3),
                ("a", "2024-01-02", -10), ("a", "2024-01-03", -6)])
    assert net_returns(log)["amount"].tolist() == [2.0]


# ---------------------------------------------------------------------- truncation
def test_a_warm_up_makes_early_customers_existing_with_clocks_from_the_logs_start():
    log = _log([("a", "2024-01-01", 10), ("a", "2024-01-15", 20),   # first seen in week 1
                ("b", "2024-01-10", 5), ("b", "2024-01-24", 7),     # in week 2
                ("c", "2024-01-22", 8), ("c", "2024-01-29", 9)])    # week 4: new
    s = summarise(log, "2024-02-04", warm_up_weeks=2)
    assert s["existing"].tolist() == [True, True, False]
    assert s["truncation_weeks"].tolist() == [2.0, 2.0, 0.0]
    # existing: every occasion counts, times from the start of the log's first day
    assert s.loc["a", "frequency"] == 2 and s.loc["b", "frequency"] == 2
    assert s.loc["a", "recency"] == pytest.approx(14.5 / 7)
    assert s.loc["a", "T"] == pytest.approx(35 / 7) == s.loc["b", "T"]
    assert s.loc["b", "mean_repeat_spend"] == 6.0
    # new: as before, from the first purchase
    assert s.loc["c", "frequency"] == 1 and s.loc["c", "T"] == pytest.approx(13 / 7)
    assert s.loc["c", "mean_repeat_spend"] == 9.0
    plain = summarise(log, "2024-02-04")
    assert not plain["existing"].any() and (plain["truncation_weeks"] == 0).all()
    with pytest.raises(InputError, match="warm_up_weeks: 9 weeks reach past"):
        summarise(log, "2024-02-04", warm_up_weeks=9)


def test_a_cohort_log_does_not_look_truncated(cdnow, truncated_log):
    assert truncation_sign(cdnow) is None
    sign = truncation_sign(summarise(truncated_log["log"]))
    assert sign is not None and "consider --warm-up-weeks" in sign
