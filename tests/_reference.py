"""Plain NumPy references of the update rules, slow and obviously right.

Shared by the tests; nothing here imports the package's compiled code.
"""
import itertools

import numpy as np
import scipy.sparse as sp


def dense(X):
    return X.toarray() if sp.issparse(X) else np.asarray(X)


def objective(X, W, H, l1_W=0.0, l2_W=0.0, l1_H=0.0, l2_H=0.0):
    R = dense(X).astype(np.float64) - W.astype(np.float64) @ H.astype(np.float64)
    return (0.5 * np.sum(R * R) + l1_W * W.sum() + 0.5 * l2_W * np.sum(W * W)
            + l1_H * H.sum() + 0.5 * l2_H * np.sum(H * H))


def hals_sweep(W, gram, cross, order):
    """The textbook component-by-component HALS update; returns (W, violation)."""
    W = W.copy()
    violation = 0.0
    for t, i in itertools.product(order, range(len(W))):
        grad = W[i] @ gram[t] - cross[i, t]
        violation += abs(grad if W[i, t] > 0 else min(grad, 0))
        if gram[t, t] > 0:
            W[i, t] = max(W[i, t] - grad / gram[t, t], 0)
    return W, violation


def cd_fit(X, W, H, *, max_iter, tol=0.0, l1_W=0.0, l2_W=0.0, l1_H=0.0, l2_H=0.0,
           update_H=True, shuffle_seed=None):
    """Cichocki & Phan's HALS as described in DESIGN.md; returns (W, H, n_iter)."""
    X = dense(X)
    W, H = W.copy(), H.copy()
    k = W.shape[1]
    rng = np.random.RandomState(shuffle_seed) if shuffle_seed is not None else None

    def order():
        return rng.permutation(k) if rng is not None else np.arange(k)

    violation_init = None
    for n_iter in range(1, max_iter + 1):
        gram = H @ H.T + l2_W * np.eye(k)
        W, violation = hals_sweep(W, gram, X @ H.T - l1_W, order())
        if update_H:
            gram = W.T @ W + l2_H * np.eye(k)
            Ht, violation_H = hals_sweep(H.T, gram, X.T @ W - l1_H, order())
            H = Ht.T
            violation += violation_H
        if violation_init is None:
            violation_init = violation
        if violation_init == 0 or violation / violation_init <= tol:
            break
    return W, H, n_iter
