import numpy as np
import pytest
from scipy import stats

from loyaltylab.sim import Streams
from loyaltylab.sim.streams import DRAWS_PER_ROW, counter_uniforms, philox4x32_10, purpose_id


def test_dense_uniform_is_prefix_stable_so_growth_keeps_luck():
    s = Streams(5)
    small = s.dense_uniform("purchase", 3, 10).copy()
    large = Streams(5).dense_uniform("purchase", 3, 1000)
    np.testing.assert_array_equal(small, large[:10])
    assert small.dtype == np.float64
    assert s.dense_bytes("purchase", 3, 10).dtype == np.uint8


@pytest.mark.parametrize("start", [0, 1, 2, 7, 8, 9, 500, 999])
def test_dense_draws_of_later_rows_skip_the_earlier_ones_exactly(start):
    full = Streams(5).dense_uniform("interaction", 3, 1001)
    part = Streams(5).dense_uniform("interaction", 3, 1001, start=start)
    np.testing.assert_array_equal(part, full[start:])
    s = Streams(5)
    lead = s.dense_bytes("interaction", 3, 1001)  # cached: the same values again
    np.testing.assert_array_equal(s.dense_bytes("interaction", 3, 1001, start=start),
                                  lead[start:])
    np.testing.assert_array_equal(s.dense_uniform("interaction", 3, 1001, start=start), part)


def test_dense_values_complete_the_leading_byte():
    s = Streams(8)
    u = s.dense_uniform("purchase", 2, 5000)
    lead = s.dense_bytes("purchase", 2, 5000)
    np.testing.assert_array_equal(np.floor(u * 256).astype(np.uint8), lead)
    rows = np.array([4999, 3, 1200, 3])  # any order, repeats allowed
    np.testing.assert_array_equal(s.dense_values("purchase", 2, rows, lead[rows]), u[rows])


def test_dense_uniform_is_uniform_with_independent_bytes_and_fine_bits():
    u = Streams(2025).dense_uniform("purchase", 1, 200_000)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 0.001
    # within a byte's cell the fine part is uniform too, and independent of the byte
    fine = u * 256 - np.floor(u * 256)
    assert stats.kstest(fine, "uniform").pvalue > 0.001
    assert abs(np.corrcoef(fine, np.floor(u * 256))[0, 1]) < 4 / np.sqrt(u.size)


def test_counter_uniform_depends_only_on_row_week_purpose_draw():
    s = Streams(9)
    rows = np.array([4, 17, 99])
    alone = s.uniform("spend", 2, rows)
    among = s.uniform("spend", 2, np.arange(200))[rows]
    np.testing.assert_array_equal(alone, among)
    assert not np.array_equal(alone, s.uniform("spend", 3, rows))
    assert not np.array_equal(alone, s.uniform("dropout", 2, rows))
    assert not np.array_equal(alone, s.uniform("spend", 2, rows, draw=1))
    assert not np.array_equal(alone, Streams(10).uniform("spend", 2, rows))


def test_counter_uniform_is_uniform_and_independent_across_draws():
    s = Streams(2024)
    rows = np.arange(200_000)
    u0 = s.uniform("x", 1, rows, 0)
    u1 = s.uniform("x", 1, rows, 1)
    assert u0.min() >= 0.0 and u0.max() < 1.0
    assert stats.kstest(u0, "uniform").pvalue > 0.001
    # correlation of independent uniforms has standard error 1/sqrt(n)
    assert abs(np.corrcoef(u0, u1)[0, 1]) < 4 / np.sqrt(rows.size)


def test_same_seed_same_draws_and_entropy_recorded():
    a, b = Streams(123), Streams(123)
    assert a.entropy == 123
    np.testing.assert_array_equal(a.dense_uniform("p", 1, 50), b.dense_uniform("p", 1, 50))
    fresh = Streams(None)
    again = Streams(fresh.entropy)
    np.testing.assert_array_equal(
        fresh.uniform("p", 1, np.arange(5)), again.uniform("p", 1, np.arange(5))
    )


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="seed"):
        Streams(-1)
    with pytest.raises(ValueError, match="draw"):
        Streams(1).uniform("x", 1, np.arange(3), draw=256)
    with pytest.raises(ValueError, match="purpose"):
        purpose_id("")


