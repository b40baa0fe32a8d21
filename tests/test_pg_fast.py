import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from nmf._pg_fast import pg_subproblem, projected_gradient

from _pg_reference import nls_subproblem, projected_norm, subproblem_terms


def _problem(dtype=np.float64, r=40, k=4, m=25, seed=0, l1=0.0, l2=0.0, sparse_rows=None):
    """A subproblem from random data: (F, gram, cross), gram and cross read-only."""
    rng = np.random.default_rng(seed)
    X, other, F = rng.random((r, m)), rng.random((m, k)), rng.random((r, k))
    F[rng.random(F.shape) < 0.3] = 0          # some active bounds from the start
    gram, cross = subproblem_terms(X, other, l1, l2, sparse_rows, beta=0.5, eta=0.2)
    gram, cross = gram.astype(dtype), cross.astype(dtype)
    for a in (gram, cross):
        a.setflags(write=False)                 # read-only input must be accepted
    return F.astype(dtype), gram, cross


def _buffers(F):
    r, k = F.shape
    return np.empty_like(F), np.empty_like(F), np.empty((k, k), F.dtype)


def _solve(F, gram, cross, tol, max_iter, n_threads=1):
    F = F.copy()
    grad, step, step_gram = _buffers(F)
    result = pg_subproblem(F, gram, cross, grad, step, step_gram, tol, max_iter, n_threads)
    return F, grad, result


def _initial_norm(F, gram, cross):
    return np.linalg.norm(F @ gram - cross)


@pytest.mark.parametrize("terms", [
    {}, {"l1": 0.3, "l2": 0.2}, {"sparse_rows": "self"}, {"sparse_rows": "other"},
])
@pytest.mark.parametrize("relative_tol, max_iter", [(1e-2, 500), (1e-6, 500), (1e-9, 30)])
@pytest.mark.parametrize("seed", [0, 1])
def test_subproblem_matches_lin(terms, relative_tol, max_iter, seed):
    F0, gram, cross = _problem(seed=seed, **terms)
    tol = relative_tol * _initial_norm(F0, gram, cross)
    expected, expected_grad, n_iter, alpha, converged = nls_subproblem(
        F0, gram, cross, tol, max_iter)
    F, grad, (got_iter, got_alpha, got_converged, projected_sq) = _solve(
        F0, gram, cross, tol, max_iter)
    assert (got_iter, got_alpha, got_converged) == (n_iter, alpha, converged)
    assert n_iter > 1
    assert_allclose(F, expected, rtol=1e-10, atol=1e-12 * np.abs(expected).max())
    assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-10 * np.abs(expected_grad).max())
    assert_allclose(projected_sq, projected_norm(expected_grad, expected) ** 2, rtol=1e-9)
    assert F.min() >= 0


def test_subproblem_grows_and_shrinks_the_step():
    # A Gram with large entries needs steps far below 1; a small one steps above 1.
    F0, gram, cross = _problem()
    for scale in (100.0, 0.01):
        tol = 1e-8 * _initial_norm(F0, scale * gram, scale * cross)
        _, _, n_iter, alpha, _ = nls_subproblem(F0, scale * gram, scale * cross, tol, 300)
        _, _, result = _solve(F0, scale * gram, scale * cross, tol, 300)
        assert result[:2] == (n_iter, alpha)
        assert (alpha < 0.1) if scale > 1 else (alpha > 1)


def test_subproblem_keeps_the_last_step_when_a_longer_one_changes_nothing():
    # grad = F + 1 > 0: steps of 1 and 10 both project every entry to 0, so the
    # growing search stops at its second trial (Lin's Hp == Hn) with alpha = 10.
    F0 = np.random.default_rng(0).random((6, 3))
    gram, cross = np.eye(3), -np.ones((6, 3))
    expected = nls_subproblem(F0, gram, cross, 0.0, 10)
    F, _, result = _solve(F0, gram, cross, 0.0, 10)
    assert result[:3] == expected[2:] == (2, 10.0, True)
    assert_array_equal(F, 0)


def test_subproblem_stops_at_max_iter():
    F0, gram, cross = _problem()
    F, grad, (n_iter, _, converged, projected_sq) = _solve(F0, gram, cross, 0.0, 7)
    assert (n_iter, converged) == (7, False)
    # The gradient is the one of the top of iteration 7, F has moved since.
    assert not np.allclose(grad, F @ gram - cross)
    assert_allclose(projected_sq, projected_norm(grad, F) ** 2, rtol=1e-12)


def test_subproblem_at_a_stationary_point_stops_with_zero_tol():
    # cross <= 0 makes F = 0 optimal: the projected gradient is 0, not merely small.
    F0, gram, cross = _problem()
    F0[:] = 0
    F, _, (n_iter, alpha, converged, projected_sq) = _solve(F0, gram, -cross, 0.0, 50)
    assert (n_iter, alpha, converged, projected_sq) == (1, 1.0, True, 0.0)
    assert_array_equal(F, 0)


def test_subproblem_gives_up_at_once_on_overflow():
    F0, gram, cross = _problem()
    gram = gram.copy()
    gram[0, 0] = np.inf
    F, _, (n_iter, _, converged, projected_sq) = _solve(F0, gram, cross, 1e-3, 1000)
    assert (n_iter, converged) == (1, False)
    assert not np.isfinite(projected_sq)
    assert_array_equal(F, F0)


