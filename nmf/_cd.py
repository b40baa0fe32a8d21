"""The coordinate-descent (HALS) outer loop: products, stopping test, progress, warnings."""
import time
import warnings

import numpy as np

from . import _products
from ._cd_fast import cd_sweep
from ._exceptions import ConvergenceWarning

# Below this many multiply-adds per sweep (rows * k * k) threads cost more than they save.
_MIN_WORK_PER_THREAD = 20_000


def _threads_for(n_rows, k, n_threads):
    return max(1, min(n_threads, (n_rows * k * k) // _MIN_WORK_PER_THREAD))


class _Progress:
    """verbose output: every iteration when verbose > 1, else at most once a second."""

    def __init__(self, verbose, solver):
        self.verbose = verbose
        self.solver = solver
        self.start = time.perf_counter()
        self.last = -np.inf

    def report(self, n_iter, ratio, force=False):
        if not self.verbose:
            return
        now = time.perf_counter()
        if force or self.verbose > 1 or n_iter == 1 or now - self.last >= 1.0:
            self.last = now
            print(f"[nmf {self.solver}] iteration {n_iter:5d}  violation ratio {ratio:.3e}"
                  f"  elapsed {now - self.start:.2f} s", flush=True)


def fit_coordinate_descent(X, W, Ht, *, tol, max_iter, l1_W, l2_W, l1_H, l2_H, update_H,
                           shuffle, rng, verbose, n_threads, callback=None):
    """Alternate CD sweeps over W and Ht = H.T in place; return the iteration count.

    X is a float32/float64 dense array or CSR/CSC matrix; W (n, k) and Ht (m, k) are
    C-contiguous arrays of X's dtype owned by the caller. Stops when the violation
    (summed |projected gradient| of one W and one H sweep) falls to tol times its value
    at the first iteration, or after max_iter iterations (ConvergenceWarning if tol > 0).
    callback(n_iter, ratio), when given, is called after each iteration with that ratio.
    """
    n, k = W.shape
    m = Ht.shape[0]
    dtype = X.dtype
    gram = np.empty((k, k), dtype=dtype)
    cross_W = np.empty((n, k), dtype=dtype)
    cross_H = np.empty((m, k), dtype=dtype) if update_H else None
    row_violation = np.empty(max(n, m), dtype=np.float64)
    order = np.arange(k, dtype=np.intp)
    threads_W = _threads_for(n, k, n_threads)
    threads_H = _threads_for(m, k, n_threads)

    def sweep(factor, other, cross, l1, l2, threads):
        _products.gram(other, out=gram)
        if l2:
            gram.flat[:: k + 1] += l2
        if l1:
            cross -= l1
        if shuffle:
            order[:] = rng.permutation(k)
        return cd_sweep(factor, gram, cross, order, row_violation[: len(factor)], threads)

    progress = _Progress(verbose, "cd")
    violation_init = None
    converged = False
    for n_iter in range(1, max_iter + 1):
        _products.X_times(X, Ht, out=cross_W)
        violation = sweep(W, Ht, cross_W, l1_W, l2_W, threads_W)
        if update_H:
            _products.Xt_times(X, W, out=cross_H)
            violation += sweep(Ht, W, cross_H, l1_H, l2_H, threads_H)
        if violation_init is None:
            violation_init = violation
        if violation_init == 0:
            converged = True
            break
        ratio = violation / violation_init
        progress.report(n_iter, ratio)
        if callback is not None:
            callback(n_iter, ratio)
        if ratio <= tol:
            converged = True
            progress.report(n_iter, ratio, force=True)
            break
    if not converged and tol > 0:
        warnings.warn(
            f"Coordinate descent stopped at max_iter={max_iter} before reaching tol={tol};"
            " raise max_iter or tol.", ConvergenceWarning, stacklevel=4)
    return n_iter
