"""The CD solver end to end, against the NumPy reference and known properties."""
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

import nmf
from nmf import ConvergenceWarning, non_negative_factorization

from _reference import cd_fit, dense, objective


def _problem(n=40, m=25, k=4, dtype=np.float64, seed=0, density=None):
    rng = np.random.default_rng(seed)
    if density is None:
        X = rng.random((n, k)) @ rng.random((k, m)) + 0.1 * rng.random((n, m))
    else:
        X = sp.random(n, m, density=density, format="csr", random_state=seed)
    W0 = rng.random((n, k))
    H0 = rng.random((k, m))
    return X.astype(dtype), W0.astype(dtype), H0.astype(dtype)


def _custom(X, W0, H0, **kw):
    kw.setdefault("tol", 0)
    return non_negative_factorization(X, W0, H0, n_components=W0.shape[1], init="custom",
                                      **kw)


@pytest.mark.parametrize("density", [None, 0.3])
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("regularization", [None, "both", "components", "transformation"])
def test_iterates_match_numpy_reference(density, shuffle, regularization):
    X, W0, H0 = _problem(density=density)
    alpha, l1_ratio = (0.0, 0.0) if regularization is None else (0.3, 0.4)
    W, H, n_iter = _custom(X, W0, H0, max_iter=15, alpha=alpha, l1_ratio=l1_ratio,
                           regularization=regularization, shuffle=shuffle, random_state=7)
    l1, l2 = alpha * l1_ratio, alpha * (1 - l1_ratio)
    on_W = regularization in ("both", "transformation")
    on_H = regularization in ("both", "components")
    W_ref, H_ref, n_ref = cd_fit(
        X, W0, H0, max_iter=15, l1_W=l1 * on_W, l2_W=l2 * on_W, l1_H=l1 * on_H,
        l2_H=l2 * on_H, shuffle_seed=7 if shuffle else None)
    assert n_iter == n_ref == 15
    assert_allclose(W, W_ref, rtol=1e-10, atol=1e-12)
    assert_allclose(H, H_ref, rtol=1e-10, atol=1e-12)


def test_stopping_iteration_matches_reference():
    X, W0, H0 = _problem()
    _, _, n_iter = _custom(X, W0, H0, max_iter=500, tol=1e-3)
    _, _, n_ref = cd_fit(X, W0, H0, max_iter=500, tol=1e-3)
    assert 1 < n_iter == n_ref < 500


def test_float32_iterates_match_reference_at_float32_precision():
    X, W0, H0 = _problem(dtype=np.float32)
    W, H, _ = _custom(X, W0, H0, max_iter=10)
    assert W.dtype == H.dtype == np.float32
    W_ref, H_ref, _ = cd_fit(X.astype(np.float64), W0.astype(np.float64),
                             H0.astype(np.float64), max_iter=10)
    assert_allclose(W, W_ref, rtol=2e-3, atol=1e-4)
    assert_allclose(H, H_ref, rtol=2e-3, atol=1e-4)


def test_update_H_false_solves_W_only_from_zeros():
    X, W0, H0 = _problem()
    W, H, _ = non_negative_factorization(X, H=H0, update_H=False, tol=0, max_iter=10)
    assert_array_equal(H, H0)
    W_ref, _, _ = cd_fit(X, np.zeros_like(W0), H0, max_iter=10, update_H=False)
    assert_allclose(W, W_ref, rtol=1e-10, atol=1e-12)


def test_objective_never_increases():
    X, W0, H0 = _problem(seed=3)
    values = [objective(X, W0, H0)]
    for max_iter in range(1, 30):
        W, H, _ = _custom(X, W0, H0, max_iter=max_iter)
        values.append(objective(X, W, H))
    assert np.all(np.diff(values) <= 1e-12 * values[0])
    assert values[-1] < 0.5 * values[0]


