"""Property-based tests of the public API (hypothesis).

For any input, non_negative_factorization and NMF either raise a ValueError or
TypeError whose message names the offending parameter, or return finite, non-negative
factors of the right shape and dtype whose objective is no larger than at the start;
never a crash, at most one warning per call, and the caller's arrays are left exactly
as they were (bytes, dtype, strides, flags).
"""
import copy
import os
import tempfile
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nmf import NMF, ConvergenceWarning
from nmf import non_negative_factorization as nnf

from _solvers import SOLVERS

# The same examples on every run (deterministic CI), no example database on disk;
# few enough that the file runs in well under a minute, on the debug build too.
# Categories that must all be covered (dtypes, layouts, formats, flaws) are pytest
# parameters: hypothesis alone samples a long list unevenly.
PROPERTY = settings(derandomize=True, database=None, deadline=None, max_examples=25,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

DENSE_DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                "uint64", "float16", "float32", "float64", "longdouble", ">f4", ">f8", ">i4"]
SPARSE_DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                 "uint64", "float32", "float64", "longdouble"]
SPARSE_FORMATS = ["csr", "csc", "coo", "bsr", "lil", "dok", "dia"]
# The largest entry of X: ordinary, subnormal, tiny, huge, the largest finite float64.
MAGNITUDES = [1.0, 3.0, 1e3, 5e-324, 1e-310, 1e-300, 1e-40, 1e-20, 1e20, 1e38, 1e200,
              1e300, np.finfo(np.float64).max]
SHAPES = st.one_of(st.tuples(st.integers(1, 6), st.integers(1, 6)),
                   st.sampled_from([(1, 1), (1, 120), (120, 1), (2, 90), (90, 3)]))


def _expected_dtype(dtype):
    dtype = np.dtype(dtype)
    return np.float32 if dtype.kind == "f" and dtype.itemsize == 4 else np.float64


# ---- data ----------------------------------------------------------------------------
@st.composite
def _base_values(draw, shape):
    """float64 values in [0, 1] with a structure: zeros, zero rows/columns, low rank."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    structure = draw(st.sampled_from(
        ["random", "sparse", "zero_rows", "zero_cols", "rank_one", "all_zero", "constant",
         "one_entry"]))
    n, m = shape
    values = rng.random(shape)
    if structure == "sparse":
        values *= rng.random(shape) < 0.3
    elif structure == "zero_rows":
        values[rng.random(n) < 0.5] = 0
    elif structure == "zero_cols":
        values[:, rng.random(m) < 0.5] = 0
    elif structure == "rank_one":
        values = np.outer(rng.random(n), rng.random(m))
    elif structure == "all_zero":
        values[...] = 0
    elif structure == "constant":
        values[...] = 0.5
    elif structure == "one_entry":
        values[...] = 0
        values[rng.integers(n), rng.integers(m)] = 1.0
    return values


def _cast(values, magnitude, dtype):
    """values in [0, 1] scaled to `magnitude` and cast to dtype, within its range."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return values > 0.5
    if dtype.kind in "iu":
        top = min(float(np.iinfo(dtype).max) * 0.99, max(magnitude, 1.0))
        return np.floor(values * top).astype(dtype)
    top = min(magnitude, float(np.finfo(dtype).max) if dtype.itemsize <= 8 else magnitude)
    return (values * top).astype(dtype)


LAYOUTS = ["C", "F", "strided", "reversed", "readonly", "memmap", "list", "matrix",
           "unaligned", "broadcast"]


@st.composite
def dense_X(draw, dtypes=DENSE_DTYPES, layouts=LAYOUTS):
    """(X as handed to the API, X as an ndarray of its values)."""
    shape = draw(SHAPES)
    dtype = draw(st.sampled_from(dtypes))
    X = _cast(draw(_base_values(shape)), draw(st.sampled_from(MAGNITUDES)), dtype)
    layout = draw(st.sampled_from(layouts))
    laid_out = _laid_out(X, layout)
    if layout == "broadcast":
        X = np.array(laid_out)
    return laid_out, X


