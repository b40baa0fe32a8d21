"""The parallel copies between a factor's layouts (nmf/_copy_fast.pyx)."""
import numpy as np
import pytest
from numpy.testing import assert_array_equal

from nmf import _copy_fast as copy_fast

BLOCK = copy_fast.BLOCK_ROWS
# Rows of 30 entries enough for three threads' shares.
MANY_ROWS = 3 * copy_fast.ENTRIES_PER_THREAD // 30 + 7


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (7, 1), (BLOCK, 3), (BLOCK + 1, 30),
                                   (3 * BLOCK - 5, 64), (MANY_ROWS, 30),     # tall
                                   (5, 2 * BLOCK + 3), (30, MANY_ROWS)])     # wide
@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_transposed_copy_is_the_transpose(dtype, shape, n_threads):
    A = np.random.default_rng(0).random(shape).astype(dtype)
    A.flags.writeable = False                     # read-only sources are fine
    out = np.full(shape[::-1], np.nan, dtype)
    assert copy_fast.transposed_copy(A, out, n_threads) is None
    assert_array_equal(out, A.T)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, width", [((1, 1), 1), ((5, 3), 8), ((BLOCK + 1, 30), 32),
                                          ((3 * BLOCK - 5, 10), 10), ((MANY_ROWS, 30), 32),
                                          ((MANY_ROWS, 30), 30)])
@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_copy_rows_fills_the_first_columns_and_leaves_the_padding(dtype, shape, width,
                                                                  n_threads):
    A = np.random.default_rng(1).random(shape).astype(dtype)
    out = np.full((shape[0], width), -7.0, dtype)
    assert copy_fast.copy_rows(A, out, n_threads) is None
    assert_array_equal(out[:, :shape[1]], A)
    assert (out[:, shape[1]:] == -7.0).all()


@pytest.mark.parametrize("copy", [copy_fast.transposed_copy, copy_fast.copy_rows])
def test_empty_arrays_copy_nothing(copy):
    for shape in [(0, 3), (3, 0), (0, 0)]:
        A = np.empty(shape)
        out = np.empty(shape[::-1] if copy is copy_fast.transposed_copy else shape)
        copy(A, out, 2)


def test_wrong_shapes_overlaps_and_layouts_are_refused():
    A = np.ones((6, 4))
    with pytest.raises(ValueError, match=r"out must have shape \(4, 6\), A's transposed"):
        copy_fast.transposed_copy(A, np.empty((6, 4)))
    with pytest.raises(ValueError, match="at least 4 columns like A"):
        copy_fast.copy_rows(A, np.empty((6, 3)))
    with pytest.raises(ValueError, match="must have 6 rows"):
        copy_fast.copy_rows(A, np.empty((5, 4)))
    square = np.ones((5, 5))
    with pytest.raises(ValueError, match="must not overlap"):
        copy_fast.transposed_copy(square, square)
    with pytest.raises(ValueError, match="must not overlap"):
        copy_fast.copy_rows(square[1:3], square[:2])
    with pytest.raises(ValueError, match="contiguous"):
        copy_fast.transposed_copy(np.asfortranarray(A), np.empty((4, 6)))
    with pytest.raises((ValueError, TypeError)):
        copy_fast.copy_rows(A, np.empty((6, 4), np.float32))   # another dtype
