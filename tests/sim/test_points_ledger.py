from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltylab.sim import PointsLedger, Population
from loyaltylab.sim.points_ledger import COHORT_COLUMNS, DEVELOPMENT_WEEKS


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


def grouped_ledger(groups, expiry_weeks=None):
    """A ledger of ``len(groups)`` customers with a ``segment`` column of ``groups``."""
    pop = Population(np)
    pop.add_column("segment", np.uint8, 0)
    pop.append(len(groups), segment=np.array(groups, dtype=np.uint8))
    ledger = PointsLedger(pop)
    ledger.expiry_weeks = expiry_weeks
    return ledger


def cohort_table(ledger):
    """``{(award_week, group): (age, awarded, redeemed, expired, resolved)}``."""
    frame = ledger.cohorts()
    assert list(frame.columns) == list(COHORT_COLUMNS)
    return {(r.award_week, r.group): (r.age, r.awarded, r.redeemed, r.expired, r.resolved)
            for r in frame.itertuples()}


def test_hand_computed_award_cohorts_by_group():
    ledger = grouped_ledger([0, 1], expiry_weeks=3)
    c0, c1, both = np.array([0]), np.array([1]), np.array([0, 1])
    ledger.begin_week(1)
    ledger.earn(both, [100, 40])
    ledger.expire()
    ledger.begin_week(2)
    ledger.earn(both, [50, 60])
    ledger.earn(c0, [10])  # a second award the same week: check-in points
    ledger.expire()
    ledger.begin_week(3)
    ledger.redeem(c0, [130])  # all of week 1's 100, and 30 of week 2's first award
    ledger.expire()
    assert cohort_table(ledger) == {
        (1, 0): (2, 100, 100, 0, False), (1, 1): (2, 40, 0, 0, False),
        (2, 0): (1, 60, 30, 0, False), (2, 1): (1, 60, 0, 0, False),
    }
    ledger.begin_week(4)
    rows, lost = ledger.expire()  # week 1's awards: customer 1's 40 expire
    assert dict(zip(rows.tolist(), lost.tolist(), strict=True)) == {0: 0, 1: 40}
    ledger.begin_week(5)
    ledger.redeem(c1, [50])  # 50 of customer 1's 60 of week 2
    ledger.expire()  # week 2's awards: 30 of customer 0's, 10 of customer 1's
    assert ledger.expired == 40
    assert cohort_table(ledger) == {
        (1, 0): (3, 100, 100, 0, True), (1, 1): (3, 40, 0, 40, True),
        (2, 0): (3, 60, 30, 30, True), (2, 1): (3, 60, 50, 10, True),
    }
    assert (ledger.total_earned, ledger.total_redeemed, ledger.total_expired) == (260, 180, 80)
    ledger.check_balance()


def test_without_expiry_cohorts_leave_the_development_window_with_their_redemptions():
    ledger = grouped_ledger([0, 1])
    assert ledger.development_weeks == DEVELOPMENT_WEEKS == 52
    ledger.development_weeks = 2
    for week, redeem in enumerate([[0, 0], [50, 0], [60, 20], [0, 0]], start=1):
        ledger.begin_week(week)
        ledger.redeem(np.array([0, 1]), redeem)
        ledger.earn(np.array([0, 1]), [100, 30])
        assert ledger.expire()[0].size == 0
    # week 3 closed week 1 at age 2: customer 0 had redeemed 100 of its 100 by then,
    # customer 1 20 of its 30; week 4 closed week 2 (customer 0: 10, customer 1: 0)
    assert cohort_table(ledger) == {
        (1, 0): (2, 100, 100, 0, False), (1, 1): (2, 30, 20, 0, False),
        (2, 0): (2, 100, 10, 0, False), (2, 1): (2, 30, 0, 0, False),
        (3, 0): (1, 100, 0, 0, False), (3, 1): (1, 30, 0, 0, False),
        (4, 0): (0, 100, 0, 0, False), (4, 1): (0, 30, 0, 0, False),
    }


