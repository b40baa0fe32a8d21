# The Gram over fixed row blocks, shared by nmf/_gram_fast.pyx (BLAS syrk per block)
# and nmf/_dense_fast.pyx (nmf's tile kernel per block).
from cython cimport floating

cdef enum:
    # Rows per block: a block of a k = 30 float64 factor is ~2 MB (a core's L2). The
    # blocks do not depend on the thread count, so neither do the bits.
    ROWS_PER_BLOCK = 8192


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
