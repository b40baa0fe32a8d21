import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import nnls

import nmf._pg
from nmf import NMF, ConvergenceWarning, non_negative_factorization
from nmf._estimator import hoyer_sparseness

from _pg_reference import pg_fit

EXAMPLE = np.array([[1, 1], [2, 1], [3, 1.2], [4, 1], [5, 0.8], [6, 1]])


def _data(n=30, m=20, k=3, seed=0, density=None):
    rng = np.random.default_rng(seed)
    if density is not None:
        X = sp.random(n, m, density=density, random_state=seed, format="csr")
        return X, rng.random((n, k)), rng.random((k, m))
    X = rng.random((n, k)) @ rng.random((k, m)) + 0.1 * rng.random((n, m))
    return X, rng.random((n, k)), rng.random((k, m))


def _fit(X, W, H, **kw):
    return non_negative_factorization(X, W.copy(), H.copy(), W.shape[1], init="custom",
                                      solver="pg", **kw)


@pytest.fixture
def subproblem_trace(monkeypatch):
    """Record (n_iter, alpha) of every subproblem the driver solves."""
    trace = []
    solve = nmf._pg.pg_subproblem

    def recording(*args):
        result = solve(*args)
        trace.append(result[:2])
        return result

    monkeypatch.setattr(nmf._pg, "pg_subproblem", recording)
    return trace


def _objective(X, W, H):
    X = X.toarray() if sp.issparse(X) else X
    return 0.5 * np.sum((X - W @ H) ** 2)


@pytest.mark.filterwarnings("ignore::nmf.ConvergenceWarning")  # max_iter is part of the test
@pytest.mark.parametrize("fmt", ["dense", "csr", "csc"])
@pytest.mark.parametrize("options", [
    {},
    {"alpha": 0.3, "l1_ratio": 0.5, "regularization": "both"},
    {"alpha": 0.2, "l1_ratio": 1.0, "regularization": "components"},
    {"sparseness": "data", "beta": 0.5, "eta": 0.2},
    {"sparseness": "components", "beta": 2.0, "eta": 0.05},
])
def test_fit_matches_lin(fmt, options, subproblem_trace):
    X, W0, H0 = _data(density=None if fmt == "dense" else 0.3)
    X = X if fmt == "dense" else sp.csr_matrix(X).asformat(fmt)
    # Penalties as the package turns them into per-factor terms.
    alpha, l1_ratio = options.get("alpha", 0.0), options.get("l1_ratio", 0.0)
    on = {"both": "WH", "components": "H"}.get(options.get("regularization"), "")
    terms = {f"{kind}_{side}": (alpha * (l1_ratio if kind == "l1" else 1 - l1_ratio)
                                if side in on else 0.0)
             for kind in ("l1", "l2") for side in "WH"}
    sparse = {key: options[key] for key in ("sparseness", "beta", "eta") if key in options}
    W_ref, H_ref, n_ref, trace = pg_fit(X, W0, H0, tol=1e-4, max_iter=60,
                                        nls_max_iter=2000, **terms, **sparse)
    W, H, n_iter = _fit(X, W0, H0, tol=1e-4, max_iter=60, **options)
    assert n_iter == n_ref
    assert n_iter > 3
    assert subproblem_trace == [step[1:] for step in trace]
    assert_allclose(W, W_ref, rtol=1e-10, atol=1e-10 * np.abs(W_ref).max())
    assert_allclose(H, H_ref, rtol=1e-10, atol=1e-10 * np.abs(H_ref).max())


def test_fit_float32_stays_float32_and_close():
    X, W0, H0 = _data()
    W64, H64, _ = _fit(X, W0, H0, tol=1e-3)
    W, H, _ = _fit(X.astype(np.float32), W0, H0, tol=1e-3)
    assert W.dtype == H.dtype == np.float32
    assert_allclose(_objective(X, W, H), _objective(X, W64, H64), rtol=1e-3)


def test_kkt_conditions_at_convergence():
    X, W0, H0 = _data()
    W, H, _ = _fit(X, W0, H0, tol=1e-7, max_iter=2000)
    grad_W, grad_H = W @ H @ H.T - X @ H.T, W.T @ W @ H - W.T @ X
    scale = max(np.abs(X @ H.T).max(), np.abs(W.T @ X).max())
    for F, grad in ((W, grad_W), (H, grad_H)):
        assert F.min() >= 0
        assert grad.min() > -1e-5 * scale             # no descent direction into F >= 0
        assert np.abs(F * grad).max() < 1e-5 * scale * F.max()   # complementarity


