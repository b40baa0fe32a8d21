"""Keep a fit's numbers inside the floating-point range by scaling X by a power of 4.

Coordinate descent is equivariant under X -> c X, (W, H) -> sqrt(c) (W, H),
l1 -> c**1.5 l1, l2 -> c l2: the objective becomes c**2 times itself and the stopping
ratio does not change. With c = 4**-e every product and update of the scaled problem
is the exact power-of-two image of the original one, bit for bit, as long as neither
over- nor underflows. The products of an iteration reach about m * max(X)**1.5 and
the residual's squares max(X)**2, so X whose largest entry lies outside
[2**-L, 2**L] (L = 32 for float32, 256 for float64) is solved as X * 4**-e with its
largest entry in [1, 4); the factors are scaled back by 2**e. X inside that range is
used as it is (no copy).

pg's sparseness weights beta and eta sit on the Gram matrices like L2 penalties and
scale like them.

Penalties are measured on the normalised problem (largest entry of X in [1, 4)) and
capped there at 2**L. A larger one (alpha = 1e39 with float32 data, say, which float32
cannot even hold) already drives the factor it penalises to zero: an L1 term that
large zeroes it exactly, an L2 term leaves entries of order n_features * 2**-L of X's
scale. Without the cap, an L2 penalty on one factor only makes the other grow like
its square root, and the other's Gram overflows: inf and NaN.
"""
import math

import numpy as np
import scipy.sparse as sp

from ._products import squared_residual


def _range_exponent(dtype):
    return np.finfo(dtype).maxexp // 4


def _largest_entry(X):
    values = X.data if sp.issparse(X) else X
    return float(values.max()) if values.size else 0.0


def _normalizing_exponent(largest, dtype, force):
    """e such that largest * 4**-e lies in [1, 4), largest being X's largest entry; 0
    for a zero X, and 0 when largest already lies in the safe range unless `force`."""
    if largest == 0:
        return 0
    limit = _range_exponent(dtype)
    if not force and 2.0**-limit <= largest <= 2.0**limit:
        return 0
    return (math.frexp(largest)[1] - 1) // 2


def _times_power_of_two(value, shift):
    """value * 2**shift for a Python float >= 0; inf instead of an OverflowError."""
    if value == 0:
        return 0.0
    return math.ldexp(value, shift) if math.frexp(value)[1] + shift <= 1024 else math.inf


def _scaled_terms(linear, quadratic, e):
    return (tuple(_times_power_of_two(term, -3 * e) for term in linear),
            tuple(_times_power_of_two(term, -2 * e) for term in quadratic))


def scale_problem(X, linear=(), quadratic=(), largest=None):
    """(e, X * 4**-e, linear terms, quadratic terms) of the scaled problem.

    `linear` are the L1 penalties (scaled by 8**-e), `quadratic` the terms on the Gram
    matrices: L2 penalties and pg's sparseness weights beta and eta (scaled by 4**-e).
    e is 0 and X is returned as it is unless X's magnitude needs scaling or a term
    exceeds the cap. `largest`, X's largest entry when the caller has it, saves a pass.
    """
    cap = 2.0 ** _range_exponent(X.dtype)
    if largest is None:
        largest = _largest_entry(X)
    e = _normalizing_exponent(largest, X.dtype, force=False)
    e_normalized = _normalizing_exponent(largest, X.dtype, force=True)
    if max(sum(_scaled_terms(linear, quadratic, e_normalized), ()), default=0) > cap:
        e = e_normalized
        linear, quadratic = (tuple(min(term, cap) for term in terms)
                             for terms in _scaled_terms(linear, quadratic, e))
    else:
        linear, quadratic = _scaled_terms(linear, quadratic, e)
    if e == 0:
        return 0, X, linear, quadratic
    if sp.issparse(X):
        X = X.copy()
        np.ldexp(X.data, -2 * e, out=X.data)
    else:
        X = np.ldexp(X, -2 * e)
    return e, X, linear, quadratic


def factor_exponent(largest, e, dtype):
    """f for a factor the caller gives, `largest` its largest entry: the solver's copy
    is factor * 2**-(e + f) (X being solved as X * 4**-e). 0 when largest * 2**-e lies
    in about [2**-L, 2**L], the range X is kept in (or is zero); else the f that puts
    it in [1, 2). Outside that range the factor's Gram (entries up to n * that entry
    squared) under- or overflows."""
    if largest == 0:
        return 0
    exponent = math.frexp(largest)[1] - 1 - e   # of the largest entry of factor * 2**-e
    limit = _range_exponent(dtype)
    return 0 if -limit <= exponent < limit else exponent


def penalty_cap(dtype):
    """2**L, the largest penalty the solver is given (see the module's note)."""
    return 2.0 ** _range_exponent(dtype)


def scale_terms(terms, shift):
    """Each term * 2**shift, inf past float64's range."""
    return tuple(_times_power_of_two(term, shift) for term in terms)


def reconstruction_error(X, W, H, n_threads=1):
    """||X - W H||_Fro, computed on X * 4**-e and the factors * 2**-e when X's
    magnitude needs it (its square would overflow): inf only beyond float64's range."""
    e = _normalizing_exponent(_largest_entry(X), X.dtype, force=False)
    if e:
        _, X, _, _ = scale_problem(X)
        W, H = np.ldexp(W, -e), np.ldexp(H, -e)
    error = math.sqrt(squared_residual(X, W, np.ascontiguousarray(H.T), n_threads))
    return error * 2.0 ** (2 * e)  # inf, not an OverflowError, beyond float64's range
