"""The Gram matrix F^T F of a tall factor, compiled: row blocks in parallel.

For a factor with many rows (W of a large X) the (k, k) Gram is one long reduction,
which BLAS runs on one core (OpenBLAS's syrk of a 61089 x 30 factor takes the same
3.4 ms with one thread or two). Here the rows are cut into blocks of BLOCK_ROWS, each
block's Gram is one BLAS syrk, the blocks run in parallel, and their Grams are added in
block order: the blocks do not depend on the thread count, so neither do the bits. A
factor of at most BLOCK_ROWS rows is one syrk call.
"""
import numpy as np

from cython cimport floating
from cython.parallel cimport prange
from libc.limits cimport INT_MAX

from ._blas cimport syrk
from ._threads import thread_limit

# ROWS_PER_BLOCK and add_blocks come from _gram_fast.pxd: one syrk call per block costs
# little next to its arithmetic.
BLOCK_ROWS = ROWS_PER_BLOCK     # for nmf/_products.py


def blocks_for(F, out, int n_threads, Py_ssize_t rows_per_block):
    """The common part of a Gram over fixed row blocks (here and in nmf/_dense_fast.pyx):
    checks out against F (r, k), and returns None when there is nothing to sum (out is
    then final), else (blocks, n_threads): an array for the blocks' Grams ((1, k, k) on
    out itself when one block does) and the threads worth using."""
    r, k = F.shape
    if out.shape[0] != k or out.shape[1] != k:
        raise ValueError(f"out must have shape ({k}, {k}); got {tuple(out.shape)[:2]}.")
    if np.may_share_memory(out, F):
        raise ValueError("out must not overlap F; pass a separate buffer.")
    if k == 0:
        return None
    if r == 0:
        out[:, :] = 0
        return None
    n_blocks = max(1, (r + rows_per_block - 1) // rows_per_block)
    blocks = out[np.newaxis] if n_blocks == 1 else np.empty((n_blocks, k, k), out.dtype)
    # More threads than blocks is waste; tens of thousands make OpenMP abort.
    return blocks, max(1, min(n_threads, n_blocks, thread_limit()))


def gram(const floating[:, ::1] F not None, floating[:, ::1] out not None,
         int n_threads=1):
    """out <- F.T @ F, (k, k), for F (r, k); returns out (symmetric, both triangles)."""
    cdef Py_ssize_t r = F.shape[0], k = F.shape[1]
    cdef Py_ssize_t b, start
    cdef int rows
    if k > INT_MAX:
        raise ValueError(f"the factor's {k} columns are too many for BLAS (int sizes).")
    prepared = blocks_for(np.asarray(F), np.asarray(out), n_threads, ROWS_PER_BLOCK)
    if prepared is None:
        return np.asarray(out)
    cdef floating[:, :, ::1] blocks = prepared[0]
    cdef Py_ssize_t n_blocks = blocks.shape[0]
    n_threads = prepared[1]
    with nogil:
        # syrk's column-major upper triangle of (F^T)(F^T)^T is, row-major, the lower
        # triangle: blocks[b, s, t] for t <= s.
        for b in prange(n_blocks, num_threads=n_threads, schedule="static"):
            start = b * ROWS_PER_BLOCK
            rows = <int> min(<Py_ssize_t> ROWS_PER_BLOCK, r - start)
            syrk(c'U', c'N', <int> k, rows, 1, &F[start, 0], <int> k, 0,
                 &blocks[b, 0, 0], <int> k)
        add_blocks(blocks, out)
    return np.asarray(out)
