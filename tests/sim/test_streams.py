import numpy as np
import pytest
from scipy import stats

from loyaltylab.sim import Streams
from loyaltylab.sim.streams import purpose_id


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
