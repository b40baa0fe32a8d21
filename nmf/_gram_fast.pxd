# The Gram over fixed row blocks, shared by nmf/_gram_fast.pyx (BLAS syrk per block)
# and nmf/_dense_fast.pyx (nmf's tile kernel per block).
from cython cimport floating

cdef enum:
    # The rows are cut into equal blocks (the last one up to a block count shorter), at
    # most ROWS_PER_BLOCK each (a k = 30 float64 block is then at most ~2 MB), their
    # number a multiple of BLOCKS_MULTIPLE, so that 1, 2 or 4 threads share the rows
    # evenly: with blocks of 8192 rows, 20000 rows came in three blocks, two of them
    # on one thread (0.81 of one thread's time). Blocks of at least MIN_ROWS_PER_BLOCK
    # rows, so small factors stay one block. The blocks depend on the row count only,
    # not on the thread count, so neither do the bits.
    ROWS_PER_BLOCK = 8192
    MIN_ROWS_PER_BLOCK = 512
    BLOCKS_MULTIPLE = 4


cdef inline void add_blocks(floating[:, :, ::1] blocks,
                            floating[:, ::1] out) noexcept nogil:
    """out's lower triangle = the blocks' lower triangles added in block order, then
    mirrored into the upper one (blocks may be out itself, as (1, k, k))."""
    cdef Py_ssize_t n_blocks = blocks.shape[0], k = out.shape[0], b, s, t
    for s in range(k):
        for t in range(s + 1):
            if n_blocks > 1:
                out[s, t] = blocks[0, s, t]
                for b in range(1, n_blocks):
                    out[s, t] = out[s, t] + blocks[b, s, t]
            out[t, s] = out[s, t]
