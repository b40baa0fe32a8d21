"""One coordinate-descent (HALS) sweep over a factor, compiled.

The driver (nmf/_cd.py) owns the products, the stopping test and the warnings; this
kernel only updates the factor in place and returns the sweep's violation.
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport fabs

from ._threads import thread_limit


cdef inline double _sweep_row(floating *w, const floating *gram, const floating *cross,
                              const Py_ssize_t *order, Py_ssize_t k) noexcept nogil:
    """Update the k entries of one row of the factor, components in `order`."""
    cdef Py_ssize_t j, r, t
    cdef floating grad, hess
    cdef double violation = 0   # summed |projected gradient| of this row
    for j in range(k):
        t = order[j]
        grad = -cross[t]
        for r in range(k):
            grad = grad + gram[t * k + r] * w[r]
        violation += fabs(grad if w[t] > 0 else min(grad, <floating> 0))
        hess = gram[t * k + t]
        if hess > 0:
            w[t] = max(w[t] - grad / hess, <floating> 0)
    return violation


def cd_sweep(
    floating[:, ::1] W not None,             # (n, k) factor, updated in place
    const floating[:, ::1] gram not None,    # (k, k) other @ other.T, + l2 on the diagonal
    const floating[:, ::1] cross not None,   # (n, k) X @ other.T, - l1
    const Py_ssize_t[::1] order not None,    # (k,) component visiting order, a permutation
    double[::1] row_violation not None,      # (n,) work buffer, allocated once per fit
    int n_threads=1,
):
    """Sweep every component of W once, row by row; return the summed violation.

    Rows are independent given `gram` and `cross`, so the row-outer loop gives the
    same iterates as the textbook component-outer HALS update, and runs in parallel
    over rows. Per-row violations are summed in row order: the same total for any
    thread count.
    """
    cdef Py_ssize_t i, j, n = W.shape[0], k = W.shape[1]
    cdef double total = 0
    if gram.shape[0] != k or gram.shape[1] != k:
        raise ValueError(f"gram must have shape ({k}, {k}); got {tuple(gram.shape)[:2]}.")
    if cross.shape[0] != n or cross.shape[1] != k:
        raise ValueError(f"cross must have shape ({n}, {k}); got {tuple(cross.shape)[:2]}.")
    if order.shape[0] != k:
        raise ValueError(f"order must have {k} entries; got {order.shape[0]}.")
    if row_violation.shape[0] != n:
        raise ValueError(f"row_violation must have {n} entries; got {row_violation.shape[0]}.")
    for j in range(k):
        if order[j] < 0 or order[j] >= k:
            raise ValueError(f"order must hold component indices in [0, {k}); got {order[j]}.")
    if n == 0 or k == 0:
        return 0.0
    # More threads than rows is waste; tens of thousands make OpenMP abort the process,
    # and any but one hang a forked child (nmf/_threads.py).
    n_threads = max(1, min(n_threads, n, thread_limit()))
    with nogil:
        for i in prange(n, num_threads=n_threads, schedule="static"):
            row_violation[i] = _sweep_row(&W[i, 0], &gram[0, 0], &cross[i, 0],
                                          &order[0], k)
        for i in range(n):          # fixed order: the same total for any thread count
            total += row_violation[i]
    return total
