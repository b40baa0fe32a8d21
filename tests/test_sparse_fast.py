"""The compiled sparse products against dense NumPy, on every storage variant."""
import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

import nmf._sparse_fast as sparse_fast_module
from nmf._sparse_fast import csr_inner_lowrank, csr_t_times, csr_times

from _builds import kernel_builds
from _guard import at_page_end

TOL = {np.float32: 1e-5, np.float64: 1e-13}


def _csr_arrays(n_rows=37, n_cols=23, density=0.3, seed=0, dtype=np.float64,
                index_dtype=np.int32, shuffled=False, duplicates=False):
    """(data, indices, indptr) of a random matrix and the dense matrix they stand for."""
    rng = np.random.default_rng(seed)
    A = sp.random(n_rows, n_cols, density=density, format="csr", random_state=seed,
                  dtype=np.float64)
    data, indices, indptr = A.data.copy(), A.indices.copy(), A.indptr.copy()
    if duplicates:                      # repeat every third entry of each row
        rows = np.repeat(np.arange(n_rows), np.diff(indptr))
        extra = np.arange(0, len(data), 3)
        order = np.argsort(np.concatenate([rows, rows[extra]]), kind="stable")
        data = np.concatenate([data, rng.random(len(extra))])[order]
        indices = np.concatenate([indices, indices[extra]])[order]
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows[np.concatenate(
            [np.arange(len(rows)), extra])], minlength=n_rows))])
    if shuffled:                        # indices in no particular order within rows
        for i in range(n_rows):
            span = slice(indptr[i], indptr[i + 1])
            perm = rng.permutation(indptr[i + 1] - indptr[i])
            data[span], indices[span] = data[span][perm], indices[span][perm]
    dense = np.zeros((n_rows, n_cols))
    for i in range(n_rows):             # duplicates add up, as in scipy
        for p in range(indptr[i], indptr[i + 1]):
            dense[i, indices[p]] += data[p]
    return (data.astype(dtype), indices.astype(index_dtype), indptr.astype(index_dtype),
            dense.astype(dtype))


def _sorted_rows(data, indices, indptr):
    """Each row's entries sorted by index (repeated indices keep their order)."""
    for i in range(len(indptr) - 1):
        span = slice(indptr[i], indptr[i + 1])
        order = np.argsort(indices[span], kind="stable")
        data[span], indices[span] = data[span][order], indices[span][order]
    return data, indices, indptr


def _readonly(*arrays):
    for a in arrays:
        a.setflags(write=False)
    return arrays


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("variant", ["plain", "shuffled", "duplicates"])
@pytest.mark.parametrize("n_threads", [1, 3])
def test_products_match_dense(dtype, index_dtype, variant, n_threads):
    data, indices, indptr, A = _csr_arrays(
        dtype=dtype, index_dtype=index_dtype, shuffled=variant == "shuffled",
        duplicates=variant == "duplicates")
    rng = np.random.default_rng(1)
    F_cols, F_rows = (rng.random((s, 5)).astype(dtype) for s in A.shape[::-1])
    _readonly(data, indices, indptr, F_cols, F_rows)
    out = np.full((A.shape[0], 5), np.nan, dtype)       # stale contents are overwritten
    csr_times(data, indices, indptr, F_cols, out, n_threads)
    assert out.dtype == dtype
    assert_allclose(out, A.astype(np.float64) @ F_cols, rtol=TOL[dtype])
    out_t = np.full((A.shape[1], 5), np.nan, dtype)
    csr_t_times(data, indices, indptr, F_rows, out_t, n_threads)
    assert_allclose(out_t, A.T.astype(np.float64) @ F_rows, rtol=TOL[dtype])
    W, Ht = F_rows, F_cols
    inner = csr_inner_lowrank(data, indices, indptr, W, Ht, np.empty(A.shape[0]), n_threads)
    assert inner == pytest.approx(float(np.sum(A * (W @ Ht.T))), rel=TOL[dtype])


def test_scipy_agrees_on_duplicates_and_unsorted_indices():
    data, indices, indptr, A = _csr_arrays(shuffled=True, duplicates=True, seed=2)
    X = sp.csr_matrix((data, indices, indptr), shape=A.shape)
    assert not X.has_canonical_format
    F = np.random.default_rng(0).random((A.shape[1], 4))
    out = np.empty((A.shape[0], 4))
    csr_times(data, indices, indptr, F, out)
    assert_allclose(out, X @ F, rtol=1e-13)


