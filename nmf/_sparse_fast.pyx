"""Products of a compressed sparse matrix with a thin dense factor, compiled.

A is given by its compressed arrays (data, indices, indptr) read as CSR: row i holds
the entries data[p] at columns indices[p] for p in indptr[i]:indptr[i + 1]. A CSC matrix
is the CSR form of its transpose, so these kernels cover X @ F and X.T @ F for both
formats (nmf/_products.py picks the kernel). Indices may be unsorted and repeated
(repeated entries add up, as in scipy). Nothing is allocated or copied: results go to
the caller's buffer.

Every output row is summed by one thread in storage order, so the result is bitwise
the same for any thread count:
- A @ F ("gather"): output row i is row i of A times F; threads share the rows.
- A.T @ F ("scatter"): entry p adds data[p] * F[i] to output row indices[p]; each thread
  owns a contiguous range of output rows and walks all of A, keeping the entries that
  fall in its range. No thread-private copy of the output, no transpose of A.
"""
import numpy as np

from cython cimport floating
from cython.parallel cimport prange

from nmf._sparse_gather cimport (check_compressed, check_indices_found, gather_last_padded,
                                 gather_rows, index_t)

from ._threads import thread_limit


def _check_columns(name, Py_ssize_t columns, Py_ssize_t k, like):
    if columns != k:
        raise ValueError(f"{name} must have {k} columns like {like}; got {columns}.")


def _check_apart(out, factor):
    # The loops below tell the compiler the output never overlaps the factor.
    if np.may_share_memory(np.asarray(out), np.asarray(factor)):
        raise ValueError("out must not overlap factor; pass a separate buffer.")


cdef extern from *:
    """
    /* y += a * x over k entries. `restrict` tells the compiler that y and x do not
       overlap, so it emits no run-time overlap test on every call.
       With GNU C vector extensions, rows of at least one vector go whole vectors at a
       time, and the last k % width entries with the row's last full vector, k - width
       to k: computed from the original y before the loop writes any of them, the
       entries it shares with the loop get the same value twice. No scalar tail, and
       every entry still gets y + a * x rounded once each (the same bits as the loop). */
    #include "_vector.h"
    #if NMF_VECTOR_EXTENSIONS
    #define NMF_AXPY(T)                                                               \
    typedef T nmf_vec_##T                                                             \
        __attribute__((vector_size(NMF_VECTOR_BYTES), aligned(sizeof(T)), may_alias)); \
    static inline void nmf_axpy_##T(T *restrict y, T a, const T *restrict x,          \
                                    Py_ssize_t k) {                                   \
        const Py_ssize_t width = NMF_VECTOR_BYTES / sizeof(T);                       \
        if (k < width) {                                                              \
            for (Py_ssize_t c = 0; c < k; c++) y[c] += a * x[c];                      \
            return;                                                                   \
        }                                                                             \
        nmf_vec_##T *yv = (nmf_vec_##T *) (y + k - width);                            \
        const nmf_vec_##T last = *yv + a * *(const nmf_vec_##T *) (x + k - width);   \
        Py_ssize_t c = 0;                                                             \
        for (; c + width <= k; c += width)                                            \
            *(nmf_vec_##T *) (y + c) += a * *(const nmf_vec_##T *) (x + c);           \
        if (c < k) *yv = last;                                                        \
    }                                                                                 \
    /* Two rows at once from one x: y0 += a0 x, y1 += a1 x (distinct rows). */       \
    static inline void nmf_axpy2_##T(T *restrict y0, T a0, T *restrict y1, T a1,     \
                                     const T *restrict x, Py_ssize_t k) {            \
        const Py_ssize_t width = NMF_VECTOR_BYTES / sizeof(T);                       \
        if (k < width) {                                                              \
            for (Py_ssize_t c = 0; c < k; c++) {                                      \
                y0[c] += a0 * x[c];                                                   \
                y1[c] += a1 * x[c];                                                   \
            }                                                                         \
            return;                                                                   \
        }                                                                             \
        const nmf_vec_##T xl = *(const nmf_vec_##T *) (x + k - width);                \
        nmf_vec_##T *y0v = (nmf_vec_##T *) (y0 + k - width);                          \
        nmf_vec_##T *y1v = (nmf_vec_##T *) (y1 + k - width);                          \
        const nmf_vec_##T last0 = *y0v + a0 * xl, last1 = *y1v + a1 * xl;             \
        Py_ssize_t c = 0;                                                             \
        for (; c + width <= k; c += width) {                                          \
            const nmf_vec_##T xc = *(const nmf_vec_##T *) (x + c);                    \
            *(nmf_vec_##T *) (y0 + c) += a0 * xc;                                     \
            *(nmf_vec_##T *) (y1 + c) += a1 * xc;                                     \
        }                                                                             \
        if (c < k) {                                                                  \
            *y0v = last0;                                                             \
            *y1v = last1;                                                             \
        }                                                                             \
    }
    #else
    #define NMF_AXPY(T)                                                               \
    static inline void nmf_axpy_##T(T *restrict y, T a, const T *restrict x,          \
                                    Py_ssize_t k) {                                   \
        for (Py_ssize_t c = 0; c < k; c++) y[c] += a * x[c];                          \
    }                                                                                 \
    static inline void nmf_axpy2_##T(T *restrict y0, T a0, T *restrict y1, T a1,     \
                                     const T *restrict x, Py_ssize_t k) {            \
        for (Py_ssize_t c = 0; c < k; c++) {                                          \
            y0[c] += a0 * x[c];                                                       \
            y1[c] += a1 * x[c];                                                       \
        }                                                                             \
    }
    #endif
    NMF_AXPY(float)
    NMF_AXPY(double)
    """
    void nmf_axpy_float(float *y, float a, const float *x, Py_ssize_t k) noexcept nogil
    void nmf_axpy_double(double *y, double a, const double *x, Py_ssize_t k) noexcept nogil
    void nmf_axpy2_float(float *y0, float a0, float *y1, float a1, const float *x,
                         Py_ssize_t k) noexcept nogil
    void nmf_axpy2_double(double *y0, double a0, double *y1, double a1, const double *x,
                          Py_ssize_t k) noexcept nogil


