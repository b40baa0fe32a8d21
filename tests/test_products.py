import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from nmf import _products


@pytest.mark.parametrize("form", ["C", "F", "csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [4, 70])
def test_products_match_dense_numpy(form, dtype, k):
    """k=4: nmf's dense kernel where the processor has it; k=70: wider than it takes,
    BLAS."""
    rng = np.random.default_rng(0)
    X = rng.random((50, 30))
    X[X < 0.6] = 0
    W, Ht = rng.random((50, k)), rng.random((30, k))
    data = {"C": X, "F": np.asfortranarray(X), "csr": sp.csr_matrix(X),
            "csc": sp.csc_matrix(X)}[form].astype(dtype)
    W, Ht = W.astype(dtype), Ht.astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    out_n, out_m, out_k = (np.empty((50, k), dtype), np.empty((30, k), dtype),
                           np.empty((k, k), dtype))
    assert_allclose(_products.X_times(data, Ht, out=out_n), X @ Ht, rtol=tol)
    assert_allclose(_products.Xt_times(data, W, out=out_m), X.T @ W, rtol=tol)
    assert_allclose(_products.gram(W, out=out_k), W.T @ W, rtol=tol)
    residual = np.sum((X - W @ Ht.T) ** 2)
    assert_allclose(_products.squared_residual(data, W, Ht), residual, rtol=1e-4)


def test_squared_residual_of_an_exact_fit_is_zero():
    rng = np.random.default_rng(0)
    W, Ht = rng.random((20, 3)), rng.random((10, 3))
    assert _products.squared_residual(W @ Ht.T, W, Ht) < 1e-20
    assert _products.squared_residual(sp.csr_matrix(W @ Ht.T), W, Ht) < 1e-10


@pytest.mark.parametrize("form", ["csr", "csc"])
def test_squared_residual_of_a_close_float32_fit_of_sparse_X(form):
    """A residual of about 1e-4 of ||X||: float32 Grams lost it to rounding (the
    error came out 4.5 times too large, or as 0); float64 Grams keep it, for factors
    of more rows than one block of the conversion."""
    rng = np.random.default_rng(0)
    W = rng.random((30000, 5)) * (rng.random((30000, 5)) > 0.7)
    Ht = rng.random((300, 5)) * (rng.random((300, 5)) > 0.5)
    exact = W @ Ht.T
    X = (exact + 1e-4 * rng.random(exact.shape) * (exact > 0)).astype(np.float32)
    W32, Ht32 = W.astype(np.float32), Ht.astype(np.float32)
    expected = np.sum((X.astype(np.float64) - W32.astype(np.float64)
                       @ Ht32.astype(np.float64).T) ** 2)
    assert expected < 1e-7 * np.sum(X.astype(np.float64) ** 2)   # a close fit
    got = _products.squared_residual(sp.csr_matrix(X).asformat(form), W32, Ht32)
    assert_allclose(got, expected, rtol=1e-3)


def test_threads_only_past_the_work_threshold(monkeypatch):
    monkeypatch.setattr(_products, "MIN_WORK_PER_THREAD", 1000)
    assert _products.threads_for(999, 2) == 1
    assert _products.threads_for(2000, 2) == 2
    assert _products.threads_for(10**9, 2) == 2
    assert _products.threads_for(0, 4) == 1


class _RecordingKernel:
    """Stands in for a dense kernel module: records the threads each product gets."""
    MAX_K = 64

    def __init__(self):
        self.threads = []

    def dense_times(self, X, transpose, factor, out, n_threads):
        self.threads.append(n_threads)
        return out


def test_dense_kernel_threads_wait_for_more_work_next_to_blas(monkeypatch):
    kernel = _RecordingKernel()
    monkeypatch.setattr(_products, "MIN_WORK_PER_THREAD", 1_000_000)
    monkeypatch.setattr(_products, "dense_fast", kernel)
    monkeypatch.setattr(_products, "dense_cols_fast", kernel)
    X = np.zeros((1000, 1000))                 # 10 million multiply-adds at k = 10
    for transpose in (False, True):
        _products.product_function(X, transpose, 10, 2, next_to_blas=False)(None, None)
        _products.product_function(X, transpose, 10, 2)(None, None)   # the default
    # on their own, two threads; next to BLAS, 32 times the work is needed for them
    assert kernel.threads == [2, 1, 2, 1]
    assert _products.uses_blas(X, 70) and not _products.uses_blas(X, 10)


@pytest.mark.parametrize("blas", [False, True])
def test_cd_shares_threads_next_to_blas_only_when_its_products_use_it(monkeypatch, blas):
    from nmf import non_negative_factorization
    if not blas and _products.dense_fast is None:
        pytest.skip("no dense kernel in this build or for this processor: BLAS only")
    seen = []
    product_function = _products.product_function

    def recorded(X, transpose, k, n_threads=1, next_to_blas=True, **kwargs):
        seen.append(next_to_blas)
        return product_function(X, transpose, k, n_threads, next_to_blas, **kwargs)
    monkeypatch.setattr(_products, "product_function", recorded)
    monkeypatch.setattr(_products, "uses_blas", lambda X, k: blas)
    X = np.random.default_rng(0).random((30, 20))
    non_negative_factorization(X, n_components=3, init="random", random_state=0,
                               max_iter=2, tol=0)
    assert seen == [blas, blas]
    seen.clear()
    non_negative_factorization(sp.csr_matrix(X), n_components=3, init="random",
                               random_state=0, max_iter=2, tol=0)
    assert seen == [False]    # sparse: H's product only (W's is summed in its sweep)


def _count_calls(monkeypatch, name):
    """The argument tuples of every call of sparse_fast.<name> from now on."""
    calls, real = [], getattr(_products.sparse_fast, name)

    def counted(*args):
        calls.append(args)
        return real(*args)
    monkeypatch.setattr(_products.sparse_fast, name, counted)
    return calls


@pytest.mark.parametrize("form", ["csr", "csc"])
def test_sparse_scatter_splits_its_result_by_the_entries_on_several_threads(
        monkeypatch, form):
    """X's columns (CSR; rows for CSC) drawn with frequencies 1 / (j + 1): on several
    threads the scatter's parts come from sparse_fast.scatter_bounds, and where they
    start in each row from sparse_fast.scatter_row_splits (X's indices are sorted),
    both computed once, and give the one-thread bits; on one thread neither."""
    monkeypatch.setattr(_products, "MIN_WORK_PER_THREAD", 1)
    rng = np.random.default_rng(2)
    p = 1.0 / (np.arange(400) + 1.0)
    cols = rng.choice(400, size=2000 * 30, p=p / p.sum())
    X = sp.csr_matrix((rng.random(cols.size), cols, np.arange(0, cols.size + 1, 30)),
                      shape=(2000, 400))
    X.sum_duplicates()
    if form == "csc":
        X = sp.csc_matrix(X.T)              # the same skew over its rows
    transpose = form == "csr"               # the product that scatters
    factor = rng.random((X.shape[0] if transpose else X.shape[1], 5))
    out_rows = X.shape[1] if transpose else X.shape[0]
    real_bounds = _products.sparse_fast.scatter_bounds
    calls = _count_calls(monkeypatch, "scatter_bounds")
    split_calls = _count_calls(monkeypatch, "scatter_row_splits")
    one = _products.product_function(X, transpose, 5, 1)(factor, np.empty((out_rows, 5)))
    assert calls == [] and split_calls == []
    times = _products.product_function(X, transpose, 5, 2)
    assert len(calls) == 1 and calls[0][2:] == (out_rows, 2)
    assert len(split_calls) == 1 and split_calls[0][2].tolist() == real_bounds(
        *calls[0]).tolist()
    for _ in range(2):
        two = times(factor, np.empty((out_rows, 5)))
        np.testing.assert_array_equal(two, one)
    assert len(calls) == 1 and len(split_calls) == 1
    # unsorted indices: bounds, no splits (they would be wrong), the same bits
    shuffled = X.copy()
    for i in range(shuffled.shape[0] if form == "csr" else shuffled.shape[1]):
        span = slice(shuffled.indptr[i], shuffled.indptr[i + 1])
        order = rng.permutation(span.stop - span.start)
        shuffled.indices[span] = shuffled.indices[span][order]
        shuffled.data[span] = shuffled.data[span][order]
    shuffled.has_sorted_indices = False
    unsorted_times = _products.product_function(shuffled, transpose, 5, 2)
    assert len(calls) == 2 and len(split_calls) == 1
    np.testing.assert_allclose(unsorted_times(factor, np.empty((out_rows, 5))), one,
                               rtol=1e-12)
    bounds = real_bounds(*calls[0])
    assert 0 < bounds[1] < out_rows // 4    # most entries in the first rows


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("bad", [-1, 7])
def test_sparse_products_check_the_indices_once_before_any_product(monkeypatch, fmt, bad):
    """The kernels test no entry's index once check_indices has passed: an index out
    of range is refused before a kernel runs (ValueError naming the range), by
    product_function and by a fit, which checks once for all its products."""
    shape = (9, 7) if fmt == "csr" else (7, 9)     # indices over 7 either way
    X = sp.random(*shape, density=0.5, format=fmt, random_state=0)
    X.indices[3] = bad
    from nmf import _cd, non_negative_factorization
    calls = [_count_calls(monkeypatch, "csr_t_times"), _count_calls(monkeypatch, "csr_times")]
    sweeps = []
    real_sweep = _cd.cd_fast.cd_sweep_csr
    monkeypatch.setattr(_cd.cd_fast, "cd_sweep_csr",
                        lambda *args: sweeps.append(args) or real_sweep(*args))
    for transpose in (False, True):
        with pytest.raises(ValueError, match=r"indices must lie in \[0, 7\); 1 entries"):
            _products.product_function(X, transpose, 3)
    for solver in ("cd", "pg"):
        with pytest.raises(ValueError, match=r"indices must lie in \[0, 7\)"):
            non_negative_factorization(X, W=np.ones((shape[0], 3)),
                                       H=np.ones((3, shape[1])), init="custom",
                                       solver=solver, max_iter=2)
    assert calls == [[], []] and sweeps == []


@pytest.mark.parametrize("solver", ["cd", "pg"])
@pytest.mark.parametrize("init, checks", [("random", 1), ("nndsvd", 2)])
def test_fit_checks_sparse_indices_once(monkeypatch, solver, init, checks):
    """One pass over the indices for all the products a fit makes of X, and one for
    those of the NNDSVD's sketch; every product told they are checked."""
    from nmf import non_negative_factorization
    X = sp.random(300, 200, density=0.1, format="csr", random_state=1)
    counted = _count_calls(monkeypatch, "count_outside")
    scatters = _count_calls(monkeypatch, "csr_t_times")
    gathers = _count_calls(monkeypatch, "csr_times")
    non_negative_factorization(X, n_components=3, init=init, random_state=0,
                               solver=solver, max_iter=3, tol=0)
    assert len(counted) == checks
    assert scatters and all(call[-1] is True for call in scatters + gathers)


@pytest.mark.parametrize("shape, k, kernel", [((50, 20), 5, False),      # small: BLAS
                                              ((400, 300), 10, True),    # past it
                                              ((1100, 1000), 1, False)])  # one column
def test_fits_multiply_small_X_and_single_columns_in_blas(monkeypatch, small_products_in_blas,
                                                          shape, k, kernel):
    """Under the package's own SMALL_PRODUCT_WORK a 'cd' fit's dense products go to
    BLAS where X is small (about 1 MB at k = 10: in the core's cache, where BLAS is the
    faster) or k is 1, to nmf's kernels otherwise; the factors agree with a fit in
    nmf's kernels."""
    from nmf import non_negative_factorization
    if _products.dense_fast is None:
        pytest.skip("no dense kernel in this build or for this processor: BLAS only")
    calls = []

    class Recorded:
        def __init__(self, module):
            self.module, self.MAX_K = module, module.MAX_K

        def dense_times(self, *args):
            calls.append(args[1])
            return self.module.dense_times(*args)

        def __getattr__(self, name):
            return getattr(self.module, name)

    monkeypatch.setattr(_products, "dense_fast", Recorded(_products.dense_fast))
    monkeypatch.setattr(_products, "dense_cols_fast", Recorded(_products.dense_cols_fast))
    X = np.random.default_rng(0).random(shape)
    options = dict(n_components=k, init="random", random_state=0, max_iter=3, tol=0)
    W, H, _ = non_negative_factorization(X, **options)
    assert bool(calls) is kernel
    if not kernel:
        monkeypatch.setattr(_products, "uses_blas", lambda X, k: False)   # kernels
        W_kernel, H_kernel, _ = non_negative_factorization(X, **options)
        assert calls
        assert_allclose(W_kernel @ H_kernel, W @ H, rtol=1e-8, atol=1e-10)
