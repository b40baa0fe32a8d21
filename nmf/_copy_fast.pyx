"""Copies between a factor's layouts, in parallel.

The CD solver holds H transposed (Ht, n_features x k: its sweeps run over rows), so a
fit copies the caller's H into Ht and Ht back into the H it returns; with sparse X it
also copies a factor into rows padded to whole cache lines before each product that
reads them at random (nmf/_padding.py). NumPy makes each of these copies on one
thread, the transposing ones entry by entry across a stride, and into fresh memory
whose first touch (the kernel's page faults) then falls on that one thread too. Here
threads share blocks of the source's rows (or, transposing a wide source, of its
columns), each block small enough to stay in cache between its reads and writes.
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.string cimport memcpy

from nmf._overlap cimport views_overlap

from ._threads import thread_limit

cdef enum:
    # Rows (or columns) of the source per block: 256 of k <= 64 entries (128 KB of
    # float64 at most) stay in L2 while the block is read one way and written the other.
    BLOCK_ROWS_ENUM = 256
    # Entries a thread copies at least (1 MB of float64): below that a parallel region
    # costs more than the second thread saves.
    ENTRIES_PER_THREAD_ENUM = 1 << 17

BLOCK_ROWS = BLOCK_ROWS_ENUM
ENTRIES_PER_THREAD = ENTRIES_PER_THREAD_ENUM


cdef Py_ssize_t _threads_for(Py_ssize_t entries, Py_ssize_t n_blocks, int n_threads):
    """Threads worth starting: at most one a block and one per ENTRIES_PER_THREAD; tens
    of thousands would make OpenMP abort, and any but one hang a forked child."""
    return max(1, min(n_threads, n_blocks, entries // ENTRIES_PER_THREAD_ENUM,
                      thread_limit()))


cdef int _has_entries(const floating[:, :] a, const floating[:, :] out) except -1:
    """1 when a has entries to copy, 0 when it is empty; ValueError when out overlaps a.
    (Views of exactly this type: see nmf/_overlap.pxd.)"""
    if views_overlap(out, a):
        raise ValueError("out must not overlap A; pass a separate buffer.")
    return a.shape[0] > 0 and a.shape[1] > 0


cdef inline void _transpose_tile(const floating *a, Py_ssize_t lda, floating *out,
                                 Py_ssize_t ldo, Py_ssize_t j_begin, Py_ssize_t j_end,
                                 Py_ssize_t i_begin, Py_ssize_t i_end) noexcept nogil:
    """out[j, i] = a[i, j] for out's rows [j_begin, j_end) and columns [i_begin, i_end)
    (rows lda and ldo entries apart): four of out's rows at a time, from four adjacent
    entries of each row of a (NumPy's strided copy takes twice as long)."""
    cdef Py_ssize_t i, j = j_begin
    while j + 4 <= j_end:
        for i in range(i_begin, i_end):
            out[j * ldo + i] = a[i * lda + j]
            out[(j + 1) * ldo + i] = a[i * lda + j + 1]
            out[(j + 2) * ldo + i] = a[i * lda + j + 2]
            out[(j + 3) * ldo + i] = a[i * lda + j + 3]
        j += 4
    for j in range(j, j_end):
        for i in range(i_begin, i_end):
            out[j * ldo + i] = a[i * lda + j]


def transposed_copy(const floating[:, ::1] A not None, floating[:, ::1] out not None,
                    int n_threads=1):
    """out <- A.T, for A (r, c) and out (c, r), both C-contiguous and apart. Threads
    share blocks of BLOCK_ROWS along A's longer side (H.T's rows, or H's columns), the
    other side whole: a block of a tall A's rows stays in cache while out's rows are
    written in runs across it; a wide A's few rows are read as streams."""
    cdef Py_ssize_t r = A.shape[0], c = A.shape[1]
    cdef Py_ssize_t b, start
    if out.shape[0] != c or out.shape[1] != r:
        raise ValueError(f"out must have shape ({c}, {r}), A's transposed; got"
                         f" {tuple(out.shape)[:2]}.")
    cdef const floating[:, :] out_view = out, a_view = A
    if not _has_entries(a_view, out_view):
        return
    cdef bint tall = r >= c
    cdef Py_ssize_t n_blocks = ((r if tall else c) + BLOCK_ROWS_ENUM - 1) // BLOCK_ROWS_ENUM
    n_threads = _threads_for(r * c, n_blocks, n_threads)
    with nogil:
        for b in prange(n_blocks, num_threads=n_threads, schedule="static"):
            start = b * BLOCK_ROWS_ENUM
            if tall:            # A's rows [start, ...): out's columns
                _transpose_tile(&A[0, 0], c, &out[0, 0], r, 0, c, start,
                                min(r, start + BLOCK_ROWS_ENUM))
            else:               # A's columns [start, ...): out's rows
                _transpose_tile(&A[0, 0], c, &out[0, 0], r, start,
                                min(c, start + BLOCK_ROWS_ENUM), 0, r)


def copy_rows(const floating[:, ::1] A not None, floating[:, ::1] out not None,
              int n_threads=1):
    """out[:, :c] <- A, for A (r, c) and out (r, >= c) (rows padded), both C-contiguous
    and apart; out's other columns are left as they are."""
    cdef Py_ssize_t r = A.shape[0], c = A.shape[1]
    cdef Py_ssize_t b, i, start, stop
    if out.shape[0] != r or out.shape[1] < c:
        raise ValueError(f"out must have {r} rows and at least {c} columns like A; got"
                         f" shape {tuple(out.shape)[:2]}.")
    cdef const floating[:, :] out_view = out, a_view = A
    if not _has_entries(a_view, out_view):
        return
    cdef Py_ssize_t n_blocks = (r + BLOCK_ROWS_ENUM - 1) // BLOCK_ROWS_ENUM
    n_threads = _threads_for(r * c, n_blocks, n_threads)
    with nogil:
        for b in prange(n_blocks, num_threads=n_threads, schedule="static"):
            start = b * BLOCK_ROWS_ENUM
            stop = min(r, start + BLOCK_ROWS_ENUM)
            if out.shape[1] == c:
                memcpy(&out[start, 0], &A[start, 0], (stop - start) * c * sizeof(floating))
            else:
                for i in range(start, stop):
                    memcpy(&out[i, 0], &A[i, 0], c * sizeof(floating))
