"""Check the raw arguments and convert them once; raise before anything is allocated."""
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp

from . import _copy_fast as copy_fast
from ._kernels import range_fast
from ._threads import get_num_threads

SOLVERS = ("cd", "pg")
INITS = ("random", "nndsvd", "nndsvda", "nndsvdar", "custom")
REGULARIZATIONS = ("both", "components", "transformation")
SPARSENESS = ("data", "components")

# Bytes per block when an array is scanned for non-finite entries.
_BLOCK_BYTES = 1 << 22


def float_dtype(dtype):
    """float32 (of either byte order) stays float32; every other accepted dtype is
    computed in float64."""
    dtype = np.dtype(dtype)
    return np.float32 if dtype.kind == "f" and dtype.itemsize == 4 else np.float64


def _check_dtype_kind(dtype, name):
    if dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers (bool, integer or floating); got dtype {dtype}."
        )


def _as_array(A, name):
    """np.asarray(A), with ragged nested sequences and the like refused naming `name`."""
    try:
        return np.asarray(A)
    except (ValueError, TypeError) as exc:
        raise TypeError(
            f"{name} must be a 2-D array-like of numbers; got {type(A).__name__} that"
            f" NumPy cannot turn into an array ({exc})."
        ) from exc


def _converted(A, dtype, **kwargs):
    """A as `dtype` (np.array keywords in kwargs); entries beyond dtype's range become
    inf without a RuntimeWarning, for _check_finite to report."""
    with np.errstate(over="ignore"):
        return np.array(A, dtype=dtype, **kwargs)


# Entries from which the compiled range check pays for its call (a few microseconds,
# which NumPy's two passes over a small array take less than).
_RANGE_KERNEL_SIZE = 1 << 15


def _flat(values):
    """values as a 1-D view in memory order, when it is a contiguous array of native
    float32/float64 (what nmf/_range_fast.pyx reads) of at least _RANGE_KERNEL_SIZE
    entries; else None."""
    if values.size < _RANGE_KERNEL_SIZE:
        return None
    if values.dtype.type not in (np.float32, np.float64) or not values.dtype.isnative:
        return None
    if not (values.flags.c_contiguous or values.flags.f_contiguous):
        return None
    return values.ravel(order="K")


def _value_range(values):
    """(smallest, largest) entry, NaN when there is a NaN, of a non-empty array: one
    parallel pass (nmf/_range_fast.pyx) when _flat can view it, else NumPy's min and
    max (two passes, no temporary)."""
    flat = _flat(values)
    if flat is None:
        return values.min(), values.max()
    return range_fast.value_range(flat, None, get_num_threads())


def _check_finite(smallest, largest, values, source_dtype, name):
    """Raise unless both ends of the range are finite (NaN or an infinity gets here)."""
    if np.isfinite(smallest) and np.isfinite(largest):
        return
    message = f"{name} must not contain NaN or infinity"
    if source_dtype.kind == "f" and source_dtype.itemsize > values.dtype.itemsize:
        # The caller's entries may be finite but too large for the computing dtype.
        message += (f" (its {source_dtype} entries are computed in {values.dtype},"
                    f" whose largest value is {np.finfo(values.dtype).max:.4g})")
    raise ValueError(message + ".")


def _check_nonnegative(smallest, name):
    if smallest < 0:
        raise ValueError(
            f"{name} must be non-negative; its smallest entry is {float(smallest)!r}.")


def all_finite(values):
    """True when every entry is finite, without an array-sized temporary."""
    if values.size == 0:
        return True
    if _flat(values) is not None:     # one parallel pass
        return all(np.isfinite(_value_range(values)))
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(values.sum()):
            return True
    # The sum overflowed or hit NaN/inf: look block by block.
    flat = values.ravel(order="K")  # a view: the callers pass contiguous arrays
    step = max(1, _BLOCK_BYTES // flat.itemsize)
    return all(np.isfinite(flat[i:i + step]).all() for i in range(0, flat.size, step))


def check_X(X, name="X"):
    """Return X as a float32/float64 C/F-contiguous ndarray or a CSR/CSC matrix.

    X is copied only when it must be: another dtype, another sparse format, or a
    non-contiguous layout. Raises when X is not a finite, non-negative 2-D array.
    """
    return check_X_range(X, name)[0]


def check_X_range(X, name="X"):
    """(check_X(X), X's largest stored entry as a float, 0.0 when none): the largest
    is read by the checks anyway, and the scaling needs it (nmf/_scaling.py)."""
    source_dtype = getattr(X, "dtype", None)
    if sp.issparse(X):
        _check_dtype_kind(X.dtype, name)
        if X.ndim != 2:
            raise ValueError(f"{name} must be 2-D; got a sparse array of shape {X.shape}.")
        if X.format not in ("csr", "csc"):
            X = X.tocsr()
        dtype = float_dtype(X.dtype)
        if X.dtype != dtype:
            with np.errstate(over="ignore"):
                X = X.astype(dtype)
        values = X.data
    else:
        if isinstance(X, np.matrix):
            X = X.A
        if np.ma.is_masked(X):  # np.asarray would use the hidden values
            raise TypeError(f"{name} has masked entries; NMF needs every value: fill them"
                            f" ({name}.filled(value)) or drop them first.")
        X = _as_array(X, name)
        source_dtype = X.dtype
        _check_dtype_kind(X.dtype, name)
        if X.ndim != 2:
            raise ValueError(
                f"{name} must be a 2-D array of shape (n_samples, n_features); got {X.ndim}-D"
                f" with shape {X.shape}. Reshape it, e.g. X.reshape(-1, 1) for one feature."
            )
        dtype = float_dtype(X.dtype)
        if X.dtype != dtype or not (X.flags.c_contiguous or X.flags.f_contiguous):
            X = _converted(X, dtype, order="C")
        values = X
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} must have at least one row and one column; got shape {X.shape}.")
    if not values.size:
        return X, 0.0
    smallest, largest = _value_range(values)
    _check_finite(smallest, largest, values, source_dtype, name)
    if smallest < 0 and sp.issparse(X) and not X.has_canonical_format:
        # Duplicate entries add up: (-1) + 2 at one position is the entry 1.
        X = X.copy()
        X.sum_duplicates()
        smallest, largest = _value_range(X.data) if X.data.size else (0, 0.0)
    _check_nonnegative(smallest, name)
    return X, float(largest)


