"""non_negative_factorization: arguments, conversions, and the caller's data."""
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from nmf import non_negative_factorization as nnf


def _X(n=12, m=8, seed=0):
    return np.random.default_rng(seed).random((n, m))


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(n_components=0), ValueError, r"n_components must be an integer >= 1; got 0"),
    (dict(n_components=-2), ValueError, r"n_components must be an integer >= 1; got -2"),
    (dict(n_components=2.5), TypeError, r"n_components must be an integer >= 1; got 2.5"),
    (dict(n_components="3"), TypeError, r"n_components must be an integer"),
    (dict(solver="mu"), ValueError, r"solver must be one of 'cd', 'pg'; got 'mu'"),
    (dict(init="svd"), ValueError, r"init must be one of 'random', .*'custom' or None; got 'svd'"),
    (dict(regularization="W"), ValueError,
     r"regularization must be one of 'both', 'components', 'transformation' or None; got 'W'"),
    (dict(tol=-1e-3), ValueError, r"tol must be a finite number in \[0, inf\); got -0.001"),
    (dict(tol=float("nan")), ValueError, r"tol must be a finite number"),
    (dict(tol="small"), TypeError, r"tol must be a real number; got 'small'"),
    (dict(max_iter=-1), ValueError, r"max_iter must be an integer >= 1; got -1"),
    (dict(max_iter=0), ValueError, r"max_iter must be an integer >= 1; got 0"),
    (dict(max_iter=10.0), TypeError, r"max_iter must be an integer >= 1; got 10.0"),
    (dict(alpha=-0.1), ValueError, r"alpha must be a finite number in \[0, inf\); got -0.1"),
    (dict(l1_ratio=1.5), ValueError, r"l1_ratio must be a finite number in \[0, 1\]; got 1.5"),
    (dict(l1_ratio=-0.5), ValueError, r"l1_ratio must be a finite number in \[0, 1\]"),
    (dict(shuffle="yes"), TypeError, r"shuffle must be True or False; got 'yes'"),
    (dict(update_H=1), TypeError, r"update_H must be True or False; got 1"),
    (dict(verbose=-1), ValueError, r"verbose must be an integer >= 0; got -1"),
    (dict(random_state="seed"), TypeError, r"random_state must be None, an int"),
    (dict(random_state=-1), ValueError, r"random_state must be an int in \[0, 2\*\*32\)"),
    (dict(nls_max_iter=0), ValueError, r"nls_max_iter must be an integer >= 1; got 0"),
    (dict(beta=0), ValueError, r"beta must be a finite number in \(0, inf\); got 0.0"),
    (dict(eta=-1), ValueError, r"eta must be a finite number in \(0, inf\); got -1.0"),
    (dict(sparseness="rows", solver="pg"), ValueError,
     r"sparseness must be one of 'data', 'components' or None; got 'rows'"),
    (dict(sparseness="data"), ValueError, r"sparseness='data' is a constraint of the projected-gradient solver"),
    (dict(init="nndsvd", n_components=9), ValueError,
     r"init='nndsvd' needs n_components <= min\(n_samples, n_features\) = 8; got n_components=9"),
    (dict(W=np.ones((12, 2))), ValueError, r"W and H are only used with init='custom'"),
])
def test_invalid_arguments_raise_naming_the_parameter(kwargs, error, message):
    with pytest.raises(error, match=message):
        nnf(_X(), **kwargs)


@pytest.mark.parametrize("X, error, message", [
    (-_X(), ValueError, r"X must be non-negative; its smallest entry is"),
    (np.full((3, 3), np.nan), ValueError, r"X must not contain NaN or infinity"),
    (np.array([[1.0, np.inf]]), ValueError, r"X must not contain NaN or infinity"),
    (np.ones(5), ValueError, r"X must be a 2-D array .* got 1-D with shape \(5,\)"),
    (np.ones((2, 2, 2)), ValueError, r"X must be a 2-D array"),
    (np.ones((0, 3)), ValueError, r"X must have at least one row and one column"),
    (np.ones((3, 0)), ValueError, r"X must have at least one row and one column"),
    (np.ones((2, 2), dtype=complex), TypeError, r"X must hold real numbers .* got dtype complex128"),
    (np.array([["a", "b"]]), TypeError, r"X must hold real numbers"),
    (sp.csr_matrix(-np.eye(3)), ValueError, r"X must be non-negative"),
    (sp.csr_matrix(np.array([[np.nan, 1.0]])), ValueError, r"X must not contain NaN"),
])
def test_invalid_X_raises(X, error, message):
    with pytest.raises(error, match=message):
        nnf(X, n_components=1)


