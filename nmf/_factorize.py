"""non_negative_factorization: validate, build the initial factors, run a solver."""
import math

import numpy as np

from . import _copy_fast as copy_fast
from . import _validation as v
from ._cd import fit_coordinate_descent
from ._init import initial_factors
from ._scaling import factor_exponent, penalty_cap, scale_problem, scale_terms
from ._threads import get_num_threads


def _regularization_terms(alpha, l1_ratio, regularization):
    """(l1_W, l2_W, l1_H, l2_H): L1 is subtracted from the cross product, L2 added
    to the Gram diagonal, each only for the factor that `regularization` names."""
    l1, l2 = alpha * l1_ratio, alpha * (1.0 - l1_ratio)
    on_W = regularization in ("both", "transformation")
    on_H = regularization in ("both", "components")
    return (l1 if on_W else 0.0, l2 if on_W else 0.0,
            l1 if on_H else 0.0, l2 if on_H else 0.0)


def _overflow_error(dtype, init, update_H):
    """The error for non-finite factors. X is scaled into range and the initial factors
    built here stay in range, so only factors given by the caller can cause this."""
    if update_H and init != "custom":
        return FloatingPointError(f"The factorization overflows {np.dtype(dtype).name};"
                                  " this is a bug, please report it with the data.")
    given = ("W and H (init='custom') given are" if update_H
             else "fixed H (update_H=False) given is")
    return ValueError(
        f"The factorization overflows {np.dtype(dtype).name}: the {given} too large,"
        " too small or too unbalanced for X's scale. Rescale them so that W @ H is of the"
        " order of X, with W and H of similar magnitudes.")


def _transposed(A, n_threads):
    """A.T as a new C-contiguous array (threads share the copy of a C-contiguous A:
    nmf/_copy_fast.pyx)."""
    if not A.flags.c_contiguous:
        return np.ascontiguousarray(A.T)
    out = np.empty(A.shape[::-1], A.dtype)
    copy_fast.transposed_copy(A, out, n_threads)
    return out