def test_a_missed_expiry_is_caught_up_with_its_cohort():
    ledger = grouped_ledger([0], expiry_weeks=1)
    ledger.begin_week(1)
    ledger.earn(np.array([0]), [10])
    ledger.begin_week(2)
    ledger.earn(np.array([0]), [5])
    ledger.begin_week(3)  # week 1's points were due to expire in week 2
    ledger.expire()
    assert ledger.expired == 15
    assert cohort_table(ledger) == {(1, 0): (2, 10, 0, 10, True), (2, 0): (1, 5, 0, 5, True)}


GROUPS = [0, 1, 1, 2]
week_events = st.tuples(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 120)), max_size=4),  # purchases
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 30)), max_size=3),  # check-ins
    st.lists(st.floats(0, 1), min_size=4, max_size=4),  # share of the balance redeemed
    st.booleans(),  # expire() is called this week
)


@settings(max_examples=60, deadline=None)
@given(expiry=st.one_of(st.none(), st.integers(1, 5)), weeks=st.lists(week_events, max_size=14))
def test_award_cohorts_match_explicit_lots(expiry, weeks):
    """Property: each cohort's points are awarded = redeemed + expired + outstanding, as a
    reference that keeps every award as a lot finds, and the cohorts add up to the ledger."""
    ledger = grouped_ledger(GROUPS, expiry_weeks=expiry)
    ledger.development_weeks = 3
    lots = [deque() for _ in GROUPS]  # [award week, points left]
    cohorts = {}  # (award week, group) -> [age, awarded, redeemed, expired, resolved]
    closed = set()
    for week, (purchases, checkins, shares, expire) in enumerate(weeks, start=1):
        ledger.begin_week(week)
        want = [int(s * sum(r for _, r in q)) for s, q in zip(shares, lots, strict=True)]
        ledger.redeem(np.arange(4), want)
        for who, points in enumerate(want):
            while points:
                lot = lots[who][0]
                take = min(points, lot[1])
                lot[1] -= take
                points -= take
                if (lot[0], GROUPS[who]) not in closed:  # later redemptions: not followed
                    cohorts[lot[0], GROUPS[who]][2] += take
                if not lot[1]:
                    lots[who].popleft()
        for awards in (dict(purchases), dict(checkins)):
            ledger.earn(np.array(sorted(awards), dtype=np.int64),
                        [awards[k] for k in sorted(awards)])
            for who, points in awards.items():
                if points:
                    lots[who].append([week, points])
                    entry = cohorts.setdefault((week, GROUPS[who]), [0, 0, 0, 0, False])
                    entry[1] += points
        if expire or week == len(weeks):  # the week's end
            ledger.expire()
            due = week - (ledger.development_weeks if expiry is None else expiry)
            for key, entry in cohorts.items():
                if key[0] <= due and key not in closed:
                    closed.add(key)
                    entry[0], entry[4] = week - key[0], expiry is not None
            if expiry is not None:
                for who, q in enumerate(lots):
                    while q and q[0][0] <= due:
                        cohorts[q[0][0], GROUPS[who]][3] += q.popleft()[1]
        ledger.check_balance()
    for key, entry in cohorts.items():
        if key not in closed:
            entry[0] = len(weeks) - key[0]
    got = cohort_table(ledger)
    assert got == {k: tuple(v) for k, v in cohorts.items() if v[1]}
    outstanding = {k: 0 for k in got}
    for who, q in enumerate(lots):
        for week, left in q:
            outstanding[week, GROUPS[who]] += left
    frame = ledger.cohorts()
    assert frame["awarded"].sum() == ledger.total_earned
    assert frame["expired"].sum() == ledger.total_expired
    if expiry is not None:  # every point is in a cohort: the cohorts add up to the ledger
        for (week, group), (_, awarded, redeemed, expired, resolved) in got.items():
            assert awarded == redeemed + expired + outstanding[week, group]
            assert not (resolved and outstanding[week, group])
        assert frame["redeemed"].sum() == ledger.total_redeemed
        assert sum(outstanding.values()) == ledger.outstanding
    else:  # redemptions after a cohort leaves the window are not followed
        assert frame["redeemed"].sum() <= ledger.total_redeemed
