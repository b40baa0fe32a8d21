import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from nmf._cd_fast import cd_sweep, cd_sweep_csr
from nmf._sparse_fast import csr_times

from _builds import kernel_builds
from _guard import at_page_end
from _reference import hals_sweep

TOL = {np.float32: 1e-5, np.float64: 1e-12}


def _problem(dtype, n=30, k=4, m=20, seed=0):
    rng = np.random.default_rng(seed)
    W, H, X = (rng.random(s).astype(dtype) for s in [(n, k), (k, m), (n, m)])
    W[rng.random(W.shape) < 0.2] = 0          # some active bounds
    gram, cross = H @ H.T, X @ H.T
    for a in (gram, cross):
        a.setflags(write=False)                  # read-only input must be accepted
    return W, gram, cross


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_threads", [1, 4])
@pytest.mark.parametrize("order", [[0, 1, 2, 3], [2, 0, 3, 1]])
def test_cd_sweep_matches_reference(dtype, n_threads, order):
    W, gram, cross = _problem(dtype)
    expected, expected_violation = hals_sweep(W.astype(np.float64), gram, cross, order)
    violation = cd_sweep(W, gram, cross, np.array(order, dtype=np.intp), np.empty(30),
                         n_threads)
    assert W.dtype == dtype
    assert_allclose(W, expected, rtol=TOL[dtype], atol=TOL[dtype])
    assert violation == pytest.approx(expected_violation, rel=10 * TOL[dtype])


def test_cd_sweep_same_bits_for_any_thread_count():
    results = []
    for n_threads in (1, 2, 3, 8):
        W, gram, cross = _problem(np.float64, n=500, k=7, m=40, seed=1)
        violation = cd_sweep(W, gram, cross, np.arange(7, dtype=np.intp), np.empty(500),
                             n_threads)
        results.append((W, violation))
    for W, violation in results[1:]:
        assert_array_equal(W, results[0][0])
        assert violation == results[0][1]


def test_cd_sweep_skips_components_with_zero_curvature():
    W, gram, cross = _problem(np.float64)
    gram = gram.copy()
    gram[1, :] = gram[:, 1] = 0                # a dead component of the other factor
    before = W[:, 1].copy()
    cd_sweep(W, gram, cross, np.arange(4, dtype=np.intp), np.empty(30))
    assert_array_equal(W[:, 1], before)
    assert np.isfinite(W).all()


@pytest.mark.parametrize("bad, message", [
    (dict(gram=np.ones((3, 3))), "gram must have shape"),
    (dict(cross=np.ones((29, 4))), "cross must have 30 rows"),
    (dict(cross=np.ones((30, 3))), "at least 4 columns"),
    (dict(order=np.arange(3, dtype=np.intp)), "order must have 4 entries"),
    (dict(order=np.array([0, 1, 2, 4], dtype=np.intp)), "order must hold"),
    (dict(order=np.array([0, -1, 2, 3], dtype=np.intp)), "order must hold"),
    (dict(row_violation=np.empty(5)), "row_violation must have 30"),
])
def test_cd_sweep_rejects_wrong_shapes(bad, message):
    W, gram, cross = _problem(np.float64)
    args = dict(W=W, gram=gram, cross=cross, order=np.arange(4, dtype=np.intp),
                row_violation=np.empty(30))
    args.update(bad)
    with pytest.raises(ValueError, match=message):
        cd_sweep(**args)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("width", [5, 16])
def test_cd_sweep_reads_the_first_k_columns_of_a_padded_cross(dtype, width):
    """cross's rows may be longer than W's (padded to cache lines): its first k
    columns give the bits of the plain cross, whatever the padding holds."""
    W, gram, cross = _problem(dtype, n=70)
    padded = np.full((70, width), np.nan, dtype)
    padded[:, :4] = cross
    expected = W.copy()
    expected_violation = cd_sweep(expected, gram, cross, np.arange(4, dtype=np.intp),
                                  np.empty(70))
    for module in kernel_builds("_cd_fast"):
        for n_threads in (1, 2):
            swept = W.copy()
            violation = module.cd_sweep(swept, gram, padded, np.arange(4, dtype=np.intp),
                                        np.empty(70), n_threads)
            assert_array_equal(swept, expected)
            assert violation == expected_violation


def test_cd_sweep_rejects_mixed_dtypes_and_layouts():
    W, gram, cross = _problem(np.float64)
    order, buffer = np.arange(4, dtype=np.intp), np.empty(30)
    with pytest.raises((ValueError, TypeError)):
        cd_sweep(W.astype(np.float32), gram, cross, order, buffer)
    with pytest.raises((ValueError, TypeError)):
        cd_sweep(np.asfortranarray(W), gram, cross, order, buffer)
    with pytest.raises((ValueError, TypeError)):
        cd_sweep(W, gram, cross, order.astype(np.int32), buffer)