def _laid_out(X, layout):
    n, m = X.shape
    if layout == "F":
        return np.asfortranarray(X)
    if layout == "strided":
        big = np.zeros((2 * n, 3 * m), X.dtype)
        big[::2, ::3] = X
        return big[::2, ::3]
    if layout == "reversed":
        return np.ascontiguousarray(X[::-1, ::-1])[::-1, ::-1]
    if layout == "readonly":
        X = X.copy()
        X.setflags(write=False)
        return X
    if layout == "memmap":
        handle, path = tempfile.mkstemp(suffix=".dat")
        os.close(handle)
        mapped = np.memmap(path, dtype=X.dtype, mode="w+", shape=X.shape)
        mapped[...] = X
        mapped.flush()
        del mapped
        X = np.memmap(path, dtype=X.dtype, mode="r", shape=X.shape)
        os.unlink(path)  # the mapping stays valid
        return X
    if layout == "list":
        return X.tolist()
    if layout == "matrix":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            return np.asmatrix(X)
    if layout == "unaligned":
        buffer = np.zeros(X.nbytes + 1, np.uint8)[1:]
        A = buffer.view(X.dtype).reshape(X.shape)
        A[...] = X
        return A
    if layout == "broadcast":  # zero strides, read-only
        return np.broadcast_to(X[:1], X.shape) if n > 1 else X
    return X


def _split_entries(S, rng, kind):
    """CSR/CSC S with every stored entry split into two that add up to it."""
    half = S.data // 2 if kind in "iu" else S.data * 0.5
    counts = np.diff(S.indptr)
    indptr = np.concatenate([[0], np.cumsum(2 * counts)])
    indices = np.repeat(S.indices, 2)
    data = np.empty(2 * S.nnz, S.dtype)
    data[0::2], data[1::2] = half, S.data - half
    return type(S)((data, indices, indptr), shape=S.shape)


def _reverse_within_rows(S):
    indices, data = S.indices.copy(), S.data.copy()
    for start, stop in zip(S.indptr[:-1], S.indptr[1:]):
        indices[start:stop] = indices[start:stop][::-1]
        data[start:stop] = data[start:stop][::-1]
    return type(S)((data, indices, S.indptr.copy()), shape=S.shape)


@st.composite
def sparse_X(draw, formats=SPARSE_FORMATS):
    """(X as a scipy.sparse matrix or array, X as a dense ndarray of its values)."""
    shape = draw(SHAPES)
    dtype = np.dtype(draw(st.sampled_from(SPARSE_DTYPES)))
    X = _cast(draw(_base_values(shape)), draw(st.sampled_from(MAGNITUDES)), dtype)
    fmt = draw(st.sampled_from(formats))
    kind = draw(st.sampled_from(["matrix", "array"]))
    with warnings.catch_warnings():  # a DIA matrix of many diagonals is "inefficient"
        warnings.simplefilter("ignore", sp.SparseEfficiencyWarning)
        S = getattr(sp, f"{fmt}_{kind}")(X)
    if fmt in ("csr", "csc"):
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        change = draw(st.sampled_from(["none", "unsorted", "duplicates", "explicit_zeros",
                                       "int64_indices"]))
        if change == "unsorted":
            S = _reverse_within_rows(S)
        elif change == "duplicates" and dtype.kind != "b":
            S = _split_entries(S, rng, dtype.kind)
        elif change == "explicit_zeros":
            S = S.copy()
            S.data[rng.random(S.nnz) < 0.5] = 0
            X = S.toarray()
        elif change == "int64_indices":
            S = type(S)((S.data, S.indices.astype(np.int64), S.indptr.astype(np.int64)),
                        shape=S.shape)
    elif fmt == "coo" and dtype.kind != "b" and S.nnz:
        # coo with each entry stored twice, halves adding up to it
        half = S.data // 2 if dtype.kind in "iu" else S.data * 0.5
        S = type(S)((np.concatenate([half, S.data - half]),
                     (np.tile(S.row, 2), np.tile(S.col, 2))), shape=S.shape)
    return S, X


# ---- checks --------------------------------------------------------------------------
def _snapshot(A):
    """Everything that identifies A's content and layout, deep-copied."""
    if isinstance(A, np.ndarray):
        return ("ndarray", type(A), A.dtype, A.shape, A.strides, A.flags.writeable,
                A.tobytes(order="A"))
    if sp.issparse(A):
        if A.format == "dok":
            parts = sorted(dict(A.items()).items())
        elif A.format == "lil":
            parts = (A.rows.tolist(), A.data.tolist())
        else:
            parts = [_snapshot(getattr(A, name)) for name in
                     ("data", "indices", "indptr", "row", "col", "offsets")
                     if hasattr(A, name)]
        return ("sparse", type(A), A.dtype, A.shape, parts)
    return ("object", copy.deepcopy(A))


