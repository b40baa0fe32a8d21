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


def test_threads_only_past_the_work_threshold(monkeypatch):
    monkeypatch.setattr(_products, "MIN_WORK_PER_THREAD", 1000)
    assert _products.threads_for(999, 2) == 1
    assert _products.threads_for(2000, 2) == 2
    assert _products.threads_for(10**9, 2) == 2
    assert _products.threads_for(0, 4) == 1