cdef inline void _axpy(floating *y, floating a, const floating *x,
                       Py_ssize_t k) noexcept nogil:
    if floating is float:
        nmf_axpy_float(y, a, x, k)
    else:
        nmf_axpy_double(y, a, x, k)


cdef inline void _axpy2(floating *y0, floating a0, floating *y1, floating a1,
                        const floating *x, Py_ssize_t k) noexcept nogil:
    if floating is float:
        nmf_axpy2_float(y0, a0, y1, a1, x, k)
    else:
        nmf_axpy2_double(y0, a0, y1, a1, x, k)


cdef enum:
    GATHER_BLOCK_ROWS = 64  # csr_times hands rows to the threads in blocks of this many


def csr_times(
    const floating[::1] data not None,         # (nnz,) values of A
    const index_t[::1] indices not None,       # (nnz,) column of each value
    const index_t[::1] indptr not None,        # (n_rows + 1,) row starts
    const floating[:, ::1] factor not None,    # (n_cols, k)
    floating[:, ::1] out not None,             # (n_rows, k), overwritten with A @ factor
    int n_threads=1,
):
    """out = A @ factor, parallel over the rows of A."""
    cdef Py_ssize_t n_rows = out.shape[0], n_cols = factor.shape[0], k = factor.shape[1]
    cdef Py_ssize_t i
    cdef Py_ssize_t bad = 0
    _check_columns("out", out.shape[1], k, "factor")
    check_compressed(data.shape[0], indices.shape[0], indptr, n_rows)
    if n_rows == 0 or k == 0:
        return
    _check_apart(out, factor)
    # Tens of thousands of threads make OpenMP abort; any but one hang a forked child.
    n_threads = max(1, min(n_threads, n_rows, thread_limit()))
    cdef const floating *F = &factor[0, 0] if n_cols > 0 else NULL
    cdef const floating *values = &data[0] if data.shape[0] > 0 else NULL
    cdef const index_t *columns = &indices[0] if indices.shape[0] > 0 else NULL
    # Rows are summed in registers, reading factor rows whole vectors long (see
    # nmf/_sparse_gather.h): up to this column that stays inside the factor.
    cdef Py_ssize_t last_padded = gather_last_padded(n_cols, k, sizeof(floating))
    cdef Py_ssize_t block, n_blocks = (n_rows + GATHER_BLOCK_ROWS - 1) // GATHER_BLOCK_ROWS
    with nogil:
        for block in prange(n_blocks, num_threads=n_threads, schedule="guided"):
            bad += gather_rows(values, columns, &indptr[0], block * GATHER_BLOCK_ROWS,
                                min(n_rows, (block + 1) * GATHER_BLOCK_ROWS), F, n_cols,
                                k, last_padded, &out[0, 0])
    check_indices_found(bad, n_cols)