def call(fn, *args, inputs=(), **kwargs):
    """fn(*args, **kwargs) or the ValueError/TypeError it raised; any other exception
    fails the test. Checks: at most one warning, a ConvergenceWarning; inputs unchanged."""
    before = [_snapshot(a) for a in inputs]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(*args, **kwargs)
        except (ValueError, TypeError) as exc:
            result = exc
    messages = [f"{w.category.__name__}: {w.message}" for w in caught]
    assert len(caught) <= 1, messages
    assert all(issubclass(w.category, ConvergenceWarning) for w in caught), messages
    for a, snapshot in zip(inputs, before):
        assert _snapshot(a) == snapshot, "an input was changed"
    return result


def _penalties(alpha, l1_ratio, regularization):
    l1, l2 = alpha * l1_ratio, alpha * (1 - l1_ratio)
    on_W = regularization in ("both", "transformation")
    on_H = regularization in ("both", "components")
    return l1 * on_W, l2 * on_W, l1 * on_H, l2 * on_H


def objective(X, W, H, penalties=(0, 0, 0, 0), sparseness=None, beta=1, eta=0.1):
    """The objective in long double: squares of entries up to 1e300 stay finite.

    sparseness='data' adds 0.5 beta sum_i (sum_t W_it)^2 + 0.5 eta ||H||^2 ('pg' only);
    'components' the same with W and H swapped."""
    X, W, H = (np.asarray(A, dtype=np.longdouble) for A in (X, W, H))
    l1_W, l2_W, l1_H, l2_H = (np.longdouble(p) for p in penalties)
    R = X - W @ H
    value = (0.5 * np.sum(R * R) + l1_W * W.sum() + 0.5 * l2_W * np.sum(W * W)
             + l1_H * H.sum() + 0.5 * l2_H * np.sum(H * H))
    if sparseness is not None:
        sparse, other = (W, H.T) if sparseness == "data" else (H.T, W)
        value += 0.5 * beta * np.sum(sparse.sum(axis=1) ** 2) + 0.5 * eta * np.sum(other**2)
    return value


def _sparseness_terms(kwargs):
    return {name: kwargs[name] for name in ("sparseness", "beta", "eta") if name in kwargs}


def assert_factors(W, H, shape, k, dtype):
    n, m = shape
    for A, A_shape in ((W, (n, k)), (H, (k, m))):
        assert isinstance(A, np.ndarray) and A.dtype == dtype and A.shape == A_shape
        assert np.isfinite(A).all() and (A >= 0).all()


def assert_no_increase(end, start, dtype):
    """The objective did not grow (beyond rounding of the iterates' dtype)."""
    assert np.isfinite(start) and np.isfinite(end)
    rtol = 1e-4 if dtype == np.float32 else 1e-9
    assert end <= start * (1 + rtol), (end, start)


def assert_names(error, *names):
    assert any(name in str(error) for name in names), (names, str(error))


# ---- options -------------------------------------------------------------------------
@st.composite
def options(draw, n, m):
    """Valid keyword arguments of non_negative_factorization (no W, H)."""
    k_max = min(n, m) + 3
    solver = draw(st.sampled_from(SOLVERS))
    pg_only = dict(
        nls_max_iter=draw(st.sampled_from([1, 10, 200])),
        sparseness=draw(st.sampled_from([None, None, "data", "components"])),
        beta=draw(st.sampled_from([1, 1e-3, 1e3])),
        eta=draw(st.sampled_from([0.1, 1e-6, 1e4])),
    ) if solver == "pg" else dict(accelerated=draw(st.booleans()))
    return dict(
        **pg_only,
        n_components=draw(st.one_of(st.none(), st.integers(1, k_max))),
        init=draw(st.sampled_from([None, "random", "nndsvd", "nndsvda", "nndsvdar"])),
        solver=solver,
        verbose=draw(st.sampled_from([0, 0, 0, 1, 2])),
        max_iter=draw(st.integers(1, 25)),
        tol=draw(st.sampled_from([0.0, 1e-4, 1e-2, 0.5])),
        alpha=draw(st.sampled_from([0.0, 0.0, 0.1, 10.0, 1e40, 1e300])),
        l1_ratio=draw(st.sampled_from([0.0, 0.5, 1.0])),
        regularization=draw(st.sampled_from([None, "both", "components", "transformation"])),
        shuffle=draw(st.booleans()),
        random_state=draw(st.integers(0, 2**32 - 1)),
    )