def test_pg_and_cd_reach_the_same_objective():
    rng = np.random.default_rng(3)
    X = rng.random((40, 4)) @ rng.random((4, 30)) + 0.01 * rng.random((40, 30))
    objectives = []
    for solver, tol in (("pg", 1e-8), ("cd", 1e-6)):
        W, H, _ = non_negative_factorization(X, n_components=4, init="nndsvda",
                                             solver=solver, tol=tol, max_iter=3000,
                                             random_state=0)
        objectives.append(_objective(X, W, H))
    assert_allclose(objectives[0], objectives[1], rtol=1e-4)


@pytest.mark.parametrize("sparseness, factor", [("data", 0), ("components", 1)])
def test_sparseness_grows_with_beta(sparseness, factor):
    X, W0, H0 = _data(n=40, m=30, k=4, seed=1)
    values = []
    for beta in (0.01, 1.0, 30.0):
        result = _fit(X, W0, H0, tol=1e-4, max_iter=2000, sparseness=sparseness, beta=beta,
                      eta=0.1)
        values.append(hoyer_sparseness(result[factor]))
    assert values[0] < values[1] < values[2]
    assert values[2] - values[0] > 0.1


def test_example_reconstructs():
    model = NMF(n_components=2, init="random", random_state=0, solver="pg")
    W = model.fit_transform(EXAMPLE)
    assert model.reconstruction_err_ < 0.01
    assert_allclose(W @ model.components_, EXAMPLE, atol=0.01)
    assert model.comp_sparseness_ == hoyer_sparseness(model.components_)
    assert model.data_sparseness_ == hoyer_sparseness(W)
    assert 0 <= model.comp_sparseness_ <= 1 and 0 <= model.data_sparseness_ <= 1


def test_estimator_sparseness_attributes_follow_the_constraint():
    X, _, _ = _data(n=40, m=30, k=4, seed=1)
    plain = NMF(4, init="nndsvda", solver="pg", max_iter=2000).fit(X)
    sparse = NMF(4, init="nndsvda", solver="pg", max_iter=2000, sparseness="components",
                 beta=10.0).fit(X)
    assert sparse.comp_sparseness_ > plain.comp_sparseness_ + 0.1
    assert not hasattr(NMF(4, init="nndsvda", solver="cd", max_iter=2000).fit(X),
                       "comp_sparseness_")


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_transform_solves_W_with_H_fixed(fmt):
    X, _, _ = _data(n=25, m=20, k=3, seed=2)
    model = NMF(3, init="nndsvda", solver="pg", tol=1e-6, max_iter=1000).fit(X)
    X_new = np.random.default_rng(5).random((10, 20))
    W = model.transform(X_new if fmt == "dense" else sp.csr_matrix(X_new))
    # Row by row, the exact non-negative least-squares solution.
    expected = np.array([nnls(model.components_.T, row)[0] for row in X_new])
    assert W.shape == (10, 3)
    assert_allclose(W, expected, rtol=1e-4, atol=1e-4 * expected.max())
    assert 1 <= model.n_iter_ <= 3


def test_update_H_false_leaves_H_and_converges():
    X, _, H = _data(seed=4)
    H_copy = H.copy()
    W, H_out, n_iter = non_negative_factorization(X, H=H, n_components=3, update_H=False,
                                                  solver="pg", tol=1e-8)
    assert_array_equal(H, H_copy)
    assert_array_equal(H_out, H)
    grad = W @ H @ H.T - X @ H.T
    assert np.abs(np.where(W > 0, grad, np.minimum(grad, 0))).max() < 1e-6 * np.abs(X @ H.T).max()
    assert n_iter == 1


