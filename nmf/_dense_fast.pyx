"""X @ F and X.T @ F for a dense X and a thin factor F, and F's Gram F^T F, compiled
(nmf/_dense_tile.h).

Built for x86-64 with AVX2 and FMA, and again with AVX-512 (nmf/meson.build);
nmf/_kernels.py picks the one the processor runs, and nmf/_products.py falls back to
BLAS where there is none. Each result entry is one chain of fused multiply-adds in a
fixed order, summed by one thread: the same bits for any thread count and variant.
"""
import numpy as np

from cython cimport floating
from cython.parallel cimport prange

from nmf._gram_fast cimport add_blocks
from nmf._overlap cimport views_overlap
from ._gram_fast import blocks_for
from ._threads import thread_limit

cdef extern from "_dense_tile.h" nogil:
    const Py_ssize_t NMF_DENSE_MAX_K
    const Py_ssize_t NMF_DENSE_TILE_ROWS
    const Py_ssize_t NMF_DENSE_ROW_BLOCK
    const Py_ssize_t NMF_DENSE_VECTOR_BYTES
    void nmf_dense_rows_double(const double *a, Py_ssize_t lda, Py_ssize_t depth,
                               const double *b, Py_ssize_t k, double *out,
                               Py_ssize_t r_begin, Py_ssize_t r_end, int accumulate)
    void nmf_dense_rows_float(const float *a, Py_ssize_t lda, Py_ssize_t depth,
                              const float *b, Py_ssize_t k, float *out,
                              Py_ssize_t r_begin, Py_ssize_t r_end, int accumulate)
    void nmf_dense_cols_double(const double *a, Py_ssize_t lda, Py_ssize_t depth,
                               const double *b, Py_ssize_t k, double *out,
                               Py_ssize_t r_begin, Py_ssize_t r_end, int accumulate)
    void nmf_dense_cols_float(const float *a, Py_ssize_t lda, Py_ssize_t depth,
                              const float *b, Py_ssize_t k, float *out,
                              Py_ssize_t r_begin, Py_ssize_t r_end, int accumulate)
    void nmf_dense_gram_double(const double *a, Py_ssize_t n, Py_ssize_t readable,
                               Py_ssize_t k, double *out)
    void nmf_dense_gram_float(const float *a, Py_ssize_t n, Py_ssize_t readable,
                              Py_ssize_t k, float *out)

MAX_K = NMF_DENSE_MAX_K     # wider factors go to BLAS (nmf/_products.py)
ROW_BLOCK = NMF_DENSE_ROW_BLOCK   # the rows kernel's walk starts over every ROW_BLOCK rows


