"""Random assignment of a field trial."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltylab.experiments.field import assign


@given(
    segments=st.lists(st.integers(0, 3), min_size=1, max_size=300),
    weights=st.lists(st.integers(1, 5), min_size=2, max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
@settings(max_examples=100, deadline=None)
def test_assignment_follows_the_shares_within_every_segment(segments, weights, seed):
    segments = np.array(segments)
    shares = np.array(weights) / sum(weights)
    arms = assign(segments, shares, np.random.default_rng(seed))
    assert arms.min() >= 0 and arms.max() < len(shares)
    for s in np.unique(segments):
        counts = np.bincount(arms[segments == s], minlength=len(shares))
        expected = shares * (segments == s).sum()
        assert (np.abs(counts - expected) < 1).all()


def test_assignment_is_random_but_repeatable():
    segments = np.zeros(1000, dtype=int)
    a = assign(segments, [0.5, 0.5], np.random.default_rng(1))
    b = assign(segments, [0.5, 0.5], np.random.default_rng(1))
    c = assign(segments, [0.5, 0.5], np.random.default_rng(2))
    assert (a == b).all()
    assert (a != c).any()
    # no pattern by row: arm 0 takes about half of the first 500 rows (hypergeometric,
    # sd sqrt(500 x 0.25 x 500 / 999) = 7.9; the bound is 4 sd)
    assert abs(int((a[:500] == 0).sum()) - 250) < 32
