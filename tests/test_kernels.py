"""The kernel variants: baseline and AVX2 builds give the same bits; the right one is used."""

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from nmf import _kernels, _products
from nmf._cpu import has_avx2, has_avx512f, has_fma, splits_512bit_vectors

from _builds import is_built, kernel_builds
from _reference import hals_sweep


def test_the_processors_variant_is_used():
    expected = "_avx2" if is_built("_cd_fast_avx2") and has_avx2() else ""
    assert _kernels.cd_fast.__name__.endswith("_cd_fast" + expected)
    assert _kernels.sparse_fast.__name__.endswith("_sparse_fast" + expected)
    assert _kernels.range_fast.__name__.endswith("_range_fast" + expected)
    dense_built = is_built("_dense_fast")
    wide_built = is_built("_dense_fast_avx512")
    if wide_built and has_avx512f() and has_fma():
        assert _kernels.dense_fast.__name__ == "nmf._dense_fast_avx512"
    elif dense_built and has_avx2() and has_fma():
        assert _kernels.dense_fast.__name__ == "nmf._dense_fast"
    else:
        assert _kernels.dense_fast is None
    if dense_built and has_avx2() and has_fma() and splits_512bit_vectors():
        assert _kernels.dense_cols_fast.__name__ == "nmf._dense_fast"
    else:
        assert _kernels.dense_cols_fast is _kernels.dense_fast


def test_no_build_for_an_instruction_set_the_processor_lacks_is_loaded(tmp_path):
    """Importing nmf and fitting dense and sparse data loads only the builds this
    processor runs: a build for an instruction set it lacks would stop the process
    with SIGILL as it is imported (seen on an AVX2-only AMD EPYC)."""
    script = ("import sys, numpy as np, scipy.sparse as sp, nmf\n"
              "X = np.random.default_rng(0).random((60, 40))\n"
              "for data in (X, np.asfortranarray(X), sp.csr_matrix(X)):\n"
              "    for solver in ('cd', 'pg'):\n"
              "        nmf.non_negative_factorization(data, n_components=4, max_iter=3,\n"
              "                                       solver=solver, init='nndsvd')\n"
              "print(' '.join(sorted(m for m in sys.modules if m.startswith('nmf.'))))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True,
                            text=True, timeout=120, cwd=tmp_path)  # the installed nmf
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    assert "nmf._cd_fast" in loaded or "nmf._cd_fast_avx2" in loaded
    if not has_avx2():
        assert not {name for name in loaded if name.endswith("_avx2")}
    if not (has_avx2() and has_fma()):
        assert "nmf._dense_fast" not in loaded
    if not (has_avx512f() and has_fma()):
        assert "nmf._dense_fast_avx512" not in loaded


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("transpose", [False, True])
def test_products_across_X_use_the_cols_module(monkeypatch, order, transpose):
    """X.T @ F for C-ordered X and X @ F for F-ordered X go to dense_cols_fast, the
    others to dense_fast (a vector-shaped X, both orders at once, to dense_fast)."""
    if _kernels.dense_fast is None:
        pytest.skip("no dense kernels in this build or on this processor")
    calls = []

    class Recorder:
        MAX_K = _kernels.dense_fast.MAX_K

        def __init__(self, name):
            self.name = name

        def dense_times(self, *args):
            calls.append(self.name)

    monkeypatch.setattr(_products, "dense_fast", Recorder("all"))
    monkeypatch.setattr(_products, "dense_cols_fast", Recorder("cols"))
    X = np.asarray(np.ones((6, 4)), order=order)
    _products.product_function(X, transpose, 3)(None, None)
    across = (order == "C") == transpose
    assert calls == ["cols" if across else "all"]
    calls.clear()
    _products.product_function(np.ones((1, 4)), transpose, 3)(None, None)
    assert calls == ["all"]