@pytest.mark.parametrize("regularization", [None, "both"])
def test_kkt_conditions_at_convergence(regularization):
    X, W0, H0 = _problem(seed=4)
    alpha = 0.0 if regularization is None else 0.5
    W, H, n_iter = _custom(X, W0, H0, max_iter=5000, tol=1e-9, alpha=alpha, l1_ratio=0.5,
                           regularization=regularization)
    l1, l2 = alpha * 0.5, alpha * 0.5
    grad_W = W @ H @ H.T - X @ H.T + l1 + l2 * W
    grad_H = W.T @ W @ H - W.T @ X + l1 + l2 * H
    scale = np.abs(X @ H.T).max()
    for factor, grad in ((W, grad_W), (H, grad_H)):
        assert grad.min() >= -1e-5 * scale                       # dual feasibility
        assert np.abs(factor * grad).max() <= 1e-5 * scale * factor.max()  # complementarity


def test_sparse_and_dense_input_give_the_same_factors():
    X, W0, H0 = _problem(density=0.2, n=60, m=30)
    Ws, Hs, _ = _custom(X, W0, H0, max_iter=20)
    for form in (dense(X), np.asfortranarray(dense(X)), X.tocsc(), sp.csr_array(X)):
        W, H, _ = _custom(form, W0, H0, max_iter=20)
        assert_allclose(W, Ws, rtol=1e-10, atol=1e-13)
        assert_allclose(H, Hs, rtol=1e-10, atol=1e-13)


def test_float32_close_to_float64():
    X, _, _ = _problem(n=60, m=40, k=5, seed=5)
    W64, H64, _ = non_negative_factorization(X, n_components=5, init="nndsvd", tol=0,
                                             max_iter=50, random_state=0)
    W32, H32, _ = non_negative_factorization(X.astype(np.float32), n_components=5,
                                             init="nndsvd", tol=0, max_iter=50,
                                             random_state=0)
    assert W32.dtype == H32.dtype == np.float32
    assert_allclose(W32 @ H32, W64 @ H64, rtol=1e-3, atol=1e-3 * X.max())


@pytest.mark.parametrize("density", [None, 0.3])
def test_bitwise_identical_for_any_thread_count_and_repeats(density):
    X, _, _ = _problem(n=400, m=300, k=8, density=density, seed=6)
    runs = []
    try:
        for n_threads in (1, 2, 1, 2):
            nmf.set_num_threads(n_threads)
            runs.append(non_negative_factorization(X, n_components=8, random_state=3,
                                                   shuffle=True, tol=0, max_iter=20))
    finally:
        nmf.set_num_threads(None)
    for W, H, n_iter in runs[1:]:
        assert_array_equal(W, runs[0][0])
        assert_array_equal(H, runs[0][1])


def test_convergence_warning_at_max_iter_only_when_tol_positive(recwarn):
    X, W0, H0 = _problem()
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        _custom(X, W0, H0, max_iter=3, tol=1e-12)
    _custom(X, W0, H0, max_iter=3, tol=0)     # fixed iterations asked for: no warning
    assert not recwarn.list


def test_verbose_prints_iterations(capsys):
    X, W0, H0 = _problem()
    _custom(X, W0, H0, max_iter=30, tol=1e-2, verbose=1)
    out = capsys.readouterr().out
    assert "iteration" in out and "violation ratio" in out and "elapsed" in out
    _custom(X, W0, H0, max_iter=5, verbose=0)
    assert capsys.readouterr().out == ""


def test_zero_data_converges_to_zero_without_nan():
    X = np.zeros((10, 6))
    W, H, n_iter = non_negative_factorization(X, n_components=3, init="random",
                                              random_state=0)
    assert np.isfinite(W).all() and np.isfinite(H).all()
    assert_allclose(W @ H, 0, atol=1e-12)


