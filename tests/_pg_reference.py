"""Plain NumPy references of C.-J. Lin's projected-gradient NMF, slow and obviously right.

Lin, "Projected gradient methods for non-negative matrix factorization", Neural
Computation 19 (2007): the subproblem `nlssubprob` and the outer loop of `nmf`,
written on the row-major form the package uses. A subproblem

    min_{F >= 0}  0.5 * tr(F G F^T) - <C, F>,    gradient F G - C,

is Lin's min_{H >= 0} 0.5 * ||V - WH||^2 with F = H^T, G = W^T W, C = V^T W. The
sparseness constraints are built here by literally stacking rows onto the matrices
(Kim & Park's formulation), not by the package's Gram shortcut.

Shared by the tests; nothing here imports the package.
"""
import numpy as np
import scipy.sparse as sp

SIGMA = 0.01   # sufficient decrease parameter
BETA = 0.1     # step size factor
MAX_TRIALS = 20


def dense(X):
    return X.toarray() if sp.issparse(X) else np.asarray(X)


def projected_norm(grad, F):
    """The norm of the gradient's entries where grad < 0 or F > 0."""
    return np.sqrt(np.sum(grad[(grad < 0) | (F > 0)] ** 2))


def nls_subproblem(F, gram, cross, tol, max_iter):
    """Lin's nlssubprob; returns (F, grad, n_iter, alpha, converged).

    grad is the gradient computed at the top of the last iteration; a zero projected
    gradient also stops (it only matters when tol is 0).
    """
    F = F.copy()
    alpha = 1.0
    converged = False
    for n_iter in range(1, max_iter + 1):
        grad = F @ gram - cross
        norm = projected_norm(grad, F)
        if norm < tol or norm == 0:
            converged = True
            break
        for trial in range(MAX_TRIALS):
            Fn = np.maximum(F - alpha * grad, 0)
            d = Fn - F
            gradd = np.sum(grad * d)
            dQd = np.sum((d @ gram) * d)
            suff_decr = (1 - SIGMA) * gradd + 0.5 * dQd < 0
            if trial == 0:
                decrease = not suff_decr
                Fp = F
            if decrease:
                if suff_decr:
                    F = Fn
                    break
                alpha *= BETA
            elif not suff_decr or np.array_equal(Fp, Fn):
                F = Fp
                break
            else:
                alpha /= BETA
                Fp = Fn
    return F, grad, n_iter, alpha, converged


def subproblem_terms(X, other, l1, l2, sparse_rows=None, beta=1.0, eta=0.1):
    """(gram, cross) of the subproblem for the factor F in X ~ F other^T.

    sparse_rows: None, 'self' (a row of sqrt(beta) ones is stacked under `other`: the
    factor being solved is pushed towards sparsity) or 'other' (sqrt(eta) * I is
    stacked under `other`: it keeps the solved factor bounded while the other one is
    made sparse). The data gets zero rows in the same places.
    """
    X, other = dense(X), np.asarray(other, dtype=np.float64)
    k = other.shape[1]
    if sparse_rows == "self":
        extra = np.sqrt(beta) * np.ones((1, k))
    elif sparse_rows == "other":
        extra = np.sqrt(eta) * np.eye(k)
    else:
        extra = np.zeros((0, k))
    stacked = np.vstack([other, extra])                               # (m + e, k)
    data = np.hstack([X, np.zeros((X.shape[0], len(extra)))])         # (r, m + e)
    gram = stacked.T @ stacked + l2 * np.eye(k)
    cross = data @ stacked - l1
    return gram, cross


def _rows(sparseness, side):
    """Which rows the W ('W') or H ('H') subproblem stacks for this sparseness."""
    made_sparse = {"data": "W", "components": "H"}.get(sparseness)
    if made_sparse is None:
        return None
    return "self" if made_sparse == side else "other"


def pg_fit(X, W, H, *, tol, max_iter, nls_max_iter, l1_W=0.0, l2_W=0.0, l1_H=0.0,
           l2_H=0.0, sparseness=None, beta=1.0, eta=0.1):
    """Lin's outer loop; returns (W, H, n_iter, trace).

    trace lists (factor, n_iter, alpha) for every subproblem solved, in order.
    """
    X = dense(X).astype(np.float64)
    W, Ht = np.array(W, dtype=np.float64), np.array(H, dtype=np.float64).T.copy()

    def terms_W():
        return subproblem_terms(X, Ht, l1_W, l2_W, _rows(sparseness, "W"), beta, eta)

    def terms_H():
        return subproblem_terms(X.T, W, l1_H, l2_H, _rows(sparseness, "H"), beta, eta)

    gram, cross = terms_W()
    grad_W = W @ gram - cross
    gram, cross = terms_H()
    grad_H = Ht @ gram - cross
    g0 = np.sqrt(np.sum(grad_W ** 2) + np.sum(grad_H ** 2))
    tol_W = tol_H = max(0.001, tol) * g0
    trace = []
    for n_iter in range(1, max_iter + 1):
        norm = np.hypot(projected_norm(grad_W, W), projected_norm(grad_H, Ht))
        if norm < tol * g0 or norm == 0:
            break
        W, grad_W, iter_W, alpha, _ = nls_subproblem(W, *terms_W(), tol_W, nls_max_iter)
        trace.append(("W", iter_W, alpha))
        if iter_W == 1:
            tol_W *= 0.1
        Ht, grad_H, iter_H, alpha, _ = nls_subproblem(Ht, *terms_H(), tol_H, nls_max_iter)
        trace.append(("H", iter_H, alpha))
        if iter_H == 1:
            tol_H *= 0.1
    return W, Ht.T, n_iter, trace
