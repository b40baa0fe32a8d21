"""One coordinate-descent (HALS) sweep over a factor, compiled.

The driver (nmf/_cd.py) owns the products, the stopping test and the warnings; this
kernel only updates the factor in place and returns the sweep's violation.

Layout of the work: a coordinate update of one row is a chain of dependent operations
(the gradient of component t needs the entries just updated), so one row alone keeps
the processor waiting. The kernel sweeps LANES rows side by side instead, row q of a
block in lane q of a small transposed copy: every step is then the same operation on
LANES independent numbers, which the compiler turns into vector instructions. Each lane
sums exactly as the textbook update does (grad = -cross[t] + gram[t, 0] w[0] +
gram[t, 1] w[1] + ... in that order), so the iterates are bitwise those of the plain
row-by-row loop, for any thread count.
"""
import numpy as np

from cython cimport floating
from cython.parallel cimport prange, threadid

from ._threads import thread_limit

cdef enum:
    LANES = 32      # rows swept side by side (16 and 64 measured no better on x86-64)


cdef void _sweep_block(floating *w, const floating *gram, const floating *cross,
                       const Py_ssize_t *order, Py_ssize_t k, Py_ssize_t lanes,
                       Py_ssize_t rows, floating *w_lanes, floating *cross_lanes,
                       floating *grad, floating *violation,
                       floating *change) noexcept nogil:
    """Sweep `rows` <= `lanes` consecutive rows of the factor (row-major, k entries
    each) in `lanes` lanes; write each row's violation and squared change into
    violation[:rows] and change[:rows] (in the factor's precision: one type in every
    vector loop).

    w_lanes and cross_lanes (k * lanes each) hold the block's rows of w and cross
    transposed, w_lanes[r * lanes + q] = w[q, r]; lanes past `rows` are zero and never
    copied back. grad (lanes) is scratch. Rows are read and written whole, in order
    (what the memory system streams best). `lanes` is a run-time number on purpose:
    the compiler then emits plain vector loops over the lanes instead of unrolling them
    into scalar code.
    """
    cdef Py_ssize_t j, q, r, t
    cdef floating g, g0, g1, g2, g3, hess, old, new
    cdef const floating *gt
    cdef floating *x0
    cdef floating *x1
    cdef floating *x2
    cdef floating *x3
    for q in range(rows):
        for r in range(k):
            w_lanes[r * lanes + q] = w[q * k + r]
            cross_lanes[r * lanes + q] = cross[q * k + r]
    for q in range(rows, lanes):
        for r in range(k):
            w_lanes[r * lanes + q] = 0
            cross_lanes[r * lanes + q] = 0
    for q in range(lanes):
        violation[q] = 0
        change[q] = 0
    for j in range(k):
        t = order[j]
        gt = gram + t * k
        x0 = cross_lanes + t * lanes
        for q in range(lanes):
            grad[q] = -x0[q]
        # grad += gram[t, r] * w[r] for r = 0, 1, ..., four terms per pass over the
        # lanes (one load and store of grad per four multiply-adds), in that order.
        r = 0
        while r + 4 <= k:
            g0 = gt[r]
            g1 = gt[r + 1]
            g2 = gt[r + 2]
            g3 = gt[r + 3]
            x0 = w_lanes + r * lanes
            x1 = x0 + lanes
            x2 = x1 + lanes
            x3 = x2 + lanes
            for q in range(lanes):
                grad[q] = (((grad[q] + g0 * x0[q]) + g1 * x1[q]) + g2 * x2[q]) + g3 * x3[q]
            r = r + 4
        while r < k:
            g0 = gt[r]
            x0 = w_lanes + r * lanes
            for q in range(lanes):
                grad[q] = grad[q] + g0 * x0[q]
            r = r + 1
        # The projected gradient's size goes into the violation; then the update. The
        # loads come first and the choices are plain selects: no branch on the data.
        x0 = w_lanes + t * lanes
        hess = gt[t]
        if hess > 0:
            for q in range(lanes):
                g = grad[q]
                old = x0[q]
                violation[q] += abs(g if old > 0 else min(g, <floating> 0))
                new = max(old - g / hess, <floating> 0)
                change[q] += (new - old) * (new - old)
                x0[q] = new
        else:
            for q in range(lanes):
                g = grad[q]
                old = x0[q]
                violation[q] += abs(g if old > 0 else min(g, <floating> 0))
    for q in range(rows):
        for r in range(k):
            w[q * k + r] = w_lanes[r * lanes + q]