@pytest.mark.parametrize("shuffle", [False, True])
def test_matches_scikit_learn_from_the_same_initial_factors(shuffle):
    sk = pytest.importorskip("sklearn.decomposition")
    for density in (None, 0.3):
        X, W0, H0 = _problem(density=density, seed=8)
        W, H, n_iter = _custom(X, W0, H0, max_iter=40, shuffle=shuffle, random_state=1)
        W_sk, H_sk, n_sk = sk.non_negative_factorization(
            X, W0.copy(), H0.copy(), n_components=4, init="custom", solver="cd", tol=0,
            max_iter=40, shuffle=shuffle, random_state=1)
        assert n_iter == n_sk
        assert_allclose(W, W_sk, rtol=1e-9, atol=1e-12)
        assert_allclose(H, H_sk, rtol=1e-9, atol=1e-12)


def test_canonical_small_example():
    X = np.array([[1, 1], [2, 1], [3, 1.2], [4, 1], [5, 0.8], [6, 1]])
    model = nmf.NMF(n_components=2, init="random", random_state=0)
    W = model.fit_transform(X)
    assert_allclose(W @ model.components_, X, atol=2e-3)
    assert model.reconstruction_err_ < 2e-3


@pytest.mark.filterwarnings("ignore::nmf.ConvergenceWarning")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k, regularization", [(3, None), (10, "both"),
                                               (30, "transformation")])
def test_dense_row_block_pass_gives_the_bits_of_the_whole_products(monkeypatch, dtype, k,
                                                                   regularization):
    """With nmf's dense kernels, W's update runs in a pass over X's row blocks (X @ H.T
    of the block, its rows of W swept, its X.T @ W added to the rest) where the
    products run on one thread. Blocks of 7 rows here, the last short: W, H and the
    iteration count are those of the products over all of X on 1, 2 or 3 threads, L1,
    L2 and shuffling included."""
    from nmf import _products
    X, W0, H0 = _problem(n=300, m=45, k=k, seed=4)
    X, W0, H0 = X.astype(dtype), W0.astype(dtype), H0.astype(dtype)
    if _products.uses_blas(X, k):
        pytest.skip("no dense kernel here: BLAS computes the products")
    max_iter = 200 if k == 3 else 60          # k = 3 stops on tol, the others not
    options = dict(max_iter=max_iter, tol=1e-3, alpha=0.2, l1_ratio=0.5,
                   regularization=regularization, shuffle=True, random_state=0)
    real_pass = _products.pass_products
    passes = []

    def recorded_pass(*args):
        passes.append(real_pass(*args))
        return passes[-1]
    monkeypatch.setattr(_products, "pass_products", recorded_pass)
    monkeypatch.setattr(_products, "PASS_BLOCK_BYTES", 7 * X[0].nbytes)
    monkeypatch.setattr(_products, "PASS_ROW_MULTIPLE", 7)
    monkeypatch.setattr(_products, "PASS_MIN_ROWS", 7)
    monkeypatch.setattr(_products, "MIN_WORK_PER_THREAD", 1)   # small X: threads too
    fits = []
    try:
        for n_threads in (1, 2, 3):
            nmf.set_num_threads(n_threads)
            fits.append(_custom(X, W0, H0, **options))
    finally:
        nmf.set_num_threads(None)
    # One thread: the pass, 43 blocks. More: the whole products, which would share out
    # X's rows among the threads (each block of the pass is two parallel regions).
    assert len(passes) == 3 and len(passes[0][0]) == 43
    assert passes[1] is None and passes[2] is None
    monkeypatch.setattr(_products, "pass_products", lambda *args: None)
    W, H, n_iter = _custom(X, W0, H0, **options)
    assert 2 < n_iter < max_iter or k > 3
    for W_p, H_p, n_iter_p in fits:
        assert n_iter_p == n_iter
        assert_array_equal(W_p, W)
        assert_array_equal(H_p, H)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_csr_and_csc_X_give_the_same_bits(dtype):
    """With CSR X the W sweep sums its rows of X @ H.T itself, block by block, and
    X.T @ W is stored first; with CSC X the other way round. Each entry is summed in
    the same order either way (sorted indices), so the factors agree bit for bit, L1
    and shuffling included."""
    X, W0, H0 = _problem(density=0.2, n=300, m=40, seed=3)
    X = X.astype(dtype)
    options = dict(max_iter=15, alpha=0.1, l1_ratio=0.5, regularization="both",
                   shuffle=True, random_state=0)
    W_r, H_r, _ = _custom(X.tocsr(), W0.astype(dtype), H0.astype(dtype), **options)
    W_c, H_c, _ = _custom(X.tocsc(), W0.astype(dtype), H0.astype(dtype), **options)
    assert_array_equal(W_r, W_c)
    assert_array_equal(H_r, H_c)


