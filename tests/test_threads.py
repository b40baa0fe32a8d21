"""Results do not depend on the number of threads the kernels use."""
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal

import nmf
from nmf import non_negative_factorization

threadpoolctl = pytest.importorskip("threadpoolctl")


def _data(form, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((500, 12)) @ rng.random((12, 300))
    X[rng.random(X.shape) < 0.7] = 0
    data = {"C": X, "F": np.asfortranarray(X), "csr": sp.csr_matrix(X),
            "csc": sp.csc_matrix(X)}[form]
    return data.astype(dtype)


def _fit_with_threads(X, n_threads, init="random", **kw):
    # Dense products go to BLAS, whose results may depend on its own thread count:
    # pin it, so that only the package's kernels see n_threads change.
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        try:
            nmf.set_num_threads(n_threads)
            return non_negative_factorization(X, n_components=8, init=init,
                                              random_state=0, tol=0, max_iter=15, **kw)
        finally:
            nmf.set_num_threads(None)


@pytest.mark.parametrize("form", ["C", "F", "csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("accelerated", [False, True])
@pytest.mark.parametrize("init", ["random", "nndsvd"])
def test_one_and_two_threads_give_the_same_bits(form, dtype, accelerated, init):
    X = _data(form, dtype)
    W1, H1, _ = _fit_with_threads(X, 1, init, accelerated=accelerated, shuffle=True)
    W2, H2, _ = _fit_with_threads(X, 2, init, accelerated=accelerated, shuffle=True)
    assert W1.dtype == dtype
    assert_array_equal(W1, W2)
    assert_array_equal(H1, H2)


def test_reconstruction_error_same_for_any_thread_count():
    X = _data("csr", np.float64, seed=1)
    errors = []
    for n_threads in (1, 2, 3):
        with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
            nmf.set_num_threads(n_threads)
            try:
                model = nmf.NMF(n_components=5, init="nndsvd", max_iter=20, tol=0,
                                random_state=0)
                model.fit(X)
            finally:
                nmf.set_num_threads(None)
        errors.append(model.reconstruction_err_)
    assert errors[0] == errors[1] == errors[2]


def test_the_initialisation_runs_on_the_fits_threads(monkeypatch):
    import nmf._init
    seen = []
    randomized_svd = nmf._init.randomized_svd
    monkeypatch.setattr(nmf._init, "randomized_svd", lambda *args, **kwargs: (
        seen.append(kwargs["n_threads"]) or randomized_svd(*args, **kwargs)))
    X = _data("C", np.float64)
    for n_threads in (1, 2):
        _fit_with_threads(X, n_threads, "nndsvd")
    assert seen == [1, 2]
