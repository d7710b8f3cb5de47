"""Per-customer values computed once, for joiners only, afresh for a new key."""

import numpy as np

from loyaltylab.agents import default_population
from loyaltylab.agents.row_cache import RowCache
from loyaltylab.sim import LoyaltyModel


def test_values_are_computed_for_new_rows_only_and_afresh_for_a_new_key():
    calls = []

    def compute(model, rows, key):
        calls.append((rows.start, rows.stop, key))
        return np.arange(rows.start, rows.stop, dtype=np.float32) * key

    model = LoyaltyModel(default_population(100), seed=1)
    cache = RowCache(compute)
    np.testing.assert_array_equal(cache.get(model, 2), np.arange(100) * 2)
    cache.get(model, 2)
    model.add_customers("basic", 5)
    np.testing.assert_array_equal(cache.get(model, 2), np.arange(105) * 2)
    np.testing.assert_array_equal(cache.get(model, 3), np.arange(105) * 3)
    assert calls == [(0, 100, 2), (100, 105, 2), (0, 105, 3)]
