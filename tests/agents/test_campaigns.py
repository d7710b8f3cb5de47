"""Reading campaign files: a simulated campaign log reads back as written; bad rows are
listed with their number, field and reason."""

import pandas as pd
import pytest

from loyaltylab.agents import CampaignError, default_population, read_campaigns
from loyaltylab.errors import InputError
from loyaltylab.policies.coupons import CouponPolicy
from loyaltylab.sim import simulate_logs

HEADER = "customer_id,campaign,start,end,amount_off,pct_off,min_spend,redeemed\n"


def test_a_simulated_campaign_log_reads_back(tmp_path):
    coupons = CouponPolicy(amount_off=50, min_spend=400, validity_weeks=3)
    _, campaigns, _ = simulate_logs(default_population(2000), [coupons], weeks=6, seed=2)
    assert campaigns["redeemed"].notna().any()
    path = tmp_path / "campaigns.csv"
    campaigns.to_csv(path, index=False, date_format="%Y-%m-%d")
    back = read_campaigns(path)
    pd.testing.assert_frame_equal(back, campaigns, check_dtype=False)


def test_blank_discounts_count_zero(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("customer_id,campaign,start,end,pct_off\n"
                    "a,p10,2024-01-01,2024-01-14,0.1\n")
    back = read_campaigns(path)
    assert back.loc[0, ["amount_off", "min_spend"]].tolist() == [0.0, 0.0]
    assert back["redeemed"].isna().all()


def test_bad_rows_are_listed_by_row_field_and_reason(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER
                    + "a,x,2024-01-01,2024-01-14,50,,400,2024-01-05\n"   # fine
                    + ",x,2024-01-01,2024-01-14,50,,400,\n"              # no id
                    + "b,x,2024-01-14,2024-01-01,50,,400,\n"             # end < start
                    + "c,x,2024-01-01,2024-01-14,abc,,400,\n"            # amount
                    + "d,x,2024-01-01,2024-01-14,0,0,400,\n"             # no discount
                    + "e,x,2024-01-01,2024-01-14,500,,400,\n"            # threshold
                    + "f,x,2024-01-01,2024-01-14,50,,400,2024-02-01\n"   # late use
                    + "g,x,2024-13-01,2024-01-14,50,1.5,400,\n")         # date, pct
    with pytest.raises(CampaignError) as info:
        read_campaigns(path)
    assert isinstance(info.value, InputError)
    assert info.value.errors == [
        "row 2: customer_id: missing",
        "row 3: end: before start",
        "row 4: amount_off: not a number: 'abc'",
        "row 5: amount_off: amount_off or pct_off must be > 0",
        "row 6: min_spend: must be greater than amount_off",
        "row 7: redeemed: outside the coupon's start .. end",
        "row 8: start: cannot parse '2024-13-01'",
        "row 8: pct_off: must be below 1 (a share of the order)",
    ]
    assert str(path) in str(info.value)


def test_missing_columns_are_named(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("customer_id,start,end\na,2024-01-01,2024-01-02\n")
    with pytest.raises(CampaignError, match="campaign: no column 'campaign'") as info:
        read_campaigns(path)
    assert any("amount_off" in e for e in info.value.errors)
