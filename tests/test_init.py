import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from nmf import _products
from nmf._init import _cholesky_qr, _cholesky_qr2, initial_factors, randomized_svd
from nmf._kernels import dense_fast


def _X(n=40, m=30, seed=0):
    return np.random.default_rng(seed).random((n, m))


def test_random_init_scale_dtype_and_seed():
    X = _X()
    for dtype in (np.float32, np.float64):
        W, H = initial_factors(X.astype(dtype), 5, "random", np.random.RandomState(0))
        assert W.dtype == H.dtype == dtype and W.shape == (40, 5) and H.shape == (5, 30)
        assert (W >= 0).all() and (H >= 0).all()
        # E|N(0,1)| = sqrt(2/pi): the mean entry is sqrt(mean(X)/k) * sqrt(2/pi)
        expected = np.sqrt(X.mean() / 5) * np.sqrt(2 / np.pi)
        assert abs(np.concatenate([W.ravel(), H.ravel()]).mean() / expected - 1) < 0.1
    W1, H1 = initial_factors(X, 5, "random", np.random.RandomState(3))
    W2, H2 = initial_factors(X, 5, "random", np.random.RandomState(3))
    assert_array_equal(W1, W2)
    assert_array_equal(H1, H2)


def test_random_init_equals_scikit_learn():
    nmf_module = pytest.importorskip("sklearn.decomposition._nmf")
    X = _X()
    try:
        W_sk, H_sk = nmf_module._initialize_nmf(X, 5, init="random", random_state=0)
    except (AttributeError, TypeError):
        pytest.skip("scikit-learn's private _initialize_nmf changed")
    W, H = initial_factors(X, 5, "random", np.random.RandomState(0))
    assert_allclose(W, W_sk, rtol=1e-14)
    assert_allclose(H, H_sk, rtol=1e-14)


@pytest.mark.parametrize("sparse", [False, True])
def test_randomized_svd_matches_the_exact_svd(sparse):
    rng = np.random.default_rng(1)
    X = rng.random((200, 6)) @ rng.random((6, 80)) + 1e-3 * rng.random((200, 80))
    U_exact, s_exact, Vt_exact = np.linalg.svd(X, full_matrices=False)
    data = sp.csr_matrix(X) if sparse else X
    U, s, Vt = randomized_svd(data, 5, np.random.RandomState(0))
    assert_allclose(s, s_exact[:5], rtol=1e-8)
    assert_allclose(np.abs(U.T @ U_exact[:, :5]), np.eye(5), atol=1e-6)
    # a sketch as wide as the matrix is exact
    U, s, Vt = randomized_svd(data[:, :12], 12, np.random.RandomState(0))
    assert_allclose(s, np.linalg.svd(X[:, :12], compute_uv=False), rtol=1e-10)


def test_nndsvd_recovers_a_rank_one_matrix_exactly():
    rng = np.random.default_rng(2)
    u, v = rng.random(20) + 0.1, rng.random(15) + 0.1
    X = np.outer(u, v)
    W, H = initial_factors(X, 1, "nndsvd", np.random.RandomState(0))
    assert_allclose(W @ H, X, rtol=1e-10)


@pytest.mark.parametrize("init", ["nndsvd", "nndsvda", "nndsvdar"])
@pytest.mark.parametrize("X", [np.zeros((10, 8)),
                               np.outer(np.arange(10.0), np.ones(8)),   # rank 1, k = 4
                               np.eye(10, 8)])
def test_nndsvd_variants_on_degenerate_data(init, X):
    W, H = initial_factors(X, 4, init, np.random.RandomState(0))
    assert np.isfinite(W).all() and np.isfinite(H).all()
    assert (W >= 0).all() and (H >= 0).all()
    if init != "nndsvd" and X.any():
        assert (W > 0).all() and (H > 0).all()   # zeros filled


def test_nndsvd_fills():
    X = _X()
    W, H = initial_factors(X, 6, "nndsvd", np.random.RandomState(0))
    assert (W == 0).any() and (H == 0).any()
    Wa, Ha = initial_factors(X, 6, "nndsvda", np.random.RandomState(0))
    assert_array_equal(Wa[W == 0], X.mean())
    assert_array_equal(Wa[W != 0], W[W != 0])
    War, Har = initial_factors(X, 6, "nndsvdar", np.random.RandomState(0))
    filled = War[W == 0]
    assert (filled > 0).all() and filled.max() < X.mean()