def dense_times(
    const floating[:, :] X not None,          # (n, m), one of its strides 1
    bint transpose,                           # False: X @ factor; True: X.T @ factor
    const floating[:, ::1] factor not None,   # (m, k), or (n, k) when transpose
    floating[:, ::1] out not None,            # (n, k), or (m, k) when transpose
    int n_threads=1,
    bint accumulate=False,
):
    """out = X @ factor (or X.T @ factor), threads sharing the result's rows; with
    accumulate, out += that product, each sum continuing from out's entry (the same
    bits as one product over the rows of X before and these: a CD pass over X's row
    blocks adds each block's X.T @ factor this way)."""
    cdef Py_ssize_t size = sizeof(floating)
    cdef Py_ssize_t rows = X.shape[0], depth = X.shape[1], k = factor.shape[1]
    cdef Py_ssize_t row_step = X.strides[0] // size, depth_step = X.strides[1] // size
    if transpose:
        rows, depth = depth, rows
        row_step, depth_step = depth_step, row_step
    if factor.shape[0] != depth:
        raise ValueError(f"factor must have {depth} rows; got {factor.shape[0]}.")
    if out.shape[0] != rows or out.shape[1] != k:
        raise ValueError(f"out must have shape ({rows}, {k}); got {tuple(out.shape)[:2]}.")
    if k > NMF_DENSE_MAX_K:
        raise ValueError(f"factor must have at most {NMF_DENSE_MAX_K} columns; got {k}.")
    cdef const floating[:, :] out_view = out, factor_view = factor
    if views_overlap(out_view, factor_view) or views_overlap(out_view, X):
        raise ValueError("out must not overlap X or factor; pass a separate buffer.")
    if rows == 0 or k == 0:
        return np.asarray(out)
    if depth == 0:
        if not accumulate:
            out[:, :] = 0
        return np.asarray(out)
    # The kernel walks X along its unit stride: result rows along X's memory (rows) or
    # across it (cols). A dimension of length 1 may have any stride.
    cdef bint along = depth == 1 or depth_step == 1
    if not along and not (rows == 1 or row_step == 1):
        raise ValueError("X must be C- or F-contiguous along one axis; pass"
                         " np.ascontiguousarray(X).")
    cdef Py_ssize_t lda = row_step if along else depth_step
    # Threads take whole tiles (rows) or panels (cols: two vectors, a whole number of
    # either type's panels), so only the last is partial.
    cdef Py_ssize_t unit = NMF_DENSE_TILE_ROWS if along else 2 * NMF_DENSE_VECTOR_BYTES // size
    cdef Py_ssize_t units = (rows + unit - 1) // unit
    # More threads than tiles is waste; tens of thousands make OpenMP abort.
    n_threads = max(1, min(n_threads, units, thread_limit()))
    cdef Py_ssize_t part, begin, end
    with nogil:
        for part in prange(n_threads, num_threads=n_threads, schedule="static"):
            begin = part * units // n_threads * unit
            end = min(rows, (part + 1) * units // n_threads * unit)
            if floating is float:
                if along:
                    nmf_dense_rows_float(&X[0, 0], lda, depth, &factor[0, 0], k,
                                         &out[0, 0], begin, end, accumulate)
                else:
                    nmf_dense_cols_float(&X[0, 0], lda, depth, &factor[0, 0], k,
                                         &out[0, 0], begin, end, accumulate)
            else:
                if along:
                    nmf_dense_rows_double(&X[0, 0], lda, depth, &factor[0, 0], k,
                                          &out[0, 0], begin, end, accumulate)
                else:
                    nmf_dense_cols_double(&X[0, 0], lda, depth, &factor[0, 0], k,
                                          &out[0, 0], begin, end, accumulate)
    return np.asarray(out)


def gram(const floating[:, ::1] F not None, floating[:, ::1] out not None,
         int n_threads=1):
    """out <- F.T @ F, (k, k), for F (r, k); returns out (symmetric, both triangles).

    Row blocks (nmf/_gram_fast.pyx, block_rows) in parallel, their Grams added in block
    order.
    """
    cdef Py_ssize_t r = F.shape[0], k = F.shape[1]
    cdef Py_ssize_t b, start, size
    if k > NMF_DENSE_MAX_K:
        raise ValueError(f"F must have at most {NMF_DENSE_MAX_K} columns; got {k}.")
    prepared = blocks_for(np.asarray(F), np.asarray(out), n_threads)
    if prepared is None:
        return np.asarray(out)
    cdef floating[:, :, ::1] blocks = prepared[0]
    cdef Py_ssize_t n_blocks = blocks.shape[0]
    n_threads, size = prepared[1], prepared[2]
    with nogil:
        for b in prange(n_blocks, num_threads=n_threads, schedule="static"):
            start = b * size
            if floating is float:
                nmf_dense_gram_float(&F[start, 0], min(size, r - start), r - start, k,
                                     &blocks[b, 0, 0])
            else:
                nmf_dense_gram_double(&F[start, 0], min(size, r - start), r - start, k,
                                      &blocks[b, 0, 0])
        add_blocks(blocks, out)
    return np.asarray(out)
