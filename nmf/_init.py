"""Initial factors: random, NNDSVD and its variants."""

import numpy as np
import scipy.linalg

from . import _products

# Entries of an NNDSVD factor below this fraction of the factor's largest entry are
# set to zero (they are rounding noise of the SVD).
_NNDSVD_EPS = 1e-6


def random_factors(X, n_components, rng):
    """|N(0, 1)| scaled by sqrt(mean(X) / n_components): W (n, k), H (k, m)."""
    n, m = X.shape
    dtype = X.dtype
    scale = dtype.type(np.sqrt(X.mean() / n_components))
    H = rng.standard_normal((n_components, m)).astype(dtype, copy=False)
    W = rng.standard_normal((n, n_components)).astype(dtype, copy=False)
    for A in (H, W):
        np.abs(A, out=A)
        A *= scale
    return W, H


def _basis_scipy(A):
    # scipy's LAPACK call releases the GIL throughout and skips a finiteness pass.
    return scipy.linalg.qr(A, mode="economic", check_finite=False)[0]


def _basis_numpy(A):
    return np.linalg.qr(A)[0]


def _lu_normalized(A):
    # P L of A's LU factorization (partial pivoting): a well-scaled basis of A's
    # columns at about a quarter of a QR's cost, for the power iterations (Halko et al.
    # section 4.5; scikit-learn's randomized_svd does the same).
    return scipy.linalg.lu(A, permute_l=True, check_finite=False)[0]


# A pivot of the Cholesky factor of A^T A below this fraction of its largest: A is too
# close to rank-deficient for CholeskyQR (condition number above about 1e6), and
# LAPACK's pivoted LU or Householder QR takes over.
_CHOLESKY_PIVOT = 1e-6


def _cholesky_qr(A, n_threads):
    """(Q, R) with A = Q R for float64 A (rows, width): R the upper-triangular Cholesky
    factor of A^T A and Q = A R^-1 (CholeskyQR), Q's columns orthonormal to about
    1e-16 * cond(A)^2. The Gram and the product run in nmf's kernels; only the width x
    width Cholesky factor and its inverse in LAPACK, too small for BLAS's threads.
    None when a pivot falls below _CHOLESKY_PIVOT of the largest."""
    rows, width = A.shape
    gram = _products.gram_function(rows, width, n_threads)(A, np.empty((width, width)))
    try:
        L = np.linalg.cholesky(gram)
    except np.linalg.LinAlgError:
        return None
    pivots = np.diag(L)
    if not np.isfinite(L).all() or pivots.min() <= _CHOLESKY_PIVOT * pivots.max():
        return None
    R_inverse = np.linalg.inv(L).T
    Q = _products.product_function(A, False, width, n_threads, next_to_blas=False)(
        np.ascontiguousarray(R_inverse), np.empty_like(A))
    return Q, L.T


def _cholesky_qr2(A, n_threads):
    """(Q, R) as _cholesky_qr, twice: Q orthonormal to float64 rounding for A of
    condition number up to about 1e6 (Fukaya et al. 2014, CholeskyQR2). None where
    either pass is refused."""
    first = _cholesky_qr(A, n_threads)
    second = first and _cholesky_qr(first[0], n_threads)
    if second is None:
        return None
    return second[0], second[1] @ first[1]


def _sketch_svd_in_kernels(X, Q, X_times, Xt_times, n_power, n_threads):
    """randomized_svd's range finder and small SVD in float64 with no LAPACK call on a
    tall matrix: the power iterations normalized by CholeskyQR, the final basis by
    CholeskyQR2, and the SVD of B = Q^T X from CholeskyQR2 of B^T = Q_B R (then B =
    R^T Q_B^T, and the SVD of the width x width R^T). Each falls back on LAPACK (LU,
    QR, SVD) where CholeskyQR refuses. Returns (basis, U_small, s, Vt), float64."""
    dtype = X.dtype
    width = Q.shape[1]
    cols = np.empty((X.shape[1], width), dtype)

    def normalized(A):
        A = np.asarray(A, dtype=np.float64)
        qr = _cholesky_qr(A, n_threads)
        return np.ascontiguousarray(qr[0] if qr is not None else _lu_normalized(A),
                                    dtype=dtype)

    for _ in range(n_power):
        P = Xt_times(normalized(Q), cols)
        Q = X_times(normalized(P), Q)
    Q64 = np.asarray(Q, dtype=np.float64)
    qr = _cholesky_qr2(Q64, n_threads)
    basis = np.ascontiguousarray(qr[0] if qr is not None else _basis_scipy(Q64))
    Bt = np.asarray(Xt_times(np.ascontiguousarray(basis, dtype=dtype), cols),
                    dtype=np.float64)
    qr = _cholesky_qr2(Bt, n_threads)
    if qr is None:
        U_small, s, Vt = scipy.linalg.svd(Bt.T, full_matrices=False, check_finite=False)
        return basis, U_small, s, Vt
    Q_B, R = qr
    U_small, s, V_small_t = np.linalg.svd(R.T)
    Vt = _products.product_function(Q_B, False, width, n_threads, next_to_blas=False)(
        np.ascontiguousarray(V_small_t.T), np.empty_like(Q_B)).T
    return basis, U_small, s, Vt