def shape_of(A, name):
    """The shape of a sparse matrix or of what np.asarray makes of A."""
    return A.shape if sp.issparse(A) else _as_array(A, name).shape


def check_dense(A, name):
    """A as an ndarray of real numbers; sparse input refused."""
    if sp.issparse(A):
        raise TypeError(f"{name} must be a dense array; got a sparse {A.format} matrix. Use {name}.toarray().")
    A = _as_array(A, name)
    _check_dtype_kind(A.dtype, name)
    return A


def check_nonnegative(A, dtype, name, **kwargs):
    """A (from check_dense) converted to dtype (np.array keywords in kwargs), checked
    finite and non-negative."""
    return _checked_range(A, dtype, name, **kwargs)[0]


def _checked_range(A, dtype, name, **kwargs):
    """(check_nonnegative(A, dtype, name, **kwargs), its largest entry as a float, 0.0
    when it has none)."""
    source_dtype = A.dtype
    A = _converted(A, dtype, **kwargs)
    if not A.size:
        return A, 0.0
    smallest, largest = _value_range(A)
    _check_finite(smallest, largest, A, source_dtype, name)
    _check_nonnegative(smallest, name)
    return A, float(largest)


def check_factor(A, shape, dtype, name, transposed=False):
    """(C-contiguous copy of a user-given factor in X's dtype, checked, its largest
    entry as a float, 0.0 when it has none); with `transposed`, the copy is of its
    transpose (made in one copy). The largest entry is read by the checks anyway, and
    the scaling needs it (nmf/_scaling.py)."""
    if A is None:
        raise ValueError(f"{name} is required with init='custom'; pass an array of shape {shape}.")
    A = check_dense(A, name)
    if A.shape != shape:
        raise ValueError(f"{name} must have shape {shape}; got {A.shape}.")
    source = A.T if transposed else A
    flat = _flat(A) if A.dtype == dtype else None
    if flat is None:
        return _checked_range(source, dtype, name, order="C", copy=True)
    # Already in the computing dtype: one pass for the range, the copy made on the way
    # when the memory orders agree.
    copy = np.empty(source.shape, dtype)
    in_order = source.flags.c_contiguous
    n_threads = get_num_threads()
    smallest, largest = range_fast.value_range(
        flat, copy.reshape(-1) if in_order else None, n_threads)
    _check_finite(smallest, largest, A, A.dtype, name)
    _check_nonnegative(smallest, name)
    if not in_order:                # source is F-ordered: its transpose is C-ordered
        copy_fast.transposed_copy(source.T, copy, n_threads)
    return copy, float(largest)


def check_choice(value, choices, name, allow_none=False):
    if value is None and allow_none:
        return None
    if not isinstance(value, str) or value not in choices:
        accepted = ", ".join(repr(c) for c in choices) + (" or None" if allow_none else "")
        raise ValueError(f"{name} must be one of {accepted}; got {value!r}.")
    return value


def check_int(value, name, minimum, allow_none=False):
    if value is None and allow_none:
        return None
    if not isinstance(value, Integral) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def check_real(value, name, low=None, high=None, low_open=False):
    """A finite real number in [low, high] (or (low, high] when low_open)."""
    if not isinstance(value, Real) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number; got {value!r}.")
    value = float(value)
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and value > high
    if not np.isfinite(value) or below or above:
        bracket = "(" if low_open else "["
        interval = f"{bracket}{low if low is not None else '-inf'}, {high if high is not None else 'inf'}"
        interval += "]" if high is not None else ")"
        raise ValueError(f"{name} must be a finite number in {interval}; got {value!r}.")
    return value


def check_bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}.")
    return bool(value)


def check_random_state(random_state):
    """random_state if it is None, an int seed, a RandomState or a Generator."""
    if random_state is None or isinstance(random_state,
                                          (np.random.RandomState, np.random.Generator)):
        return random_state
    if isinstance(random_state, Integral) and not isinstance(random_state, (bool, np.bool_)):
        if not 0 <= random_state < 2**32:
            raise ValueError(f"random_state must be an int in [0, 2**32); got {random_state!r}.")
        return int(random_state)
    raise TypeError(
        "random_state must be None, an int, a numpy RandomState or a numpy Generator;"
        f" got {random_state!r}."
    )


def random_generator(random_state):
    """The RandomState or Generator a checked random_state stands for: a new one seeded
    from the operating system for None, from the seed for an int."""
    if random_state is None or isinstance(random_state, int):
        return np.random.RandomState(random_state)
    return random_state
