# Whether two 2-D typed memoryviews' memory may overlap: np.may_share_memory's bounds
# test (each array's span from its lowest to its highest byte) without making an
# ndarray of each view first, which costs about a microsecond apiece: most of a small
# product's or sweep's call.
from cython cimport floating
from libc.stdint cimport uintptr_t


cdef inline void _span(const floating *first, Py_ssize_t rows, Py_ssize_t cols,
                       Py_ssize_t row_stride, Py_ssize_t col_stride, uintptr_t *low,
                       uintptr_t *high) noexcept nogil:
    """[low, high): the bytes of a non-empty view (strides in bytes, any sign)."""
    cdef Py_ssize_t reach_low = 0, reach_high = sizeof(floating)
    if row_stride < 0:
        reach_low += (rows - 1) * row_stride
    else:
        reach_high += (rows - 1) * row_stride
    if col_stride < 0:
        reach_low += (cols - 1) * col_stride
    else:
        reach_high += (cols - 1) * col_stride
    low[0] = <uintptr_t> first + <uintptr_t> reach_low
    high[0] = <uintptr_t> first + <uintptr_t> reach_high


cdef inline bint views_overlap(const floating[:, :] a,
                               const floating[:, :] b) noexcept nogil:
    """True if a and b may share memory (their spans meet); an empty view meets none.
    The views must be of exactly this type (assign a C-contiguous one to a local of
    it first): Cython picks a fused function's version by exact view type."""
    cdef uintptr_t a_low, a_high, b_low, b_high
    if a.shape[0] == 0 or a.shape[1] == 0 or b.shape[0] == 0 or b.shape[1] == 0:
        return False
    _span(&a[0, 0], a.shape[0], a.shape[1], a.strides[0], a.strides[1], &a_low, &a_high)
    _span(&b[0, 0], b.shape[0], b.shape[1], b.strides[0], b.strides[1], &b_low, &b_high)
    return a_low < b_high and b_low < a_high