def _nndsvd_too_many_components(kwargs, n, m):
    k = kwargs["n_components"] if kwargs["n_components"] is not None else m
    return kwargs["init"] in ("nndsvd", "nndsvda", "nndsvdar") and k > min(n, m)


def _factors_or_nndsvd_error(result, kwargs, n, m, X_dtype):
    """The call's result is the nndsvd rank error where that applies, else sane
    factors; True in the second case."""
    if _nndsvd_too_many_components(kwargs, n, m):
        assert isinstance(result, ValueError)
        assert_names(result, "init=", "n_components")
        return False
    assert not isinstance(result, Exception), result
    W, H, _ = result
    assert_factors(W, H, (n, m), kwargs["n_components"] or m, _expected_dtype(X_dtype))
    return True


# ---- the properties ------------------------------------------------------------------
@pytest.mark.parametrize("dtype, layout", [(d, None) for d in DENSE_DTYPES]
                         + [(None, layout) for layout in LAYOUTS])
@PROPERTY
@given(data=st.data())
def test_dense_X_gives_sane_factors_or_a_clear_error(data, dtype, layout):
    X, values = data.draw(dense_X(dtypes=[dtype] if dtype else DENSE_DTYPES,
                                  layouts=[layout] if layout else LAYOUTS))
    n, m = values.shape
    kwargs = data.draw(options(n, m))
    result = call(nnf, X, inputs=[X], **kwargs)
    if _factors_or_nndsvd_error(result, kwargs, n, m, np.asarray(X).dtype):
        assert 1 <= result[2] <= kwargs["max_iter"]


@pytest.mark.parametrize("fmt", SPARSE_FORMATS)
@PROPERTY
@given(data=st.data())
def test_sparse_X_gives_sane_factors_or_a_clear_error(data, fmt):
    S, values = data.draw(sparse_X(formats=[fmt]))
    n, m = values.shape
    kwargs = data.draw(options(n, m))
    result = call(nnf, S, inputs=[S], **kwargs)
    _factors_or_nndsvd_error(result, kwargs, n, m, S.dtype)


@st.composite
def custom_start(draw, X_values, k, dtype, unbalanced=False):
    """W0 (n, k) and H0 (k, m) at X's scale; optionally with wildly different scales."""
    n, m = X_values.shape
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    largest = float(np.max(X_values.astype(np.float64), initial=0.0))
    scale = np.sqrt(largest / k) if largest > 0 else 1.0
    W0 = rng.random((n, k)) * scale
    H0 = rng.random((k, m)) * scale
    if draw(st.booleans()):
        W0[rng.random((n, k)) < 0.3] = 0
    if unbalanced:
        shift = draw(st.sampled_from([-200, -120, -60, -30, 30, 60, 120, 200]))
        W0, H0 = W0 * 2.0**shift, H0 * 2.0**-shift
    with np.errstate(over="ignore"):
        W0, H0 = W0.astype(dtype), H0.astype(dtype)
    assume(np.isfinite(W0).all() and np.isfinite(H0).all())  # else refused as non-finite
    return W0, H0


@settings(PROPERTY, max_examples=150)
@given(data=st.data(), sparse=st.booleans())
def test_objective_never_exceeds_the_custom_start(data, sparse):
    X, values = data.draw(sparse_X() if sparse else dense_X())
    n, m = values.shape
    dtype = _expected_dtype(X.dtype if sparse else np.asarray(X).dtype)
    kwargs = data.draw(options(n, m))
    k = kwargs.pop("n_components") or data.draw(st.integers(1, min(n, m) + 2))
    kwargs["init"] = "custom"
    W0, H0 = data.draw(custom_start(values, k, dtype))
    result = call(nnf, X, W0, H0, n_components=k, inputs=[X, W0, H0], **kwargs)
    assert not isinstance(result, Exception), result
    W, H, _ = result
    assert_factors(W, H, (n, m), k, dtype)
    seen = values.astype(dtype)  # X as the solver sees it
    penalties = _penalties(kwargs["alpha"], kwargs["l1_ratio"], kwargs["regularization"])
    terms = _sparseness_terms(kwargs)
    assert_no_increase(objective(seen, W, H, penalties, **terms),
                       objective(seen, W0, H0, penalties, **terms), dtype)


