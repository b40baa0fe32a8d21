"""Peak memory of a fit beyond X: the factors, one work buffer per factor, a little more.

tracemalloc sees NumPy's allocations, so a copy or transpose of X, or an (n, m)
temporary, would show up here.
"""
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from nmf import non_negative_factorization

N, M, K = 4000, 600, 8


def _data(kind, dtype):
    rng = np.random.default_rng(0)
    if kind in ("C", "F"):
        X = rng.random((N, M))
        X = np.asfortranarray(X) if kind == "F" else X
    else:
        X = sp.random(N, M, density=0.2, format=kind, random_state=0)
    return X.astype(dtype)


def _nbytes(X):
    return X.nbytes if not sp.issparse(X) else X.data.nbytes + X.indices.nbytes


@pytest.mark.parametrize("kind", ["C", "F", "csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("accelerated", [False, True])
def test_peak_memory_beyond_X(kind, dtype, accelerated):
    X = _data(kind, dtype)
    rng = np.random.default_rng(1)
    W0, H0 = rng.random((N, K)).astype(dtype), rng.random((K, M)).astype(dtype)
    item = np.dtype(dtype).itemsize
    # W and H (the copies the solver updates), an (n, k) and an (m, k) work buffer, a
    # float64 number per row for the per-row violations and changes, some k x k.
    bound = (item * (N * K + K * M + N * K + M * K) + 2 * 8 * max(N, M) + 64 * K * K * 8
             + (1 << 20))
    assert _nbytes(X) > 2 * (bound - item * 2 * (N + M) * K)   # a copy of X would show
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        W, H, _ = non_negative_factorization(X, W0, H0, n_components=K, init="custom",
                                             tol=0, max_iter=3, accelerated=accelerated)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert W.dtype == H.dtype == dtype
    assert peak <= bound, f"peak {peak} bytes > bound {bound} bytes"