@pytest.mark.filterwarnings("ignore::nmf.ConvergenceWarning")
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k, widths", [(3, [4, 5]), (10, [11, 16]), (30, [32, 40])])
def test_padded_rows_of_the_other_factor_give_the_same_bits(monkeypatch, fmt, dtype, k,
                                                            widths):
    """With sparse X the factor gathered at random (H.T for CSR X, W for CSC X) is
    copied into rows padded to whole cache lines, its cross product scattered into them
    (nmf/_padding.py decides where). Any padding gives the bits of none, L1, L2 and
    shuffling included, on 1 and 2 threads; the padded buffer is line-aligned and used
    as asked."""
    from nmf import _padding
    X, W0, H0 = _problem(density=0.3, n=200, m=150, k=k, seed=5)
    X, W0, H0 = X.asformat(fmt).astype(dtype), W0.astype(dtype), H0.astype(dtype)
    options = dict(max_iter=12, alpha=0.2, l1_ratio=0.5, regularization="both",
                   shuffle=True, random_state=0)
    asked, made = [], []
    real_empty = _padding.line_aligned_empty

    def recorded_empty(rows, cols, dtype):
        made.append(real_empty(rows, cols, dtype))
        return made[-1]
    monkeypatch.setattr(_padding, "line_aligned_empty", recorded_empty)
    monkeypatch.setattr(_padding, "padded_row_length", lambda rows, k, itemsize: k)
    W, H, n_iter = _custom(X, W0, H0, **options)
    assert not made
    for width in widths:
        def padded(rows, k_, itemsize, width=width):
            asked.append((rows, k_, itemsize))
            return width
        monkeypatch.setattr(_padding, "padded_row_length", padded)
        for n_threads in (1, 2):
            nmf.set_num_threads(n_threads)
            try:
                W_p, H_p, n_iter_p = _custom(X, W0, H0, **options)
            finally:
                nmf.set_num_threads(None)
            assert n_iter_p == n_iter
            assert_array_equal(W_p, W)
            assert_array_equal(H_p, H)
            assert made[-1].shape == ((150 if fmt == "csr" else 200), width)
            assert made[-1].ctypes.data % _padding.LINE_BYTES == 0
    assert set(asked) == {(150 if fmt == "csr" else 200, k, np.dtype(dtype).itemsize)}


def test_padding_stays_within_the_memory_the_fit_does_not_use(monkeypatch):
    """The padded rows take part of the cross product's memory that sparse X's fit
    does not store (n x k for CSR X): wider than that, the rows are not padded."""
    from nmf import _padding
    X, W0, H0 = _problem(density=0.3, n=20, m=60, k=10, seed=5)
    made = []
    monkeypatch.setattr(_padding, "line_aligned_empty",
                        lambda *shape: made.append(shape) or np.empty(shape[:2], shape[2]))
    for width, padded in [(13, True), (14, False)]:    # 60 x 3 <= 20 x 10 < 60 x 4
        monkeypatch.setattr(_padding, "padded_row_length", lambda *args, w=width: w)
        made.clear()
        _custom(X.tocsr(), W0, H0, max_iter=2)
        assert bool(made) == padded
