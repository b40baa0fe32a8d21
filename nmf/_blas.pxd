# Fused float32/float64 wrappers over scipy.linalg.cython_blas, for any kernel.
#
# BLAS is column-major: a C-contiguous (r, k) array is the column-major (k, r) matrix
# A^T with leading dimension k. So the row-major product C = A @ B of C-contiguous
# A (r, k) and B (k, s) is the column-major C^T = B^T A^T:
#     gemm(c'N', c'N', s, r, k, 1, &B[0, 0], s, &A[0, 0], k, 0, &C[0, 0], s)
# and the row-major A.T @ A (k, k) of a C-contiguous A (r, k) is the column-major
# A^T (A^T)^T:
#     gemm(c'N', c'T', k, k, r, 1, &A[0, 0], k, &A[0, 0], k, 0, &out[0, 0], k)
# or, for one triangle only (out[s, t] with t <= s, row-major),
#     syrk(c'U', c'N', k, r, 1, &A[0, 0], k, 0, &out[0, 0], k)
# Sizes are BLAS ints: the caller checks they fit in an int.
from cython cimport floating
from scipy.linalg.cython_blas cimport ddot, dgemm, dsdot, dsyrk, sgemm, ssyrk


cdef inline double dot(int n, const floating *x, int incx, const floating *y,
                       int incy) noexcept nogil:
    """sum_i x[i * incx] * y[i * incy], accumulated in double for float32 too."""
    if floating is double:
        return ddot(&n, <double *> x, &incx, <double *> y, &incy)
    else:
        return dsdot(&n, <float *> x, &incx, <float *> y, &incy)


cdef inline void gemm(char transa, char transb, int m, int n, int k, floating alpha,
                      const floating *a, int lda, const floating *b, int ldb,
                      floating beta, floating *c, int ldc) noexcept nogil:
    """c <- alpha * op(a) @ op(b) + beta * c, column-major; op(a) is (m, k)."""
    if floating is double:
        dgemm(&transa, &transb, &m, &n, &k, &alpha, <double *> a, &lda, <double *> b,
              &ldb, &beta, c, &ldc)
    else:
        sgemm(&transa, &transb, &m, &n, &k, &alpha, <float *> a, &lda, <float *> b,
              &ldb, &beta, c, &ldc)


cdef inline void syrk(char uplo, char trans, int n, int k, floating alpha,
                      const floating *a, int lda, floating beta, floating *c,
                      int ldc) noexcept nogil:
    """c <- alpha * op(a) @ op(a)^T + beta * c on the `uplo` triangle, column-major;
    op(a) is (n, k), a is read only."""
    if floating is double:
        dsyrk(&uplo, &trans, &n, &k, &alpha, <double *> a, &lda, &beta, c, &ldc)
    else:
        ssyrk(&uplo, &trans, &n, &k, &alpha, <float *> a, &lda, &beta, c, &ldc)