def test_same_bits_for_any_thread_count():
    data, indices, indptr, A = _csr_arrays(n_rows=400, n_cols=300, density=0.1, seed=3)
    rng = np.random.default_rng(0)
    F_cols, F_rows = rng.random((300, 7)), rng.random((400, 7))
    results = []
    for n_threads in (1, 2, 3, 8):
        out, out_t = np.empty((400, 7)), np.empty((300, 7))
        csr_times(data, indices, indptr, F_cols, out, n_threads)
        csr_t_times(data, indices, indptr, F_rows, out_t, n_threads)
        inner = csr_inner_lowrank(data, indices, indptr, F_rows, F_cols, np.empty(400),
                                  n_threads)
        results.append((out, out_t, inner))
    for out, out_t, inner in results[1:]:
        assert_array_equal(out, results[0][0])
        assert_array_equal(out_t, results[0][1])
        assert inner == results[0][2]


def test_empty_rows_columns_and_matrix():
    data, indices, indptr = np.array([2.0]), np.array([1], np.int32), np.array(
        [0, 0, 1, 1], np.int32)                           # rows 0 and 2 empty
    F = np.arange(6.0).reshape(3, 2)
    out = np.full((3, 2), np.nan)
    csr_times(data, indices, indptr, F, out)
    assert_array_equal(out, [[0, 0], [4, 6], [0, 0]])
    out_t = np.full((3, 2), np.nan)
    csr_t_times(data, indices, indptr, F, out_t)
    assert_array_equal(out_t, [[0, 0], [4, 6], [0, 0]])
    empty = (np.empty(0), np.empty(0, np.int32), np.zeros(4, np.int32))
    csr_times(*empty, F, out)
    assert_array_equal(out, 0)
    csr_t_times(*empty, F, out_t, 4)
    assert_array_equal(out_t, 0)


@pytest.mark.parametrize("kernel", [csr_times, csr_t_times])
@pytest.mark.parametrize("k", [2, 100])    # 100: rows of several chunks in csr_times
def test_out_of_range_indices_raise(kernel, k):
    data, indices, indptr, A = _csr_arrays(n_rows=6, n_cols=5, density=0.5)
    for bad in (5, -1):
        wrong = indices.copy()
        wrong[2] = bad
        n_out, n_in = (6, 5) if kernel is csr_times else (5, 6)
        with pytest.raises(ValueError, match=r"indices must lie in \[0, 5\); 1 entries"):
            kernel(data, wrong, indptr, np.ones((n_in, k)), np.empty((n_out, k)))


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("n_threads", [1, 3])
def test_count_outside_counts_indices_below_zero_and_past_the_columns(index_dtype,
                                                                      n_threads):
    rng = np.random.default_rng(3)
    indices = rng.integers(-3, 12, size=5000).astype(index_dtype)
    for n_cols in (0, 1, 9, 12):
        expected = int(np.count_nonzero((indices < 0) | (indices >= n_cols)))
        assert sparse_fast_module.count_outside(indices, n_cols, n_threads) == expected
    assert sparse_fast_module.count_outside(indices[:0], 5, n_threads) == 0
    if index_dtype == np.int64:      # far outside either way, not wrapped into range
        far = np.array([2**40, -2**40, 4], np.int64)
        assert sparse_fast_module.count_outside(far, 5, n_threads) == 2


def test_inner_lowrank_out_of_range_index_raises():
    data, indices, indptr, A = _csr_arrays(n_rows=6, n_cols=5, density=0.5)
    indices[0] = 9
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 5\)"):
        csr_inner_lowrank(data, indices, indptr, np.ones((6, 2)), np.ones((5, 2)),
                          np.empty(6))


@pytest.mark.parametrize("change, message", [
    (dict(indptr=np.array([0, 2, 1, 3, 3, 3, 3], np.int32)), "indptr must be non-decreasing"),
    (dict(indptr=np.array([0, 1, 2], np.int32)), "indptr must have 7 entries"),
    (dict(indptr=np.array([0, 1, 2, 3, 4, 5, 99], np.int32)), r"indptr must run within"),
    (dict(indices=np.zeros(2, np.int32)), "indices must have"),
    (dict(out=np.empty((6, 3))), "out must have 2 columns"),
])
def test_malformed_structure_raises(change, message):
    data, indices, indptr, A = _csr_arrays(n_rows=6, n_cols=5, density=0.5)
    args = dict(data=data, indices=indices, indptr=indptr, factor=np.ones((5, 2)),
                out=np.empty((6, 2)))
    args.update(change)
    with pytest.raises(ValueError, match=message):
        csr_times(**args)


