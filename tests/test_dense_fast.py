"""The dense kernels (X @ F, X.T @ F and F^T F on fused multiply-adds) against NumPy,
every variant this processor runs (AVX2, AVX-512), each alike."""
import importlib

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from nmf._cpu import has_avx2, has_avx512f, has_fma
from nmf._gram_fast import block_rows

from _builds import is_built
from _guard import at_page_end


def _variants():
    """The dense builds this processor runs (importing one it cannot run would stop
    the process with SIGILL)."""
    runs = {"_dense_fast": has_avx2() and has_fma(),
            "_dense_fast_avx512": has_avx512f() and has_fma()}
    return [importlib.import_module("nmf." + name) for name, runs_here in runs.items()
            if runs_here and is_built(name)]


VARIANTS = _variants()
pytestmark = pytest.mark.skipif(not VARIANTS, reason="no dense kernel in this build or"
                                " for this processor: BLAS computes the products")

TOL = {np.float32: 2e-6, np.float64: 1e-13}


def _product(X, transpose, factor):
    """The exact-enough reference: float64 NumPy."""
    X64 = X.astype(np.float64)
    return (X64.T if transpose else X64) @ factor.astype(np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("n, m, k", [(1, 1, 1), (3, 2, 1), (5, 7, 3), (37, 19, 4),
                                     (41, 300, 9), (300, 41, 17), (66, 130, 30),
                                     (129, 77, 64), (487, 301, 30)])
def test_products_match_numpy_and_do_not_depend_on_threads(dtype, order, transpose, n, m,
                                                           k):
    """Every tile shape: partial row tiles and panels, k below a vector, between whole
    vectors and at the widest handled; both layouts of X and both products; the same
    bits for any thread count and in every variant."""
    rng = np.random.default_rng(n * m * k)
    X = np.asarray(rng.random((n, m)), dtype=dtype, order=order)
    depth, rows = (n, m) if transpose else (m, n)
    factor = rng.random((depth, k)).astype(dtype)
    expected = _product(X, transpose, factor)
    results = []
    for dense_fast in VARIANTS:
        for n_threads in (1, 2, 3, 7):
            out = np.full((rows, k), np.nan, dtype)
            dense_fast.dense_times(X, transpose, factor, out, n_threads)
            assert_allclose(out, expected, rtol=TOL[dtype], atol=TOL[dtype] * depth)
            results.append(out)
    for out in results[1:]:
        assert_array_equal(out, results[0])


def _in_order_sums(A, factor):
    """A @ factor with each entry summed over the steps in order, one rounding a step:
    what a chain of fused multiply-adds gives when every product is exact."""
    terms = A[:, :, None] * factor[None, :, :]          # exact: powers of two
    return np.add.accumulate(terms, axis=1)[:, -1, :]    # left to right


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("rows, depth, k", [(7, 9, 3), (50, 300, 10), (487, 300, 13),
                                            (251, 133, 25), (250, 260, 30), (3301, 21, 10),
                                            (11000, 9, 3)])
def test_products_sum_each_entry_in_step_order(dtype, order, transpose, rows, depth, k):
    """Each result entry is one chain of fused multiply-adds over the steps in order,
    whatever the tile (4 or 6 rows), the blocks of rows and steps, the cols kernel's
    chunks of result rows (several, for a narrow factor, in the last two cases), the
    padded last steps, the layout and the thread count. Powers of two of spread-out exponents make
    every product exact and every sum depend on the order of the terms."""
    rng = np.random.default_rng(rows * depth + k)
    A = np.ldexp(1.0, rng.integers(-30, 1, (rows, depth))).astype(dtype)
    factor = np.ldexp(1.0, rng.integers(-30, 1, (depth, k))).astype(dtype)
    expected = _in_order_sums(A, factor)
    X = np.asarray(A.T if transpose else A, order=order)
    for dense_fast in VARIANTS:
        for n_threads in (1, 2):
            out = np.full((rows, k), np.nan, dtype)
            dense_fast.dense_times(X, transpose, factor, out, n_threads)
            assert_array_equal(out, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("rows, depth, k", [(7, 9, 3), (487, 300, 13), (250, 260, 30),
                                            (3301, 21, 10), (203, 40, 64)])
def test_accumulated_products_continue_each_entry_in_step_order(dtype, order, transpose,
                                                                rows, depth, k):
    """accumulate=True adds a block of steps' sums to out, each entry's chain going on
    from out's value: the product in blocks of steps (X's row blocks when transposed)
    has the bits of the whole product, in every kernel, tail and thread count."""
    rng = np.random.default_rng(rows * depth + k + 1)
    A = np.ldexp(1.0, rng.integers(-30, 1, (rows, depth))).astype(dtype)
    factor = np.ldexp(1.0, rng.integers(-30, 1, (depth, k))).astype(dtype)
    expected = _in_order_sums(A, factor)
    X = np.asarray(A.T if transpose else A, order=order)
    cuts = [0, 1, depth // 3, depth // 3 + 5, depth]
    for dense_fast in VARIANTS:
        for n_threads in (1, 2, 3):
            out = np.full((rows, k), np.nan, dtype)
            for first, (s0, s1) in enumerate(zip(cuts, cuts[1:])):
                block = X[s0:s1] if transpose else X[:, s0:s1]
                dense_fast.dense_times(block, transpose, factor[s0:s1], out, n_threads,
                                       accumulate=first > 0)
            assert_array_equal(out, expected)
            before = out.copy()
            dense_fast.dense_times(X[:0] if transpose else X[:, :0], transpose,
                                   factor[:0], out, n_threads, accumulate=True)
            assert_array_equal(out, before)         # no steps: out as it was


@pytest.mark.parametrize("dense_fast", VARIANTS)
@pytest.mark.parametrize("transpose", [False, True])
def test_views_with_one_unit_stride_work_and_others_are_refused(dense_fast, transpose):
    rng = np.random.default_rng(0)
    big = rng.random((50, 40))
    X = big[5:45, 3:33]                    # rows 40 apart in memory, unit inner stride
    depth, rows = (40, 30) if transpose else (30, 40)
    factor = rng.random((depth, 6))
    out = np.empty((rows, 6))
    dense_fast.dense_times(X, transpose, factor, out)
    assert_allclose(out, _product(X, transpose, factor), rtol=1e-13)
    with pytest.raises(ValueError, match="contiguous along one axis"):
        dense_fast.dense_times(big[::2, ::2], transpose, factor[: (25 if transpose else 20)],
                               np.empty((20 if transpose else 25, 6)))


def _views_of_one_buffer():
    """(X, out) pairs cut from one buffer: apart, touching, one entry in common,
    reversed, transposed."""
    buffer = np.zeros(500)
    rows = buffer[:200].reshape(20, 10)
    return [
        (rows, buffer[200:260].reshape(20, 3)),              # right after X
        (rows, buffer[199:259].reshape(20, 3)),              # X's last entry
        (rows[::-1], buffer[200:260].reshape(20, 3)),        # X read backwards, apart
        (rows[::-1], buffer[150:210].reshape(20, 3)),
        (buffer[:200].reshape(10, 20).T, buffer[300:360].reshape(20, 3)),
        (buffer[:200].reshape(10, 20).T, buffer[0:60].reshape(20, 3)),
        (buffer[100:300].reshape(20, 10), buffer[40:100].reshape(20, 3)),  # just before
        (buffer[100:300].reshape(20, 10), buffer[41:101].reshape(20, 3)),
    ]


@pytest.mark.parametrize("dense_fast", VARIANTS)
@pytest.mark.parametrize("case", range(8))
def test_overlap_is_refused_exactly_where_numpy_sees_one(dense_fast, case):
    """The kernel's own test of out against X (nmf/_overlap.pxd, no ndarray made of
    either view) refuses what np.may_share_memory flags, and nothing else."""
    X, out = _views_of_one_buffer()[case]
    X[...] = np.arange(X.size).reshape(X.shape) % 7
    factor = np.ones((10, 3))
    if np.may_share_memory(X, out):
        with pytest.raises(ValueError, match="must not overlap"):
            dense_fast.dense_times(X, False, factor, out)
    else:
        expected = X @ factor
        dense_fast.dense_times(X, False, factor, out)
        assert_allclose(out, expected)


@pytest.mark.parametrize("dense_fast", VARIANTS)
def test_wrong_operands_are_refused(dense_fast):
    X, factor, out = np.ones((6, 4)), np.ones((4, 3)), np.empty((6, 3))
    with pytest.raises(ValueError, match="factor must have 4 rows"):
        dense_fast.dense_times(X, False, np.ones((5, 3)), out)
    with pytest.raises(ValueError, match=r"out must have shape \(6, 3\)"):
        dense_fast.dense_times(X, False, factor, np.empty((6, 2)))
    with pytest.raises(ValueError, match="at most"):
        wide = dense_fast.MAX_K + 1
        dense_fast.dense_times(X, False, np.ones((4, wide)), np.empty((6, wide)))
    with pytest.raises(ValueError, match="must not overlap"):
        buffer = np.ones((10, 3))
        dense_fast.dense_times(np.ones((10, 10)), False, buffer, buffer)
    with pytest.raises((TypeError, ValueError)):
        dense_fast.dense_times(X.astype(np.float32), False, factor, out)


@pytest.mark.parametrize("dense_fast", VARIANTS)
def test_empty_dimensions(dense_fast):
    out = np.full((3, 2), np.nan)
    dense_fast.dense_times(np.ones((3, 0)), False, np.ones((0, 2)), out)
    assert_array_equal(out, 0)
    dense_fast.dense_times(np.ones((0, 4)), False, np.ones((4, 2)), np.empty((0, 2)))


@pytest.mark.parametrize("dense_fast", VARIANTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("k", [1, 3, 10, 30])
def test_no_read_past_the_operands(dense_fast, dtype, order, transpose, k):
    """The kernels read factor rows and panels of X in whole vectors; next to an
    unreadable page, a read past either operand's end would crash this test."""
    rng = np.random.default_rng(k)
    X = np.asarray(rng.random((37, 70)), dtype=dtype, order=order)
    depth, rows = (37, 70) if transpose else (70, 37)
    factor = rng.random((depth, k)).astype(dtype)
    guarded_X, guarded_factor = at_page_end(X), at_page_end(factor)
    if guarded_X is None or guarded_factor is None:
        pytest.skip("no guard pages here")
    out = np.empty((rows, k), dtype)
    dense_fast.dense_times(guarded_X, transpose, guarded_factor, out, 2)
    assert_allclose(out, _product(X, transpose, factor), rtol=TOL[dtype],
                    atol=TOL[dtype] * depth)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("r, k", [(1, 1), (2, 3), (7, 5), (40, 8), (129, 17), (300, 30),
                                  (100, 64), (8191, 6), (8193, 13), (20000, 30)])
def test_gram_matches_numpy_and_does_not_depend_on_threads(dtype, r, k):
    """Tiles of every width (k up to the widest handled, rows of the last tile past k),
    blocks of rows (one, and just past one), the rows read entry by entry at the end;
    exactly symmetric; the same bits for any thread count and in every variant."""
    rng = np.random.default_rng(r * k)
    F = rng.random((r, k)).astype(dtype)
    F64 = F.astype(np.float64)
    expected = F64.T @ F64
    results = []
    for dense_fast in VARIANTS:
        for n_threads in (1, 2, 3):
            out = np.full((k, k), np.nan, dtype)
            assert dense_fast.gram(F, out, n_threads) is not None
            assert_allclose(out, expected, rtol=TOL[dtype], atol=TOL[dtype] * r)
            assert_array_equal(out, out.T)
            results.append(out)
    for out in results[1:]:
        assert_array_equal(out, results[0])


@pytest.mark.parametrize("dense_fast", VARIANTS)
def test_gram_sums_each_entry_in_row_order(dense_fast):
    """Each entry is one chain of fused multiply-adds over the rows in order, restarted
    at every block (nmf._gram_fast.block_rows: four of 2049 rows here), the blocks
    added in order. Terms 1 and 2^-54 show the order: 1 + 2^-54 rounds back to 1, four
    times 2^-54 make 2^-52, one ulp of 1."""
    k = 3
    F = np.zeros((8192 + 4, k))
    assert block_rows(len(F)) == 2049
    F[0] = 1.0
    F[1:5] = 2.0 ** -27       # in the first block's chain after the 1: each lost
    F[-4:] = 2.0 ** -27       # the last block's chain: 2^-52, added to the first's 1
    out = np.empty((k, k))
    dense_fast.gram(F, out, 1)
    # one chain over all rows would give 1; the small terms first, 1 + 2^-51
    assert_array_equal(out, np.full((k, k), 1.0 + 2.0 ** -52))


@pytest.mark.parametrize("dense_fast", VARIANTS)
def test_gram_operands(dense_fast):
    with pytest.raises(ValueError, match=r"out must have shape \(3, 3\)"):
        dense_fast.gram(np.ones((5, 3)), np.empty((3, 2)))
    with pytest.raises(ValueError, match="at most"):
        wide = dense_fast.MAX_K + 1
        dense_fast.gram(np.ones((2, wide)), np.empty((wide, wide)))
    with pytest.raises(ValueError, match="must not overlap"):
        buffer = np.ones((3, 3))
        dense_fast.gram(buffer, buffer)
    with pytest.raises((TypeError, ValueError)):
        dense_fast.gram(np.ones((5, 3), np.float32), np.empty((3, 3)))
    out = np.full((2, 2), np.nan)
    dense_fast.gram(np.ones((0, 2)), out)
    assert_array_equal(out, 0)
    dense_fast.gram(np.ones((4, 0)), np.empty((0, 0)))


@pytest.mark.parametrize("dense_fast", VARIANTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("r, k", [(1, 3), (37, 1), (37, 3), (37, 10), (37, 30),
                                  (8200, 5)])
def test_gram_reads_nothing_past_the_factor(dense_fast, dtype, r, k):
    """Rows are read in whole vectors, past their end into the next row; next to an
    unreadable page, a read past the factor's last row would crash this test."""
    F = np.random.default_rng(r + k).random((r, k)).astype(dtype)
    guarded = at_page_end(F)
    if guarded is None:
        pytest.skip("no guard pages here")
    out = np.empty((k, k), dtype)
    dense_fast.gram(guarded, out, 2)
    F64 = F.astype(np.float64)
    assert_allclose(out, F64.T @ F64, rtol=TOL[dtype], atol=TOL[dtype] * r)
