from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltylab.sim import PointsLedger, Population


def make_ledger(n, expiry_weeks=None):
    pop = Population(np)
    pop.add_column("alive", bool, True)
    pop.append(n)
    ledger = PointsLedger(pop)
    ledger.expiry_weeks = expiry_weeks
    return ledger


def test_hand_computed_fifo_expiry():
    ledger = make_ledger(1, expiry_weeks=2)
    row = np.array([0])
    ledger.begin_week(1)
    ledger.earn(row, [100])
    ledger.expire()
    ledger.begin_week(2)
    ledger.earn(row, [50])
    ledger.expire()
    ledger.begin_week(3)
    ledger.redeem(row, [120])  # burns week 1's 100 and 20 of week 2's 50
    ledger.expire()  # week 1's award: nothing left of it
    assert ledger.expired == 0 and int(ledger.balance(row)[0]) == 30
    ledger.begin_week(4)
    ledger.expire()  # week 2's award: its 30 remaining points expire
    assert ledger.expired == 30
    assert int(ledger.balance(row)[0]) == 0
    assert ledger.total_earned == 150 == ledger.total_redeemed + ledger.total_expired
    ledger.check_balance()


def test_two_awards_in_one_week_expire_together():
    ledger = make_ledger(2, expiry_weeks=1)
    ledger.begin_week(1)
    ledger.earn(np.array([0, 1]), [10, 5])
    ledger.earn(np.array([1]), [7])  # e.g. check-in points on top of purchase points
    ledger.begin_week(2)
    rows, lost = ledger.expire()
    assert dict(zip(rows.tolist(), lost.tolist(), strict=True)) == {0: 10, 1: 12}
    ledger.check_balance()


def test_cannot_redeem_more_than_balance_or_negative_points():
    ledger = make_ledger(1)
    ledger.earn(np.array([0]), [10])
    with pytest.raises(ValueError, match="balance"):
        ledger.redeem(np.array([0]), [11])
    with pytest.raises(ValueError, match=">= 0"):
        ledger.earn(np.array([0]), [-1])


@settings(max_examples=60, deadline=None)
@given(
    expiry=st.integers(1, 6),
    events=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 200), st.floats(0, 1)), min_size=1,
        max_size=40,
    ),
)
def test_ledger_matches_explicit_lots_and_balances_every_week(expiry, events):
    """Property: per-award FIFO expiry equals a reference that keeps every lot."""
    n = 4
    ledger = make_ledger(n, expiry_weeks=expiry)
    lots = [deque() for _ in range(n)]  # (week, remaining)
    for week, (who, earn, redeem_share) in enumerate(events, start=1):
        ledger.begin_week(week)
        ledger.earn(np.array([who]), [earn])
        if earn:
            lots[who].append([week, earn])
        want = int(redeem_share * sum(r for _, r in lots[who]))
        ledger.redeem(np.array([who]), [want])
        while want:
            take = min(want, lots[who][0][1])
            lots[who][0][1] -= take
            want -= take
            if lots[who][0][1] == 0:
                lots[who].popleft()
        ledger.expire()
        for q in lots:
            while q and q[0][0] <= week - expiry:
                q.popleft()
        expected = [sum(r for _, r in q) for q in lots]
        assert ledger.balance(np.arange(n)).tolist() == expected
        assert ledger.total_earned == (
            ledger.total_redeemed + ledger.total_expired + ledger.outstanding
        )
        ledger.check_balance()