@pytest.mark.parametrize("which, value, error, message", [
    ("W", np.ones((12, 3)), ValueError, r"W must have shape \(12, 2\); got \(12, 3\)"),
    ("H", np.ones((2, 7)), ValueError, r"H must have shape \(2, 8\); got \(2, 7\)"),
    ("W", -np.ones((12, 2)), ValueError, r"W must be non-negative"),
    ("H", np.full((2, 8), np.inf), ValueError, r"H must not contain NaN or infinity"),
    ("W", None, ValueError, r"W is required with init='custom'"),
    ("H", np.ones((2, 8), dtype=complex), TypeError, r"H must hold real numbers"),
])
def test_invalid_custom_factors_raise(which, value, error, message):
    factors = dict(W=np.ones((12, 2)), H=np.ones((2, 8)))
    factors[which] = value
    with pytest.raises(error, match=message):
        nnf(_X(), n_components=2, init="custom", **factors)


def test_update_H_false_argument_errors():
    with pytest.raises(ValueError, match="H is required when update_H=False"):
        nnf(_X(), n_components=2, update_H=False)
    with pytest.raises(ValueError, match="W must be None when update_H=False"):
        nnf(_X(), np.ones((12, 2)), np.ones((2, 8)), update_H=False)


def test_callers_arrays_are_never_modified():
    X, W0, H0 = _X(), np.random.default_rng(1).random((12, 3)), np.ones((3, 8))
    copies = [a.copy() for a in (X, W0, H0)]
    W, H, _ = nnf(X, W0, H0, n_components=3, init="custom", max_iter=5, tol=0)
    for before, after in zip(copies, (X, W0, H0)):
        assert_array_equal(before, after)
    assert not np.shares_memory(W, W0) and not np.shares_memory(H, H0)
    W, H, _ = nnf(X, H=H0, update_H=False, max_iter=5, tol=0)
    assert_array_equal(H0, copies[2])


def test_read_only_and_memory_mapped_inputs(tmp_path):
    X = _X()
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    readonly = X.copy()
    readonly.setflags(write=False)
    H0 = np.ones((2, 8))
    H0.setflags(write=False)
    expected = nnf(X, n_components=2, random_state=0, max_iter=10, tol=0)[0]
    for data in (mapped, readonly):
        assert_array_equal(nnf(data, n_components=2, random_state=0, max_iter=10, tol=0)[0],
                           expected)
    nnf(readonly, H=H0, update_H=False, max_iter=3, tol=0)
    nnf(readonly, np.ones((12, 2)), H0, init="custom", n_components=2, max_iter=3, tol=0)


@pytest.mark.parametrize("dtype, expected", [
    (np.float32, np.float32), (np.float64, np.float64), (np.float16, np.float64),
    (np.int64, np.float64), (np.uint8, np.float64), (bool, np.float64),
    (np.longdouble, np.float64)])
def test_output_dtype(dtype, expected):
    X = (_X() * 5).astype(dtype)
    forms = [X] if dtype == np.float16 else [X, sp.csr_matrix(X)]  # scipy has no float16
    for data in forms:
        W, H, _ = nnf(data, n_components=2, random_state=0, max_iter=5, tol=0)
        assert W.dtype == H.dtype == expected
        assert W.shape == (12, 2) and H.shape == (2, 8)
    W0, H0 = np.ones((12, 2), dtype=np.float64), np.ones((2, 8), dtype=np.int32)
    W, H, _ = nnf(X, W0, H0, init="custom", max_iter=2, tol=0)
    assert W.dtype == H.dtype == expected


