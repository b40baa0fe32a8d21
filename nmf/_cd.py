"""The coordinate-descent (HALS) outer loop: products, stopping test, progress, warnings."""
import warnings

import numpy as np
import scipy.sparse as sp

from . import _copy_fast as copy_fast
from . import _padding, _products
from ._kernels import cd_fast
from ._exceptions import ConvergenceWarning
from ._progress import Progress

# Accelerated HALS (Gillis & Glineur, "Accelerated multiplicative updates and
# hierarchical ALS algorithms for nonnegative matrix factorization", Neural Computation
# 24(4), 2012, sections 3-4): once X @ H.T and H @ H.T are paid for, W is swept again
# with them, at most 1 + floor(alpha * rho_W) sweeps in all, where rho_W is the cost of
# the first update (products + Gram + one sweep) over the cost of one more sweep,
#     rho_W = 1 + (nnz(X) + n_features * k) / (n_samples * (k + 1))
# (nnz(X) = n_samples * n_features for dense X; the paper's (mn + nr) / (mr + m) with
# its M = X, r = k), and stopping as soon as a sweep changes W by at most delta times
# what the first sweep did: ||W_s - W_(s-1)||_F <= delta ||W_1 - W_0||_F. The paper's
# values: alpha = 0.5, delta = 0.1. The same on the transposed problem for H.
_ACCELERATION_ALPHA = 0.5
_ACCELERATION_DELTA = 0.1