@settings(PROPERTY, max_examples=150)
@given(data=st.data())
def test_unbalanced_custom_factors_are_solved_or_refused_naming_them(data):
    X, values = data.draw(dense_X(dtypes=["float32", "float64"]))
    n, m = values.shape
    dtype = _expected_dtype(np.asarray(X).dtype)  # a list of float32 is float64
    k = data.draw(st.integers(1, 4))
    W0, H0 = data.draw(custom_start(values, k, dtype, unbalanced=True))
    kwargs = dict(init="custom", n_components=k, max_iter=data.draw(st.integers(1, 10)),
                  random_state=0, solver=data.draw(st.sampled_from(SOLVERS)))
    result = call(nnf, X, W0, H0, inputs=[X, W0, H0], **kwargs)
    if isinstance(result, Exception):
        assert isinstance(result, ValueError)
        assert_names(result, "W and H")
        return
    W, H, _ = result
    assert_factors(W, H, (n, m), k, dtype)
    seen = values.astype(dtype)
    assert_no_increase(objective(seen, W, H), objective(seen, W0, H0), dtype)


@settings(PROPERTY, max_examples=150)
@given(data=st.data(), sparse=st.booleans())
def test_estimator_fit_transform_and_inverse_transform(data, sparse):
    X, values = data.draw(sparse_X() if sparse else dense_X())
    n, m = values.shape
    dtype = _expected_dtype(X.dtype if sparse else np.asarray(X).dtype)
    kwargs = data.draw(options(n, m))
    del kwargs["regularization"]  # NMF regularizes both factors
    estimator = NMF(**kwargs)
    result = call(estimator.fit_transform, X, inputs=[X])
    if _nndsvd_too_many_components(kwargs, n, m):
        assert isinstance(result, ValueError)
        assert_names(result, "init=", "n_components")
        return
    assert not isinstance(result, Exception), result
    W, H = result, estimator.components_
    k = kwargs["n_components"] or m
    assert_factors(W, H, (n, m), k, dtype)
    seen = values.astype(dtype)
    with np.errstate(over="ignore"):
        expected_error = float(np.sqrt(2 * objective(seen, W, H)))
        norm_X = float(np.sqrt(np.sum(seen.astype(np.longdouble) ** 2)))
    # Sparse X: ||X||^2 - 2 <X, WH> + ||WH||^2 cancels down to sqrt(eps) * ||X||.
    eps = float(np.finfo(dtype).eps)
    error_floor = (np.sqrt(eps) if sparse else eps) * 4 * norm_X
    assert estimator.reconstruction_err_ == pytest.approx(
        expected_error, rel=1e-3 if dtype == np.float32 else 1e-6, abs=error_floor)

    W_new = call(estimator.transform, X, inputs=[X])  # W from zeros, components fixed
    assert not isinstance(W_new, Exception), W_new
    assert_factors(W_new, H, (n, m), k, dtype)
    penalties = _penalties(kwargs["alpha"], kwargs["l1_ratio"], "both")
    terms = _sparseness_terms(kwargs)
    assert_no_increase(objective(seen, W_new, H, penalties, **terms),
                       objective(seen, np.zeros_like(W_new), H, penalties, **terms), dtype)

    back = call(estimator.inverse_transform, W_new, inputs=[W_new])
    assert back.shape == (n, m) and back.dtype == dtype
    expected = np.minimum(W_new.astype(np.float64) @ H, np.finfo(dtype).max)  # saturated
    # Below the smallest normal number, products keep only absolute precision.
    np.testing.assert_allclose(back, expected, rtol=1e-5,
                               atol=64 * np.finfo(dtype).smallest_subnormal)