def test_layouts_and_sparse_formats_give_the_same_result():
    X = _X(20, 10)
    X[X < 0.5] = 0
    expected = nnf(X, n_components=3, random_state=0, max_iter=10, tol=0)
    forms = [np.asfortranarray(X), X[::-1][::-1], np.repeat(X, 2, axis=1)[:, ::2],
             X.tolist()]
    with pytest.warns(PendingDeprecationWarning):
        forms.append(np.asmatrix(X))
    forms += [conv(X) for conv in (sp.csr_matrix, sp.csc_matrix, sp.coo_matrix,
                                   sp.lil_matrix, sp.dok_matrix, sp.bsr_matrix,
                                   sp.csr_array, sp.coo_array)]
    for form in forms:
        W, H, n_iter = nnf(form, n_components=3, random_state=0, max_iter=10, tol=0)
        assert_allclose(W, expected[0], rtol=1e-10, atol=1e-13)
        assert_allclose(H, expected[1], rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("init", ["random", "nndsvd", None])
def test_n_components_beyond_any_array_is_refused_naming_it(init):
    X = np.random.default_rng(0).random((6, 4))
    with pytest.raises(ValueError, match=r"n_components=1000000000000000000000000000000 is"
                                         r" too large"):
        nnf(X, n_components=10**30, init=init)


def test_n_components_defaults():
    X = _X()
    W, H, _ = nnf(X, max_iter=2, tol=0, random_state=0)
    assert H.shape == (8, 8)                  # None keeps all features
    H0 = np.ones((3, 8))
    W, H, _ = nnf(X, H=H0, update_H=False, max_iter=2, tol=0)
    assert W.shape == (12, 3)                 # taken from the fixed H
    W, H, _ = nnf(X, np.ones((12, 3)), H0, init="custom", max_iter=2, tol=0)
    assert W.shape == (12, 3)


def test_init_none_picks_nndsvd_when_the_rank_allows_else_random():
    X = _X()
    seeded = dict(max_iter=1, tol=0, random_state=0)
    assert_array_equal(nnf(X, n_components=3, init=None, **seeded)[0],
                       nnf(X, n_components=3, init="nndsvd", **seeded)[0])
    assert_array_equal(nnf(X, n_components=8, init=None, **seeded)[0],
                       nnf(X, n_components=8, init="random", **seeded)[0])


def test_regularization_penalises_only_the_named_factor():
    X = _X(30, 20)
    kw = dict(n_components=4, random_state=0, tol=0, max_iter=200, alpha=0.5, l1_ratio=1.0)
    W_free, H_free, _ = nnf(X, regularization=None, **kw)
    W_c, H_c, _ = nnf(X, regularization="components", **kw)
    W_t, H_t, _ = nnf(X, regularization="transformation", **kw)
    assert H_c.sum() < 0.9 * H_free.sum()     # L1 on H shrinks H
    assert W_t.sum() < 0.9 * W_free.sum()     # L1 on W shrinks W
    assert W_c.sum() > W_free.sum()           # ... and the unpenalised W takes the scale
    assert H_t.sum() > H_free.sum()


@pytest.mark.parametrize("solver", ["cd", "pg"])
def test_progress_callback_gets_each_iteration_once(solver, capsys):
    from nmf._factorize import factorize
    calls = []
    _, _, _, n_iter = factorize(_X(), n_components=2, solver=solver, random_state=0,
                                tol=1e-6, max_iter=500, verbose=2,
                                callback=lambda i, ratio: calls.append((i, ratio)))
    iterations = [i for i, _ in calls]
    assert iterations == sorted(set(iterations)) and iterations[-1] == n_iter
    assert all(ratio >= 0 for _, ratio in calls) and calls[-1][1] < calls[0][1]
    printed = capsys.readouterr().out.count(f"[nmf {solver}] iteration")
    assert printed >= len(calls)