def _csr_problem(dtype, index_dtype, n, m, k, seed):
    """W, gram, X as CSR (unsorted, repeated indices; some empty rows) and Ht."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, m, density=0.3, format="csr", random_state=seed, dtype=np.float64)
    X.data = X.data.astype(dtype)
    X.indices, X.indptr = X.indices.astype(index_dtype), X.indptr.astype(index_dtype)
    for i in range(0, n, 3):                # shuffle some rows' entries
        span = slice(X.indptr[i], X.indptr[i + 1])
        perm = rng.permutation(X.indptr[i + 1] - X.indptr[i])
        X.data[span], X.indices[span] = X.data[span][perm], X.indices[span][perm]
    if X.nnz > 1:
        X.indices[1] = X.indices[0]         # a repeated index: both entries count
    W, Ht = rng.random((n, k)).astype(dtype), rng.random((m, k)).astype(dtype)
    W[rng.random(W.shape) < 0.2] = 0
    return W, (Ht.T @ Ht).astype(dtype), X, Ht


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("k", [1, 3, 10, 30, 33, 70])
@pytest.mark.parametrize("l1", [0.0, 0.3])
@pytest.mark.parametrize("n", [101, 1500])
def test_cd_sweep_csr_is_the_sweep_on_the_stored_cross_product(dtype, index_dtype, k, l1, n):
    """Summing X @ Ht block by block inside the sweep gives the bits of csr_times'
    X @ Ht, minus l1 as NumPy subtracts it, swept by cd_sweep: for every build, thread
    count and block shape (n = 101: a partial last block; 1500: blocks handed to the
    threads in several chunks, in whatever order they ask)."""
    W, gram, X, Ht = _csr_problem(dtype, index_dtype, n=n, m=23, k=k, seed=k)
    cross = np.empty((n, k), dtype)
    csr_times(X.data, X.indices, X.indptr, Ht, cross)
    cross -= l1
    order = np.random.default_rng(k).permutation(k).astype(np.intp)
    expected = W.copy()
    expected_violation = cd_sweep(expected, gram, cross, order, np.empty(n))
    for module in kernel_builds("_cd_fast"):
        for n_threads in (1, 2, 3):
            for checked in (False, True):        # indices tested, or checked beforehand
                swept = W.copy()
                violation = module.cd_sweep_csr(swept, gram, X.data, X.indices, X.indptr,
                                                Ht, l1, order, np.empty(n), n_threads,
                                                checked)
                assert_array_equal(swept, expected)
                assert violation == expected_violation


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k, widths", [(1, [2, 16]), (3, [4, 5, 16]), (10, [11, 16]),
                                       (30, [32, 40]), (33, [34, 48])])
def test_cd_sweep_csr_gathers_from_padded_rows(dtype, k, widths):
    """Ht's rows may be longer than W's (padded to cache lines): the gather reads
    their first k entries, whatever the padding holds: the bits of the plain Ht on
    every build, with Ht against an unreadable page (rows shorter than a vector are
    read a vector long where that stays inside Ht)."""
    W, gram, X, Ht = _csr_problem(dtype, np.int32, n=150, m=23, k=k, seed=k)
    order = np.arange(k, dtype=np.intp)
    expected = W.copy()
    expected_violation = cd_sweep_csr(expected, gram, X.data, X.indices, X.indptr, Ht,
                                      0.1, order, np.empty(150))
    for width in widths:
        padded = np.full((23, width), np.nan, dtype)
        padded[:, :k] = Ht
        guarded = at_page_end(padded)
        for module in kernel_builds("_cd_fast"):
            for operand in (padded, guarded):
                if operand is None:
                    continue                          # no guard pages here
                for n_threads, checked in [(1, False), (2, False), (1, True), (2, True)]:
                    swept = W.copy()
                    violation = module.cd_sweep_csr(swept, gram, X.data, X.indices,
                                                    X.indptr, operand, 0.1, order,
                                                    np.empty(150), n_threads, checked)
                    assert_array_equal(swept, expected)
                    assert violation == expected_violation


def test_cd_sweep_csr_empty_and_read_only_operands():
    W, gram, X, Ht = _csr_problem(np.float64, np.int32, n=10, m=6, k=3, seed=0)
    for a in (gram, X.data, X.indices, X.indptr, Ht):
        a.setflags(write=False)
    order = np.arange(3, dtype=np.intp)
    cd_sweep_csr(W, gram, X.data, X.indices, X.indptr, Ht, 0.0, order, np.empty(10))
    empty = sp.csr_array((10, 6))
    before = W.copy()
    cd_sweep_csr(W, gram, empty.data, empty.indices.astype(np.int32),
                 empty.indptr.astype(np.int32), Ht, 0.0, order, np.empty(10))
    assert np.isfinite(W).all() and (W <= before).all()     # no data: W only shrinks
    assert cd_sweep_csr(np.empty((0, 3)), gram, empty.data[:0], empty.indices[:0],
                        np.zeros(1, np.int32), Ht, 0.0, order, np.empty(0)) == 0.0


@pytest.mark.parametrize("change, message", [
    (dict(Ht=np.ones((6, 2))), "Ht must have at least 3 columns"),
    (dict(gram=np.ones((4, 4))), "gram must have shape"),
    (dict(row_violation=np.empty(9)), "row_violation must have 10"),
    (dict(order=np.array([0, 1, 3], dtype=np.intp)), "order must hold"),
    (dict(indptr=np.arange(10, dtype=np.int32)), "indptr must have 11 entries"),
    (dict(indices=np.zeros(1, dtype=np.int32)), "indices must have"),
    (dict(bad_index=6), r"indices must lie in \[0, 6\); 1 entries"),
    (dict(bad_index=-1), r"indices must lie in \[0, 6\); 1 entries"),
])
def test_cd_sweep_csr_rejects_bad_operands(change, message):
    W, gram, X, Ht = _csr_problem(np.float64, np.int32, n=10, m=6, k=3, seed=0)
    args = dict(W=W, gram=gram, data=X.data, indices=X.indices, indptr=X.indptr, Ht=Ht,
                l1=0.0, order=np.arange(3, dtype=np.intp), row_violation=np.empty(10))
    if "bad_index" in change:
        args["indices"] = X.indices.copy()
        args["indices"][4] = change.pop("bad_index")
    args.update(change)
    with pytest.raises(ValueError, match=message):
        cd_sweep_csr(**args)