@pytest.mark.parametrize("kernel", [csr_times, csr_t_times])
@pytest.mark.parametrize("start, overlaps", [(0, True), (11, True), (12, False),
                                             (24, False)])
def test_output_overlapping_the_factor_is_rejected(kernel, start, overlaps):
    """out is refused when it shares memory with the factor (the same buffer, or one
    entry of it), and taken when it starts right after."""
    data, indices, indptr, A = _csr_arrays(n_rows=6, n_cols=6, density=0.5)
    buffer = np.ones(40)
    factor = buffer[:12].reshape(6, 2)
    out = buffer[start:start + 12].reshape(6, 2)
    if overlaps:
        with pytest.raises(ValueError, match="out must not overlap factor"):
            kernel(data, indices, indptr, factor, out)
    else:
        expected = (A if kernel is csr_times else A.T) @ factor
        kernel(data, indices, indptr, factor, out)
        assert_allclose(out, expected)


def test_mixed_dtypes_are_rejected():
    data, indices, indptr, A = _csr_arrays()
    with pytest.raises((TypeError, ValueError)):
        csr_times(data, indices, indptr, np.ones((23, 2), np.float32), np.empty((37, 2)))
    with pytest.raises((TypeError, ValueError)):
        csr_times(data, indices, indptr.astype(np.int64), np.ones((23, 2)),
                  np.empty((37, 2)))


def _in_order_gather(data, indices, indptr, F):
    """A @ F summed entry by entry in storage order, in F's precision: the order the
    kernel promises (sums held in registers, chunk by chunk, change nothing)."""
    out = np.zeros((len(indptr) - 1, F.shape[1]), F.dtype)
    for i in range(len(indptr) - 1):
        for p in range(indptr[i], indptr[i + 1]):
            out[i] = out[i] + data[p] * F[indices[p]]
    return out


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 7, 8, 9, 10, 13, 16, 17, 30, 31, 32, 33,
                               63, 64, 65, 100, 129])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_gather_bits_for_any_k_including_the_factors_last_rows(k, dtype, index_dtype):
    """Sums are held in chunks of up to 8 vectors (several chunks past 32 doubles or 64
    floats with AVX2, 16 and 32 without), a chunk's last vector overlapping the one
    before (or the chunk before: k = 33, 65); rows shorter than a vector are read whole
    vectors long where that stays inside the factor, the last columns through a padded
    copy. Every k and every column (the last ones included, dense rows here) give the
    in-order sum."""
    data, indices, indptr, _ = _csr_arrays(n_rows=19, n_cols=11, density=0.9, seed=k,
                                           dtype=dtype, index_dtype=index_dtype,
                                           shuffled=True, duplicates=True)
    F = np.random.default_rng(k).random((11, k)).astype(dtype)
    expected = _in_order_gather(data, indices, indptr, F)
    for module in kernel_builds("_sparse_fast"):
        for n_threads, checked in [(1, False), (2, False), (1, True), (2, True)]:
            out = np.full((19, k), np.nan, dtype)
            module.csr_times(data, indices, indptr, F, out, n_threads, checked)
            assert_array_equal(out, expected)


