"""The projected-gradient outer loop (Lin 2007): products, tolerances, stopping test, warnings.

Each factor's subproblem is min_{F >= 0} 0.5 tr(F G F^T) - <C, F> (see nmf/_pg_fast.pyx):
for W, F = W, G = H H^T and C = X H^T; for H, F = Ht = H.T, G = W^T W and C = X^T W.
L2 terms are added to G's diagonal and L1 terms subtracted from C, as in CD.

Sparseness (Kim & Park's sparse NMF, as the scikit-learn 0.18 generation offered it
with this solver) stacks rows onto the least-squares subproblems: a row of sqrt(beta) ones on the factor made sparse and
sqrt(eta) * I on the other one, with zero rows appended to the data. That only adds
beta * ones((k, k)) or eta * I to G and leaves C unchanged, so nothing is stacked here
and X is used as it is. The objective is then 0.5 ||X - WH||^2 plus the elastic net
plus, for sparseness='data', 0.5 beta sum_i (sum_t W_it)^2 + 0.5 eta ||H||^2 (for
'components' the roles of W and H swap).
"""
import math
import warnings

import numpy as np

from . import _products
from ._exceptions import ConvergenceWarning
from ._progress import Progress
from ._pg_fast import pg_subproblem, projected_gradient


# A gradient whose norm is within this many units of roundoff times sqrt(terms a
# sum) of the cross product's norm is zero to working precision: Lin's stopping
# test, tol times the norm at the start, is met there when tol > 0 (with tol = 0 the
# fit runs its max_iter iterations). It matters only where the start is already a
# solution (k = 1 from 'nndsvd' is the best rank-1 factorization: its gradient,
# 1.7e-13 to 3.6e-13 on a 100 x 50 X with a cross product of norm 297, is 2.6 to 5.5
# units of roundoff of that, against 8 sqrt(51) to 8 sqrt(101) here; Lin's test, tol
# times that noise, is never met, and every subproblem ran its nls_max_iter
# iterations: 7.5 s) or where a fit reaches roundoff before tol.
_ROUNDING_ULPS = 8