# ---- invalid arguments ---------------------------------------------------------------
_NOT_A_NUMBER = ["1", None, [1], {}, 1j, object()]
INVALID = {  # parameter -> values that must be refused, naming the parameter
    "n_components": [0, -1, 2.5, np.float64(2.0), True, float("nan"), "1", [1]],
    "init": ["svd", "", 3, True, ["random"], "Random"],
    "solver": ["mu", None, 1, "CD", ["cd"]],
    "tol": [-1e-3, float("nan"), float("inf"), -float("inf"), True] + _NOT_A_NUMBER,
    "max_iter": [0, -1, 1.5, float("inf"), True, np.float32(3)] + _NOT_A_NUMBER,
    "alpha": [-0.1, float("nan"), float("inf"), False] + _NOT_A_NUMBER,
    "l1_ratio": [-0.5, 1.5, float("nan"), float("inf"), True] + _NOT_A_NUMBER,
    "regularization": ["W", "", 0, True, ["both"]],
    "random_state": [-1, 2**32, 1.5, "0", [0], True, np.float64(1)],
    "verbose": [-1, 1.5, "1", None, [1]],
    "shuffle": [1, 0, "True", None, [True], np.int64(1)],
    "update_H": [1, "False", None],
    "nls_max_iter": [0, -5, 2.5, None, True, "10"],
    "sparseness": ["rows", "", 1, True],
    "beta": [0, -1, float("nan"), float("inf"), None, "1", True],
    "eta": [0, -0.1, float("nan"), float("inf"), None, "0.1", False],
}
# NMF.fit also takes all these but regularization and update_H.
ESTIMATOR_INVALID = {name: values for name, values in INVALID.items()
                     if name not in ("regularization", "update_H")}


_X_FOR_ARGUMENTS = [np.random.default_rng(0).random((4, 3)),
                    np.random.default_rng(1).random((2, 5)).astype(np.float32),
                    sp.random(5, 4, density=0.5, format="csr", random_state=0)]


@pytest.mark.parametrize("name, value", [(name, value) for name in sorted(INVALID)
                                         for value in INVALID[name]], ids=repr)
@pytest.mark.parametrize("X", _X_FOR_ARGUMENTS, ids=["dense", "float32", "sparse"])
def test_an_invalid_argument_is_refused_naming_it(X, name, value):
    kwargs = {"max_iter": 5, name: value}
    if name == "sparseness":
        kwargs["solver"] = "pg"  # else refused for solver='cd' before its value is read
    result = call(nnf, X, inputs=[X], **kwargs)
    assert isinstance(result, (ValueError, TypeError)), (name, value, result)
    assert_names(result, name)


@pytest.mark.parametrize("name, value", [
    (name, value) for name in sorted(ESTIMATOR_INVALID) for value in ESTIMATOR_INVALID[name]],
    ids=repr)
def test_an_invalid_estimator_parameter_is_refused_in_fit_naming_it(name, value):
    X = _X_FOR_ARGUMENTS[0]
    estimator = NMF(**{"max_iter": 5, name: value})  # never refused in __init__
    if name == "sparseness":
        estimator.set_params(solver="pg")
    result = call(estimator.fit, X, inputs=[X])
    assert isinstance(result, (ValueError, TypeError)), (name, value, result)
    assert_names(result, name)


X_FLAWS = ["nan", "inf", "negative", "tiny_negative", "complex", "object", "1-D", "3-D",
           "no_rows", "no_columns", "strings", "datetime", "ragged", "scalar",
           "beyond_float64", "masked", "sparse_1-D"]