@pytest.mark.parametrize("n_cols, k", [(1, 1), (2, 3), (3, 1), (1, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gather_on_a_factor_smaller_than_one_vector(n_cols, k, dtype):
    """A factor with fewer entries than a vector holds: with AVX2 no factor row may be
    read in place one vector long, every one goes through the padded copy; the factor
    against an unreadable page, bad columns counted."""
    data, indices, indptr, _ = _csr_arrays(n_rows=9, n_cols=n_cols, density=1.0,
                                           seed=k, dtype=dtype, duplicates=True)
    F = np.random.default_rng(k).random((n_cols, k)).astype(dtype)
    guarded = at_page_end(F)
    if guarded is None:
        pytest.skip("no guard pages here")
    for module in kernel_builds("_sparse_fast"):
        out = np.full((9, k), np.nan, dtype)
        module.csr_times(data, indices, indptr, guarded, out, 2)
        assert_array_equal(out, _in_order_gather(data, indices, indptr, F))
        bad = indices.copy()
        bad[-1] = n_cols
        with pytest.raises(ValueError, match="1 entries do not"):
            module.csr_times(data, bad, indptr, guarded, out, 1)


@pytest.mark.parametrize("k", [1, 3, 7, 10, 30, 33, 65, 100])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gather_reads_and_writes_nothing_past_its_operands(k, dtype):
    """Rows shorter than a vector are read whole vectors long except near the factor's
    end, wider ones with overlapping vectors; with the factor, A's arrays and the
    output against unreadable pages, a vector read or written past one would crash."""
    data, indices, indptr, _ = _csr_arrays(n_rows=13, n_cols=7, density=1.0, seed=k,
                                           dtype=dtype)
    F = np.random.default_rng(k).random((7, k)).astype(dtype)
    guarded = [at_page_end(a) for a in (data, indices, F, np.empty((13, k), dtype))]
    if any(g is None for g in guarded):
        pytest.skip("no guard pages here")
    for module in kernel_builds("_sparse_fast"):
        for n_threads, checked in [(1, False), (2, False), (1, True), (2, True)]:
            out = guarded[3]
            out[...] = np.nan
            module.csr_times(guarded[0], guarded[1], indptr, guarded[2], out, n_threads,
                             checked)
            assert_array_equal(out, _in_order_gather(data, indices, indptr, F))


def _in_order_scatter(data, indices, indptr, F, n_cols):
    """A.T @ F, each output row receiving its entries one by one in storage order, in
    F's precision: the order the kernel promises."""
    out = np.zeros((n_cols, F.shape[1]), F.dtype)
    for i in range(len(indptr) - 1):
        for p in range(indptr[i], indptr[i + 1]):
            out[indices[p]] = out[indices[p]] + data[p] * F[i]
    return out


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 8, 9, 10, 12, 13, 16, 17, 20, 30, 31, 32,
                               33, 60, 63, 64, 65, 100, 127, 129, 200])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_scatter_bits_for_any_k(k, dtype, index_dtype):
    """A factor row is held in registers, output rows updated a vector at a time, the
    last k % width entries by a half or whole vector overlapping the one before
    (entries written twice with the same value), for k from one vector to eight (32
    doubles or 64 floats with AVX2); wider k by chunks of whole vectors, each a pass
    over A, the last taking the tail (AVX2 doubles: 63 = 32 + 31, 100 = 28 + 24 + 24 +
    24, 129 = 28 + 24 + 28 + 24 + 25); below a vector entry by entry. With AVX2 floats, 12, 20
    and 60 end on the longest half tail, 13 and 63 on the shortest whole one. Every k
    gives the in-order sum, repeated indices (one row updated twice in a row)
    included, on every build."""
    data, indices, indptr, _ = _csr_arrays(n_rows=19, n_cols=11, density=0.6, seed=k,
                                           dtype=dtype, index_dtype=index_dtype,
                                           shuffled=True, duplicates=True)
    F = np.random.default_rng(k).random((19, k)).astype(dtype)
    expected = _in_order_scatter(data, indices, indptr, F, 11)
    for module in kernel_builds("_sparse_fast"):
        for n_threads, checked in [(1, False), (2, False), (1, True), (2, True)]:
            out = np.full((11, k), np.nan, dtype)
            module.csr_t_times(data, indices, indptr, F, out, n_threads,
                               indices_checked=checked)
            assert_array_equal(out, expected)


@pytest.mark.parametrize("k", [1, 3, 10, 12, 30, 33, 60, 65])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scatter_reads_and_writes_nothing_past_its_operands(k, dtype):
    """With the factor and the output against unreadable pages, a vector read or
    written past either would crash this test."""
    data, indices, indptr, _ = _csr_arrays(n_rows=13, n_cols=7, density=1.0, seed=k,
                                           dtype=dtype)
    F = np.random.default_rng(k).random((13, k)).astype(dtype)
    guarded_F, out = at_page_end(F), at_page_end(np.zeros((7, k), dtype))
    if guarded_F is None or out is None:
        pytest.skip("no guard pages here")
    for module in kernel_builds("_sparse_fast"):
        for n_threads, checked in [(1, False), (2, False), (1, True), (2, True)]:
            module.csr_t_times(data, indices, indptr, guarded_F, out, n_threads,
                               indices_checked=checked)
            assert_array_equal(out, _in_order_scatter(data, indices, indptr, F, 7))


@pytest.mark.parametrize("k, widths", [(1, [2, 16]), (3, [4, 16]), (10, [11, 12, 16]),
                                       (12, [16]), (13, [14, 16]), (30, [31, 32, 40]),
                                       (70, [71, 72, 80])])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sorted_indices", [False, True])
def test_scatter_into_padded_rows(k, widths, dtype, sorted_indices):
    """An output with rows longer than the factor's (padded to cache lines, see
    nmf/_padding.py): its first k columns get the bits of the plain output, the rest
    zeros, on any build, parts and thread count; nothing is written past it. Where a
    row has room, the last k % W entries go as a whole vector into the padding (with
    AVX2: float32 k = 10 in 16, 13 in 14 or 16, 30 in 32, 70's second chunk in 72;
    float64 10 in 12 or 16), otherwise as before (float32 10 in 11 or 12, 30 in 31)."""
    data, indices, indptr, _ = _csr_arrays(n_rows=40, n_cols=17, density=0.4, seed=k,
                                           dtype=dtype, duplicates=True,
                                           shuffled=not sorted_indices)
    if sorted_indices:
        data, indices, indptr = _sorted_rows(data, indices, indptr)
    F = np.random.default_rng(k).random((40, k)).astype(dtype)
    expected = _in_order_scatter(data, indices, indptr, F, 17)
    for width in widths:
        guarded = at_page_end(np.empty((17, width), dtype))
        for module in kernel_builds("_sparse_fast"):
            for (n_threads, bounds), checked in itertools.product(
                    [(1, None), (2, None), (3, [0, 5, 5, 17])], [False, True]):
                out = np.full((17, width), np.nan, dtype) if guarded is None else guarded
                out[...] = np.nan
                bounds = None if bounds is None else np.asarray(bounds, np.intp)
                splits = (sparse_fast_module.scatter_row_splits(indices, indptr, bounds)
                          if sorted_indices and bounds is not None else None)
                module.csr_t_times(data, indices, indptr, F, out, n_threads,
                                   sorted_indices, bounds, splits, checked)
                assert_array_equal(out[:, :k], expected)
                assert_array_equal(out[:, k:], 0)


def test_scatter_rejects_an_output_narrower_than_the_factor():
    data, indices, indptr, _ = _csr_arrays(n_rows=6, n_cols=5, density=0.5)
    with pytest.raises(ValueError, match="out must have at least 3 columns like factor"):
        csr_t_times(data, indices, indptr, np.ones((6, 3)), np.empty((5, 2)))


def test_scatter_of_no_columns_zeroes_a_padded_output():
    data, indices, indptr, _ = _csr_arrays(n_rows=6, n_cols=5, density=0.5)
    out = np.full((5, 4), np.nan)
    csr_t_times(data, indices, indptr, np.ones((6, 0)), out)
    assert_array_equal(out, 0)


@pytest.mark.parametrize("k", [6, 70])              # one pass over A; chunks
@pytest.mark.parametrize("duplicates", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scatter_on_sorted_indices_gives_the_same_bits(duplicates, dtype, k):
    """sorted_indices=True finds each thread's entries by binary search (the first
    thread's without one): the same entries in the same order as testing every
    entry, for any thread count, rows of every length from empty up."""
    data, indices, indptr, A = _csr_arrays(n_rows=300, n_cols=97, density=0.2, seed=5,
                                           dtype=dtype, duplicates=duplicates)
    data, indices, indptr = _sorted_rows(data, indices, indptr)
    lengths = np.minimum(np.diff(indptr), np.arange(300) % 31)   # rows of 0 to 30
    keep = np.concatenate([np.arange(indptr[i], indptr[i] + lengths[i]) for i in range(300)])
    data, indices = data[keep], indices[keep]
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(indptr.dtype)
    A = np.zeros((300, 97), dtype)
    np.add.at(A, (np.repeat(np.arange(300), lengths), indices), data)
    F = np.random.default_rng(5).random((300, k)).astype(dtype)
    expected = np.empty((97, k), dtype)
    csr_t_times(data, indices, indptr, F, expected, 1, False)
    assert_allclose(expected, A.T.astype(np.float64) @ F, rtol=TOL[dtype])
    for n_threads in (1, 2, 3, 8, 200):
        out = np.full((97, k), np.nan, dtype)
        csr_t_times(data, indices, indptr, F, out, n_threads, True)
        assert_array_equal(out, expected)


@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("n_threads", [1, 3])
@pytest.mark.parametrize("k", [2, 100])            # one pass over A; several (chunks)
def test_scatter_on_sorted_indices_counts_out_of_range_entries(n_threads, k, split):
    indptr = np.array([0, 3, 5, 5, 8], np.int32)
    indices = np.array([-2, -1, 1, 0, 3, 2, 4, 4], np.int32)    # sorted within rows
    bounds = np.array([0, 1, 3, 4], np.intp)
    splits = sparse_fast_module.scatter_row_splits(indices, indptr, bounds) if split else None
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 4\); 4 entries"):
        csr_t_times(np.ones(8), indices, indptr, np.ones((4, k)), np.empty((4, k)),
                    n_threads, True, bounds if split else None, splits)


@pytest.mark.parametrize("n_threads", [1, 3])
@pytest.mark.parametrize("k", [2, 100])
def test_scatter_counts_out_of_range_entries_anywhere_in_a_row(n_threads, k):
    """Bad indices first or second of a pair, next to a repeated index, or last in
    a row are each counted once, on one thread or several, in one pass over A or in
    several (a wide factor goes by chunks of columns)."""
    indptr = np.array([0, 4, 7, 7, 12], np.int32)
    indices = np.array([-1, 2, 2, 9, 0, 4, 1, 3, 3, -5, 1, 4], np.int32)
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 4\); 5 entries"):
        csr_t_times(np.ones(12), indices, indptr, np.ones((4, k)), np.empty((4, k)),
                    n_threads)


