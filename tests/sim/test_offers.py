"""Offers: dense fields built on first write, and arrays lent across weeks."""

import numpy as np
import pytest

from loyaltylab.sim import Offers


def test_a_lent_array_is_read_only_and_a_later_write_works_on_a_copy():
    kept = np.array([0.0, 0.5, 1.0], dtype=np.float32)
    offers = Offers(3, np)
    assert offers.lend("status", kept)
    np.testing.assert_array_equal(offers.status, kept)
    with pytest.raises(ValueError, match="read-only"):
        offers.status[0] = 1.0
    kept[0] = 0.25  # the lender keeps its array up to date
    assert offers.status[0] == 0.25
    offers.set_status(np.array([1]), 0.75)
    np.testing.assert_array_equal(offers.status, [0.25, 0.75, 1.0])
    np.testing.assert_array_equal(kept, [0.25, 0.5, 1.0])  # never written


def test_lending_to_a_set_field_lends_nothing():
    offers = Offers(2, np)
    offers.add_rebate(slice(None), 0.1)
    assert not offers.lend("rebate_share", np.zeros(2, dtype=np.float32))
    np.testing.assert_array_equal(offers.rebate_share, np.float32([0.1, 0.1]))
    with pytest.raises(ValueError, match="no dense offer field 'coupons'"):
        offers.lend("coupons", np.zeros(2))


def test_a_rebate_added_to_a_lent_rebate_leaves_the_lent_array_alone():
    kept = np.array([0.02, 0.0, 0.05], dtype=np.float32)
    offers = Offers(3, np)
    offers.lend("rebate_share", kept)
    offers.add_rebate(slice(None), np.array([0.1, 0.1, 0.2]))
    expected = kept.copy()
    expected += np.array([0.1, 0.1, 0.2])  # float32, as when adding to a field of its own
    np.testing.assert_array_equal(offers.rebate_share, expected)
    assert offers.rebate_share.dtype == np.float32
    np.testing.assert_array_equal(kept, np.float32([0.02, 0.0, 0.05]))
    offers.add_rebate(np.array([1]), 0.5)  # the field is its own array now
    assert offers.rebate_share[1] == np.float32(0.6)


def test_a_policy_publishes_under_a_name_of_its_own_and_a_term_reads_it():
    offers = Offers(3, np)
    assert offers.get("streak") is None and offers.get("streak", 0) == 0
    offers.publish("streak", np.array([1, 0, 2]))
    assert offers.get("streak").tolist() == [1, 0, 2]
    for taken in ("status", "coupons", "points", "publish"):
        with pytest.raises(ValueError, match="offer field"):
            offers.publish(taken, 1)


def test_a_lender_says_which_rows_changed():
    offers = Offers(3, np)
    offers.lend("status", np.zeros(3, dtype=np.float32), changed=np.array([2]))
    assert offers.changed("status").tolist() == [2]
    offers.lend("earn_multiplier", np.ones(3, dtype=np.float32))
    assert offers.changed("earn_multiplier") is None  # not recorded
    offers.add_rebate(slice(None), 0.1)
    assert offers.changed("rebate_share") is None  # written, not lent
