"""The same random_state gives the same bits: across calls and processes, for any
number of kernel threads, and across representations computed the same way.

What holds (measured with OpenBLAS 0.3 and scipy.sparse's products):
- repeated calls and fresh processes: bitwise, every init, shuffle, dtype, format;
- nmf.set_num_threads(1, 2, 3, ...): bitwise (rows are independent, violations are
  summed in row order);
- BLAS thread count (OMP_NUM_THREADS, threadpoolctl): bitwise for sparse X (scipy's
  products are serial); NOT for dense X: OpenBLAS's GEMM gives other last bits with
  one thread than with several for some shapes, so dense factors differ at ~1e-15;
- sparse matrix or array classes, and formats that are converted to CSR (COO, LIL,
  DOK, ...): bitwise (the same CSR reaches the same products);
- C- vs F-ordered dense X, CSR vs CSC, dense vs sparse: not bitwise for every shape
  (BLAS rounds differently for either layout, scipy's CSR and CSC products differently
  again); float64 factors agree to ~1e-11 relative after 30 iterations.
"""
import hashlib
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

import nmf
from nmf import NMF, ConvergenceWarning
from nmf import non_negative_factorization as nnf

from _solvers import SOLVERS

INITS = ["random", "nndsvd", "nndsvda", "nndsvdar"]


def _X(n=200, m=80, dtype=np.float64, fmt=None):
    X = sp.random(n, m, density=0.2, format="csr", random_state=0, dtype=np.float64)
    X = X.astype(dtype)
    return X.toarray() if fmt is None else X.asformat(fmt)