def test_scatter_told_unsorted_indices_are_sorted_stays_inside_out():
    """A false sorted_indices=True gives a wrong product, never a write outside out."""
    data, indices, indptr, A = _csr_arrays(n_rows=50, n_cols=40, density=0.3, seed=6,
                                           shuffled=True)
    out = np.zeros((42, 3))
    csr_t_times(data, indices, indptr, np.ones((50, 3)), out[1:41], 3, True)
    assert_array_equal(out[[0, 41]], 0)
    assert np.isfinite(out).all()


@pytest.mark.parametrize("sorted_indices", [False, True])
@pytest.mark.parametrize("k", [3, 10, 70])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scatter_on_any_bounds_gives_the_same_bits(sorted_indices, k, dtype):
    """Parts of any sizes, empty ones and one holding every row included, on any
    number of threads (more parts than threads, or fewer): every output row gets its
    entries in storage order, so the bits of one thread on equal shares."""
    data, indices, indptr, A = _csr_arrays(n_rows=120, n_cols=61, density=0.25, seed=8,
                                           dtype=dtype, duplicates=True,
                                           shuffled=not sorted_indices)
    if sorted_indices:
        data, indices, indptr = _sorted_rows(data, indices, indptr)
    F = np.random.default_rng(8).random((120, k)).astype(dtype)
    expected = np.empty((61, k), dtype)
    csr_t_times(data, indices, indptr, F, expected, 1)
    rng = np.random.default_rng(9)
    all_bounds = [[0, 61], [0, 0, 61], [0, 61, 61], [0, 1, 60, 61], [0, 30, 30, 30, 61]]
    all_bounds += [np.concatenate([[0], np.sort(rng.integers(0, 62, parts - 1)), [61]])
                   for parts in (2, 3, 5, 9)]
    for module in kernel_builds("_sparse_fast"):
        for bounds in all_bounds:
            bounds = np.asarray(bounds, np.intp)
            # sorted: also with each part's start in every row found beforehand
            splits = ([None, module.scatter_row_splits(indices, indptr, bounds)]
                      if sorted_indices else [None])
            # checked: the parts bounded by the splits (or out's ends) test no entry
            for n_threads, row_splits, checked in itertools.product(
                    (1, 2, 4), splits, (False, True)):
                out = np.full((61, k), np.nan, dtype)
                module.csr_t_times(data, indices, indptr, F, out, n_threads,
                                   sorted_indices, bounds, row_splits, checked)
                assert_array_equal(out, expected, err_msg=f"bounds {bounds}")


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_scatter_row_splits_are_each_rows_first_entry_past_each_bound(index_dtype,
                                                                      n_threads):
    """Checked against NumPy's searchsorted row by row: rows of every length from
    empty up, repeated indices, indices outside [0, n_cols) at the rows' ends, bounds
    with empty parts and parts past the last column."""
    data, indices, indptr, A = _csr_arrays(n_rows=200, n_cols=50, density=0.3, seed=11,
                                           index_dtype=index_dtype, duplicates=True)
    data, indices, indptr = _sorted_rows(data, indices, indptr)
    indices = indices.copy()
    indices[indptr[1:-1:7] - 1] = 50 + np.arange(len(indptr[1:-1:7]))   # last of a row
    indices[indptr[3:-1:5]] = -1                                        # first of a row
    indices = np.concatenate([indices[indptr[i]:indptr[i + 1]][:i % 17]
                              for i in range(200)]).astype(index_dtype)
    indptr = np.concatenate([[0], np.cumsum([min(i % 17, indptr[i + 1] - indptr[i])
                                             for i in range(200)])]).astype(index_dtype)
    for bounds in ([0, 50], [0, 25, 50], [0, 0, 0, 50], [0, 1, 17, 17, 49, 50],
                   [0, 50, 50]):
        bounds = np.asarray(bounds, np.intp)
        splits = sparse_fast_module.scatter_row_splits(indices, indptr, bounds, n_threads)
        assert splits.dtype == index_dtype and splits.flags.c_contiguous
        expected = np.array([[indptr[i] + np.searchsorted(indices[indptr[i]:indptr[i + 1]],
                                                          bound)
                              for i in range(200)] for bound in bounds[1:-1]],
                            dtype=index_dtype).reshape(len(bounds) - 2, 200)
        assert_array_equal(splits, expected, err_msg=f"bounds {bounds}")