class _Subproblems:
    """The Grams, cross products and work buffers of the W and H subproblems.

    One set of buffers serves both factors (they are solved one after the other), so
    a fit holds W, Ht, three (max(n, m), k) arrays and two (k, k) ones.
    """

    def __init__(self, X, W, Ht, *, l1_W, l2_W, l1_H, l2_H, sparseness, beta, eta,
                 n_threads):
        n, k = W.shape
        rows = max(n, Ht.shape[0])
        self.W, self.Ht = W, Ht
        self.penalties = {"W": (l1_W, l2_W), "H": (l1_H, l2_H)}
        # Weight of beta * ones and of eta * I on each subproblem's Gram.
        sparse_factor = {"data": "W", "components": "H"}.get(sparseness)
        self.ones = {side: beta if side == sparse_factor else 0.0 for side in "WH"}
        self.identity = {side: eta if sparse_factor not in (None, side) else 0.0
                         for side in "WH"}
        self.gram = np.empty((k, k), dtype=X.dtype)
        self.step_gram = np.empty((k, k), dtype=X.dtype)
        self.cross = np.empty((rows, k), dtype=X.dtype)
        self.grad = np.empty((rows, k), dtype=X.dtype)
        self.step = np.empty((rows, k), dtype=X.dtype)
        self.n_threads = n_threads
        # Each product's kernel and threads chosen once a fit (for sparse X on several
        # threads that includes how X.T @ W's rows are shared: a pass over a sample of X).
        _products.check_indices(X, n_threads)       # once for both products
        self.products = {"W": _products.product_function(X, False, k, n_threads,
                                                         indices_checked=True),
                         "H": _products.product_function(X, True, k, n_threads,
                                                         indices_checked=True)}
        # The side whose Gram and cross product the buffers hold. They depend on the
        # other factor only, which changes only when the other side is prepared and
        # solved: a side prepared twice in a row keeps its products.
        self.prepared = None

    def prepare(self, side):
        """Fill the Gram and cross product of W's (side='W') or H's subproblem from
        the other factor as it is now (unless they are there already); return
        (factor, gram, cross, grad, step)."""
        factor, other = (self.W, self.Ht) if side == "W" else (self.Ht, self.W)
        r, k = factor.shape
        cross = self.cross[:r]
        if self.prepared != side:
            self._fill(side, other, cross)
            self.prepared = side
        return factor, self.gram, cross, self.grad[:r], self.step[:r]

    def _fill(self, side, other, cross):
        k = other.shape[1]
        self.products[side](other, cross)
        l1, l2 = self.penalties[side]
        if l1:
            cross -= l1
        _products.gram(other, self.gram, self.n_threads)
        if l2 or self.identity[side]:
            self.gram.flat[:: k + 1] += l2 + self.identity[side]
        if self.ones[side]:
            self.gram += self.ones[side]

    def gradient(self, side):
        """(||gradient||^2, ||projected gradient||^2) of a factor as it is now."""
        factor, gram, cross, grad, step = self.prepare(side)
        return projected_gradient(factor, gram, cross, grad, step, self.n_threads)

    def rounding_sq(self, side):
        """The square of the gradient's rounding error, about (see _ROUNDING_ULPS):
        the gradient is factor @ Gram - cross, the two terms equal at a solution, the
        cross product's and the Gram's entries sums over the other factor's rows, the
        rounding errors of a sum of r terms adding up like sqrt(r) of them."""
        _, gram, cross, _, _ = self.prepare(side)
        other_rows = (self.Ht if side == "W" else self.W).shape[0]
        flat = cross.reshape(-1)
        unit = (_ROUNDING_ULPS * math.sqrt(other_rows + gram.shape[0])
                * float(np.finfo(cross.dtype).eps))
        return unit * unit * float(np.dot(flat, flat))

    def solve(self, side, tol, max_iter):
        """Run the subproblem in place; return (n_iter, alpha, converged, projected_sq)."""
        factor, gram, cross, grad, step = self.prepare(side)
        return pg_subproblem(factor, gram, cross, grad, step, self.step_gram, tol,
                             max_iter, self.n_threads)


def fit_projected_gradient(X, W, Ht, *, tol, max_iter, nls_max_iter, l1_W, l2_W, l1_H,
                           l2_H, update_H, sparseness, beta, eta, verbose, n_threads,
                           callback=None):
    """Lin's alternating projected gradient on W and Ht = H.T in place; return n_iter.

    X is a float32/float64 dense array or CSR/CSC matrix; W (n, k) and Ht (m, k) are
    C-contiguous arrays of X's dtype owned by the caller. callback(n_iter, ratio), when
    given, gets each iteration's projected-gradient norm relative to the start's.

    update_H=True, Lin's outer loop: g0 is the norm of the gradient at the start (of
    the objective being minimised, so with the penalties and sparseness terms; with
    neither it is Lin's); both subproblem tolerances start at max(0.001, tol) * g0.
    Iteration n_iter first stops if the projected gradients left by the last
    subproblems (the initial ones at n_iter=1) have norm < tol * g0, or 0, or (tol > 0)
    lie within their rounding error (_ROUNDING_ULPS); else it solves W's subproblem,
    then H's, each for at most nls_max_iter iterations; one that returns after its
    first iteration divides its tolerance by 10.

    update_H=False (H fixed, as in transform): the problem in W is convex, so W's
    subproblem is solved straight to the target, a projected gradient of norm < tol
    times the norm of the gradient at the start (or, tol > 0, its rounding error).
    Each outer iteration is one call of at most nls_max_iter iterations (restarting
    the step size at 1), repeated until it converges; n_iter counts the calls.

    Warnings (only when tol > 0): one ConvergenceWarning per fit when max_iter is
    reached before tol, or a subproblem of the outer loop stopped at nls_max_iter
    before reaching its tolerance, or both (one message names both).
    """
    problems = _Subproblems(X, W, Ht, l1_W=l1_W, l2_W=l2_W, l1_H=l1_H, l2_H=l2_H,
                            sparseness=sparseness, beta=beta, eta=eta, n_threads=n_threads)
    progress = Progress(verbose, "pg", callback)
    # An overflow in the products is reported by the check on the initial gradient.
    with np.errstate(over="ignore", invalid="ignore"):
        if not update_H:
            return _solve_W(problems, tol, max_iter, nls_max_iter, progress)
        return _alternate(problems, tol, max_iter, nls_max_iter, progress)