def _threads_for(n_rows, k, n_threads, next_to_blas):
    """Threads for a sweep; next to BLAS's threads (dense X's products in BLAS), only
    for much larger work (see _products.DENSE_WORK_FACTOR)."""
    work = n_rows * k * k
    return _products.threads_for(
        work // _products.DENSE_WORK_FACTOR if next_to_blas else work, n_threads)


def _max_sweeps(nnz, n_rows, n_other, k):
    """1 + floor(alpha * rho): the sweep budget of one factor update (see above)."""
    rho = 1.0 + (nnz + n_other * k) / (n_rows * (k + 1))
    return 1 + int(_ACCELERATION_ALPHA * rho)


def fit_coordinate_descent(X, W, Ht, *, tol, max_iter, l1_W, l2_W, l1_H, l2_H, update_H,
                           shuffle, rng, verbose, n_threads, accelerated=False,
                           callback=None):
    """Alternate CD sweeps over W and Ht = H.T in place; return the iteration count.

    X is a float32/float64 dense array or CSR/CSC matrix; W (n, k) and Ht (m, k) are
    C-contiguous arrays of X's dtype owned by the caller. Stops when the violation
    (summed |projected gradient| of one W and one H sweep) falls to tol times its value
    at the first iteration, or after max_iter iterations (ConvergenceWarning if tol > 0).
    callback(n_iter, ratio), when given, is called after each iteration with that ratio.
    accelerated=True sweeps each factor several times per product (see above); the
    violation is still that of the first sweep of each factor.
    """
    n, k = W.shape
    m = Ht.shape[0]
    dtype = X.dtype
    dense = not sp.issparse(X)
    # With dense X, the products in BLAS, or in nmf's kernels and then no BLAS call
    # between iterations (the Grams too go to nmf's kernel, or to one-thread BLAS for
    # factors too small to share).
    blas_products = dense and _products.uses_blas(X, k)
    threads_W = _threads_for(n, k, n_threads, blas_products)
    threads_H = _threads_for(m, k, n_threads, blas_products)
    nnz = n * m if dense else X.nnz
    sweeps_W = _max_sweeps(nnz, n, m, k) if accelerated else 1
    sweeps_H = _max_sweeps(nnz, m, n, k) if accelerated else 1
    # Sparse X, one sweep per update: the factor whose rows are X's compressed rows (W
    # for CSR X, H.T for CSC X) sums its cross product block by block inside its sweep
    # (cd_fast.cd_sweep_csr, the same bits); that n x k or m x k array is not stored.
    W_on_X = not dense and X.format == "csr" and sweeps_W == 1
    H_on_X = not dense and X.format == "csc" and sweeps_H == 1 and update_H
    # Dense C-ordered X in nmf's kernels on one thread, one sweep of W, H updated: W's
    # update and X.T @ W in one pass over X's row blocks (_products.pass_products):
    # each block's X @ Ht, then its rows of W swept (rows are independent), then its
    # X.T @ W added while the block is still in cache. The same sums in the same order
    # as the products over all of X, so the same bits, at any thread count.
    row_pass = (dense and not blas_products and sweeps_W == 1 and update_H
                and _products.pass_products(X, k, n_threads))
    _products.check_indices(X, n_threads)   # once: then no product tests an index
    if W_on_X or H_on_X:
        X_arrays = _products.compressed_arrays(X)
        rows = n if W_on_X else m
        threads_on_X = _products.threads_for(X.nnz * k + rows * k * k, n_threads)
    # In that case the other factor (Ht for CSR X, W for CSC X) has its rows read at
    # random by the gather, and its own cross product written at random by the scatter
    # of X.T @ W (X @ Ht): both go through one buffer, `other_rows`, whose rows may be
    # padded to whole cache lines (nmf/_padding.py), the other factor copied in before
    # its rows are gathered, its cross product scattered in afterwards. The padding
    # takes part of the memory of the cross product that is not stored.
    other_rows = None
    if (W_on_X or H_on_X) and update_H:
        n_other, n_on_X = (m, n) if W_on_X else (n, m)
        width = _padding.padded_row_length(n_other, k, dtype.itemsize)
        if width > k and n_other * (width - k) <= n_on_X * k:
            other_rows = _padding.line_aligned_empty(n_other, width, dtype)
    gram = np.empty((k, k), dtype=dtype)
    padded = other_rows is not None
    cross_W = (None if W_on_X else other_rows if H_on_X and padded
               else np.empty((n, k), dtype=dtype))
    cross_H = (None if H_on_X or not update_H else other_rows if W_on_X and padded
               else np.empty((m, k), dtype=dtype))
    # Per-row work memory, and every choice of kernel and threads, made once: on a
    # small X the iteration's Python is a good part of its time.
    row_violation = np.empty(max(n, m), dtype=np.float64)
    row_change = np.empty(max(n, m), dtype=np.float64) if accelerated else None
    rows_of = {n: (row_violation[:n], row_change[:n] if accelerated else None),
               m: (row_violation[:m], row_change[:m] if accelerated else None)}
    gram_of = {n: _products.gram_function(n, k, n_threads),
               m: _products.gram_function(m, k, n_threads)}
    X_times = (None if W_on_X
               else _products.product_function(X, False, k, n_threads, blas_products,
                                               indices_checked=True))
    Xt_times = (_products.product_function(X, True, k, n_threads, blas_products,
                                           indices_checked=True)
                if cross_H is not None else None)
    order = np.arange(k, dtype=np.intp)
    cd_sweep, cd_sweep_csr = cd_fast.cd_sweep, cd_fast.cd_sweep_csr
    copy_rows = copy_fast.copy_rows
    if row_pass:
        pass_rows, rows_times, rows_t_times_add = row_pass
        row_violation_W = rows_of[n][0]

    def next_order():
        if shuffle:
            order[:] = rng.permutation(k)

    def sweep(factor, cross, threads, change):
        next_order()
        return cd_sweep(factor, gram, cross, order, rows_of[len(factor)][0], threads, change)

    def set_gram(other, l2):
        gram_of[len(other)](other, gram)
        if l2:
            gram.flat[:: k + 1] += l2

    def update_on_X(factor, other, l1, l2):
        """update() of the factor whose rows are X's compressed rows, one sweep, its
        cross product summed inside the sweep."""
        set_gram(other, l2)
        next_order()
        if padded:
            copy_rows(other, other_rows, n_threads)
            other = other_rows
        return cd_sweep_csr(factor, gram, *X_arrays, other, l1, order,
                            rows_of[len(factor)][0], threads_on_X, True)

    def update_in_pass(l1, l2):
        """update() of W, one sweep, in the pass over X's row blocks that also leaves
        X.T @ W in cross_H."""
        set_gram(Ht, l2)
        next_order()
        for rows in pass_rows:
            cross = rows_times(rows, Ht, cross_W[rows])
            if l1:
                cross -= l1
            cd_sweep(W[rows], gram, cross, order, row_violation_W[rows], threads_W)
            rows_t_times_add(rows, W[rows], cross_H)
        return cd_fast.sum_in_order(row_violation_W)

    def update(factor, other, cross, l1, l2, threads, max_sweeps):
        """Sweep `factor` up to max_sweeps times; return the first sweep's violation."""
        set_gram(other, l2)
        if l1:
            cross -= l1
        if max_sweeps == 1:
            return sweep(factor, cross, threads, None)
        change = rows_of[len(factor)][1]
        violation = sweep(factor, cross, threads, change)
        first = last = change.sum()
        for _ in range(max_sweeps - 1):
            if last <= _ACCELERATION_DELTA ** 2 * first:
                break
            sweep(factor, cross, threads, change)
            last = change.sum()
        return violation

    progress = Progress(verbose, "cd", callback)
    violation_init = None
    converged = False
    for n_iter in range(1, max_iter + 1):
        if W_on_X:
            violation = update_on_X(W, Ht, l1_W, l2_W)
        elif row_pass:
            violation = update_in_pass(l1_W, l2_W)
        else:
            X_times(Ht, cross_W)
            violation = update(W, Ht, cross_W, l1_W, l2_W, threads_W, sweeps_W)
        if H_on_X:
            violation += update_on_X(Ht, W, l1_H, l2_H)
        elif update_H:
            if not row_pass:
                Xt_times(W, cross_H)
            violation += update(Ht, W, cross_H, l1_H, l2_H, threads_H, sweeps_H)
        if violation_init is None:
            violation_init = violation
        if violation_init == 0:
            converged = True
            break
        ratio = violation / violation_init
        progress.report(n_iter, ratio)
        if ratio <= tol:
            converged = True
            progress.report(n_iter, ratio, force=True)
            break
    if not converged and tol > 0:
        warnings.warn(
            f"Coordinate descent stopped at max_iter={max_iter} before reaching tol={tol};"
            " raise max_iter or tol.", ConvergenceWarning, stacklevel=4)
    return n_iter