def _custom_factor_balance(W_largest, H_largest, e, X_largest, dtype):
    """g, from W's and H's largest entries, such that the solver starts from
    W * 2**(g - e) and H * 2**(-g - e): 0 when both lie in the range the solver keeps
    its numbers in (nmf/_scaling.py), else the g that gives them largest entries within
    a factor 2 of each other (with one of them zero, the other's largest entry in
    [1, 2)). That rescaling leaves W @ H and, with the penalties rescaled too, every
    iterate's roundings as they are (CD: the exact power-of-two image). A ValueError
    when even balanced they are out of range: W @ H itself too far from X's scale for
    a start."""
    largest = (W_largest, H_largest)
    if not (factor_exponent(largest[0], e, dtype) or factor_exponent(largest[1], e, dtype)):
        return 0
    # log2 of each one's largest entry as the solver would hold it, rounded down
    top = [math.frexp(value)[1] - 1 - e if value > 0 else None for value in largest]
    g = (-top[0] if top[1] is None else top[1] if top[0] is None
         else (top[1] - top[0]) // 2)
    for value, shift, name in ((largest[0], g, "W"), (largest[1], -g, "H")):
        f = factor_exponent(value, e - shift, dtype)
        if f:
            product = f"1e{round(math.log10(largest[0]) + math.log10(largest[1]))}"
            raise ValueError(
                f"The W and H given (init='custom') are too {'small' if f < 0 else 'large'}"
                f" for X's scale even rebalanced: {name}'s largest entry is {value:.3g}"
                f" and W @ H's of order {product}, X's {X_largest:.3g}; their products"
                f" would {'underflow' if f < 0 else 'overflow'} {np.dtype(dtype).name}."
                " Rescale W and H so that W @ H is of the order of X.")
    return g


def _terms_with_H_rescaled(f, l1_W, l2_W, weights, dtype):
    """(l1_W, l2_W, pg's weights) for a fixed H solved as H * 2**-f: W * 2**f then
    solves the same problem with L1 * 2**-f, L2 and the weights * 4**-f. A term that
    comes out past the cap swamps W's cross product (at most 8 m there): W is below
    2**-L of X / H's scale and is solved as zero (an L1 term at the cap zeroes it)."""
    cap = penalty_cap(dtype)
    (l1_W,) = scale_terms((l1_W,), -f)
    l2_W, *weights = scale_terms((l2_W, *weights), -2 * f)
    if max(l1_W, l2_W, *weights) > cap:
        l1_W = cap
    return min(l1_W, cap), min(l2_W, cap), [min(weight, cap) for weight in weights]


def _terms_with_factors_rebalanced(g, l1_W, l2_W, l1_H, l2_H, beta, eta, sparseness,
                                   dtype):
    """(l1_W, l2_W, l1_H, l2_H, beta, eta) for custom factors started as W * 2**g and
    H * 2**-g: the same problem in those units has L1 and L2 on W * 2**-g and 4**-g,
    on H * 2**g and 4**g, and each pg weight goes with the Gram it sits on: on H H^T
    (W's subproblem: beta with 'data', eta with 'components') like L2 on W, on W^T W
    like L2 on H. Capped as in nmf/_scaling.py."""
    on_W = {"data": "beta", "components": "eta"}.get(sparseness)
    shifts = {"l1_W": -g, "l2_W": -2 * g, "l1_H": g, "l2_H": 2 * g,
              "beta": -2 * g if on_W == "beta" else 2 * g,
              "eta": -2 * g if on_W == "eta" else 2 * g}
    terms = dict(l1_W=l1_W, l2_W=l2_W, l1_H=l1_H, l2_H=l2_H, beta=beta, eta=eta)
    cap = penalty_cap(dtype)
    return tuple(min(scale_terms((terms[name],), shifts[name])[0], cap)
                 for name in ("l1_W", "l2_W", "l1_H", "l2_H", "beta", "eta"))


def default_init(n_components, n_samples, n_features):
    """The estimator's init=None: 'nndsvd' when the rank allows it, else 'random'."""
    if n_components < n_features and n_components <= n_samples:
        return "nndsvd"
    return "random"


def factorize(X, W=None, H=None, n_components=None, *, init="random", update_H=True,
              solver="cd", tol=1e-4, max_iter=200, alpha=0.0, l1_ratio=0.0,
              regularization=None, random_state=None, verbose=0, shuffle=False,
              nls_max_iter=2000, sparseness=None, beta=1, eta=0.1, accelerated=False,
              callback=None):
    """The work behind non_negative_factorization; returns (X, W, H, n_iter).

    X is returned as converted (the estimator computes its error on it).
    callback(n_iter, ratio), ratio being the solver's stopping quantity relative to its
    start, is called after each iteration (the command line's progress display).
    """
    X, largest = v.check_X_range(X)
    n_samples, n_features = X.shape
    solver = v.check_choice(solver, v.SOLVERS, "solver")
    init = v.check_choice(init, v.INITS, "init", allow_none=True)
    update_H = v.check_bool(update_H, "update_H")
    tol = v.check_real(tol, "tol", low=0)
    max_iter = v.check_int(max_iter, "max_iter", 1)
    alpha = v.check_real(alpha, "alpha", low=0)
    l1_ratio = v.check_real(l1_ratio, "l1_ratio", low=0, high=1)
    regularization = v.check_choice(regularization, v.REGULARIZATIONS, "regularization",
                                    allow_none=True)
    verbose = v.check_int(verbose, "verbose", 0) if not isinstance(verbose, bool) else int(verbose)
    shuffle = v.check_bool(shuffle, "shuffle")
    nls_max_iter = v.check_int(nls_max_iter, "nls_max_iter", 1)
    sparseness = v.check_choice(sparseness, v.SPARSENESS, "sparseness", allow_none=True)
    beta = v.check_real(beta, "beta", low=0, low_open=True)
    eta = v.check_real(eta, "eta", low=0, low_open=True)
    accelerated = v.check_bool(accelerated, "accelerated")
    random_state = v.check_random_state(random_state)
    if accelerated and solver != "cd":
        raise ValueError(
            f"accelerated=True is a mode of the coordinate-descent solver; got"
            f" solver={solver!r}. Use solver='cd' or accelerated=False.")
    if sparseness is not None and solver != "pg":
        raise ValueError(
            f"sparseness={sparseness!r} is a constraint of the projected-gradient solver;"
            " use solver='pg' or sparseness=None.")

    if n_components is None and H is not None and (init == "custom" or not update_H):
        shape = v.shape_of(H, "H")
        n_components = shape[0] if len(shape) == 2 else None
    n_components = v.check_int(n_components, "n_components", 1, allow_none=True)
    if n_components is None:
        n_components = n_features
    if n_components > np.iinfo(np.intp).max // max(1, 8 * max(n_samples, n_features)):
        raise ValueError(
            f"n_components={n_components} is too large: W and H would have more entries"
            " than an array can index. Use fewer components.")

    dtype = X.dtype
    if not update_H:
        if W is not None:
            raise ValueError("W must be None when update_H=False: W is solved from zeros"
                             " with H fixed.")
        if H is None:
            raise ValueError("H is required when update_H=False; pass the fixed components.")
        H_shape = v.shape_of(H, "H")
        if len(H_shape) == 2 and H_shape[1] != n_features:
            # In NMF.transform the caller chose X, not H: name both.
            raise ValueError(
                f"X has {n_features} features but the fixed H has {H_shape[1]} columns;"
                " X must have as many features as H (the components fitted).")
        H, H_largest = v.check_factor(H, (n_components, n_features), dtype, "H")
        W = np.zeros((n_samples, n_components), dtype=dtype)
    elif init == "custom":
        W, W_largest = v.check_factor(W, (n_samples, n_components), dtype, "W")
        # The solver holds H transposed: one copy of the caller's H, straight to H.T.
        Ht, H_largest = v.check_factor(H, (n_components, n_features), dtype, "H", transposed=True)
    else:
        if W is not None or H is not None:
            raise ValueError(f"W and H are only used with init='custom' (got init={init!r});"
                             " set init='custom' to start from them, or leave them None.")
        if init is None:
            init = default_init(n_components, n_samples, n_features)
        if init != "random" and n_components > min(n_samples, n_features):
            raise ValueError(
                f"init={init!r} needs n_components <= min(n_samples, n_features) ="
                f" {min(n_samples, n_features)}; got n_components={n_components}."
                " Use init='random' or fewer components.")

    # Seeding a RandomState costs 0.1-0.2 ms: only for a fit that draws from it.
    draws = shuffle or (update_H and init != "custom")
    rng = v.random_generator(random_state) if draws else None

    # X of extreme magnitude is solved as X * 4**-e, its factors scaled by 2**-e: the
    # same CD iterates, bit for bit, without overflow (nmf/_scaling.py).
    l1_W, l2_W, l1_H, l2_H = _regularization_terms(alpha, l1_ratio, regularization)
    weights = (beta, eta) if sparseness is not None else ()  # pg's, on the Grams
    e, X_solved, (l1_W, l1_H), (l2_W, l2_H, *weights) = scale_problem(
        X, (l1_W, l1_H), (l2_W, l2_H, *weights), largest)
    if weights:
        beta, eta = weights
    H_fixed = H  # update_H=False returns the caller's H as converted, unscaled
    n_threads = get_num_threads()
    shift_W = shift_H = e           # W, H are the solver's W * 2**shift_W, H * 2**shift_H
    if update_H and init != "custom":
        W, H = initial_factors(X_solved, n_components, init, rng, n_threads)  # scaled X
        Ht = _transposed(H, n_threads)
    elif not update_H:              # W is zeros; H the caller's, scaled on a copy
        # A fixed H far from X's scale is solved as H * 2**-(e + f), its largest entry
        # in [1, 2): W's problem is then the exact power-of-two image of the one with
        # H * 2**-e (W * 2**f; L1 on W * 2**-f, L2 and pg's weights * 4**-f) instead of
        # one whose Gram under- or overflows. A penalty that comes out past the cap
        # swamps W's cross product (at most 8 m there): W is below 2**-L of X / H's
        # scale, and is solved as zero (an L1 term at the cap zeroes it).
        f = factor_exponent(H_largest, e, dtype)
        if f:
            l1_W, l2_W, weights = _terms_with_H_rescaled(f, l1_W, l2_W, weights, dtype)
            if weights:
                beta, eta = weights
            shift_W = e - f
        Ht = np.ldexp(H.T, -(e + f), order="C") if e + f else _transposed(H, n_threads)
    else:                           # the caller's factors, copied by check_factor
        # Factors far from X's scale are rebalanced, W * 2**g and H * 2**-g (see
        # _custom_factor_balance), the penalties moved with them.
        g = _custom_factor_balance(W_largest, H_largest, e, largest, dtype)
        if g:
            l1_W, l2_W, l1_H, l2_H, beta, eta = _terms_with_factors_rebalanced(
                g, l1_W, l2_W, l1_H, l2_H, beta, eta, sparseness, dtype)
            shift_W, shift_H = e - g, e + g
        if e - g:
            np.ldexp(W, -(e - g), out=W)
        if e + g:
            np.ldexp(Ht, -(e + g), out=Ht)
    # One clear error instead of a RuntimeWarning per product when the caller's factors
    # overflow: here if the solver cannot go on (pg), below if the factors are not finite.
    with np.errstate(all="ignore"):
        try:
            if solver == "cd":
                n_iter = fit_coordinate_descent(
                    X_solved, W, Ht, tol=tol, max_iter=max_iter, l1_W=l1_W, l2_W=l2_W,
                    l1_H=l1_H, l2_H=l2_H, update_H=update_H, shuffle=shuffle, rng=rng,
                    verbose=verbose, n_threads=n_threads, accelerated=accelerated,
                    callback=callback)
            else:
                from ._pg import fit_projected_gradient
                n_iter = fit_projected_gradient(
                    X_solved, W, Ht, tol=tol, max_iter=max_iter,
                    nls_max_iter=nls_max_iter, l1_W=l1_W, l2_W=l2_W, l1_H=l1_H,
                    l2_H=l2_H, update_H=update_H, sparseness=sparseness, beta=beta,
                    eta=eta, verbose=verbose, n_threads=n_threads, callback=callback)
        except FloatingPointError as exc:
            raise _overflow_error(dtype, init, update_H) from exc
    H = _transposed(Ht, n_threads) if update_H else H_fixed
    if shift_W or shift_H:
        with np.errstate(over="ignore"):  # an overflow is reported just below
            np.ldexp(W, shift_W, out=W)
            if update_H:
                np.ldexp(H, shift_H, out=H)
    if not (v.all_finite(W) and v.all_finite(H)):
        raise _overflow_error(dtype, init, update_H)
    return X, W, H, n_iter


def non_negative_factorization(X, W=None, H=None, n_components=None, init="random",
                               update_H=True, solver="cd", tol=1e-4, max_iter=200,
                               alpha=0.0, l1_ratio=0.0, regularization=None,
                               random_state=None, verbose=0, shuffle=False,
                               nls_max_iter=2000, sparseness=None, beta=1, eta=0.1,
                               accelerated=False):
    """Find non-negative W, H minimising 0.5 * ||X - WH||_F^2 + elastic-net penalties.

    The objective is::

        0.5 * ||X - WH||_Fro^2
        + alpha * l1_ratio * (||vec(W)||_1 + ||vec(H)||_1)
        + 0.5 * alpha * (1 - l1_ratio) * (||W||_Fro^2 + ||H||_Fro^2)

    where each penalty applies only to the factors that `regularization` names.

    Parameters
    ----------
    X : array-like or scipy.sparse matrix/array of shape (n_samples, n_features)
        Non-negative, finite data. float32 is computed in float32, every other real
        dtype in float64. Dense C/F-contiguous float arrays and CSR/CSC matrices are
        used without a copy; X is never modified. Data whose largest entry lies
        outside [2**-32, 2**32] (float32) or [2**-256, 2**256] (float64), where
        products and squares would overflow or underflow, is solved on a copy scaled
        by a power of 4, and the factors are scaled back: for 'cd' the iterates are
        exactly those of the unscaled problem, without inf or NaN. A penalty too
        large for X's dtype at X's scale is capped where it already drives its
        factor to zero (see nmf/_scaling.py).
    W : array-like of shape (n_samples, n_components), optional
        Initial W for init='custom' (copied, never modified).
    H : array-like of shape (n_components, n_features), optional
        Initial H for init='custom', or the fixed H when update_H=False. A fixed H
        far from X's scale (its largest entry outside the range above, relative to
        X's) is solved on a copy scaled by a power of 2, W scaled back; custom W and H
        are rebalanced so (W * 2**g, H * 2**-g, W @ H unchanged), the penalties
        rescaled to match ('cd': exactly the same iterates). Factors with which the
        factorization still over- or underflows (W @ H far from X's order, or W
        beyond the dtype's range) raise a ValueError instead of returning inf, NaN or
        zeros.
    n_components : int, optional
        The rank k. None: H's rows when H is used, else n_features.
    init : {'random', 'nndsvd', 'nndsvda', 'nndsvdar', 'custom'} or None, default='random'
        How W and H start. None: 'nndsvd' when n_components < n_features and
        n_components <= n_samples, else 'random'. 'nndsvd*' need
        n_components <= min(n_samples, n_features) (a ValueError otherwise). When X's
        rank is below n_components, 'nndsvd' leaves the extra components zero, and CD
        keeps a component whose column of W and row of H are both zero at zero.
    update_H : bool, default=True
        False: H is fixed and only W is solved, starting from zeros.
    solver : {'cd', 'pg'}, default='cd'
        Coordinate descent (HALS) or Lin's projected gradient.
    tol : float >= 0, default=1e-4
        Stopping tolerance (relative to the first iteration's violation for 'cd', to
        the initial gradient's norm for 'pg'). 0 runs exactly max_iter iterations.
    max_iter : int >= 1, default=200
    alpha : float >= 0, default=0
        Regularization strength.
    l1_ratio : float in [0, 1], default=0
        0: pure L2 (Frobenius) penalty, 1: pure L1.
    regularization : {'both', 'components', 'transformation'} or None, default=None
        Which factors are penalised: both, H only, W only, or neither.
    random_state : None, int, numpy RandomState or Generator
        Seeds the random init, 'nndsvdar' fill, the randomized SVD and shuffle.
    verbose : int, default=0
        >0 prints progress at most once a second, >1 every iteration.
    shuffle : bool, default=False
        'cd': visit the components in a random order each sweep.
    nls_max_iter : int >= 1, default=2000
        'pg': iteration limit of each non-negative least-squares subproblem.
    sparseness : {'data', 'components'} or None, default=None
        'pg': make W ('data') or H ('components') sparse.
    beta : float > 0, default=1
        'pg' with sparseness: weight of the sparsity term; larger is sparser.
    eta : float > 0, default=0.1
        'pg' with sparseness: weight of the term keeping the other factor bounded.
    accelerated : bool, default=False
        'cd' only: after each product, sweep the factor again with the same product
        and Gram while that still pays (accelerated HALS, Gillis & Glineur 2012): at
        most 1 + floor(0.5 * rho) sweeps, rho being the cost of the product over that
        of a sweep, stopping when a sweep changes the factor by less than 0.1 times
        the first sweep did. Fewer products per unit of progress, so often faster on
        dense data; the iterates differ from the textbook algorithm's. The stopping
        test uses the first sweep of each factor.

    Returns
    -------
    W : ndarray of shape (n_samples, n_components)
    H : ndarray of shape (n_components, n_features)
    n_iter : int
        The number of outer iterations run.
    """
    _, W, H, n_iter = factorize(
        X, W, H, n_components, init=init, update_H=update_H, solver=solver, tol=tol,
        max_iter=max_iter, alpha=alpha, l1_ratio=l1_ratio, regularization=regularization,
        random_state=random_state, verbose=verbose, shuffle=shuffle,
        nls_max_iter=nls_max_iter, sparseness=sparseness, beta=beta, eta=eta,
        accelerated=accelerated)
    return W, H, n_iter
