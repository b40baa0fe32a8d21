"""The range checks of X and of the caller's factors, in one parallel pass each.

Validation reads every entry of X and of the factors given with init='custom' for
their smallest and largest entries (non-negative, finite, the scale of X). NumPy's
min() and max() take two passes, and a checked copy a third; value_range reads each
entry once (nmf/_range.h), copying it on the way when asked, and splits the array into
pieces of PIECE entries that threads share. Minima and maxima are exact whatever the
order, so the result does not depend on the thread count.
"""
import numpy as np

from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport INFINITY, NAN

from ._threads import thread_limit

cdef extern from "_range.h" nogil:
    int nmf_range_double(const double *x, Py_ssize_t n, double *out, double *lo,
                         double *hi)
    int nmf_range_float(const float *x, Py_ssize_t n, float *out, float *lo, float *hi)


cdef inline int _range(const floating *x, Py_ssize_t n, floating *out, floating *lo,
                       floating *hi) noexcept nogil:
    if floating is float:
        return nmf_range_float(x, n, out, lo, hi)
    else:
        return nmf_range_double(x, n, out, lo, hi)


cdef enum:
    # Entries per piece: 512 KB of float64, long enough that a piece's call and its
    # reduction cost nothing next to its reads.
    PIECE_ENTRIES = 1 << 16

PIECE = PIECE_ENTRIES   # for the tests


def value_range(const floating[::1] values not None, floating[::1] out=None,
                int n_threads=1):
    """(smallest, largest) entry of values as Python floats, both NaN when an entry is
    NaN; (inf, -inf) when values is empty. With out (as long as values, not
    overlapping it), values is also copied into out."""
    cdef Py_ssize_t n = values.shape[0]
    cdef Py_ssize_t piece, start, n_pieces = (n + PIECE_ENTRIES - 1) // PIECE_ENTRIES
    if out is not None and out.shape[0] != n:
        raise ValueError(f"out must have {n} entries like values; got {out.shape[0]}.")
    if n == 0:
        return INFINITY, -INFINITY
    if out is not None and np.may_share_memory(np.asarray(values), np.asarray(out)):
        raise ValueError("out must not overlap values; pass a separate buffer.")
    # Each piece's smallest and largest entry, and whether it holds a NaN.
    cdef floating[::1] lows = np.empty(n_pieces, dtype=np.asarray(values).dtype)
    cdef floating[::1] highs = np.empty_like(lows)
    cdef unsigned char[::1] nans = np.empty(n_pieces, dtype=np.uint8)
    cdef floating *copy = &out[0] if out is not None else NULL
    cdef floating smallest = INFINITY, largest = -INFINITY
    cdef bint found_nan = False
    # More threads than pieces is waste; tens of thousands make OpenMP abort.
    n_threads = max(1, min(n_threads, n_pieces, thread_limit()))
    with nogil:
        for piece in prange(n_pieces, num_threads=n_threads, schedule="static"):
            start = piece * PIECE_ENTRIES
            lows[piece] = INFINITY
            highs[piece] = -INFINITY
            nans[piece] = _range(&values[start], min(<Py_ssize_t> PIECE_ENTRIES, n - start),
                                 copy + start if copy != NULL else NULL,
                                 &lows[piece], &highs[piece])
        for piece in range(n_pieces):
            found_nan = found_nan or nans[piece]
            smallest = min(smallest, lows[piece])
            largest = max(largest, highs[piece])
    if found_nan:
        return NAN, NAN
    return <double> smallest, <double> largest