def test_scatter_row_splits_edge_cases():
    splits = sparse_fast_module.scatter_row_splits
    no_entries = np.zeros(0, np.int32)
    assert splits(no_entries, np.zeros(1, np.int32), np.array([0, 2, 4])).shape == (1, 0)
    assert splits(no_entries, np.zeros(4, np.int32), np.array([0, 4])).shape == (0, 3)
    assert splits(no_entries.astype(np.int64), np.zeros(3, np.int64),
                  np.array([0, 1, 4])).tolist() == [[0, 0]]
    with pytest.raises(ValueError, match="indptr must have at least one entry"):
        splits(no_entries, np.zeros(0, np.int32), np.array([0, 4]))
    with pytest.raises(ValueError, match="bounds must have at least two entries"):
        splits(no_entries, np.zeros(2, np.int32), np.array([0]))
    with pytest.raises(ValueError, match="indptr must be non-decreasing"):
        splits(np.zeros(3, np.int32), np.array([0, 3, 1, 3], np.int32), np.array([0, 4]))


def test_scatter_rejects_row_splits_without_their_bounds_or_of_the_wrong_shape():
    indices, indptr = np.array([0, 3], np.int32), np.array([0, 2], np.int32)
    bounds = np.array([0, 2, 4], np.intp)
    good = sparse_fast_module.scatter_row_splits(indices, indptr, bounds)
    args = (np.ones(2), indices, indptr, np.ones((1, 2)), np.zeros((4, 2)), 2, True)
    with pytest.raises(ValueError, match="row_splits needs the bounds it was made for"):
        csr_t_times(*args, None, good)
    with pytest.raises(ValueError, match=r"row_splits must be \(1, 1\) for these bounds"
                                         r" and rows; got \(2, 1\)"):
        csr_t_times(*args, bounds, np.zeros((2, 1), np.int32))
    with pytest.raises(ValueError, match=r"row_splits must be \(2, 1\).*got \(1, 1\)"):
        csr_t_times(*args, np.array([0, 1, 3, 4], np.intp), good)