@pytest.mark.parametrize("update_H", [True, False])
def test_products_are_not_recomputed_while_their_factor_is_unchanged(monkeypatch, update_H):
    """X H^T is computed once per change of H: once at the start and once per outer
    iteration when fitting (the start's products serve W's first subproblem), once in
    all with H fixed (the calls restarted at nls_max_iter reuse it)."""
    calls = []
    original = nmf._pg._products.product_function

    def counted(X, transpose, *args, **kwargs):
        times = original(X, transpose, *args, **kwargs)
        if transpose:
            return times
        return lambda factor, out: calls.append(1) or times(factor, out)
    monkeypatch.setattr(nmf._pg._products, "product_function", counted)
    X, W0, H0 = _data(n=30, m=20, k=3, seed=6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if update_H:
            _, _, n_iter = non_negative_factorization(X, W0, H0, 3, init="custom",
                                                      solver="pg", tol=0, max_iter=4)
            assert len(calls) == n_iter == 4
        else:
            _, _, n_iter = non_negative_factorization(X, H=H0, n_components=3,
                                                      update_H=False, solver="pg",
                                                      tol=1e-12, nls_max_iter=2,
                                                      max_iter=5)
            assert n_iter == 5
            assert len(calls) == 1


def test_inputs_are_not_modified():
    X, W0, H0 = _data()
    X.setflags(write=False)
    copies = [a.copy() for a in (X, W0, H0)]
    non_negative_factorization(X, W0, H0, 3, init="custom", solver="pg")
    for a, copy in zip((X, W0, H0), copies):
        assert_array_equal(a, copy)


def test_max_iter_warns():
    X, W0, H0 = _data()
    with pytest.warns(ConvergenceWarning, match="max_iter=2 "):
        _, _, n_iter = _fit(X, W0, H0, tol=1e-6, max_iter=2)
    assert n_iter == 2


def test_nls_max_iter_warns_once_per_fit():
    X, W0, H0 = _data()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _fit(X, W0, H0, tol=1e-9, max_iter=30, nls_max_iter=1)
    messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert sum("nls_max_iter=1 " in message for message in messages) == 1


def test_zero_tol_runs_max_iter_quietly():
    X, W0, H0 = _data()
    _, _, n_iter = _fit(X, W0, H0, tol=0.0, max_iter=15, nls_max_iter=3)
    assert n_iter == 15


def test_stationary_start_stops_at_once():
    # W = 0, H = 0 has a zero gradient: nothing to do, and no division by zero.
    X, W0, H0 = _data()
    W, H, n_iter = _fit(X, 0 * W0, 0 * H0, tol=1e-4)
    assert n_iter == 1
    assert_array_equal(W, 0)
    assert_array_equal(H, 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_start_that_is_a_solution_to_roundoff_stops_at_once(dtype):
    """k = 1 from 'nndsvd' is the best rank-1 factorization: its gradient is roundoff
    (1.7e-13 against a cross product of norm 297), and tol times that roundoff is never
    reached; the fit stops at once, quietly, with the start, and so does W's
    subproblem with that H fixed. With tol = 0 it still runs max_iter iterations."""
    X = np.random.default_rng(0).random((100, 50)).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = NMF(1, solver="pg", init="nndsvd")
        W = model.fit_transform(X)
        assert model.n_iter_ == 1
        singular = np.linalg.svd(X.astype(np.float64), compute_uv=False)
        best = np.sqrt(np.sum(singular[1:] ** 2))        # the rank-1 optimum's error
        assert_allclose(model.reconstruction_err_, best, rtol=1e-6)
        _, _, n_iter = non_negative_factorization(X, H=model.components_, n_components=1,
                                                  update_H=False, solver="pg")
        assert n_iter == 1
        _, _, n_iter = non_negative_factorization(X, n_components=1, init="nndsvd",
                                                  solver="pg", tol=0.0, max_iter=4,
                                                  nls_max_iter=3)
        assert n_iter == 4


@pytest.mark.parametrize("update_H", [True, False])
def test_overflowing_factors_are_refused(update_H):
    """X scaled into range internally; custom factors it cannot rescale are refused
    up front; a fixed H is rescaled too, and refused when the W it gives, about X / H,
    lies beyond float64's range."""
    X, W0, H0 = _data()
    X = X * 1e160
    if update_H:
        with pytest.raises(ValueError, match=r"The W and H given \(init='custom'\) are too"
                                             r" large for X's scale even rebalanced"):
            _fit(X, W0 * 1e160, H0 * 1e160)
    else:
        with pytest.raises(ValueError, match="overflows"):
            non_negative_factorization(X, H=H0 * 1e-160, n_components=3, update_H=False,
                                       solver="pg")


def test_verbose_reports(capsys):
    X, W0, H0 = _data()
    _fit(X, W0, H0, verbose=2, max_iter=3, tol=0.0)
    out = capsys.readouterr().out
    assert out.count("[nmf pg] iteration") == 3


@pytest.mark.parametrize("params, error, match", [
    ({"nls_max_iter": 0}, ValueError, "nls_max_iter"),
    ({"nls_max_iter": 1.5}, TypeError, "nls_max_iter"),
    ({"beta": 0}, ValueError, "beta"),
    ({"eta": -1.0}, ValueError, "eta"),
    ({"sparseness": "rows"}, ValueError, "sparseness"),
    ({"sparseness": "data", "solver": "cd"}, ValueError, "sparseness"),
])
def test_parameter_errors(params, error, match):
    X, _, _ = _data()
    kw = {"solver": "pg", **params}
    with pytest.raises(error, match=match):
        non_negative_factorization(X, n_components=2, **kw)


_INTERRUPTED = """
import sys, time, numpy as np
{setup}
print("ready", flush=True)
try:
    {call}
except KeyboardInterrupt:
    print(f"interrupted {{time.monotonic()}}", flush=True)
    sys.exit(0)
sys.exit(1)
"""


def _latency(tmp_path, code):
    """Seconds from SIGINT to the KeyboardInterrupt, as the child's clock sees it."""
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, cwd=tmp_path) as process:
        try:
            assert process.stdout.readline().strip() == "ready"
            time.sleep(0.5)
            sent = time.monotonic()
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=30)
        finally:
            process.kill()
    assert process.returncode == 0, err
    return float(out.split()[1]) - sent


