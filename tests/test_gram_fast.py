"""The Gram kernel (nmf/_gram_fast.pyx): F.T @ F over fixed row blocks."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from nmf._gram_fast import MAX_BLOCK_ROWS, MIN_BLOCK_ROWS, block_rows, gram

BLOCK_ROWS = MAX_BLOCK_ROWS


@pytest.mark.parametrize("rows", [1, 7, 4 * MIN_BLOCK_ROWS - 1, 4 * MIN_BLOCK_ROWS, 20000,
                                  4 * BLOCK_ROWS, 4 * BLOCK_ROWS + 1, 13 * BLOCK_ROWS + 5])
@pytest.mark.parametrize("k", [1, 4, 13])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gram_matches_numpy_and_is_symmetric(rows, k, dtype):
    F = np.random.default_rng(rows + k).random((rows, k)).astype(dtype)
    out = np.full((k, k), np.nan, dtype)
    result = gram(F, out, 2)
    assert result.dtype == dtype
    assert_array_equal(result, out)
    assert_array_equal(out, out.T)
    reference = F.astype(np.float64).T @ F.astype(np.float64)
    assert_allclose(out, reference, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("rows, expected", [
    (0, 1), (1, 1), (2047, 2047),            # one block below four of MIN_BLOCK_ROWS
    (2048, 512), (2049, 513), (20000, 5000),  # four equal blocks up to 4 * 8192 rows
    (32768, 8192), (32769, 4097),             # then eight, at most 8192 rows each
    (61089, 7637), (65536, 8192), (65537, 5462)])
def test_block_rows_splits_evenly_in_a_multiple_of_four_blocks(rows, expected):
    """Blocks of equal size (the last one shorter by less than the block count), so
    that 1, 2 or 4 threads share the rows evenly; at most MAX_BLOCK_ROWS rows each."""
    assert block_rows(rows) == expected
    size = block_rows(rows)
    n_blocks = -(-rows // size)
    assert size <= MAX_BLOCK_ROWS or n_blocks == 1
    if n_blocks > 1:
        assert n_blocks % 4 == 0 and size >= MIN_BLOCK_ROWS
        assert rows - (n_blocks - 1) * size > size - n_blocks


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gram_bits_do_not_depend_on_the_thread_count(dtype):
    F = np.random.default_rng(0).random((5 * BLOCK_ROWS + 77, 9)).astype(dtype)
    results = [gram(F, np.empty((9, 9), dtype), n_threads).copy() for n_threads in (1, 2, 3, 8)]
    for result in results[1:]:
        assert_array_equal(result, results[0])


def test_gram_bits_do_not_depend_on_blas_threads():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    F = np.random.default_rng(1).random((3 * BLOCK_ROWS, 20))
    results = []
    for blas_threads in (1, 2):
        with threadpoolctl.threadpool_limits(blas_threads, user_api="blas"):
            results.append(gram(F, np.empty((20, 20)), 2))
    assert_array_equal(results[0], results[1])


def test_gram_of_no_rows_is_zero_and_no_columns_is_empty():
    out = np.full((3, 3), np.nan)
    assert_array_equal(gram(np.empty((0, 3)), out), np.zeros((3, 3)))
    assert gram(np.empty((5, 0)), np.empty((0, 0))).shape == (0, 0)


def test_gram_reads_F_only():
    F = np.random.default_rng(2).random((2 * BLOCK_ROWS + 3, 5))
    F.flags.writeable = False
    before = F.copy()
    gram(F, np.empty((5, 5)), 2)
    assert_array_equal(F, before)


@pytest.mark.parametrize("F, out, message", [
    (np.ones((4, 3)), np.empty((3, 2)), "out must have shape"),
    (np.ones((4, 3)), np.empty((2, 3)), "out must have shape"),
    (np.ones((4, 3), np.float32), np.empty((3, 3)), "dtype mismatch"),
    (np.ones((4, 3)).T.copy().T, np.empty((3, 3)), "contiguous"),
])
def test_gram_misuse_raises(F, out, message):
    with pytest.raises((ValueError, TypeError), match=message):
        gram(F, out)


def test_gram_refuses_an_out_overlapping_F():
    buffer = np.ones((9, 3))
    with pytest.raises(ValueError, match="overlap"):
        gram(buffer, buffer[:3])