def test_nndsvd_float32_stays_float32_and_sparse_works():
    X = _X()
    X[X < 0.7] = 0
    W, H = initial_factors(sp.csr_matrix(X.astype(np.float32)), 4, "nndsvda",
                           np.random.RandomState(0))
    assert W.dtype == H.dtype == np.float32
    W64, H64 = initial_factors(X, 4, "nndsvda", np.random.RandomState(0))
    assert_allclose(W @ H, W64 @ H64, rtol=1e-3, atol=1e-4)


def _low_rank(n, m, rank, seed, dtype):
    rng = np.random.default_rng(seed)
    X = rng.random((n, rank)) @ rng.random((rank, m)) + 1e-3 * rng.random((n, m))
    return X.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F", "csr", "csc"])
def test_randomized_svd_in_every_layout_and_precision(dtype, layout):
    X = _low_rank(300, 120, 6, 3, dtype)
    s_exact = np.linalg.svd(X.astype(np.float64), compute_uv=False)
    data = {"C": X, "F": np.asfortranarray(X), "csr": sp.csr_matrix(X),
            "csc": sp.csc_matrix(X)}[layout]
    U, s, Vt = randomized_svd(data, 4, np.random.default_rng(0))   # power iterations
    assert U.dtype == s.dtype == Vt.dtype == dtype
    tol = 1e-4 if dtype == np.float32 else 1e-9
    assert_allclose(s, s_exact[:4], rtol=tol)
    assert_allclose(U.T @ U, np.eye(4), atol=10 * tol)
    assert_allclose(Vt @ Vt.T, np.eye(4), atol=10 * tol)
    assert_allclose((U * s) @ Vt, np.linalg.svd(X.astype(np.float64))[0][:, :4]
                    @ np.diag(s_exact[:4]) @ np.linalg.svd(X.astype(np.float64))[2][:4],
                    atol=100 * tol * s_exact[0])


def test_randomized_svd_through_numpys_lapack_where_products_use_blas(monkeypatch):
    # Where the products go to NumPy's BLAS, the QR and SVD are NumPy's too (one
    # library's threads on the cores); forced here on X the kernels could take.
    calls = []
    qr = np.linalg.qr
    monkeypatch.setattr(_products, "uses_blas", lambda X, k: True)
    monkeypatch.setattr(np.linalg, "qr", lambda A: calls.append(A.shape) or qr(A))
    monkeypatch.setattr(scipy.linalg, "lu", None)         # never reached on this path
    X = _low_rank(200, 90, 5, 4, np.float64)
    U, s, Vt = randomized_svd(X, 4, np.random.default_rng(0))
    assert_allclose(s, np.linalg.svd(X, compute_uv=False)[:4], rtol=1e-9)
    assert len(calls) == 1 + 2 * 7                       # every step, then the basis


def _forbidden(name):
    def call(*args, **kwargs):
        raise AssertionError(f"{name} called")
    return call


@pytest.mark.parametrize("layout", ["C", "csr", "csc"])
def test_randomized_svd_leaves_lapack_only_width_by_width_matrices(monkeypatch, layout):
    # With nmf's kernels the sketch is normalized by CholeskyQR: no LAPACK call on a
    # tall matrix (BLAS's threads spinning after it slowed nmf's threads beside them).
    X = _low_rank(200, 90, 5, 5, np.float64)
    s_exact = np.linalg.svd(X, compute_uv=False)
    data = {"C": X, "csr": sp.csr_matrix(X), "csc": sp.csc_matrix(X)}[layout]
    if _products.uses_blas(data, 14):
        pytest.skip("no dense kernel in this build: the products go to BLAS")
    for name in ("lu", "qr", "svd", "solve_triangular"):
        monkeypatch.setattr(scipy.linalg, name, _forbidden("scipy.linalg." + name))
    monkeypatch.setattr(np.linalg, "qr", _forbidden("np.linalg.qr"))
    shapes = []
    for name in ("cholesky", "inv", "svd"):
        def recorded(A, *args, _f=getattr(np.linalg, name), **kwargs):
            shapes.append(A.shape)
            return _f(A, *args, **kwargs)
        monkeypatch.setattr(np.linalg, name, recorded)
    U, s, Vt = randomized_svd(data, 4, np.random.default_rng(0))
    assert_allclose(s, s_exact[:4], rtol=1e-9)
    # 7 power iterations of 2 CholeskyQRs, CholeskyQR2 of the basis and of B^T: 18
    # Choleskys and inverses, and one SVD
    assert len(shapes) == 18 + 18 + 1
    assert set(shapes) == {(14, 14)}