def cd_sweep(
    floating[:, ::1] W not None,             # (n, k) factor, updated in place
    const floating[:, ::1] gram not None,    # (k, k) other @ other.T, + l2 on the diagonal
    const floating[:, ::1] cross not None,   # (n, k) X @ other.T, - l1
    const Py_ssize_t[::1] order not None,    # (k,) component visiting order, a permutation
    double[::1] row_violation not None,      # (n,) work buffer, allocated once per fit
    int n_threads=1,
    double[::1] row_change=None,    # (n,) optional: each row's squared change
):
    """Sweep every component of W once, row by row; return the summed violation.

    Rows are independent given `gram` and `cross`, so the row-outer loop gives the
    same iterates as the textbook component-outer HALS update, and runs in parallel
    over blocks of rows. Per-row violations are summed in row order: the same total
    for any thread count. When `row_change` is given, row i's squared change
    ||W_new[i] - W_old[i]||^2 is written to it.
    """
    cdef Py_ssize_t i, j, b, rows, n = W.shape[0], k = W.shape[1]
    cdef Py_ssize_t lanes = min(<Py_ssize_t> LANES, n)
    cdef double total = 0
    cdef bint keep_change = row_change is not None
    if gram.shape[0] != k or gram.shape[1] != k:
        raise ValueError(f"gram must have shape ({k}, {k}); got {tuple(gram.shape)[:2]}.")
    if cross.shape[0] != n or cross.shape[1] != k:
        raise ValueError(f"cross must have shape ({n}, {k}); got {tuple(cross.shape)[:2]}.")
    if order.shape[0] != k:
        raise ValueError(f"order must have {k} entries; got {order.shape[0]}.")
    if row_violation.shape[0] != n:
        raise ValueError(f"row_violation must have {n} entries; got {row_violation.shape[0]}.")
    if keep_change and row_change.shape[0] != n:
        raise ValueError(f"row_change must have {n} entries; got {row_change.shape[0]}.")
    for j in range(k):
        if order[j] < 0 or order[j] >= k:
            raise ValueError(f"order must hold component indices in [0, {k}); got {order[j]}.")
    if n == 0 or k == 0:
        return 0.0
    cdef Py_ssize_t n_blocks = (n + lanes - 1) // lanes
    # More threads than blocks is waste; tens of thousands make OpenMP abort the process
    # (and their lane buffers exhaust memory), and any but one hang a forked child.
    n_threads = max(1, min(n_threads, n_blocks, thread_limit()))
    # Per thread: the block's transposed rows and gradients, and its rows' results,
    # then a gap of at least a cache line (64 bytes): no line is written by two threads
    # (false sharing cost a third of the 2-thread speed-up).
    cdef floating[:, ::1] lane_work = np.empty((n_threads, lanes * (2 * k + 3) + 16),
                                               dtype=np.asarray(W).dtype)
    cdef floating *work
    with nogil:
        for b in prange(n_blocks, num_threads=n_threads, schedule="static"):
            i = b * lanes
            rows = min(lanes, n - i)
            work = &lane_work[threadid(), 0]
            _sweep_block(&W[i, 0], &gram[0, 0], &cross[i, 0], &order[0], k, lanes, rows,
                         work, work + lanes * k, work + 2 * lanes * k,
                         work + (2 * k + 1) * lanes, work + (2 * k + 2) * lanes)
            for j in range(rows):
                row_violation[i + j] = work[(2 * k + 1) * lanes + j]
                if keep_change:
                    row_change[i + j] = work[(2 * k + 2) * lanes + j]
        for i in range(n):          # fixed order: the same total for any thread count
            total += row_violation[i]
    return total