cdef Py_ssize_t _scatter_part(const floating[::1] data, const index_t[::1] indices,
                              const index_t[::1] indptr, const floating *F, floating *O,
                              Py_ssize_t n_cols, Py_ssize_t k, Py_ssize_t lo,
                              Py_ssize_t hi, bint search, bint count) noexcept nogil:
    """Output rows lo to hi of O = A.T @ F, the entries in that range of every row of
    A in storage order: two at a time when they go to two different output rows (one
    pass over F[i] for both), else one by one. search: each row's indices are sorted;
    its first entry in range is found by binary search and the row is left at the
    first one past hi. count: the entries outside [0, n_cols) are counted (returned)."""
    cdef Py_ssize_t i, p, c, c0, c1, start, end, low, high, mid
    cdef Py_ssize_t bad = 0
    for c in range(lo * k, hi * k):
        O[c] = 0
    for i in range(indptr.shape[0] - 1):
        start = indptr[i]
        end = indptr[i + 1]
        if search:
            if count:       # sorted: out-of-range indices sit at the row's ends
                low = start
                while low < end and indices[low] < 0:
                    bad += 1
                    low = low + 1
                high = end - 1
                while high >= low and indices[high] >= n_cols:
                    bad += 1
                    high = high - 1
            low = start     # the first entry with index >= lo
            high = end
            while low < high:
                mid = low + (high - low) // 2
                if indices[mid] < lo:
                    low = mid + 1
                else:
                    high = mid
            start = low
        p = start
        while p < end:
            c0 = indices[p]
            if p + 1 < end:
                c1 = indices[p + 1]
                if c0 != c1 and lo <= c0 < hi and lo <= c1 < hi:
                    _axpy2(O + c0 * k, data[p], O + c1 * k, data[p + 1], F + i * k, k)
                    p = p + 2
                    continue
            if lo <= c0 < hi:
                _axpy(O + c0 * k, data[p], F + i * k, k)
            elif search:
                if c0 >= hi:
                    break           # the rest of the row is past this range
            elif count and (c0 < 0 or c0 >= n_cols):
                bad += 1
            p = p + 1
    return bad


def csr_t_times(
    const floating[::1] data not None,         # (nnz,) values of A
    const index_t[::1] indices not None,       # (nnz,) column of each value
    const index_t[::1] indptr not None,        # (n_rows + 1,) row starts
    const floating[:, ::1] factor not None,    # (n_rows, k)
    floating[:, ::1] out not None,             # (n_cols, k), overwritten with A.T @ factor
    int n_threads=1,
    bint sorted_indices=False,
):
    """out = A.T @ factor, each thread owning a range of output rows.

    sorted_indices=True says each row's indices are non-decreasing (scipy's
    has_sorted_indices): with several threads, a thread then finds its range's entries
    in a row by binary search instead of testing every entry. Same entries in the same
    order, so the same bits. Wrong when the indices are not sorted (never a write
    outside out).
    """
    cdef Py_ssize_t n_rows = factor.shape[0], n_cols = out.shape[0], k = factor.shape[1]
    cdef Py_ssize_t part, n_parts
    cdef Py_ssize_t bad = 0
    cdef bint search
    _check_columns("out", out.shape[1], k, "factor")
    check_compressed(data.shape[0], indices.shape[0], indptr, n_rows)
    if n_cols == 0 or k == 0:
        return
    _check_apart(out, factor)
    n_parts = max(1, min(n_threads, n_cols, thread_limit()))  # as in csr_times
    search = sorted_indices and n_parts > 1
    cdef floating *O = &out[0, 0]
    cdef const floating *F = &factor[0, 0] if n_rows > 0 else NULL
    with nogil:
        for part in prange(n_parts, num_threads=n_parts, schedule="static",
                           chunksize=1):
            bad += _scatter_part(data, indices, indptr, F, O, n_cols, k,
                                 part * n_cols // n_parts,
                                 (part + 1) * n_cols // n_parts, search, part == 0)
    check_indices_found(bad, n_cols)


def csr_inner_lowrank(
    const floating[::1] data not None,         # (nnz,) values of A
    const index_t[::1] indices not None,       # (nnz,) column of each value
    const index_t[::1] indptr not None,        # (n_rows + 1,) row starts
    const floating[:, ::1] W not None,         # (n_rows, k)
    const floating[:, ::1] Ht not None,        # (n_cols, k)
    double[::1] row_sums not None,             # (n_rows,) work buffer
    int n_threads=1,
):
    """<A, W @ Ht.T> = sum_p data[p] * (W[i] . Ht[indices[p]]), accumulated in float64.

    Touches only the stored entries: no (n_rows, k) product is formed. Row sums are
    added in row order: the same total for any thread count.
    """
    cdef Py_ssize_t n_rows = W.shape[0], n_cols = Ht.shape[0], k = W.shape[1]
    cdef Py_ssize_t i, p, c, col
    cdef Py_ssize_t bad = 0
    cdef double dot, row_sum, total = 0
    _check_columns("Ht", Ht.shape[1], k, "W")
    if row_sums.shape[0] != n_rows:
        raise ValueError(f"row_sums must have {n_rows} entries; got {row_sums.shape[0]}.")
    check_compressed(data.shape[0], indices.shape[0], indptr, n_rows)
    n_threads = max(1, min(n_threads, n_rows, thread_limit()))  # as in csr_times
    with nogil:
        for i in prange(n_rows, num_threads=n_threads, schedule="guided"):
            row_sum = 0
            for p in range(indptr[i], indptr[i + 1]):
                col = indices[p]
                if col < 0 or col >= n_cols:
                    bad += 1
                    continue
                dot = 0
                for c in range(k):
                    dot = dot + <double> W[i, c] * Ht[col, c]
                row_sum = row_sum + data[p] * dot
            row_sums[i] = row_sum
        for i in range(n_rows):
            total += row_sums[i]
    check_indices_found(bad, n_cols)
    return total
