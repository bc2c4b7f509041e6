"""The four-lane vector intrinsics against plain NumPy, lane by lane and bit for bit."""

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from lca._simd import add_store4, load4, mul_load4, scale4, store4, sum4


@njit(cache=False)
def _chain(a, b, out, acc, offset_a, offset_b, scale):
    v = load4(a, offset_a)
    v = mul_load4(v, b, offset_b)
    store4(out, 0, v)
    w = scale4(v, scale)
    add_store4(acc, offset_b, w)
    return sum4(v)


def test_intrinsics_equal_numpy_bit_for_bit():
    rng = np.random.default_rng(0)
    a = rng.uniform(-2, 2, 13)
    b = rng.uniform(-2, 2, (3, 8))  # a 2-D C array, flat offsets
    for offset_a, offset_b in [(0, 0), (3, 5), (9, 20)]:
        out = np.zeros(4)
        acc = rng.uniform(size=(3, 8))
        before = acc.copy()
        total = _chain(a, b, out, acc, offset_a, offset_b, 0.37)
        expected = a[offset_a : offset_a + 4] * b.ravel()[offset_b : offset_b + 4]
        np.testing.assert_array_equal(out, expected)
        flat = before.ravel().copy()
        flat[offset_b : offset_b + 4] += expected * 0.37
        np.testing.assert_array_equal(acc.ravel(), flat)  # only those four changed
        assert total == (expected[0] + expected[1]) + (expected[2] + expected[3])


def test_sum_order_is_pairwise():
    """(v0 + v1) + (v2 + v3): with these values the sequential order gives another result."""
    a = np.array([1e16, 1.0, -1e16, 1.0])
    total = _chain(a, np.ones(4), np.zeros(4), np.zeros(4), 0, 0, 1.0)
    assert total == (a[0] + a[1]) + (a[2] + a[3])
    assert total != ((a[0] + a[1]) + a[2]) + a[3]


def test_non_contiguous_or_non_float_arrays_are_refused():
    @njit(cache=False)
    def load(arr):
        return sum4(load4(arr, 0))

    assert load(np.arange(4.0)) == 6.0
    with pytest.raises(TypingError):
        load(np.arange(8.0)[::2])  # a strided view: flat offsets would be wrong
    with pytest.raises(TypingError):
        load(np.arange(4, dtype=np.float32))


def test_stores_refuse_read_only_arrays():
    @njit(cache=False)
    def write(arr):
        store4(arr, 0, load4(arr, 0))

    arr = np.arange(4.0)
    write(arr)
    arr.setflags(write=False)
    with pytest.raises(TypingError):
        write(arr)