@st.composite
def invalid_X(draw, flaw):
    """X that must be refused with a message naming X."""
    X, _ = draw(dense_X(dtypes=["float64", "float32", "float16", "int64", "longdouble"]))
    X = np.array(X, dtype=np.asarray(X).dtype)  # writable: a bad entry goes in
    n, m = X.shape
    i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, m - 1))
    if flaw in ("nan", "inf", "negative", "tiny_negative"):
        if X.dtype.kind != "f" and flaw != "negative":
            X = X.astype(np.float64)
        X[i, j] = {"nan": np.nan, "inf": np.inf, "negative": -1.0,
                   "tiny_negative": -np.finfo(np.float16).smallest_subnormal}[flaw]
    elif flaw == "complex":
        X = X.astype(np.complex128)
    elif flaw == "object":
        X = X.astype(object)
    elif flaw == "1-D":
        X = X.ravel()
    elif flaw == "3-D":
        X = X[None]
    elif flaw == "no_rows":
        X = X[:0]
    elif flaw == "no_columns":
        X = X[:, :0]
    elif flaw == "strings":
        X = X.astype(str)
    elif flaw == "datetime":
        X = np.arange(X.size).reshape(X.shape).astype("datetime64[s]")
    elif flaw == "ragged":
        X = [[1.0, 2.0], [3.0]]
    elif flaw == "scalar":
        X = X[i, j]
    elif flaw == "beyond_float64":
        X = X.astype(np.longdouble)
        X[i, j] = np.longdouble("1e400")
    elif flaw == "masked":
        X = np.ma.masked_array(X.astype(np.float64), mask=np.zeros(X.shape, bool))
        X[i, j] = np.ma.masked
        return X
    elif flaw == "sparse_1-D":
        return sp.coo_array(X.ravel().astype(np.float64))
    if draw(st.booleans()) and isinstance(X, np.ndarray) and X.ndim == 2 and X.size and \
            X.dtype.kind in "fiuc" and X.dtype != np.float16:  # scipy.sparse has no float16
        X = draw(st.sampled_from([sp.csr_matrix, sp.csc_array, sp.coo_matrix]))(X)
    return X


@pytest.mark.parametrize("flaw", X_FLAWS)
@settings(PROPERTY, max_examples=10)
@given(data=st.data(), solver=st.sampled_from(SOLVERS))
def test_invalid_X_is_refused_naming_X(data, flaw, solver):
    X = data.draw(invalid_X(flaw))
    result = call(nnf, X, n_components=1, solver=solver, max_iter=5, inputs=[X])
    assert isinstance(result, (ValueError, TypeError)), result
    assert_names(result, "X")
    fitted = NMF(1, max_iter=2, random_state=0)
    call(fitted.fit, np.ones((3, 2)))
    for method in (NMF(1).fit, fitted.transform):
        result = call(method, X, inputs=[X])
        assert isinstance(result, (ValueError, TypeError)), result
        assert_names(result, "X")


_BAD_FACTOR = ["nan", "inf", "negative", "shape", "complex", "object", "ragged", "sparse",
               "1-D", "beyond_dtype", "strings"]


def _bad_factor(A, flaw):
    A = A.copy()
    if flaw in ("nan", "inf", "negative"):
        A.flat[0] = {"nan": np.nan, "inf": np.inf, "negative": -1.0}[flaw]
        return A
    return {"shape": lambda: A[:, :-1] if A.shape[1] > 1 else A[:-1],
            "complex": lambda: A.astype(complex),
            "object": lambda: A.astype(object),
            "ragged": lambda: [list(A[0]), list(A[0]) + [1.0]],
            "sparse": lambda: sp.csr_matrix(A),
            "1-D": lambda: A.ravel(),
            "beyond_dtype": lambda: np.full(A.shape, 1e300),  # X is float32
            "strings": lambda: A.astype(str)}[flaw]()


@pytest.mark.parametrize("which", ["W", "H"])
@pytest.mark.parametrize("flaw", _BAD_FACTOR)
@settings(PROPERTY, max_examples=5)
@given(shape=st.tuples(st.integers(2, 5), st.integers(2, 5)), k=st.integers(1, 3))
def test_invalid_custom_factors_are_refused_naming_them(which, flaw, shape, k):
    n, m = shape
    rng = np.random.default_rng(0)
    X = rng.random(shape).astype(np.float32)
    factors = dict(W=rng.random((n, k)), H=rng.random((k, m)))
    factors[which] = _bad_factor(factors[which], flaw)
    result = call(nnf, X, factors["W"], factors["H"], n_components=k, init="custom",
                  max_iter=5, inputs=[X, factors[which]])
    assert isinstance(result, (ValueError, TypeError)), result
    assert_names(result, which)
    if which == "H":  # the fixed H of update_H=False
        result = call(nnf, X, None, factors["H"], n_components=k, update_H=False,
                      max_iter=5, inputs=[X, factors["H"]])
        assert isinstance(result, (ValueError, TypeError)), result
        assert_names(result, "H")
