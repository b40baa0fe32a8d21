"""The compiled kernels called wrongly from Python raise; they never touch memory they
were not given. Runs on the debug build too, where Cython's bounds checks would turn
an unchecked shape into an IndexError instead of silent corruption."""
import importlib.util

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nmf._cd_fast import cd_sweep

from _reference import hals_sweep

PROPERTY = settings(derandomize=True, database=None, deadline=None, max_examples=300,
                    suppress_health_check=[HealthCheck.too_slow])
MISUSE = (ValueError, TypeError, OverflowError)  # OverflowError: n_threads beyond C int


@st.composite
def _operand(draw, shape, dtype):
    """An array meant to have `shape` and `dtype`; sometimes not, or laid out wrongly."""
    flaw = draw(st.sampled_from(["none"] * 6 + ["shape", "dtype", "layout", "readonly",
                                                "ndim", "none_object", "list"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if flaw == "shape":
        shape = tuple(max(0, s + draw(st.integers(-2, 2))) for s in shape)
    if flaw == "ndim":
        shape = shape + (1,) if draw(st.booleans()) else shape[:-1]
    if flaw == "dtype":
        dtype = draw(st.sampled_from([np.float32, np.float64, np.int32, np.int64,
                                      np.complex128, np.float16]))
    A = rng.random(shape).astype(dtype) if np.dtype(dtype).kind in "fc" else \
        rng.integers(0, 3, shape).astype(dtype)
    if flaw == "layout" and A.ndim == 2:
        A = np.asfortranarray(A) if draw(st.booleans()) else \
            np.repeat(A, 2, axis=1)[:, ::2]
    if flaw == "layout" and A.ndim == 1:
        A = np.repeat(A, 2)[::2]
    if flaw == "readonly":
        A.setflags(write=False)
    if flaw == "none_object":
        return None
    if flaw == "list":
        return A.tolist()
    return A


@PROPERTY
@given(data=st.data(), n=st.integers(0, 40), k=st.integers(0, 6),
       dtype=st.sampled_from([np.float32, np.float64]),
       n_threads=st.sampled_from([1, 2, 0, -3, 10**6, 2**31]))
def test_cd_sweep_misuse_raises_and_leaves_W_alone(data, n, k, dtype, n_threads):
    W = data.draw(_operand((n, k), dtype))
    gram = data.draw(_operand((k, k), dtype))
    cross = data.draw(_operand((n, k), dtype))
    if k:
        order = np.random.default_rng(n).permutation(k).astype(np.intp)
        if data.draw(st.booleans()):
            order[data.draw(st.integers(0, k - 1))] = data.draw(st.sampled_from(
                [-1, k, 2**40, -(2**40)]))
    else:
        order = np.zeros(0, np.intp)
    order = data.draw(st.sampled_from([order, order.astype(np.int32), order[::-1].copy()]))
    row_violation = data.draw(_operand((n,), np.float64))
    W_before = np.array(W, copy=True) if isinstance(W, np.ndarray) else None
    try:
        violation = cd_sweep(W, gram, cross, order, row_violation, n_threads)
    except MISUSE:
        if W_before is not None:
            assert np.array_equal(W, W_before)
        return
    # Accepted: every operand was right, and the result is the textbook sweep's.
    for A, shape in ((W, (n, k)), (gram, (k, k)), (cross, (n, k))):
        assert isinstance(A, np.ndarray) and A.shape == shape and A.dtype == W.dtype
    assert row_violation.shape == (n,) and ((0 <= order) & (order < k)).all()
    expected, expected_violation = hals_sweep(W_before.astype(np.float64), gram, cross,
                                              order)
    tol = 1e-4 if W.dtype == np.float32 else 1e-10
    np.testing.assert_allclose(W, expected, rtol=tol, atol=tol)
    assert violation == pytest.approx(expected_violation, rel=10 * tol, abs=tol)


def test_cd_sweep_survives_absurd_thread_counts():
    """OpenMP aborts the process when asked for ~10**5 threads: the kernel caps them."""
    n, k = 5000, 3
    rng = np.random.default_rng(0)
    W, gram, cross = rng.random((n, k)), np.eye(k), rng.random((n, k))
    expected = W.copy()
    cd_sweep(expected, gram, cross, np.arange(k, dtype=np.intp), np.empty(n), 1)
    for n_threads in (100_000, 2**31 - 1):
        W_try = W.copy()
        cd_sweep(W_try, gram, cross, np.arange(k, dtype=np.intp), np.empty(n), n_threads)
        np.testing.assert_array_equal(W_try, expected)


# ---- the projected-gradient kernels (once nmf/_pg_fast is part of the build) --------
needs_pg = pytest.mark.skipif(importlib.util.find_spec("nmf._pg_fast") is None,
                              reason="the projected-gradient kernels are not in this build")


def _pg_objective(F, gram, cross):
    F = F.astype(np.float64)
    return 0.5 * np.sum((F @ gram) * F) - np.sum(cross * F)


@needs_pg
@PROPERTY
@given(data=st.data(), r=st.integers(0, 30), k=st.integers(0, 5),
       dtype=st.sampled_from([np.float32, np.float64]),
       n_threads=st.sampled_from([1, 2, 0, -3, 10**6, 2**31]),
       tol=st.sampled_from([0.0, 1e-3, -1.0, float("nan")]),
       max_iter=st.sampled_from([1, 5, 0, -1]))
def test_pg_kernels_misuse_raises_and_leaves_F_alone(data, r, k, dtype, n_threads, tol,
                                                      max_iter):
    from nmf._pg_fast import pg_subproblem, projected_gradient

    F = data.draw(_operand((r, k), dtype))
    gram = data.draw(_operand((k, k), dtype))
    if isinstance(gram, np.ndarray) and gram.ndim == 2 and gram.shape[0] == gram.shape[1] \
            and gram.dtype.kind == "f":
        gram = np.array(gram @ gram.T, dtype=gram.dtype)  # a Gram matrix: symmetric, PSD
    cross = data.draw(_operand((r, k), dtype))
    grad = data.draw(_operand((r, k), dtype))
    step = data.draw(_operand((r, k), dtype))
    step_gram = data.draw(_operand((k, k), dtype))
    F_before = np.array(F, copy=True) if isinstance(F, np.ndarray) else None
    try:
        norm_sq, projected_sq = projected_gradient(F, gram, cross, grad, step, n_threads)
    except MISUSE:
        if F_before is not None:
            assert np.array_equal(F, F_before)
    else:
        for A, shape in ((F, (r, k)), (gram, (k, k)), (cross, (r, k)), (grad, (r, k))):
            assert isinstance(A, np.ndarray) and A.shape == shape and A.dtype == F.dtype
        expected = F.astype(np.float64) @ gram - cross
        tol_dtype = 1e-4 if F.dtype == np.float32 else 1e-10
        np.testing.assert_allclose(grad, expected, rtol=tol_dtype, atol=tol_dtype * 10)
        assert norm_sq == pytest.approx(np.sum(expected**2), rel=10 * tol_dtype,
                                        abs=tol_dtype)
        assert 0 <= projected_sq <= norm_sq * (1 + 1e-6) + 1e-12
    try:
        pg_subproblem(F, gram, cross, grad, step, step_gram, tol, max_iter, n_threads)
    except MISUSE:
        if F_before is not None:
            assert np.array_equal(F, F_before)
        return
    assert tol >= 0 and max_iter >= 1 and step_gram.shape == (k, k)
    assert np.isfinite(F).all() and (F >= 0).all()
    if (F_before >= 0).all():
        start, end = (_pg_objective(A, gram, cross) for A in (F_before, F))
        assert end <= start + 1e-4 * (abs(start) + 1)


@needs_pg
def test_pg_kernels_survive_absurd_thread_counts():
    """OpenMP aborts or crashes when asked for ~10**5 threads: the kernels cap them."""
    from nmf._pg_fast import pg_subproblem, projected_gradient

    r, k = 300_000, 4  # beyond the size at which the passes run on threads
    rng = np.random.default_rng(0)
    F, gram, cross = rng.random((r, k)), np.eye(k), rng.random((r, k))

    def buffers():
        return np.empty((r, k)), np.empty((r, k))

    expected = projected_gradient(F, gram, cross, *buffers(), 1)
    F_expected = F.copy()
    pg_subproblem(F_expected, gram, cross, *buffers(), np.empty((k, k)), 1e-3, 5, 1)
    for n_threads in (100_000, 2**31 - 1):
        assert projected_gradient(F, gram, cross, *buffers(), n_threads) == expected
        F_try = F.copy()
        pg_subproblem(F_try, gram, cross, *buffers(), np.empty((k, k)), 1e-3, 5, n_threads)
        np.testing.assert_array_equal(F_try, F_expected)


# ---- the sparse products (nmf/_sparse_fast.pyx) --------------------------------------
_SPARSE_FLAWS = ["none", "none", "index_negative", "index_past_end", "index_huge",
                 "indptr_drops", "indptr_past_nnz", "indptr_negative", "indptr_length",
                 "data_length", "index_types_differ", "factor_shape", "out_shape",
                 "out_is_factor", "dtypes_differ", "none_object"]


@st.composite
def _compressed_operands(draw):
    """(data, indices, indptr, n_rows, n_cols, flaw) of a CSR matrix, maybe corrupted."""
    n_rows, n_cols = draw(st.integers(0, 12)), draw(st.integers(0, 9))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    A = sp.random(n_rows, n_cols, density=0.4, format="csr", random_state=rng)
    data, indices, indptr = A.data.copy(), A.indices.astype(np.int64), \
        A.indptr.astype(np.int64)
    flaw = draw(st.sampled_from(_SPARSE_FLAWS))
    if flaw.startswith("index_") and flaw != "index_types_differ" and len(indices):
        indices[draw(st.integers(0, len(indices) - 1))] = {
            "index_negative": -1, "index_past_end": n_cols, "index_huge": 2**40}[flaw]
    elif flaw == "indptr_drops" and n_rows >= 2 and indptr[-1] > 0:
        indptr[1], indptr[2] = indptr[-1], 0
    elif flaw == "indptr_past_nnz" and n_rows:
        indptr[-1] = len(data) + 3
    elif flaw == "indptr_negative" and n_rows:
        indptr[0] = -1
    elif flaw == "indptr_length":
        indptr = indptr[:-1]
    elif flaw == "data_length":
        data = np.append(data, 1.0)
    index_type = draw(st.sampled_from([np.int32, np.int64]))
    indices = indices.astype(np.int64 if flaw == "index_huge" else index_type)
    indptr = indptr.astype(np.int64 if flaw == "index_types_differ" and
                           index_type == np.int32 else index_type)
    if flaw == "index_types_differ" and index_type == np.int64:
        indptr = indptr.astype(np.int32)
    return data, indices, indptr, n_rows, n_cols, flaw


def _valid_csr(data, indices, indptr, n_rows, n_cols):
    if data is None or len(indptr) != n_rows + 1 or len(indices) != len(data):
        return False
    if indptr.dtype != indices.dtype or indptr[0] < 0 or indptr[-1] > len(data):
        return False
    if (np.diff(indptr) < 0).any():
        return False
    used = indices[indptr[0]:indptr[-1]]
    return bool(((used >= 0) & (used < n_cols)).all())


def _dense(data, indices, indptr, n_rows, n_cols):
    dense = np.zeros((n_rows, n_cols))
    for i in range(n_rows):
        for p in range(indptr[i], indptr[i + 1]):
            dense[i, indices[p]] += data[p]  # duplicates add up
    return dense


@PROPERTY
@given(operands=_compressed_operands(), k=st.integers(0, 4),
       dtype=st.sampled_from([np.float32, np.float64]),
       n_threads=st.sampled_from([1, 2, 0, -5, 10**6, 2**31]),
       kernel=st.sampled_from(["csr_times", "csr_t_times", "csr_inner_lowrank"]))
def test_sparse_kernels_misuse_raises_and_leaves_the_factor_alone(operands, k, dtype,
                                                                   n_threads, kernel):
    from nmf import _sparse_fast

    data, indices, indptr, n_rows, n_cols, flaw = operands
    data = data.astype(dtype)
    rng = np.random.default_rng(k)
    rows_in, rows_out = (n_cols, n_rows) if kernel == "csr_times" else (n_rows, n_cols)
    factor = rng.random((rows_in + (flaw == "factor_shape"), k)).astype(dtype)
    out = np.full((rows_out + (flaw == "out_shape"), k), np.nan, dtype)
    if flaw == "out_is_factor":
        out = factor
    if flaw == "dtypes_differ":
        factor = factor.astype(np.float64 if dtype == np.float32 else np.float32)
    if flaw == "none_object":
        data = None
    factor_before = factor.copy()
    try:
        if kernel == "csr_inner_lowrank":
            other = rng.random((n_cols, k)).astype(factor.dtype)
            result = _sparse_fast.csr_inner_lowrank(data, indices, indptr, factor, other,
                                                    np.empty(n_rows), n_threads)
        else:
            getattr(_sparse_fast, kernel)(data, indices, indptr, factor, out, n_threads)
    except MISUSE:
        if flaw != "out_is_factor":
            assert np.array_equal(factor, factor_before)
        return
    if k == 0 or kernel != "csr_inner_lowrank" and out.size == 0:
        return  # an empty product: a kernel may return before reading anything
    # Accepted: the structure was valid for the shapes the buffers imply, and the
    # buffers apart and of one dtype.
    rows, cols = {"csr_times": (out.shape[0], factor.shape[0]),
                  "csr_t_times": (factor.shape[0], out.shape[0])}.get(
        kernel, (factor.shape[0], n_cols))
    assert _valid_csr(data, indices, indptr, rows, cols), flaw
    assert flaw != "dtypes_differ", flaw
    assert flaw != "out_is_factor" or kernel == "csr_inner_lowrank", flaw  # it has no out
    A = _dense(data, indices, indptr, rows, cols)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    if kernel == "csr_inner_lowrank":
        expected = np.sum(A * (factor.astype(np.float64) @ other.T))
        assert result == pytest.approx(expected, rel=tol, abs=tol)
    else:
        expected = A @ factor if kernel == "csr_times" else A.T @ factor
        np.testing.assert_allclose(out, expected, rtol=tol, atol=tol)
