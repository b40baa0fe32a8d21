# Rows of CSR A times a factor (nmf/_sparse_gather.h), shared by nmf/_sparse_fast.pyx
# (X @ H.T whole) and nmf/_cd_fast.pyx (block by block, inside the W sweep), with the
# check of A's compressed arrays both make.
from cython cimport floating
from libc.stdint cimport int32_t, int64_t

ctypedef fused index_t:
    int32_t
    int64_t

cdef extern from "_sparse_gather.h" nogil:
    Py_ssize_t nmf_gather_rows_float_int32_t(
        const float *data, const int32_t *ind, const int32_t *indptr, Py_ssize_t r0,
        Py_ssize_t r1, const float *F, Py_ssize_t ldf, Py_ssize_t n_cols, Py_ssize_t k,
        int checked, float *out)
    Py_ssize_t nmf_gather_rows_float_int64_t(
        const float *data, const int64_t *ind, const int64_t *indptr, Py_ssize_t r0,
        Py_ssize_t r1, const float *F, Py_ssize_t ldf, Py_ssize_t n_cols, Py_ssize_t k,
        int checked, float *out)
    Py_ssize_t nmf_gather_rows_double_int32_t(
        const double *data, const int32_t *ind, const int32_t *indptr, Py_ssize_t r0,
        Py_ssize_t r1, const double *F, Py_ssize_t ldf, Py_ssize_t n_cols, Py_ssize_t k,
        int checked, double *out)
    Py_ssize_t nmf_gather_rows_double_int64_t(
        const double *data, const int64_t *ind, const int64_t *indptr, Py_ssize_t r0,
        Py_ssize_t r1, const double *F, Py_ssize_t ldf, Py_ssize_t n_cols, Py_ssize_t k,
        int checked, double *out)


cdef inline Py_ssize_t gather_rows(const floating *data, const index_t *indices,
                                   const index_t *indptr, Py_ssize_t r0, Py_ssize_t r1,
                                   const floating *F, Py_ssize_t ldf, Py_ssize_t n_cols,
                                   Py_ssize_t k, bint checked, floating *out) noexcept nogil:
    """Rows r0 to r1 of out = A @ F (out n_rows x k in C order; F n_cols rows of k
    entries, ldf >= k apart). Returns the number of entries outside [0, n_cols), left
    out. checked: every column is known to lie in [0, n_cols) (count_outside), and
    the entries are not tested (none is then counted)."""
    if floating is float:
        if index_t is int32_t:
            return nmf_gather_rows_float_int32_t(data, indices, indptr, r0, r1, F, ldf,
                                                 n_cols, k, checked, out)
        else:
            return nmf_gather_rows_float_int64_t(data, indices, indptr, r0, r1, F, ldf,
                                                 n_cols, k, checked, out)
    else:
        if index_t is int32_t:
            return nmf_gather_rows_double_int32_t(data, indices, indptr, r0, r1, F, ldf,
                                                  n_cols, k, checked, out)
        else:
            return nmf_gather_rows_double_int64_t(data, indices, indptr, r0, r1, F, ldf,
                                                  n_cols, k, checked, out)


cdef inline int check_compressed(Py_ssize_t nnz, Py_ssize_t n_indices,
                                 const index_t[::1] indptr, Py_ssize_t n_rows) except -1:
    """indices must have nnz entries like data; indptr n_rows + 1 non-decreasing
    entries within [0, nnz]."""
    cdef Py_ssize_t i
    if n_indices != nnz:
        raise ValueError(f"indices must have {nnz} entries like data; got {n_indices}.")
    if indptr.shape[0] != n_rows + 1:
        raise ValueError(f"indptr must have {n_rows + 1} entries; got {indptr.shape[0]}.")
    if indptr[0] < 0 or indptr[n_rows] > nnz:
        raise ValueError(f"indptr must run within [0, {nnz}]; got {indptr[0]} to"
                         f" {indptr[n_rows]}.")
    for i in range(n_rows):
        if indptr[i] > indptr[i + 1]:
            raise ValueError(f"indptr must be non-decreasing; it drops at position {i}.")
    return 0


cdef inline void check_indices_found(Py_ssize_t bad, Py_ssize_t n_cols) except *:
    """After a kernel's loop, which counts the indices outside [0, n_cols)."""
    if bad:
        raise ValueError(f"indices must lie in [0, {n_cols}); {bad} entries do not.")
