"""The benchmark data sets and the objective that the suite and compare.py report."""
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from benchmarks import data


def test_objective_matches_the_definition_dense_and_sparse():
    rng = np.random.default_rng(1)
    X = rng.random((300, 40))
    X[X < 0.7] = 0
    W, H = rng.random((300, 5)), rng.random((5, 40))
    expected = 0.5 * np.sum((X - W @ H) ** 2)
    assert_allclose(data.objective(X, W, H), expected, rtol=1e-12)
    assert_allclose(data.objective(sp.csr_matrix(X), W, H), expected, rtol=1e-10)
    assert_allclose(data.objective(sp.csc_matrix(X).astype(np.float32), W, H), expected,
                    rtol=1e-6)


def test_objective_dense_works_in_row_blocks():
    rng = np.random.default_rng(2)
    X = rng.random((5000, 130))            # more rows than one 4 MB block holds
    W, H = rng.random((5000, 3)), rng.random((3, 130))
    assert_allclose(data.objective(X, W, H), 0.5 * np.sum((X - W @ H) ** 2), rtol=1e-12)


def test_synthetic_sets_are_fixed_non_negative_and_shaped():
    dense = data.dense_low_rank((200, 100))
    assert dense.shape == (200, 100) and dense.min() >= 0
    assert np.array_equal(dense, data.dense_low_rank((200, 100)))
    sparse = data.sparse_low_rank((2000, 1000))
    sparse.check_format(full_check=True)
    assert sparse.format == "csr" and sparse.has_sorted_indices and sparse.data.min() > 0
    assert 0.005 < sparse.nnz / (2000 * 1000) < 0.015
    again = data.sparse_low_rank((2000, 1000))
    assert (sparse != again).nnz == 0


def test_zipf_set_is_fixed_and_front_loaded():
    X = data.sparse_zipf((3000, 2000), per_row=10)
    X.check_format(full_check=True)
    assert X.format == "csr" and X.has_sorted_indices and X.data.min() > 0
    assert (X != data.sparse_zipf((3000, 2000), per_row=10)).nnz == 0
    counts = np.bincount(X.indices, minlength=2000)
    assert counts[:1000].sum() > 0.85 * X.nnz         # most entries in the first half
    assert 0.9 * 30000 < X.nnz <= 30000               # repeats summed


def test_load_casts_and_initial_factors_follow_the_dtype():
    X = data.load("dense_2000x1000", "float32")
    assert X.dtype == np.float32 and X.shape == (2000, 1000)
    W, H = data.initial_factors(X, 7)
    assert W.dtype == H.dtype == np.float32 and W.shape == (2000, 7) and H.shape == (7, 1000)
    assert W.min() >= 0 and H.min() >= 0
    W2, _ = data.initial_factors(X, 7)
    assert np.array_equal(W, W2)


def test_missing_debian_file_skips(monkeypatch, tmp_path):
    monkeypatch.setenv("NMF_BENCH_DATA", str(tmp_path))
    assert not data.debian_available()
    with pytest.raises(NotImplementedError, match="NMF_BENCH_DATA"):
        data.load("debian_tfidf")


def test_unknown_solver_skips_and_cd_runs():
    data.require_solver("cd")
    with pytest.raises(NotImplementedError, match="no-such-solver"):
        data.require_solver("no-such-solver")