def randomized_svd(X, n_components, rng, n_oversamples=10, n_threads=1):
    """Leading singular triplets of X (Halko, Martinsson & Tropp 2011), in X's dtype.

    Only X @ block and X.T @ block are used, so sparse X stays sparse; they run in
    nmf's product kernels (nmf/_products.py). When the sketch is as wide as
    min(n, m) it spans X's whole range and the result is exact.

    BLAS's threads keep spinning on the cores for a while after each multithreaded
    call, and nmf's threads beside them (here and in the fit that follows) share the
    cores. So with nmf's kernels nothing tall goes to LAPACK: the sketch is normalized
    by CholeskyQR in float64 (a Gram and a product in nmf's kernels, on n_threads, and
    a width x width Cholesky; see _sketch_svd_in_kernels), falling back on LAPACK only
    for a numerically rank-deficient sketch. (On 2 cores a 2-thread product of dense
    2000 x 1000 by 20 columns took 8 ms instead of 1.2 right after scipy's LU or QR of
    a 2000 x 20 sketch, or even scipy's solve_triangular of a 20 x 20 system; NumPy's
    Cholesky, inverse and SVD of 20 x 20 matrices cost nothing of the kind; throwaway
    script. Whole fits: README, `init`.) Where the products themselves go to
    NumPy's BLAS, NumPy's QR normalizes every step and NumPy's SVD finishes (one
    library's threads: alternating NumPy's and scipy's OpenBLAS left one library's
    threads spinning while the other computed).
    """
    n, m = X.shape
    dtype = X.dtype
    width = min(n, m, n_components + n_oversamples)
    n_power = 0 if width == min(n, m) else (7 if n_components < 0.1 * min(n, m) else 4)
    blas = _products.uses_blas(X, width)
    _products.check_indices(X, n_threads)           # once for both products
    X_times = _products.product_function(X, False, width, n_threads, next_to_blas=blas,
                                         indices_checked=True)
    Xt_times = _products.product_function(X, True, width, n_threads, next_to_blas=blas,
                                          indices_checked=True)
    rows = np.empty((n, width), dtype)
    omega = rng.standard_normal((m, width)).astype(dtype, copy=False)
    Q = X_times(omega, rows)
    if blas:
        cols = np.empty((m, width), dtype)
        for _ in range(n_power):
            P = _basis_numpy(Xt_times(np.ascontiguousarray(_basis_numpy(Q)), cols))
            Q = X_times(np.ascontiguousarray(P), rows)
        Q = np.ascontiguousarray(_basis_numpy(Q))
        U_small, s, Vt = np.linalg.svd(Xt_times(Q, cols).T, full_matrices=False)
    else:
        Q, U_small, s, Vt = _sketch_svd_in_kernels(X, Q, X_times, Xt_times, n_power,
                                                   n_threads)
    U = _products.product_function(Q, False, width, n_threads, next_to_blas=blas)(
        np.ascontiguousarray(U_small, dtype=Q.dtype), np.empty((n, width), Q.dtype))
    return (U[:, :n_components].astype(dtype, copy=False),
            s[:n_components].astype(dtype, copy=False),
            Vt[:n_components].astype(dtype, copy=False))


def _positive_and_negative_parts(x):
    return np.maximum(x, 0), np.maximum(-x, 0)


def nndsvd_factors(X, n_components, variant, rng, n_threads=1):
    """NNDSVD (Boutsidis & Gallopoulos 2008); variant is 'nndsvd', 'nndsvda' or 'nndsvdar'.

    Zero singular values, zero singular-vector parts and an all-zero X give zero
    columns, never a division by zero. 'nndsvda' fills the zeros with mean(X),
    'nndsvdar' with small random values (mean(X) * |N(0, 1)| / 100).
    """
    n, m = X.shape
    dtype = X.dtype
    U, s, Vt = randomized_svd(X, n_components, rng, n_threads=n_threads)
    W = np.zeros((n, n_components), dtype=dtype)
    H = np.zeros((n_components, m), dtype=dtype)
    W[:, 0] = np.sqrt(s[0]) * np.abs(U[:, 0])
    H[0] = np.sqrt(s[0]) * np.abs(Vt[0])
    for j in range(1, len(s)):
        u_pos, u_neg = _positive_and_negative_parts(U[:, j])
        v_pos, v_neg = _positive_and_negative_parts(Vt[j])
        norms = [np.linalg.norm(a) for a in (u_pos, v_pos, u_neg, v_neg)]
        mass_pos, mass_neg = norms[0] * norms[1], norms[2] * norms[3]
        if mass_pos >= mass_neg:
            u, v, u_norm, v_norm, mass = u_pos, v_pos, norms[0], norms[1], mass_pos
        else:
            u, v, u_norm, v_norm, mass = u_neg, v_neg, norms[2], norms[3], mass_neg
        if mass <= 0 or s[j] <= 0:
            continue
        scale = np.sqrt(s[j] * mass)
        W[:, j] = (scale / u_norm) * u
        H[j] = (scale / v_norm) * v
    for A in (W, H):
        A[A < _NNDSVD_EPS * A.max()] = 0
    if variant == "nndsvda":
        mean = dtype.type(X.mean())
        W[W == 0] = mean
        H[H == 0] = mean
    elif variant == "nndsvdar":
        mean = X.mean()
        for A in (W, H):
            zeros = A == 0
            A[zeros] = np.abs(mean * rng.standard_normal(int(zeros.sum())) / 100)
    return W, H


def initial_factors(X, n_components, init, rng, n_threads=1):
    """W (n_samples, k) and H (k, n_features) in X's dtype, C-contiguous; the same bits
    for any n_threads."""
    if init == "random":
        return random_factors(X, n_components, rng)
    return nndsvd_factors(X, n_components, init, rng, n_threads)
