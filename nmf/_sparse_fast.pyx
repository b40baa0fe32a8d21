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
  fall in its range. No thread-private copy of the output, no transpose of A. The
  ranges can be chosen to share A's entries evenly (scatter_bounds).
"""

import numpy as np

from cython cimport floating
from cython.parallel cimport prange
from libc.stdint cimport int32_t, int64_t

from nmf._overlap cimport views_overlap
from nmf._sparse_gather cimport check_compressed, check_indices_found, gather_rows, index_t

from ._threads import thread_limit


def _check_columns(name, Py_ssize_t columns, Py_ssize_t k, like, bint padded=False):
    """columns == k, or with padded (rows padded to cache lines) columns >= k."""
    if columns < k or (columns != k and not padded):
        least = "at least " if padded else ""
        raise ValueError(f"{name} must have {least}{k} columns like {like}; got {columns}.")


cdef int _check_apart(const floating[:, ::1] out, const floating[:, ::1] factor) except -1:
    # The kernels below tell the compiler the output never overlaps the factor.
    cdef const floating[:, :] out_view = out, factor_view = factor
    if views_overlap(out_view, factor_view):
        raise ValueError("out must not overlap factor; pass a separate buffer.")
    return 0


cdef extern from "_sparse_scatter.h" nogil:
    Py_ssize_t nmf_first_at_least_int32_t(const int32_t *ind, Py_ssize_t begin,
                                          Py_ssize_t end, Py_ssize_t lo)
    Py_ssize_t nmf_first_at_least_int64_t(const int64_t *ind, Py_ssize_t begin,
                                          Py_ssize_t end, Py_ssize_t lo)
    Py_ssize_t nmf_scatter_part_float_int32_t(
        const float *data, const int32_t *ind, const int32_t *indptr, Py_ssize_t n_rows,
        const float *F, float *O, Py_ssize_t ldo, Py_ssize_t n_cols, Py_ssize_t k,
        Py_ssize_t lo, Py_ssize_t hi, int search, int count, const int32_t *starts,
        const int32_t *ends, int checked)
    Py_ssize_t nmf_scatter_part_float_int64_t(
        const float *data, const int64_t *ind, const int64_t *indptr, Py_ssize_t n_rows,
        const float *F, float *O, Py_ssize_t ldo, Py_ssize_t n_cols, Py_ssize_t k,
        Py_ssize_t lo, Py_ssize_t hi, int search, int count, const int64_t *starts,
        const int64_t *ends, int checked)
    Py_ssize_t nmf_scatter_part_double_int32_t(
        const double *data, const int32_t *ind, const int32_t *indptr, Py_ssize_t n_rows,
        const double *F, double *O, Py_ssize_t ldo, Py_ssize_t n_cols, Py_ssize_t k,
        Py_ssize_t lo, Py_ssize_t hi, int search, int count, const int32_t *starts,
        const int32_t *ends, int checked)
    Py_ssize_t nmf_scatter_part_double_int64_t(
        const double *data, const int64_t *ind, const int64_t *indptr, Py_ssize_t n_rows,
        const double *F, double *O, Py_ssize_t ldo, Py_ssize_t n_cols, Py_ssize_t k,
        Py_ssize_t lo, Py_ssize_t hi, int search, int count, const int64_t *starts,
        const int64_t *ends, int checked)


cdef inline Py_ssize_t _scatter_part(const floating *data, const index_t *indices,
                                     const index_t *indptr, Py_ssize_t n_rows,
                                     const floating *F, floating *O, Py_ssize_t ldo,
                                     Py_ssize_t n_cols, Py_ssize_t k, Py_ssize_t lo,
                                     Py_ssize_t hi, bint search, bint count,
                                     const index_t *starts, const index_t *ends,
                                     bint checked) noexcept nogil:
    """Output rows lo to hi of O = A.T @ F (nmf/_sparse_scatter.h; O's rows ldo apart);
    returns the number of entries outside [0, n_cols) counted (count), which are left
    out. starts / ends (search only): each row's first entry in range and the first
    past it, or NULL. checked: every column lies in [0, n_cols) (count_outside)."""
    if floating is float:
        if index_t is int32_t:
            return nmf_scatter_part_float_int32_t(data, indices, indptr, n_rows, F, O, ldo,
                                                  n_cols, k, lo, hi, search, count, starts,
                                                  ends, checked)
        else:
            return nmf_scatter_part_float_int64_t(data, indices, indptr, n_rows, F, O, ldo,
                                                  n_cols, k, lo, hi, search, count, starts,
                                                  ends, checked)
    else:
        if index_t is int32_t:
            return nmf_scatter_part_double_int32_t(data, indices, indptr, n_rows, F, O, ldo,
                                                   n_cols, k, lo, hi, search, count, starts,
                                                   ends, checked)
        else:
            return nmf_scatter_part_double_int64_t(data, indices, indptr, n_rows, F, O, ldo,
                                                   n_cols, k, lo, hi, search, count, starts,
                                                   ends, checked)


cdef enum:
    # csr_times hands rows to the threads in blocks of this many, a block to whichever
    # thread asks next (csr_inner_lowrank likewise): rows may come ordered by their
    # entries, e.g. a CSC X's columns by term frequency (96% of debian_tfidf's entries
    # in the first half), where OpenMP's "guided" handed the first thread the first
    # half (2 threads 0.94 of one thread's time; on demand 0.32-0.59, k = 10 and 30;
    # X as it is the same either way).
    GATHER_BLOCK_ROWS = 64


def csr_times(
    const floating[::1] data not None,         # (nnz,) values of A
    const index_t[::1] indices not None,       # (nnz,) column of each value
    const index_t[::1] indptr not None,        # (n_rows + 1,) row starts
    const floating[:, ::1] factor not None,    # (n_cols, k)
    floating[:, ::1] out not None,             # (n_rows, k), overwritten with A @ factor
    int n_threads=1,
    bint indices_checked=False,
):
    """out = A @ factor, parallel over the rows of A.

    indices_checked=True says every index lies in [0, n_cols) (count_outside returned
    0 for these indices): the kernel then tests none (10-15% of a float32 k = 10
    product). An index outside with it reads outside factor.
    """
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
        for block in prange(n_blocks, num_threads=n_threads, schedule="dynamic"):
            bad += gather_rows(values, columns, &indptr[0], block * GATHER_BLOCK_ROWS,
                                min(n_rows, (block + 1) * GATHER_BLOCK_ROWS), F, k, n_cols,
                                k, indices_checked, &out[0, 0])
    check_indices_found(bad, n_cols)


def csr_t_times(
    const floating[::1] data not None,         # (nnz,) values of A
    const index_t[::1] indices not None,       # (nnz,) column of each value
    const index_t[::1] indptr not None,        # (n_rows + 1,) row starts
    const floating[:, ::1] factor not None,    # (n_rows, k)
    floating[:, ::1] out not None,             # (n_cols, >= k), overwritten with A.T @ factor
    int n_threads=1,
    bint sorted_indices=False,
    const Py_ssize_t[::1] bounds=None,         # (n_parts + 1,) from scatter_bounds
    const index_t[:, ::1] row_splits=None,     # (n_parts - 1, n_rows), scatter_row_splits
    bint indices_checked=False,
):
    """out = A.T @ factor, each thread owning a range of output rows.

    The ranges are n_threads equal shares of out's rows, or with `bounds` the parts
    rows bounds[j] to bounds[j + 1] (0 = bounds[0] <= ... <= bounds[-1] = n_cols; see
    scatter_bounds), one thread each. sorted_indices=True says each row's indices are
    non-decreasing (scipy's has_sorted_indices): with several parts, a thread then
    finds its part's entries in a row by binary search instead of testing every entry,
    or with `row_splits` (from scatter_row_splits for these bounds, made once for many
    products) reads where they start and end. Every output row gets the same entries
    in the same order whatever the parts, so the same bits. Wrong when the indices are
    not sorted or the splits not those of the bounds (never a write outside out).
    indices_checked=True says every index lies in [0, n_cols) (count_outside returned
    0 for these indices): where a thread's part is all of out's rows, or bounded by
    the splits, its entries are then not tested (10-15% of a float32 k = 10 product,
    see nmf/_sparse_scatter.h). An index outside with it writes outside out, and
    splits not made for these bounds write into another thread's part (a race).
    out may have more columns than factor (rows padded to whole cache lines, see
    nmf/_padding.py): the product goes to its first k columns, zeros to the rest.
    """
    cdef Py_ssize_t n_rows = factor.shape[0], n_cols = out.shape[0], k = factor.shape[1]
    cdef Py_ssize_t part, n_parts, lo, hi, ldo = out.shape[1]
    cdef Py_ssize_t bad = 0
    cdef bint search, given = bounds is not None
    _check_columns("out", ldo, k, "factor", padded=True)
    check_compressed(data.shape[0], indices.shape[0], indptr, n_rows)
    if given:
        _check_bounds(bounds, n_cols)
    if row_splits is not None:
        if not given:
            raise ValueError("row_splits needs the bounds it was made for; pass both.")
        if row_splits.shape[0] != bounds.shape[0] - 2 or row_splits.shape[1] != n_rows:
            raise ValueError(f"row_splits must be ({bounds.shape[0] - 2}, {n_rows}) for"
                             f" these bounds and rows; got ({row_splits.shape[0]},"
                             f" {row_splits.shape[1]}).")
    if n_cols == 0 or k == 0:
        out[:, :] = 0
        return
    _check_apart(out, factor)
    n_parts = bounds.shape[0] - 1 if given else max(1, min(n_threads, n_cols, thread_limit()))
    n_threads = max(1, min(n_threads, n_parts, thread_limit()))  # see csr_times
    search = sorted_indices and n_parts > 1
    cdef bint split = search and row_splits is not None and n_rows > 0
    cdef floating *O = &out[0, 0]
    cdef const floating *F = &factor[0, 0] if n_rows > 0 else NULL
    cdef const floating *values = &data[0] if data.shape[0] > 0 else NULL
    cdef const index_t *columns = &indices[0] if indices.shape[0] > 0 else NULL
    with nogil:
        for part in prange(n_parts, num_threads=n_threads, schedule="static",
                           chunksize=1):
            lo = bounds[part] if given else part * n_cols // n_parts
            hi = bounds[part + 1] if given else (part + 1) * n_cols // n_parts
            bad += _scatter_part(values, columns, &indptr[0], n_rows, F, O, ldo, n_cols,
                                 k, lo, hi, search, part == 0,
                                 &row_splits[part - 1, 0] if split and part > 0 else NULL,
                                 &row_splits[part, 0] if split and part < n_parts - 1
                                 else NULL, indices_checked)
    check_indices_found(bad, n_cols)


cdef int _check_bounds(const Py_ssize_t[::1] bounds, Py_ssize_t n_cols) except -1:
    cdef Py_ssize_t j, n_parts = bounds.shape[0] - 1
    if n_parts < 1 or bounds[0] != 0 or bounds[n_parts] != n_cols:
        raise ValueError(f"bounds must run from 0 to out's {n_cols} rows in at least two"
                         f" entries; got {np.asarray(bounds).tolist()[:8]}.")
    for j in range(n_parts):
        if bounds[j] > bounds[j + 1]:
            raise ValueError(f"bounds must be non-decreasing; it drops at position {j}.")
    return 0


def count_outside(
    const index_t[::1] indices not None,       # (nnz,) column of each value
    Py_ssize_t n_cols,
    int n_threads=1,
):
    """The number of indices outside [0, n_cols): 0 lets the products skip their test
    of every entry (csr_times', csr_t_times' and cd_sweep_csr's indices_checked), one
    pass over the indices made once for all the products of a fit."""
    cdef Py_ssize_t p, nnz = indices.shape[0], outside = 0
    cdef size_t limit = <size_t> max(n_cols, 0)
    n_threads = max(1, min(n_threads, thread_limit()))
    with nogil:
        for p in prange(nnz, num_threads=n_threads, schedule="static"):
            # an index below 0 wraps past any n_cols: one comparison
            if <size_t> <Py_ssize_t> indices[p] >= limit:
                outside += 1
    return outside


cdef enum:
    # Entries scatter_bounds samples, about: whole rows, evenly spaced.
    BOUNDS_SAMPLE_ENTRIES = 1 << 16
    # A column's own cost in scatter_bounds, in entries: its output row fetched into
    # cache. A thread owning frequent columns finds their rows in cache and gets
    # through its entries faster than one owning rare columns; see scatter_bounds.
    COLUMN_COST = 32


COLUMN_COST_ENTRIES = COLUMN_COST   # for the tests


def scatter_bounds(
    const index_t[::1] indices not None,       # (nnz,) column of each value
    const index_t[::1] indptr not None,        # (n_rows + 1,) row starts
    Py_ssize_t n_cols,                         # columns of A: rows of A.T @ F
    int n_parts,
):
    """bounds for csr_t_times: n_parts ranges of A's columns of about equal cost, a
    column costing its entries plus COLUMN_COST, so that the threads owning them do
    about equal work. Equal shares of the columns would not: text data with its terms
    ordered by frequency has most entries in the first columns (debian_tfidf so
    ordered: 96% in the first half; one call of csr_t_times on 2 threads took 1.03 of
    its 1-thread time). COLUMN_COST is measured there: with the first part ending at
    383 to 10000 of its 20000 columns, 2 threads took least time at about 1000 (67% of
    the entries; 0.50-0.53 of one thread's time at k = 30, 0.79-0.80 at k = 10), which
    32 entries a column puts the bound at. Entries are counted on every s-th row, s
    such that about BOUNDS_SAMPLE_ENTRIES are read (once a fit: about a tenth of a
    millisecond); the parts only decide who computes which output rows, never the
    bits. Entries outside [0, n_cols) are not counted."""
    cdef Py_ssize_t n_rows = indptr.shape[0] - 1
    if n_rows < 0:
        raise ValueError("indptr must have at least one entry.")
    if n_parts < 1 or n_cols < 0:
        raise ValueError(f"n_parts must be >= 1 and n_cols >= 0; got {n_parts} and {n_cols}.")
    check_compressed(indices.shape[0], indices.shape[0], indptr, n_rows)
    cdef Py_ssize_t nnz = indptr[n_rows] - indptr[0] if n_rows > 0 else 0
    cdef Py_ssize_t step = max(1, nnz // BOUNDS_SAMPLE_ENTRIES)
    cdef Py_ssize_t[::1] counts = np.zeros(n_cols, dtype=np.intp)
    cdef Py_ssize_t i = 0, p, col
    with nogil:
        while i < n_rows:
            for p in range(indptr[i], indptr[i + 1]):
                col = indices[p]
                if 0 <= col < n_cols:
                    counts[col] += 1
            i += step
    if n_cols == 0:
        return np.zeros(n_parts + 1, dtype=np.intp)
    # below[c]: the cost of columns 0 to c, each column's entries (counted on every
    # step-th row) plus COLUMN_COST for the column itself.
    below = np.cumsum(np.asarray(counts) * step + COLUMN_COST)
    total = int(below[-1])
    # Part j ends after the first column where the cost reaches j / n_parts of all.
    targets = (np.arange(1, n_parts, dtype=np.intp) * total + n_parts - 1) // n_parts
    ends = np.searchsorted(below, targets, side="left") + 1
    return np.concatenate(([0], np.minimum(ends, n_cols), [n_cols])).astype(np.intp)


def scatter_row_splits(
    const index_t[::1] indices not None,       # (nnz,) column of each value, rows sorted
    const index_t[::1] indptr not None,        # (n_rows + 1,) row starts
    const Py_ssize_t[::1] bounds not None,     # (n_parts + 1,) from scatter_bounds
    int n_threads=1,
):
    """row_splits for csr_t_times with these bounds: row_splits[j - 1, i] is the first
    entry of row i whose column is at least bounds[j] (j = 1 to n_parts - 1), found by
    binary search in each row, which must have its indices sorted. Made once for many
    products, it spares each thread past the first a search in every row of every
    product: n_parts - 1 integers a row of A, of indptr's type."""
    cdef Py_ssize_t n_rows = indptr.shape[0] - 1
    if n_rows < 0:
        raise ValueError("indptr must have at least one entry.")
    check_compressed(indices.shape[0], indices.shape[0], indptr, n_rows)
    cdef Py_ssize_t n_parts = bounds.shape[0] - 1
    if n_parts < 1:
        raise ValueError("bounds must have at least two entries.")
    cdef index_t[:, ::1] splits = np.empty((n_parts - 1, n_rows),
                                           dtype=np.asarray(indptr).dtype)
    cdef Py_ssize_t i, j
    n_threads = max(1, min(n_threads, thread_limit()))
    if n_parts == 1 or n_rows == 0:
        return np.asarray(splits)
    cdef const index_t *columns = &indices[0] if indices.shape[0] > 0 else NULL
    with nogil:
        for i in prange(n_rows, num_threads=n_threads, schedule="static"):
            for j in range(1, n_parts):
                splits[j - 1, i] = _first_at_least(columns, indptr[i], indptr[i + 1],
                                                   bounds[j])
    return np.asarray(splits)


cdef inline Py_ssize_t _first_at_least(const index_t *indices, Py_ssize_t begin,
                                       Py_ssize_t end, Py_ssize_t lo) noexcept nogil:
    """The first entry in [begin, end) whose column is >= lo (sorted), or end: the
    scatter's own search (nmf/_sparse_scatter.h)."""
    if index_t is int32_t:
        return nmf_first_at_least_int32_t(indices, begin, end, lo)
    else:
        return nmf_first_at_least_int64_t(indices, begin, end, lo)


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
        for i in prange(n_rows, num_threads=n_threads, schedule="dynamic",
                       chunksize=GATHER_BLOCK_ROWS):
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