def _alternate(problems, tol, max_iter, nls_max_iter, progress):
    """Lin's outer loop (see fit_projected_gradient)."""
    # H's side first: W's products are then still there for W's first subproblem.
    norm_sq_H, projected_sq_H = problems.gradient("H")
    rounding_sq = problems.rounding_sq("H")
    norm_sq_W, projected_sq_W = problems.gradient("W")
    rounding_sq += problems.rounding_sq("W")
    g0 = _initial_norm(norm_sq_W + norm_sq_H)
    tol_W = tol_H = max(0.001, tol) * g0
    target = max(tol * g0, math.sqrt(rounding_sq)) if tol > 0 else 0.0
    hit_nls_max_iter = False
    for n_iter in range(1, max_iter + 1):
        projected = math.sqrt(projected_sq_W + projected_sq_H)
        if projected < target or projected == 0:
            progress.report(n_iter, _ratio(projected, g0), force=True)
            return n_iter
        iter_W, _, converged_W, projected_sq_W = problems.solve("W", tol_W, nls_max_iter)
        if iter_W == 1:
            tol_W *= 0.1
        iter_H, _, converged_H, projected_sq_H = problems.solve("H", tol_H, nls_max_iter)
        if iter_H == 1:
            tol_H *= 0.1
        hit_nls_max_iter |= not (converged_W and converged_H)
        progress.report(n_iter, _ratio(math.sqrt(projected_sq_W + projected_sq_H), g0))
    projected = math.sqrt(projected_sq_W + projected_sq_H)
    limits = []  # one warning per fit, naming every limit that was hit
    if not (projected < target or projected == 0):
        limits.append(f"stopped at max_iter={max_iter} before reaching tol={tol}")
    if hit_nls_max_iter:
        limits.append(f"had a subproblem stop at nls_max_iter={nls_max_iter} before"
                      " reaching its tolerance")
    if tol > 0 and limits:
        warnings.warn(f"Projected gradient {' and '.join(limits)}; raise max_iter,"
                      " nls_max_iter or tol.", ConvergenceWarning, stacklevel=5)
    return n_iter


def _solve_W(problems, tol, max_iter, nls_max_iter, progress):
    """W's subproblem with H fixed, solved to tol times its initial gradient's norm."""
    norm_sq, _ = problems.gradient("W")
    g0 = _initial_norm(norm_sq)
    target = max(tol * g0, math.sqrt(problems.rounding_sq("W"))) if tol > 0 else 0.0
    for n_iter in range(1, max_iter + 1):
        _, _, converged, projected_sq = problems.solve("W", target, nls_max_iter)
        progress.report(n_iter, _ratio(math.sqrt(projected_sq), g0), force=converged)
        if converged:
            return n_iter
    if tol > 0:
        warnings.warn(
            f"Projected gradient (W with H fixed) stopped at max_iter={max_iter} calls of"
            f" nls_max_iter={nls_max_iter} iterations before reaching tol={tol}; raise"
            " max_iter, nls_max_iter or tol.", ConvergenceWarning, stacklevel=5)
    return max_iter


def _initial_norm(norm_sq):
    if not math.isfinite(norm_sq):
        # X reaches the solver scaled into range (nmf/_scaling.py): factorize() reports
        # this as the given factors' fault.
        raise FloatingPointError("the gradient at the start overflows")
    return math.sqrt(norm_sq)


def _ratio(projected, g0):
    return projected / g0 if g0 > 0 else 0.0