def test_subproblem_float32():
    F0, gram, cross = _problem(np.float32)
    tol = 1e-4 * _initial_norm(F0, gram, cross)
    expected, _, n_iter, _, _ = nls_subproblem(
        F0.astype(np.float64), gram.astype(np.float64), cross.astype(np.float64), tol, 200)
    F, grad, (got_iter, _, converged, _) = _solve(F0, gram, cross, tol, 200)
    assert F.dtype == grad.dtype == np.float32
    assert converged and abs(got_iter - n_iter) <= 2
    assert_allclose(F, expected, rtol=2e-4, atol=2e-4 * np.abs(expected).max())


def test_subproblem_same_bits_for_any_thread_count():
    # 2^20 entries: enough for the passes to run in parallel.
    F0, gram, cross = _problem(r=1 << 16, k=16, m=20)
    F1, grad1, result1 = _solve(F0, gram, cross, 0.0, 3, n_threads=1)
    F2, grad2, result2 = _solve(F0, gram, cross, 0.0, 3, n_threads=2)
    assert result1 == result2
    assert_array_equal(F1, F2)
    assert_array_equal(grad1, grad2)


@pytest.mark.parametrize("k", [30, 7])
def test_subproblem_in_row_blocks_matches_lin(k):
    """Products of more than BLAS_CALL_WORK (1e6) multiply-adds run on row blocks (and
    d^T d sums the blocks' products): the iterates are still Lin's."""
    r = 2 * 10**6 // (k * k) + 17          # three blocks, the last a short one
    F0, gram, cross = _problem(r=r, k=k, m=k + 5, seed=k)
    tol = 1e-6 * _initial_norm(F0, gram, cross)
    expected, expected_grad, n_iter, alpha, converged = nls_subproblem(F0, gram, cross,
                                                                       tol, 40)
    F, grad, (got_iter, got_alpha, _, _) = _solve(F0, gram, cross, tol, 40)
    assert (got_iter, got_alpha) == (n_iter, alpha)
    assert_allclose(F, expected, rtol=1e-10, atol=1e-12 * np.abs(expected).max())


def test_subproblem_bits_do_not_depend_on_blas_threads():
    """BLAS sees row blocks small enough for its single-threaded kernels, so its
    thread count does not change the sums (it did for one big d^T d call)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    F0, gram, cross = _problem(r=5000, k=30, m=40)
    results = []
    for blas_threads in (1, 2):
        with threadpoolctl.threadpool_limits(blas_threads, user_api="blas"):
            results.append(_solve(F0, gram, cross, 0.0, 5))
    assert results[0][2] == results[1][2]
    assert_array_equal(results[0][0], results[1][0])
    assert_array_equal(results[0][1], results[1][1])


def test_subproblem_leaves_gram_and_cross_alone():
    F0, gram, cross = _problem()
    gram_copy, cross_copy = gram.copy(), cross.copy()
    _solve(F0, gram, cross, 1e-6, 100)
    assert_array_equal(gram, gram_copy)
    assert_array_equal(cross, cross_copy)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_projected_gradient(dtype):
    F, gram, cross = _problem(dtype)
    F.setflags(write=False)
    grad, step = np.empty_like(F), np.empty_like(F)
    norm_sq, projected_sq = projected_gradient(F, gram, cross, grad, step)
    expected = F.astype(np.float64) @ gram.astype(np.float64) - cross.astype(np.float64)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert_allclose(grad, expected, rtol=rtol, atol=rtol * np.abs(expected).max())
    assert_allclose(norm_sq, np.sum(expected ** 2), rtol=rtol)
    assert_allclose(projected_sq, projected_norm(expected, F) ** 2, rtol=rtol)
    assert projected_sq < norm_sq


def test_empty_factor():
    F = np.empty((0, 3))
    grad, step, step_gram = _buffers(F)
    gram, cross = np.eye(3), np.empty((0, 3))
    assert pg_subproblem(F, gram, cross, grad, step, step_gram, 0.0, 5) == (1, 1.0, True, 0.0)
    assert projected_gradient(F, gram, cross, grad, step) == (0.0, 0.0)


@pytest.mark.parametrize("name, shape", [
    ("gram", (4, 3)), ("cross", (39, 4)), ("grad", (40, 5)), ("step", (41, 4)),
    ("step_gram", (3, 4)),
])
def test_subproblem_checks_shapes(name, shape):
    F, gram, cross = _problem()
    grad, step, step_gram = _buffers(F)
    args = dict(gram=gram, cross=cross, grad=grad, step=step, step_gram=step_gram)
    args[name] = np.zeros(shape)
    with pytest.raises(ValueError, match=f"{name} must have shape"):
        pg_subproblem(F, args["gram"], args["cross"], args["grad"], args["step"],
                      args["step_gram"], 1e-3, 10)
    if name in ("gram", "cross", "grad", "step"):
        with pytest.raises(ValueError, match=f"{name} must have shape"):
            projected_gradient(F, args["gram"], args["cross"], args["grad"], args["step"])


@pytest.mark.parametrize("tol, max_iter, match", [
    (-1.0, 10, "tol must be >= 0"), (np.nan, 10, "tol must be >= 0"),
    (1e-3, 0, "max_iter must be >= 1"),
])
def test_subproblem_checks_scalars(tol, max_iter, match):
    F, gram, cross = _problem()
    with pytest.raises(ValueError, match=match):
        pg_subproblem(F, gram, cross, *_buffers(F), tol, max_iter)


def test_subproblem_refuses_mixed_dtypes_and_layouts():
    F, gram, cross = _problem()
    grad, step, step_gram = _buffers(F)
    with pytest.raises((TypeError, ValueError)):
        pg_subproblem(F, gram.astype(np.float32), cross, grad, step, step_gram, 1e-3, 10)
    with pytest.raises(ValueError):
        pg_subproblem(F, gram, np.asfortranarray(cross), grad, step, step_gram, 1e-3, 10)