@pytest.mark.parametrize("n, k", [(1, 1), (5, 3), (31, 4), (32, 5), (33, 9), (100, 30)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cd_sweep_every_block_shape_matches_reference(n, k, dtype):
    """Blocks of rows side by side: any row count (a partial last block) and any k
    give the textbook iterates."""
    rng = np.random.default_rng(n * k)
    W, H, X = (rng.random(s) for s in [(n, k), (k, 2 * k + 3), (n, 2 * k + 3)])
    W[rng.random(W.shape) < 0.3] = 0
    gram, cross = H @ H.T, X @ H.T
    order = rng.permutation(k)
    expected, expected_violation = hals_sweep(W, gram, cross, order)
    results = []
    for module in kernel_builds("_cd_fast"):
        W_k = W.astype(dtype)
        change = np.empty(n)
        violation = module.cd_sweep(W_k, gram.astype(dtype), cross.astype(dtype),
                                    order.astype(np.intp), np.empty(n), 2, change)
        tol = 1e-4 if dtype == np.float32 else 1e-12
        assert_allclose(W_k, expected, rtol=tol, atol=tol)
        assert violation == pytest.approx(expected_violation, rel=10 * tol)
        results.append((W_k, violation, change))
    for W_k, violation, change in results[1:]:
        assert_array_equal(W_k, results[0][0])
        assert violation == results[0][1]
        assert_array_equal(change, results[0][2])


def _textbook_sweep(W, gram, cross, order):
    """The row-by-row HALS sweep in scalar arithmetic of W's dtype, every product and
    sum rounded in the textbook order: grad = -cross[i, t] + gram[t, 0] w[i, 0] + ...;
    returns the swept copy and the summed violation (rows' sums in float64, in order)."""
    W = W.copy()
    zero = W.dtype.type(0)
    total = 0.0
    for i in range(W.shape[0]):
        row_violation = zero
        for t in order:
            grad = -cross[i, t]
            for r in range(W.shape[1]):
                grad = grad + gram[t, r] * W[i, r]
            old = W[i, t]
            row_violation = row_violation + abs(grad if old > 0 else min(grad, zero))
            if gram[t, t] > 0:
                W[i, t] = max(old - grad / gram[t, t], zero)
        total += float(row_violation)
    return W, total


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, k", [(1, 1), (7, 3), (65, 5), (130, 9)])
def test_cd_sweep_is_bitwise_the_textbook_loop(dtype, n, k):
    """Rows sit in vector lanes, 16-64 rows a block depending on the variant and dtype,
    their gradients summed in registers; none of that may change a bit (n = 65, 130:
    partial last blocks)."""
    rng = np.random.default_rng(n + k)
    W, H, X = (rng.random(s).astype(dtype) for s in [(n, k), (k, 11), (n, 11)])
    W[rng.random(W.shape) < 0.3] = 0
    gram, cross = H @ H.T, X @ H.T
    if k > 2:
        gram[1, :] = gram[:, 1] = 0             # a component left as it is
    order = rng.permutation(k).astype(np.intp)
    expected, expected_violation = _textbook_sweep(W, gram, cross, order)
    for module in kernel_builds("_cd_fast"):
        for n_threads in (1, 3):
            swept = W.copy()
            violation = module.cd_sweep(swept, gram, cross, order, np.empty(n), n_threads)
            assert_array_equal(swept, expected)
            assert violation == expected_violation


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_kernels_same_bits_in_every_variant(dtype):
    A = sp.random(300, 200, density=0.1, format="csr", random_state=0, dtype=dtype)
    rng = np.random.default_rng(0)
    F_cols, F_rows = rng.random((200, 11)).astype(dtype), rng.random((300, 11)).astype(dtype)
    results = []
    for module in kernel_builds("_sparse_fast"):
        out, out_t = np.empty((300, 11), dtype), np.empty((200, 11), dtype)
        module.csr_times(A.data, A.indices, A.indptr, F_cols, out, 2)
        module.csr_t_times(A.data, A.indices, A.indptr, F_rows, out_t, 2)
        inner = module.csr_inner_lowrank(A.data, A.indices, A.indptr, F_rows, F_cols,
                                         np.empty(300), 2)
        results.append((out, out_t, inner))
    for out, out_t, inner in results[1:]:
        assert_array_equal(out, results[0][0])
        assert_array_equal(out_t, results[0][1])
        assert inner == results[0][2]
