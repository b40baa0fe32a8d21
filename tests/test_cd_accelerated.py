"""accelerated=True: several CD sweeps per product (Gillis & Glineur 2012)."""
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

import nmf
from nmf import NMF, non_negative_factorization
from nmf._cd_fast import cd_sweep

from _reference import dense, hals_sweep, objective


def _accelerated_reference(X, W, H, *, max_iter, tol=0.0, alpha=0.5, delta=0.1):
    """Accelerated HALS in NumPy: per factor update, sweeps with the same Gram and
    cross product, at most 1 + floor(alpha * rho) of them, rho = 1 + (nnz(X) + m k) /
    (n (k + 1)) for the (n, k) factor, stopping when a sweep moves the factor by at most
    delta times the first sweep did; returns (W, H, n_iter, sweeps per update)."""
    nnz = X.nnz if sp.issparse(X) else X.size
    X = dense(X)
    W, H = W.copy(), H.copy()
    n, k = W.shape
    m = H.shape[1]
    order = np.arange(k)
    sweeps_done = []

    def update(F, gram, cross, budget):
        F_new, violation = hals_sweep(F, gram, cross, order)
        first = last = np.sum((F_new - F) ** 2)
        F, sweeps = F_new, 1
        while sweeps < budget and last > delta ** 2 * first:
            F_new, _ = hals_sweep(F, gram, cross, order)
            last = np.sum((F_new - F) ** 2)
            F, sweeps = F_new, sweeps + 1
        sweeps_done.append(sweeps)
        return F, violation

    budget_W = 1 + int(alpha * (1 + (nnz + m * k) / (n * (k + 1))))
    budget_H = 1 + int(alpha * (1 + (nnz + n * k) / (m * (k + 1))))
    violation_init = None
    for n_iter in range(1, max_iter + 1):
        W, violation = update(W, H @ H.T, X @ H.T, budget_W)
        Ht, violation_H = update(H.T, W.T @ W, X.T @ W, budget_H)
        H = Ht.T
        violation += violation_H
        if violation_init is None:
            violation_init = violation
        if violation_init == 0 or violation / violation_init <= tol:
            break
    return W, H, n_iter, sweeps_done


def _problem(n=40, m=30, k=4, seed=0, density=None, dtype=np.float64):
    rng = np.random.default_rng(seed)
    if density is None:
        X = rng.random((n, k)) @ rng.random((k, m)) + 0.05 * rng.random((n, m))
    else:
        X = sp.random(n, m, density=density, format="csr", random_state=seed)
    return X.astype(dtype), rng.random((n, k)).astype(dtype), rng.random((k, m)).astype(dtype)


@pytest.mark.parametrize("density", [None, 0.3])
def test_iterates_match_numpy_reference(density):
    X, W0, H0 = _problem(density=density)
    W, H, n_iter = non_negative_factorization(X, W0, H0, n_components=4, init="custom",
                                              tol=0, max_iter=12, accelerated=True)
    W_ref, H_ref, n_ref, sweeps = _accelerated_reference(X, W0, H0, max_iter=12)
    assert n_iter == n_ref == 12
    assert max(sweeps) > 1                  # the test exercises the extra sweeps
    assert_allclose(W, W_ref, rtol=1e-10, atol=1e-12)
    assert_allclose(H, H_ref, rtol=1e-10, atol=1e-12)


def test_stopping_iteration_matches_reference():
    X, W0, H0 = _problem(seed=1)
    _, _, n_iter = non_negative_factorization(X, W0, H0, n_components=4, init="custom",
                                              tol=1e-3, max_iter=500, accelerated=True)
    _, _, n_ref, _ = _accelerated_reference(X, W0, H0, tol=1e-3, max_iter=500)
    assert 1 < n_iter == n_ref < 500


def test_more_progress_per_iteration_than_plain_cd():
    X, W0, H0 = _problem(n=60, m=50, k=5, seed=2)
    kw = dict(n_components=5, init="custom", tol=0, max_iter=10)
    plain = objective(X, *non_negative_factorization(X, W0, H0, **kw)[:2])
    fast = objective(X, *non_negative_factorization(X, W0, H0, accelerated=True, **kw)[:2])
    assert fast < plain


def test_objective_never_increases():
    X, W0, H0 = _problem(seed=3)
    values = [objective(X, W0, H0)]
    for max_iter in range(1, 20):
        W, H, _ = non_negative_factorization(X, W0, H0, n_components=4, init="custom",
                                             tol=0, max_iter=max_iter, accelerated=True)
        values.append(objective(X, W, H))
    assert np.all(np.diff(values) <= 1e-12 * values[0])


def test_float32_and_regularization_and_shuffle_run():
    X, W0, H0 = _problem(dtype=np.float32, seed=4)
    W, H, _ = non_negative_factorization(X, W0, H0, n_components=4, init="custom",
                                         max_iter=30, tol=0, alpha=0.1, l1_ratio=0.5,
                                         regularization="both", shuffle=True,
                                         random_state=0, accelerated=True)
    assert W.dtype == H.dtype == np.float32
    assert np.isfinite(W).all() and np.isfinite(H).all() and W.min() >= 0


def test_estimator_parameter():
    model = NMF(n_components=3, accelerated=True, random_state=0, max_iter=50, tol=0)
    assert model.get_params()["accelerated"] is True
    assert "accelerated=True" in repr(model)
    X, _, _ = _problem()
    W = model.fit_transform(X)
    assert W.shape == (40, 3)
    assert model.transform(X).shape == (40, 3)
    assert not NMF().accelerated


@pytest.mark.parametrize("value", [1, "yes", None])
def test_accelerated_must_be_a_bool(value):
    X, _, _ = _problem()
    with pytest.raises(TypeError, match=f"accelerated must be True or False; got {value!r}"):
        non_negative_factorization(X, n_components=2, accelerated=value)


def test_accelerated_is_a_cd_mode():
    X, _, _ = _problem()
    with pytest.raises(ValueError, match="accelerated=True is a mode of the coordinate-"
                                         "descent solver; got solver='pg'"):
        non_negative_factorization(X, n_components=2, solver="pg", accelerated=True)


@pytest.mark.parametrize("n_threads", [1, 3])
def test_cd_sweep_reports_each_rows_squared_change(n_threads):
    rng = np.random.default_rng(5)
    W, H, X = rng.random((35, 6)), rng.random((6, 20)), rng.random((35, 20))
    W[rng.random(W.shape) < 0.3] = 0
    gram, cross = H @ H.T, X @ H.T
    expected, _ = hals_sweep(W, gram, cross, range(6))
    change = np.full(35, np.nan)
    before = W.copy()
    cd_sweep(W, gram, cross, np.arange(6, dtype=np.intp), np.empty(35), n_threads, change)
    assert_allclose(change, np.sum((expected - before) ** 2, axis=1), rtol=1e-12,
                    atol=1e-15)
    with pytest.raises(ValueError, match="row_change must have 35 entries"):
        cd_sweep(W, gram, cross, np.arange(6, dtype=np.intp), np.empty(35), 1, np.empty(3))


def test_same_bits_for_any_thread_count():
    X, W0, H0 = _problem(n=300, m=200, k=6, density=0.2, seed=6)
    runs = []
    try:
        for n_threads in (1, 2):
            nmf.set_num_threads(n_threads)
            runs.append(non_negative_factorization(X, W0, H0, n_components=6,
                                                   init="custom", tol=0, max_iter=15,
                                                   accelerated=True))
    finally:
        nmf.set_num_threads(None)
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
