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