@pytest.mark.parametrize("setup, call", [
    # One subproblem that would run for minutes.
    ("""from nmf._pg_fast import pg_subproblem
rng = np.random.default_rng(0)
F, gram, cross = rng.random((20000, 20)), np.eye(20) + 1, rng.random((20000, 20))
buffers = np.empty_like(F), np.empty_like(F), np.empty((20, 20))""",
     "pg_subproblem(F, gram, cross, *buffers, 0.0, 10**8)"),
    # A whole fit.
    ("""from nmf import non_negative_factorization
X = np.random.default_rng(0).random((3000, 2000))""",
     "non_negative_factorization(X, n_components=20, solver='pg', tol=0, max_iter=10**6)"),
], ids=["subproblem", "fit"])
def test_ctrl_c_interrupts_quickly(tmp_path, setup, call):
    # Typically a few ms; on a loaded machine the child may not be scheduled for a
    # while, hence up to 3 tries. A kernel that never looked for signals would not
    # stop at all (it runs for minutes) and fail every one.
    code = _INTERRUPTED.format(setup=setup, call=call)
    latencies = []
    for _ in range(3):
        latencies.append(_latency(tmp_path, code))
        if latencies[-1] < 0.5:
            return
    pytest.fail(f"KeyboardInterrupt {latencies} s after SIGINT")


@pytest.mark.parametrize("form", ["csr", "csc"])
def test_pg_chooses_its_products_once_a_fit(monkeypatch, form):
    """The kernels, threads and (sparse X, several threads) the split of X.T @ W's
    rows are chosen once, not at every outer iteration; the result keeps the bits of
    one thread."""
    from nmf import _products
    monkeypatch.setattr(_products, "MIN_WORK_PER_THREAD", 1)
    built, bounds = [], []
    real_function, real_bounds = _products.product_function, _products.sparse_fast.scatter_bounds
    monkeypatch.setattr(_products, "product_function",
                        lambda *a, **kw: built.append(a) or real_function(*a, **kw))
    monkeypatch.setattr(_products.sparse_fast, "scatter_bounds",
                        lambda *a: bounds.append(a) or real_bounds(*a))
    X = sp.random(300, 200, density=0.1, format=form, random_state=0)
    fits = []
    for n_threads in (1, 2):
        nmf.set_num_threads(n_threads)
        try:
            fits.append(non_negative_factorization(X, n_components=4, solver="pg",
                                                   max_iter=20, tol=0, init="random",
                                                   random_state=0)[:2])
        finally:
            nmf.set_num_threads(None)
    assert len(built) == 4 and len(bounds) == 1      # W's and H's, per fit; 2 threads
    assert_array_equal(fits[0][0], fits[1][0])
    assert_array_equal(fits[0][1], fits[1][1])
