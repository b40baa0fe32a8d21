"""One coordinate-descent (HALS) sweep over a factor, compiled.

The driver (nmf/_cd.py) owns the products, the stopping test and the warnings; this
kernel only updates the factor in place and returns the sweep's violation. The sweep
of one block of rows is C (nmf/_cd_block.h: rows side by side in vector lanes, each
summed in the textbook order, so the iterates are bitwise those of the plain row-by-row
loop); this module checks the operands, hands blocks of rows to threads and adds up
the rows' violations in a fixed order. cd_sweep_csr, for a factor whose rows are a CSR
X's rows, sums each block's rows of the cross product from X right before sweeping the
block (the gather of nmf/_sparse_gather.h), instead of reading them from an n x k array.
"""
from cython cimport floating
from cython.parallel cimport prange, threadid
from libc.stdint cimport uintptr_t
from libc.stdlib cimport free, malloc

from nmf._sparse_gather cimport check_compressed, check_indices_found, gather_rows, index_t

from ._threads import thread_limit

cdef extern from "_cd_block.h" nogil:
    const Py_ssize_t NMF_LANES_DOUBLE
    const Py_ssize_t NMF_LANES_FLOAT
    const int NMF_VECTOR_EXTENSIONS
    void nmf_sweep_block_double(double *w, const double *gram, const double *cross,
                                Py_ssize_t cross_stride, const Py_ssize_t *order,
                                Py_ssize_t k, Py_ssize_t rows, double *w_lanes,
                                double *cross_lanes, double *violation, double *change)
    void nmf_sweep_block_float(float *w, const float *gram, const float *cross,
                               Py_ssize_t cross_stride, const Py_ssize_t *order,
                               Py_ssize_t k, Py_ssize_t rows, float *w_lanes,
                               float *cross_lanes, float *violation, float *change)

# A cache line: the start of each thread's lane buffers, and the gap between them (no
# line written by two threads: false sharing cost a third of the 2-thread speed-up).
cdef enum:
    LINE_BYTES = 64


cdef inline void _sweep_block(floating *w, const floating *gram, const floating *cross,
                              Py_ssize_t cross_stride, const Py_ssize_t *order,
                              Py_ssize_t k, Py_ssize_t lanes, Py_ssize_t rows,
                              floating *work, bint keep_change) noexcept nogil:
    """The block sweep for this type (cross's rows cross_stride apart); work holds the
    lane buffers, (2 k + 2) lanes (the rows' squared changes, in the last one, computed
    only when keep_change)."""
    cdef floating *change = work + (2 * k + 1) * lanes if keep_change else NULL
    if floating is float:
        nmf_sweep_block_float(w, gram, cross, cross_stride, order, k, rows, work,
                              work + k * lanes, work + 2 * k * lanes, change)
    else:
        nmf_sweep_block_double(w, gram, cross, cross_stride, order, k, rows, work,
                               work + k * lanes, work + 2 * k * lanes, change)


cdef int _check_sweep(Py_ssize_t n, Py_ssize_t k, Py_ssize_t gram_rows,
                      Py_ssize_t gram_cols, const Py_ssize_t[::1] order,
                      Py_ssize_t n_violations) except -1:
    """The operand checks both sweeps make (a C call: on a small problem each Python
    call and memoryview a sweep makes is a good part of its time)."""
    cdef Py_ssize_t j
    if gram_rows != k or gram_cols != k:
        raise ValueError(f"gram must have shape ({k}, {k}); got ({gram_rows}, {gram_cols}).")
    if order.shape[0] != k:
        raise ValueError(f"order must have {k} entries; got {order.shape[0]}.")
    if n_violations != n:
        raise ValueError(f"row_violation must have {n} entries; got {n_violations}.")
    for j in range(k):
        if order[j] < 0 or order[j] >= k:
            raise ValueError(f"order must hold component indices in [0, {k}); got {order[j]}.")
    return 0


cdef Py_ssize_t _threads_for_blocks(Py_ssize_t n_threads, Py_ssize_t n_blocks):
    # More threads than blocks is waste; tens of thousands make OpenMP abort the process
    # (and their lane buffers exhaust memory), and any but one hang a forked child.
    return max(1, min(n_threads, n_blocks, thread_limit()))


