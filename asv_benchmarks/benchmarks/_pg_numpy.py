"""Lin's projected-gradient NMF in plain NumPy: the baseline the compiled solver is
timed against.

The same algorithm and the same iterates as nmf's solver='pg' (unregularized), written
the way a NumPy implementation of Lin's code is written: whole-array operations and
temporaries, one BLAS call per product. It is what this solver used to be in the
scikit-learn generation that the package's API follows.
"""
import numpy as np

SIGMA, STEP_FACTOR, MAX_TRIALS = 0.01, 0.1, 20


def nls_subproblem(F, gram, cross, tol, max_iter):
    """min_{F >= 0} 0.5 tr(F gram F^T) - <cross, F>; returns (F, grad, n_iter, alpha)."""
    alpha = 1.0
    for n_iter in range(1, max_iter + 1):
        grad = F @ gram - cross
        norm = np.linalg.norm(grad[np.logical_or(grad < 0, F > 0)])
        if norm < tol or norm == 0:
            break
        Fp = F
        for trial in range(MAX_TRIALS):
            Fn = F - alpha * grad
            np.maximum(Fn, 0, out=Fn)
            d = Fn - F
            gradd = np.vdot(grad, d)
            dQd = np.vdot(d @ gram, d)
            sufficient = (1 - SIGMA) * gradd + 0.5 * dQd < 0
            if trial == 0:
                decrease = not sufficient
            if decrease:
                if sufficient:
                    F = Fn
                    break
                alpha *= STEP_FACTOR
            elif not sufficient or np.array_equal(Fp, Fn):
                F = Fp
                break
            else:
                alpha /= STEP_FACTOR
                Fp = Fn
    return F, grad, n_iter, alpha


def _projected_norm_sq(grad, F):
    return np.sum(grad[np.logical_or(grad < 0, F > 0)] ** 2)


def pg_fit(X, W, H, tol=1e-4, max_iter=200, nls_max_iter=2000):
    """Lin's outer loop from W (n, k) and H (k, m); returns (W, H, n_iter)."""
    Ht = H.T.copy()
    grad_W = W @ (Ht.T @ Ht) - X @ Ht
    grad_H = Ht @ (W.T @ W) - X.T @ W
    g0 = np.sqrt(np.sum(grad_W ** 2) + np.sum(grad_H ** 2))
    tol_W = tol_H = max(0.001, tol) * g0
    for n_iter in range(1, max_iter + 1):
        norm = np.sqrt(_projected_norm_sq(grad_W, W) + _projected_norm_sq(grad_H, Ht))
        if norm < tol * g0 or norm == 0:
            break
        W, grad_W, iter_W, _ = nls_subproblem(W, Ht.T @ Ht, X @ Ht, tol_W, nls_max_iter)
        if iter_W == 1:
            tol_W *= 0.1
        Ht, grad_H, iter_H, _ = nls_subproblem(Ht, W.T @ W, X.T @ W, tol_H, nls_max_iter)
        if iter_H == 1:
            tol_H *= 0.1
    return W, Ht.T, n_iter
