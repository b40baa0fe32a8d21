import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from nmf._init import initial_factors, randomized_svd


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
