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

from cython cimport floating
from cython.parallel cimport prange
from libc.stdint cimport int32_t, int64_t

from nmf._overlap cimport views_overlap
from nmf._sparse_gather cimport check_compressed, check_indices_found, gather_rows, index_t

from ._threads import thread_limit


def _check_columns(name, Py_ssize_t columns, Py_ssize_t k, like):
    if columns != k:
        raise ValueError(f"{name} must have {k} columns like {like}; got {columns}.")


cdef int _check_apart(const floating[:, ::1] out, const floating[:, ::1] factor) except -1:
    # The kernels below tell the compiler the output never overlaps the factor.
    cdef const floating[:, :] out_view = out, factor_view = factor
    if views_overlap(out_view, factor_view):
        raise ValueError("out must not overlap factor; pass a separate buffer.")
    return 0


cdef extern from "_sparse_scatter.h" nogil:
    Py_ssize_t nmf_scatter_part_float_int32_t(
        const float *data, const int32_t *ind, const int32_t *indptr, Py_ssize_t n_rows,
        const float *F, float *O, Py_ssize_t n_cols, Py_ssize_t k, Py_ssize_t lo,
        Py_ssize_t hi, int search, int count)
    Py_ssize_t nmf_scatter_part_float_int64_t(
        const float *data, const int64_t *ind, const int64_t *indptr, Py_ssize_t n_rows,
        const float *F, float *O, Py_ssize_t n_cols, Py_ssize_t k, Py_ssize_t lo,
        Py_ssize_t hi, int search, int count)
    Py_ssize_t nmf_scatter_part_double_int32_t(
        const double *data, const int32_t *ind, const int32_t *indptr, Py_ssize_t n_rows,
        const double *F, double *O, Py_ssize_t n_cols, Py_ssize_t k, Py_ssize_t lo,
        Py_ssize_t hi, int search, int count)
    Py_ssize_t nmf_scatter_part_double_int64_t(
        const double *data, const int64_t *ind, const int64_t *indptr, Py_ssize_t n_rows,
        const double *F, double *O, Py_ssize_t n_cols, Py_ssize_t k, Py_ssize_t lo,
        Py_ssize_t hi, int search, int count)


cdef inline Py_ssize_t _scatter_part(const floating *data, const index_t *indices,
                                     const index_t *indptr, Py_ssize_t n_rows,
                                     const floating *F, floating *O, Py_ssize_t n_cols,
                                     Py_ssize_t k, Py_ssize_t lo, Py_ssize_t hi,
                                     bint search, bint count) noexcept nogil:
    """Output rows lo to hi of O = A.T @ F (nmf/_sparse_scatter.h); returns the number
    of entries outside [0, n_cols) counted (count), which are left out."""
    if floating is float:
        if index_t is int32_t:
            return nmf_scatter_part_float_int32_t(data, indices, indptr, n_rows, F, O,
                                                  n_cols, k, lo, hi, search, count)
        else:
            return nmf_scatter_part_float_int64_t(data, indices, indptr, n_rows, F, O,
                                                  n_cols, k, lo, hi, search, count)
    else:
        if index_t is int32_t:
            return nmf_scatter_part_double_int32_t(data, indices, indptr, n_rows, F, O,
                                                   n_cols, k, lo, hi, search, count)
        else:
            return nmf_scatter_part_double_int64_t(data, indices, indptr, n_rows, F, O,
                                                   n_cols, k, lo, hi, search, count)


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
    cdef Py_ssize_t block, n_blocks = (n_rows + GATHER_BLOCK_ROWS - 1) // GATHER_BLOCK_ROWS
    # More threads than blocks is waste; tens of thousands make OpenMP abort, and any
    # but one hang a forked child.
    n_threads = max(1, min(n_threads, n_blocks, thread_limit()))
    cdef const floating *F = &factor[0, 0] if n_cols > 0 else NULL
    cdef const floating *values = &data[0] if data.shape[0] > 0 else NULL
    cdef const index_t *columns = &indices[0] if indices.shape[0] > 0 else NULL
    with nogil:
        for block in prange(n_blocks, num_threads=n_threads, schedule="guided"):
            bad += gather_rows(values, columns, &indptr[0], block * GATHER_BLOCK_ROWS,
                                min(n_rows, (block + 1) * GATHER_BLOCK_ROWS), F, n_cols,
                                k, &out[0, 0])
    check_indices_found(bad, n_cols)


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
    n_parts = max(1, min(n_threads, n_cols, thread_limit()))  # see csr_times
    search = sorted_indices and n_parts > 1
    cdef floating *O = &out[0, 0]
    cdef const floating *F = &factor[0, 0] if n_rows > 0 else NULL
    cdef const floating *values = &data[0] if data.shape[0] > 0 else NULL
    cdef const index_t *columns = &indices[0] if indices.shape[0] > 0 else NULL
    with nogil:
        for part in prange(n_parts, num_threads=n_parts, schedule="static",
                           chunksize=1):
            bad += _scatter_part(values, columns, &indptr[0], n_rows, F, O, n_cols, k,
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
    n_threads = max(1, min(n_threads, n_rows, thread_limit()))  # see csr_times
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