cdef Py_ssize_t _lane_stride(Py_ssize_t k, Py_ssize_t lanes, Py_ssize_t itemsize):
    """Entries of each thread's work memory: the block's transposed rows of W and cross,
    its rows' violations and changes, rounded up to whole cache lines plus one line of
    gap (from an aligned start vector loads never split a line, and no line is written
    by two threads)."""
    cdef Py_ssize_t line = LINE_BYTES // itemsize
    return ((2 * k + 2) * lanes + line - 1) // line * line + line


cdef inline floating *_line_aligned(floating *memory) noexcept:
    """The first cache-line boundary in memory (which has LINE_BYTES to spare)."""
    return memory + (-<uintptr_t> memory) % LINE_BYTES // sizeof(floating)


cdef floating *_lane_memory(Py_ssize_t entries, floating *kind) except NULL:
    """malloc'ed memory for `entries` of this type and one cache line to spare (freed
    by the caller): cheaper than an array, which on a small problem costs as much as
    the sweep. `kind` only selects the type."""
    cdef floating *memory = <floating *> malloc(entries * sizeof(floating) + LINE_BYTES)
    if memory == NULL:
        raise MemoryError(f"cannot allocate the sweep's {entries} work entries.")
    return memory


def vector_extensions():
    """True when the block sweep was compiled on GNU C vector extensions (False: plain
    C loops, the build of -Dvector_extensions=disabled or another compiler)."""
    return bool(NMF_VECTOR_EXTENSIONS)


cdef inline double _sum_in_order(const double *values, Py_ssize_t n) noexcept nogil:
    """values[0] + ... + values[n - 1] left to right in float64: a fixed order, the
    same total for any thread count."""
    cdef double total = 0
    cdef Py_ssize_t i
    for i in range(n):
        total += values[i]
    return total