@pytest.mark.parametrize("k", [3, 10, 70])
def test_scatter_given_wrong_row_splits_stays_inside_its_parts(k):
    """Splits that are not those of the bounds (any integers, inside or outside the
    rows, decreasing) give a wrong product, never a write outside out or outside the
    entries of A."""
    data, indices, indptr, A = _csr_arrays(n_rows=80, n_cols=40, density=0.3, seed=12)
    data, indices, indptr = _sorted_rows(data, indices, indptr)
    rng = np.random.default_rng(12)
    bounds = np.array([0, 10, 20, 40], np.intp)
    for splits in (rng.integers(-10**6, 10**6, (2, 80)),
                   rng.integers(0, len(indices) + 1, (2, 80)),
                   np.full((2, 80), len(indices) + 5), np.full((2, 80), -3),
                   np.stack([indptr[1:], indptr[:-1]])):
        out = np.zeros((42, k))
        csr_t_times(data, indices, indptr, np.ones((80, k)), out[1:41], 3, True, bounds,
                    splits.astype(np.int32))
        assert_array_equal(out[[0, 41]], 0)
        assert np.isfinite(out).all()


@pytest.mark.parametrize("bounds, message", [
    ([0], "bounds must run from 0 to out's 4 rows"),
    ([1, 4], "bounds must run from 0 to out's 4 rows"),
    ([0, 2, 3], "bounds must run from 0 to out's 4 rows"),
    ([0, 3, 2, 4], "bounds must be non-decreasing; it drops at position 1"),
])
def test_scatter_rejects_bounds_that_do_not_split_out(bounds, message):
    out = np.zeros((4, 2))
    with pytest.raises(ValueError, match=message):
        csr_t_times(np.ones(2), np.array([0, 3], np.int32), np.array([0, 2], np.int32),
                    np.ones((1, 2)), out, 2, True, np.array(bounds, np.intp))


