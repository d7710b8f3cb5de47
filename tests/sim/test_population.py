import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltylab.sim import (
    Population,
    add_at,
    common_rows,
    isin_rows,
    merge_rows,
    row_array,
    union_rows,
    unique_rows,
    without_rows,
)


def test_columns_rows_and_fill_values():
    pop = Population(np)
    pop.add_column("lam", np.float32)
    pop.add_column("alive", bool, True)
    rows = pop.append(2, lam=np.array([0.5, 0.25]))
    assert rows == slice(0, 2)
    pop.add_column("tier", np.int8, -1)
    pop.append(1, lam=np.array([1.0]))
    assert pop.n == 3 and len(pop) == 3
    assert pop["lam"].tolist() == [0.5, 0.25, 1.0]
    assert pop["alive"].tolist() == [True, True, True]
    assert pop["tier"].tolist() == [-1, -1, -1]
    assert pop.bytes_per_customer() == 4 + 1 + 1
    assert pop.nbytes == 3 * 6


def test_errors_name_the_column():
    pop = Population(np)
    pop.add_column("x", np.int16)
    with pytest.raises(ValueError, match="'x' exists"):
        pop.add_column("x", np.int16)
    with pytest.raises(KeyError, match="'y'"):
        pop["y"]
    with pytest.raises(KeyError, match="unknown columns"):
        pop.append(1, y=np.zeros(1))
    with pytest.raises(ValueError, match="k"):
        pop.append(-1)


@given(st.lists(st.integers(0, 40), max_size=12))
def test_appending_in_chunks_equals_one_append(chunks):
    values = np.arange(sum(chunks), dtype=np.int32)
    one, many = Population(np), Population(np)
    for pop in (one, many):
        pop.add_column("v", np.int32, 7)
    one.append(len(values), v=values)
    start = 0
    for k in chunks:
        rows = many.append(k, v=values[start : start + k])
        assert rows == slice(start, start + k)
        start += k
    np.testing.assert_array_equal(one["v"], many["v"])


@given(st.sets(st.integers(0, 200)), st.data())
def test_merging_disjoint_ascending_rows_keeps_them_ascending(rows, data):
    rows = np.array(sorted(rows), dtype=np.int64)
    more = np.array(sorted(data.draw(st.sets(st.sampled_from(rows.tolist()))) if rows.size
                    else []), dtype=np.int64)
    np.testing.assert_array_equal(merge_rows(np.setdiff1d(rows, more), more, np), rows)


@pytest.mark.parametrize("rows", [slice(1, 4), np.array([0, 2, 5]), np.arange(6) % 2 == 0])
def test_add_at_adds_once_per_row_as_plus_equals(rows):
    column = np.linspace(0.1, 0.6, 6)
    values = np.array([0.3, 0.7, 1.1])
    want = column.copy()
    want[rows] += values
    add_at(column, rows, values, np)
    np.testing.assert_array_equal(column, want)


def test_row_array_of_a_slice_a_mask_and_an_array():
    assert row_array(slice(3, 6), 10, np).tolist() == [3, 4, 5]
    assert row_array(slice(None), 4, np).tolist() == [0, 1, 2, 3]
    assert row_array(np.array([False, True, True]), 3, np).tolist() == [1, 2]
    assert row_array(np.array([4, 1]), 5, np).tolist() == [4, 1]


@settings(max_examples=80, deadline=None)
@given(a=st.sets(st.integers(0, 80)), b=st.sets(st.integers(0, 80)))
def test_set_operations_on_ascending_rows(a, b):
    rows, more = np.array(sorted(a), dtype=np.int64), np.array(sorted(b), dtype=np.int64)
    at_a, at_b = common_rows(rows, more, np)
    both = sorted(a & b)
    assert rows[at_a].tolist() == both and more[at_b].tolist() == both
    assert isin_rows(rows, more, np).tolist() == [r in b for r in sorted(a)]
    assert rows[without_rows(rows, more, np)].tolist() == sorted(a - b)
    assert union_rows(rows, more, np).tolist() == sorted(a | b)
    assert unique_rows(np.concatenate((more, rows, more)), np).tolist() == sorted(a | b)


def test_row_array_returns_arrays_of_rows_as_they_are():
    rows = np.array([3, 1, 2])
    assert row_array(rows, 10, np) is rows
    assert row_array(slice(2, 5), 10, np).tolist() == [2, 3, 4]
    assert row_array(np.array([True, False, True]), 3, np).tolist() == [0, 2]