def _fit(X, **kwargs):
    kwargs = dict(dict(n_components=8, tol=0, max_iter=30, random_state=0), **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        W, H, n_iter = nnf(X, **kwargs)
    return W, H, n_iter


def _assert_same_bits(a, b):
    for x, y in zip(a, b):
        assert_array_equal(x, y, strict=True)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("fmt", [None, "csr"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("init", INITS)
def test_repeated_calls_give_the_same_bits(init, dtype, fmt, solver):
    X = _X(dtype=dtype, fmt=fmt)
    kwargs = dict(init=init, solver=solver, shuffle=True, tol=1e-4, max_iter=40)
    first = _fit(X, **kwargs)
    _assert_same_bits(_fit(X, **kwargs), first)
    _assert_same_bits(_fit(X, **dict(kwargs, random_state=np.random.RandomState(0))),
                      first)
    assert not np.array_equal(_fit(X, **dict(kwargs, random_state=1))[0], first[0])


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("start", ["custom", "fixed H"])
def test_a_fit_that_draws_nothing_leaves_the_random_state_alone(start, solver,
                                                                 monkeypatch):
    """From the caller's factors without shuffle nothing is drawn and no RandomState
    is seeded (that costs 0.1-0.2 ms a call), so the result does not depend on
    random_state, a RandomState passed in is not advanced, and a bad random_state is
    still refused; with shuffle the permutations do draw from it."""
    X = _X()
    model = NMF(4, init="nndsvda", max_iter=3, tol=0)
    W0, H0 = model.fit_transform(X), model.components_
    kwargs = (dict(W=W0, H=H0, init="custom") if start == "custom"
              else dict(H=H0, update_H=False))
    kwargs.update(n_components=4, solver=solver, tol=0, max_iter=5)
    rng = np.random.RandomState(7)
    before = rng.get_state()
    result = _fit(X, **dict(kwargs, random_state=rng))
    assert all(np.array_equal(a, b) for a, b in zip(rng.get_state(), before))
    _assert_same_bits(_fit(X, **dict(kwargs, random_state=None)), result)
    with pytest.raises(ValueError, match="random_state must be an int in"):
        _fit(X, **dict(kwargs, random_state=2**32))
    if start == "custom" and solver == "cd":
        _fit(X, **dict(kwargs, random_state=rng, shuffle=True))
        assert not np.array_equal(rng.get_state()[1], before[1])

    seeded = []

    class CountedRandomState(np.random.RandomState):
        def __init__(self, *args):
            seeded.append(args)
            super().__init__(*args)

    monkeypatch.setattr(np.random, "RandomState", CountedRandomState)
    _fit(X, **dict(kwargs, random_state=None))
    _fit(X, **dict(kwargs, random_state=3))
    assert seeded == []
    _fit(X, n_components=4, solver=solver, tol=0, max_iter=5, random_state=3)
    assert seeded == [(3,)]


def test_the_estimator_refits_to_the_same_bits():
    X = _X()
    estimator = NMF(6, random_state=0, shuffle=True, alpha=0.1, max_iter=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        W = estimator.fit_transform(X)
        H, error = estimator.components_.copy(), estimator.reconstruction_err_
        _assert_same_bits((estimator.fit_transform(X), estimator.components_), (W, H))
    assert estimator.reconstruction_err_ == error


_CHILD = textwrap.dedent("""
    import hashlib, sys, warnings
    import numpy as np, scipy.sparse as sp
    from nmf import non_negative_factorization
    warnings.simplefilter("ignore")
    X = sp.random(200, 80, density=0.2, format="csr", random_state=0)
    for X in (X.toarray(), X):
        W, H, _ = non_negative_factorization(X, n_components=8, init="nndsvdar",
                                             shuffle=True, tol=0, max_iter=30,
                                             random_state=0, solver=sys.argv[1])
        print(hashlib.sha256(W.tobytes() + H.tobytes()).hexdigest())
""")


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_fresh_process_gives_the_same_bits(tmp_path, solver, small_products_in_blas):
    # The child runs with the package's settings: so does this process (its dense
    # products, small, go to BLAS there, as in the child).
    child = subprocess.run([sys.executable, "-c", _CHILD, solver], capture_output=True,
                           text=True, cwd=tmp_path, check=True)
    here = []
    for X in (_X(), _X(fmt="csr")):
        W, H, _ = _fit(X, init="nndsvdar", shuffle=True, solver=solver)
        here.append(hashlib.sha256(W.tobytes() + H.tobytes()).hexdigest())
    assert child.stdout.split() == here


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("dtype, fmt", [(np.float64, None), (np.float32, None),
                                        (np.float32, "csr"), (np.float64, "csc")])
def test_any_number_of_kernel_threads_gives_the_same_bits(dtype, fmt, solver):
    X = _X(2000, 200, dtype=dtype, fmt=fmt)  # large enough for the kernels to thread
    results = []
    try:
        for n_threads in (1, 2, 3):
            nmf.set_num_threads(n_threads)
            results.append(_fit(X, n_components=12, shuffle=True, solver=solver))
    finally:
        nmf.set_num_threads(None)
    for result in results[1:]:
        _assert_same_bits(result, results[0])


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_X_gives_the_same_bits_for_any_blas_thread_count(fmt, solver):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    X = _X(2000, 500, fmt=fmt)
    results = []
    for n_threads in (1, 2):
        with threadpoolctl.threadpool_limits(n_threads, user_api="blas"):
            results.append(_fit(X, n_components=12, solver=solver))
    _assert_same_bits(results[1], results[0])


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_classes_and_formats_converted_to_csr_give_the_same_bits(dtype, solver):
    S = _X(dtype=dtype, fmt="csr")
    expected = _fit(S, solver=solver)
    for other in (sp.csr_array(S), S.tocoo(), sp.coo_array(S), S.tolil(), S.todok()):
        _assert_same_bits(_fit(other, solver=solver), expected)
    _assert_same_bits(_fit(sp.csc_array(S), solver=solver), _fit(S.tocsc(), solver=solver))


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_memory_order_and_density_change_only_the_last_bits(dtype, solver):
    X = _X(dtype=dtype)
    expected = _fit(X, solver=solver)
    rtol = 1e-9 if dtype == np.float64 else 1e-2  # 30 iterations amplify float32's eps
    for other in (np.asfortranarray(X), _X(dtype=dtype, fmt="csr"),
                  _X(dtype=dtype, fmt="csc")):
        for a, b in zip(_fit(other, solver=solver)[:2], expected[:2]):
            assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max())