def cd_sweep(
    floating[:, ::1] W not None,             # (n, k) factor, updated in place
    const floating[:, ::1] gram not None,    # (k, k) other @ other.T, + l2 on the diagonal
    const floating[:, ::1] cross not None,   # (n, >= k) X @ other.T - l1, first k columns
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
    ||W_new[i] - W_old[i]||^2 is written to it. cross may have more columns than W
    (rows padded to whole cache lines, see nmf/_padding.py); only its first k are read.
    """
    cdef Py_ssize_t i, j, b, rows, n = W.shape[0], k = W.shape[1]
    cdef Py_ssize_t lanes = NMF_LANES_FLOAT if floating is float else NMF_LANES_DOUBLE
    cdef double total = 0
    cdef bint keep_change = row_change is not None
    if cross.shape[0] != n or cross.shape[1] < k:
        raise ValueError(f"cross must have {n} rows and at least {k} columns; got shape"
                         f" {tuple(cross.shape)[:2]}.")
    if keep_change and row_change.shape[0] != n:
        raise ValueError(f"row_change must have {n} entries; got {row_change.shape[0]}.")
    _check_sweep(n, k, gram.shape[0], gram.shape[1], order, row_violation.shape[0])
    if n == 0 or k == 0:
        return 0.0
    cdef Py_ssize_t n_blocks = (n + lanes - 1) // lanes
    n_threads = _threads_for_blocks(n_threads, n_blocks)
    cdef Py_ssize_t stride = _lane_stride(k, lanes, sizeof(floating))
    cdef floating *lane_memory = _lane_memory(n_threads * stride, &W[0, 0])
    cdef floating *lane_work = _line_aligned(lane_memory)
    cdef floating *work
    try:
        with nogil:
            for b in prange(n_blocks, num_threads=n_threads, schedule="static"):
                i = b * lanes
                rows = min(lanes, n - i)
                work = lane_work + threadid() * stride
                _sweep_block(&W[i, 0], &gram[0, 0], &cross[i, 0], cross.shape[1],
                             &order[0], k, lanes, rows, work, keep_change)
                for j in range(rows):
                    row_violation[i + j] = work[2 * k * lanes + j]
                    if keep_change:
                        row_change[i + j] = work[(2 * k + 1) * lanes + j]
            total = _sum_in_order(&row_violation[0], n)
    finally:
        free(lane_memory)
    return total


def sum_in_order(const double[::1] values not None):
    """values[0] + values[1] + ... from left to right in float64: the total cd_sweep
    returns, for per-row violations written block by block."""
    if values.shape[0] == 0:
        return 0.0
    return _sum_in_order(&values[0], values.shape[0])


def cd_sweep_csr(
    floating[:, ::1] W not None,             # (n, k) factor, updated in place
    const floating[:, ::1] gram not None,    # (k, k) Ht.T @ Ht, + l2 on the diagonal
    const floating[::1] data not None,       # X (n x m) as CSR: values,
    const index_t[::1] indices not None,     #   their columns,
    const index_t[::1] indptr not None,      #   and the row starts (n + 1,)
    const floating[:, ::1] Ht not None,      # (m, >= k) the other factor, transposed
    double l1,                               # subtracted from every entry of X @ Ht
    const Py_ssize_t[::1] order not None,    # (k,) component visiting order
    double[::1] row_violation not None,      # (n,) work buffer
    int n_threads=1,
    bint indices_checked=False,              # every index in [0, m): none tested
):
    """cd_sweep(W, gram, X @ Ht - l1, order, row_violation, n_threads) without the
    n x k cross product: each block's rows of X @ Ht are summed right before the block
    is swept, into the thread's work memory (nmf/_sparse_gather.h, as csr_times: the
    same sums, so the same bits). One pass less over an n x k array, and no such
    array. Raises ValueError for X's arrays as csr_times does (indices_checked as
    there: sparse_fast.count_outside found none outside [0, m)). Ht may have more
    columns than W (rows padded to whole cache lines, see nmf/_padding.py); only its
    first k are read.
    """
    cdef Py_ssize_t i, j, b, rows, n = W.shape[0], k = W.shape[1], m = Ht.shape[0]
    cdef Py_ssize_t lanes = NMF_LANES_FLOAT if floating is float else NMF_LANES_DOUBLE
    cdef Py_ssize_t bad = 0
    cdef double total = 0
    if Ht.shape[1] < k:
        raise ValueError(f"Ht must have at least {k} columns like W; got {Ht.shape[1]}.")
    _check_sweep(n, k, gram.shape[0], gram.shape[1], order, row_violation.shape[0])
    check_compressed(data.shape[0], indices.shape[0], indptr, n)
    if n == 0 or k == 0:
        return 0.0
    cdef Py_ssize_t n_blocks = (n + lanes - 1) // lanes
    n_threads = _threads_for_blocks(n_threads, n_blocks)
    # Each thread's work memory as cd_sweep's, then its block's rows of X @ Ht - l1 in
    # whole cache lines and one line of gap.
    cdef Py_ssize_t line = LINE_BYTES // sizeof(floating)
    cdef Py_ssize_t cross_start = _lane_stride(k, lanes, sizeof(floating))
    cdef Py_ssize_t stride = cross_start + (lanes * k + line - 1) // line * line + line
    cdef floating *lane_memory = _lane_memory(n_threads * stride, &W[0, 0])
    cdef floating *lane_work = _line_aligned(lane_memory)
    cdef floating *work
    cdef floating *cross
    cdef floating shift = <floating> l1
    cdef const floating *values = &data[0] if data.shape[0] > 0 else NULL
    cdef const index_t *columns = &indices[0] if indices.shape[0] > 0 else NULL
    cdef const floating *F = &Ht[0, 0] if m > 0 else NULL
    try:
        with nogil:
            # Blocks go to the threads four at a time as they ask, not in equal halves:
            # a block costs its rows' entries as well as k^2 a row, and X's rows may
            # come ordered by their entries (a CSC X's columns by term frequency: 96%
            # of debian_tfidf's entries in the first half). There, 2 threads took
            # 0.86-0.90 of one thread's time in halves, 0.45-0.49 on demand; on X as it
            # is 0.36-0.66 either way (one call, medians of 11, k = 10 and 30,
            # throwaway script).
            for b in prange(n_blocks, num_threads=n_threads, schedule="dynamic",
                            chunksize=4):
                i = b * lanes
                rows = min(lanes, n - i)
                work = lane_work + threadid() * stride
                cross = work + cross_start
                bad += gather_rows(values, columns, &indptr[i], 0, rows, F, Ht.shape[1],
                                   m, k, indices_checked, cross)
                if shift != 0:
                    for j in range(rows * k):
                        cross[j] = cross[j] - shift
                _sweep_block(&W[i, 0], &gram[0, 0], cross, k, &order[0], k, lanes, rows,
                             work, False)
                for j in range(rows):
                    row_violation[i + j] = work[2 * k * lanes + j]
            total = _sum_in_order(&row_violation[0], n)
    finally:
        free(lane_memory)
    check_indices_found(bad, m)
    return total