# Philox4x32-10 known answers of Random123 (DEShawResearch/random123, tests/kat_vectors,
# commit 9545ff6): counter words, key words, the block.
PHILOX_KAT = [
    ((0x00000000, 0x00000000, 0x00000000, 0x00000000), (0x00000000, 0x00000000),
     (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF),
     (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize(("counter", "key", "block"), PHILOX_KAT)
def test_philox_matches_the_random123_known_answers(counter, key, block):
    assert philox4x32_10(counter, key) == list(block)  # every word a Python int
    # every word an array (which the generator only reads), and the mixed case of the
    # streams: the row word an array, the others constants
    arrays = [np.full(5, word, dtype=np.uint64) for word in counter]
    for words in (arrays, [arrays[0], *counter[1:]], [*counter[:3], arrays[3]]):
        got = philox4x32_10(words, key)
        for word, expected in zip(got, block, strict=True):
            assert word.dtype == np.uint64
            np.testing.assert_array_equal(word, np.full(5, expected, dtype=np.uint64))
    for array, word in zip(arrays, counter, strict=True):
        assert (array == word).all()
    # a pair of words alone (the last round computes each pair from one product)
    assert philox4x32_10(counter, key, halves=(False, True))[2:] == list(block[2:])


def _from_words(high, low, bits=53):
    return ((high << (bits - 32)) | (low >> (64 - bits))) * 2.0**-bits


def test_counter_uniforms_follow_the_documented_counter_layout():
    key = 0x0123456789ABCDEF
    rows = np.array([0, 7, 2**32 - 1, 2**32, 2**32 + 7, 3 * 2**40 + 12345])
    # draws 3 to 6 of all the rows, and of those below 2**32 alone (whose counters have
    # a constant high word, which the first two rounds use)
    for some in (rows, rows[:3]):
        got = counter_uniforms(key, 1, some, 3, 4)
        for i, row in enumerate(some.tolist()):
            for j, draw in enumerate(range(3, 7)):
                words = philox4x32_10((row % 2**32, row >> 32, draw // 2, 1),
                                      (key % 2**32, key >> 32))
                h = 2 * (draw % 2)
                assert got[j][i] == _from_words(words[h], words[h + 1])
    # the fine part of a dense draw: 45 bits of words 0 and 1 of block (row, 0, 0, 2)
    s = Streams(3)
    u = s.dense_uniform("purchase", 4, 50)
    fine_key = s._key("purchase", 4, 2)
    for row in (0, 17, 49):
        words = philox4x32_10((row, 0, 0, 2), (fine_key % 2**32, fine_key >> 32))
        lead = s.dense_bytes("purchase", 4, 50)[row]
        assert u[row] == (lead + _from_words(words[0], words[1], bits=45)) / 256


@pytest.mark.parametrize("first_draw", [0, 1, 2, 5, 250])
@pytest.mark.parametrize("k", [1, 2, 3, 4, 6])
def test_uniforms_share_blocks_but_equal_separate_calls(first_draw, k):
    if first_draw + k > DRAWS_PER_ROW:
        k = DRAWS_PER_ROW - first_draw
    s = Streams(11)
    rows = np.array([3, 0, 40_000, 3, 2**33 + 1])
    for some in (rows, rows[:4]):  # with a row beyond 2**32 and without
        together = s.uniforms("basket", 5, some, first_draw, k)
        assert len(together) == k
        for j, u in enumerate(together):
            alone = Streams(11).uniform("basket", 5, some, first_draw + j)
            np.testing.assert_array_equal(u, alone)


def test_counter_draws_do_not_depend_on_call_order_or_the_other_rows():
    rows = np.random.default_rng(1).permutation(100_000)[:40_000]  # across several chunks
    first = Streams(4)
    a = first.uniforms("dropout", 9, rows, 0, 3)
    b = first.uniform("spend", 9, rows)
    second = Streams(4)  # the other purpose first, draws in reverse, rows one by one
    np.testing.assert_array_equal(second.uniform("spend", 9, rows), b)
    for draw in (2, 1, 0):
        np.testing.assert_array_equal(second.uniform("dropout", 9, rows, draw), a[draw])
    some = rows[[5, 39_999, 17_000, 5]]
    for draw in range(3):
        alone = np.concatenate([second.uniform("dropout", 9, some[i:i + 1], draw)
                                for i in range(some.size)])
        np.testing.assert_array_equal(alone, a[draw][[5, 39_999, 17_000, 5]])
    # a row beyond 2**32 among the rows (the high counter word becomes an array) leaves
    # the other rows' draws as they were, and has its own
    big = np.array([2**32 + 5, 5, 2**32])
    u = second.uniform("dropout", 9, big)
    np.testing.assert_array_equal(u[1], second.uniform("dropout", 9, np.array([5]))[0])
    assert len(set(u.tolist()) | set(second.uniform("dropout", 9, np.array([0])).tolist())) == 4
    # shapes: any, empty included
    grid = second.uniform("dropout", 9, rows[:6].reshape(2, 3))
    assert grid.shape == (2, 3)
    np.testing.assert_array_equal(grid.ravel(), a[0][:6])
    assert second.uniform("dropout", 9, np.array([], dtype=np.int64)).shape == (0,)


_GOLDEN = 0x9E3779B97F4A7C15


def _splitmix_uniforms(key, rows, draw=0):
    """The previous generator: SplitMix64's finaliser of key + (row * 256 + draw) * golden."""
    z = (rows.astype(np.uint64) * np.uint64(256) + np.uint64(draw)) * np.uint64(_GOLDEN)
    z += np.uint64(key)
    z ^= z >> np.uint64(30)
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def test_streams_of_related_keys_are_not_shifted_copies():
    """Two keys 1000 rows apart along the golden-ratio sequence: with key + counter
    hashing the second stream is the first one shifted by 1000 rows; with Philox the two
    streams share no value (53-bit values of 2 x 100,000 independent draws coincide
    with probability 100,000**2 / 2**53 = 1e-6)."""
    rows = np.arange(100_000)
    key1 = 0x3C6EF372FE94F82B
    key2 = (key1 + 1000 * 256 * _GOLDEN) % 2**64
    old1, old2 = _splitmix_uniforms(key1, rows), _splitmix_uniforms(key2, rows)
    np.testing.assert_array_equal(old2[:-1000], old1[1000:])  # the flaw, detected
    assert np.intersect1d(old1, old2).size == rows.size - 1000
    for draw in (0, 1, 2):
        new1 = counter_uniforms(key1, 1, rows, draw, 1)[0]
        new2 = counter_uniforms(key2, 1, rows, draw, 1)[0]
        assert np.intersect1d(new1, new2).size == 0
        assert abs(np.corrcoef(new1[1000:], new2[:-1000])[0, 1]) < 4 / np.sqrt(rows.size)


def _pairs_of_streams(n):
    """Pairs of uniform streams at one seed that must be independent of each other."""
    s = Streams(2026)
    rows = np.arange(n)
    u = s.uniform("dropout", 3, rows)
    return {
        "purposes": (u, s.uniform("redemption", 3, rows)),
        "weeks": (u, s.uniform("dropout", 4, rows)),
        "draws in one block": (u, s.uniform("dropout", 3, rows, 1)),
        "draws in two blocks": (s.uniform("dropout", 3, rows, 1),
                                s.uniform("dropout", 3, rows, 2)),
        "sparse and dense": (u, s.dense_uniform("dropout", 3, n)),
    }


@pytest.mark.parametrize("pair", list(_pairs_of_streams(10)))
def test_streams_of_different_purposes_weeks_and_draws_are_independent(pair):
    n = 200_000
    a, b = _pairs_of_streams(n)[pair]
    # no value in common: independent 53-bit draws share one with probability 4e-6
    assert np.intersect1d(a, b).size == 0
    # correlation of independent uniforms: standard error 1 / sqrt(n)
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 / np.sqrt(a.size)
    # the joint distribution on 16 x 16 cells: chi-square with 255 degrees of freedom
    # (expected count 780 per cell); fails by chance with probability 1e-4
    cells = np.bincount((a * 16).astype(int) * 16 + (b * 16).astype(int), minlength=256)
    assert stats.chisquare(cells).pvalue > 1e-4
    for u in (a, b):
        assert u.min() >= 0.0 and u.max() < 1.0
        assert stats.kstest(u, "uniform").pvalue > 1e-4
