"""The Gram matrix F^T F of a tall factor, compiled: row blocks in parallel.

For a factor with many rows (W of a large X) the (k, k) Gram is one long reduction,
which BLAS runs on one core (OpenBLAS's syrk of a 61089 x 30 factor takes the same
3.4 ms with one thread or two). Here the rows are cut into equal blocks (block_rows,
see _gram_fast.pxd), each block's Gram is one BLAS syrk, the blocks run in parallel,
and their Grams are added in block order: the blocks depend on the row count only,
not on the thread count, so neither do the bits. A factor of fewer than
BLOCKS_MULTIPLE * MIN_BLOCK_ROWS rows (2048) is one syrk call.
"""
import numpy as np

from cython cimport floating
from cython.parallel cimport prange
from libc.limits cimport INT_MAX

from ._blas cimport syrk
from ._threads import thread_limit

# The block sizes and add_blocks come from _gram_fast.pxd: one syrk call per block
# costs little next to its arithmetic.
MAX_BLOCK_ROWS = ROWS_PER_BLOCK
MIN_BLOCK_ROWS = MIN_ROWS_PER_BLOCK


def block_rows(Py_ssize_t r):
    """Rows per block of an r-row factor's Gram (the last block takes what is left):
    r split into a multiple of BLOCKS_MULTIPLE equal blocks of at most MAX_BLOCK_ROWS
    rows, or one block when they would be shorter than MIN_BLOCK_ROWS."""
    if r < BLOCKS_MULTIPLE * MIN_ROWS_PER_BLOCK:
        return max(r, 1)
    cdef Py_ssize_t n_blocks = (r + ROWS_PER_BLOCK - 1) // ROWS_PER_BLOCK
    n_blocks = (n_blocks + BLOCKS_MULTIPLE - 1) // BLOCKS_MULTIPLE * BLOCKS_MULTIPLE
    return (r + n_blocks - 1) // n_blocks


def blocks_for(F, out, int n_threads):
    """The common part of a Gram over row blocks (here and in nmf/_dense_fast.pyx):
    checks out against F (r, k), and returns None when there is nothing to sum (out is
    then final), else (blocks, n_threads, rows): an array for the blocks' Grams ((1, k,
    k) on out itself when one block does), the threads worth using and the rows per
    block (block_rows)."""
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
    rows = block_rows(r)
    n_blocks = (r + rows - 1) // rows
    blocks = out[np.newaxis] if n_blocks == 1 else np.empty((n_blocks, k, k), out.dtype)
    # More threads than blocks is waste; tens of thousands make OpenMP abort.
    return blocks, max(1, min(n_threads, n_blocks, thread_limit())), rows


def gram(const floating[:, ::1] F not None, floating[:, ::1] out not None,
         int n_threads=1):
    """out <- F.T @ F, (k, k), for F (r, k); returns out (symmetric, both triangles)."""
    cdef Py_ssize_t r = F.shape[0], k = F.shape[1]
    cdef Py_ssize_t b, start, size
    cdef int rows
    if k > INT_MAX:
        raise ValueError(f"the factor's {k} columns are too many for BLAS (int sizes).")
    prepared = blocks_for(np.asarray(F), np.asarray(out), n_threads)
    if prepared is None:
        return np.asarray(out)
    cdef floating[:, :, ::1] blocks = prepared[0]
    cdef Py_ssize_t n_blocks = blocks.shape[0]
    n_threads, size = prepared[1], prepared[2]     # size <= ROWS_PER_BLOCK
    with nogil:
        # syrk's column-major upper triangle of (F^T)(F^T)^T is, row-major, the lower
        # triangle: blocks[b, s, t] for t <= s.
        for b in prange(n_blocks, num_threads=n_threads, schedule="static"):
            start = b * size
            rows = <int> min(size, r - start)
            syrk(c'U', c'N', <int> k, rows, 1, &F[start, 0], <int> k, 0,
                 &blocks[b, 0, 0], <int> k)
        add_blocks(blocks, out)
    return np.asarray(out)