def _part_costs(indices, bounds, n_cols):
    counts = np.bincount(indices[(indices >= 0) & (indices < n_cols)], minlength=n_cols)
    cost = counts + sparse_fast_module.COLUMN_COST_ENTRIES
    return np.array([cost[a:b].sum() for a, b in zip(bounds[:-1], bounds[1:])])



@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("n_parts", [1, 2, 3, 7])
def test_scatter_bounds_share_the_entries_of_skewed_columns(index_dtype, n_parts):
    """Columns drawn with frequencies 1 / (j + 1): equal shares of the columns would
    leave nearly all the entries to the first part; the bounds share entries plus
    COLUMN_COST a column about evenly (every row counted: fewer entries than the
    sample size)."""
    rng = np.random.default_rng(3)
    n_rows, n_cols, per_row = 2000, 300, 30
    p = 1.0 / (np.arange(n_cols) + 1.0)
    indices = rng.choice(n_cols, size=n_rows * per_row, p=p / p.sum()).astype(index_dtype)
    indptr = np.arange(0, n_rows * per_row + 1, per_row).astype(index_dtype)
    bounds = sparse_fast_module.scatter_bounds(indices, indptr, n_cols, n_parts)
    assert bounds.dtype == np.intp and len(bounds) == n_parts + 1
    assert bounds[0] == 0 and bounds[-1] == n_cols and np.all(np.diff(bounds) >= 0)
    costs = _part_costs(indices, bounds, n_cols)
    # each part within one column's largest cost of an even share
    largest = (np.bincount(indices, minlength=n_cols).max()
               + sparse_fast_module.COLUMN_COST_ENTRIES)
    assert np.all(np.abs(costs - costs.sum() / n_parts) <= largest)
    equal = np.arange(n_parts + 1) * n_cols // n_parts
    if n_parts > 1:     # what the bounds are for
        assert _part_costs(indices, equal, n_cols).max() > 1.5 * costs.max()


def test_scatter_bounds_sample_rows_of_a_large_matrix():
    """Past the sample size only every s-th row is counted: still about even."""
    rng = np.random.default_rng(4)
    n_rows, n_cols, per_row = 40000, 500, 8      # 320000 entries: s = 4
    p = np.linspace(2.0, 0.1, n_cols)
    indices = rng.choice(n_cols, size=n_rows * per_row, p=p / p.sum()).astype(np.int32)
    indptr = np.arange(0, n_rows * per_row + 1, per_row).astype(np.int32)
    bounds = sparse_fast_module.scatter_bounds(indices, indptr, n_cols, 2)
    costs = _part_costs(indices, bounds, n_cols)
    assert abs(costs[0] - costs[1]) < 0.02 * costs.sum()


def test_scatter_bounds_edge_cases():
    bounds = sparse_fast_module.scatter_bounds
    no_entries = np.zeros(0, np.int32)
    # no entries: columns alone, equal shares
    assert bounds(no_entries, np.zeros(5, np.int32), 10, 2).tolist() == [0, 5, 10]
    assert bounds(no_entries, np.zeros(1, np.int32), 0, 3).tolist() == [0, 0, 0, 0]
    assert bounds(no_entries, np.zeros(1, np.int32), 4, 1).tolist() == [0, 4]
    # more parts than columns: some parts empty, still a split of out
    b = bounds(np.array([0, 1, 1], np.int32), np.array([0, 3], np.int32), 2, 5)
    assert b[0] == 0 and b[-1] == 2 and np.all(np.diff(b) >= 0) and len(b) == 6
    # entries outside [0, n_cols) are not counted (the product reports them)
    b = bounds(np.array([-7, 0, 9, 1], np.int32), np.array([0, 4], np.int32), 2, 2)
    assert b.tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="n_parts must be >= 1"):
        bounds(no_entries, np.zeros(1, np.int32), 4, 0)
    with pytest.raises(ValueError, match="indptr must have at least one entry"):
        bounds(no_entries, np.zeros(0, np.int32), 4, 2)
    with pytest.raises(ValueError, match="indptr must be non-decreasing"):
        bounds(np.zeros(3, np.int32), np.array([0, 3, 1, 3], np.int32), 4, 2)