def test_cholesky_qr_factors_well_conditioned_matrices_and_refuses_the_others():
    rng = np.random.default_rng(6)
    A = rng.standard_normal((500, 12)) @ np.diag(np.logspace(0, 4, 12))  # cond 1e4
    Q, R = _cholesky_qr2(A, 1)
    assert_allclose(Q.T @ Q, np.eye(12), atol=1e-13)
    assert_allclose(Q @ R, A, rtol=0, atol=1e-11 * np.abs(A).max())
    assert_array_equal(R, np.triu(R))
    Q1, R1 = _cholesky_qr(A, 1)
    assert_allclose(Q1 @ R1, A, rtol=0, atol=1e-11 * np.abs(A).max())
    rank_deficient = np.outer(rng.random(500), rng.random(12))
    for refused in (rank_deficient, np.zeros((500, 12)),
                    A @ np.diag(np.logspace(0, 4, 12))):                # cond 1e8
        assert _cholesky_qr(refused, 1) is None
        assert _cholesky_qr2(refused, 1) is None


def test_randomized_svd_falls_back_on_lapack_for_a_rank_deficient_sketch(monkeypatch):
    calls = []
    for name in ("lu", "qr"):
        def counted(*args, _f=getattr(scipy.linalg, name), _name=name, **kwargs):
            calls.append(_name)
            return _f(*args, **kwargs)
        monkeypatch.setattr(scipy.linalg, name, counted)
    rank1 = sp.csr_matrix(np.outer(np.arange(1.0, 101.0), np.ones(60)))
    U, s, Vt = randomized_svd(rank1, 3, np.random.default_rng(0))
    assert calls.count("lu") == 2 * 7 and calls.count("qr") == 1   # 7 power iterations
    assert_allclose(s[0], np.linalg.norm(rank1.toarray(), 2), rtol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F", "csr", "csc"])
def test_randomized_svd_gives_the_same_bits_for_any_thread_count(dtype, layout):
    X = _low_rank(900, 700, 8, 7, dtype)       # products big enough for two threads
    data = {"C": X, "F": np.asfortranarray(X), "csr": sp.csr_matrix(X),
            "csc": sp.csc_matrix(X)}[layout]
    results = [randomized_svd(data, 10, np.random.default_rng(0), n_threads=n_threads)
               for n_threads in (1, 2, 3)]
    for result in results[1:]:
        for a, b in zip(result, results[0]):
            assert_array_equal(a, b)


def test_randomized_svd_of_rank_deficient_and_zero_matrices():
    rank1 = np.outer(np.arange(1.0, 101.0), np.ones(60))
    for data in (rank1, sp.csr_matrix(rank1), np.zeros((100, 60)), sp.csr_matrix((100, 60))):
        U, s, Vt = randomized_svd(data, 3, np.random.default_rng(0))
        dense = data.toarray() if sp.issparse(data) else data
        assert np.isfinite(U).all() and np.isfinite(s).all() and np.isfinite(Vt).all()
        assert_allclose(s[0], np.linalg.norm(dense, 2), rtol=1e-10, atol=1e-12)
        assert_allclose(s[1:], 0, atol=1e-8 * max(1.0, s[0]))


def test_uses_blas_says_which_products_go_to_numpy(small_products_in_blas):
    small = _products.SMALL_PRODUCT_WORK
    X = np.ones((1024, small // 1024 // 5 + 1))        # just over the work at k = 5
    kernel = dense_fast is not None
    assert _products.uses_blas(X, 5) is not kernel
    assert _products.uses_blas(np.asfortranarray(X), 5) is not kernel
    assert _products.uses_blas(X[:, 1:].copy(), 5)            # at most `small`: BLAS
    assert _products.uses_blas(np.ones((20, 10)), 5)
    assert _products.uses_blas(X, 1)                          # one column: gemv
    assert _products.uses_blas(X[:, ::2], 5)                  # contiguous in neither order
    assert _products.uses_blas(X, 10 ** 4)                    # wider than the kernels take
    assert not _products.uses_blas(sp.csr_matrix(X), 5)
    assert not _products.uses_blas(sp.csc_matrix(X), 10 ** 4)
