"""Initial factors: random, NNDSVD and its variants."""
import functools

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


def randomized_svd(X, n_components, rng, n_oversamples=10):
    """Leading singular triplets of X (Halko, Martinsson & Tropp 2011).

    Only X @ block and X.T @ block are used, so sparse X stays sparse; they run in
    nmf's product kernels (nmf/_products.py), on one thread: between them LAPACK runs
    on BLAS's threads, which keep spinning after each call, and nmf's threads beside
    them slowed every step. The power iterations keep their basis
    well-scaled by LU (partial pivoting; Halko et al. section 4.5, as scikit-learn's
    randomized_svd), a quarter of a QR's work; one QR gives the final orthonormal
    basis. When the sketch is as wide as min(n, m) it spans X's whole range and the
    result is exact.

    LAPACK comes from one library: NumPy's where the products go through NumPy's BLAS,
    else scipy's. Alternating NumPy's and scipy's (each bundles its own OpenBLAS) left
    one library's threads spinning while the other computed. A fit's fixed work from
    NNDSVD, 1 / 2 threads (asv_benchmarks/fixed_cost.py SET -k K --threads 1 2 --init
    nndsvd), before and after these changes: dense_2000x1000 k=10 68-83 / 227-248 ms ->
    68-73 / 70-72; debian_tfidf k=30 (--iterations 1 2) 1316-1524 / 1254-1291 ->
    865-875 / 984-1081.
    """
    n, m = X.shape
    width = min(n, m, n_components + n_oversamples)
    n_power = 0 if width == min(n, m) else (7 if n_components < 0.1 * min(n, m) else 4)
    X_times = _products.product_function(X, False, width)
    Xt_times = _products.product_function(X, True, width)
    rows, cols = np.empty((n, width), X.dtype), np.empty((m, width), X.dtype)
    if _products.uses_blas(X, width):
        normalized = basis = _basis_numpy
        svd = np.linalg.svd
    else:
        normalized, basis = _lu_normalized, _basis_scipy
        svd = functools.partial(scipy.linalg.svd, check_finite=False)
    omega = rng.standard_normal((m, width)).astype(X.dtype, copy=False)
    Q = X_times(omega, rows)
    for _ in range(n_power):
        P = normalized(Xt_times(np.ascontiguousarray(normalized(Q)), cols))
        Q = X_times(np.ascontiguousarray(P), rows)
    Q = np.ascontiguousarray(basis(Q))
    B = Xt_times(Q, cols).T  # (width, m) = Q.T @ X
    U_small, s, Vt = svd(B, full_matrices=False)
    U = _products.product_function(Q, False, width)(
        np.ascontiguousarray(U_small, dtype=X.dtype), np.empty((n, width), X.dtype))
    return U[:, :n_components], s[:n_components], Vt[:n_components]


def _positive_and_negative_parts(x):
    return np.maximum(x, 0), np.maximum(-x, 0)


def nndsvd_factors(X, n_components, variant, rng):
    """NNDSVD (Boutsidis & Gallopoulos 2008); variant is 'nndsvd', 'nndsvda' or 'nndsvdar'.

    Zero singular values, zero singular-vector parts and an all-zero X give zero
    columns, never a division by zero. 'nndsvda' fills the zeros with mean(X),
    'nndsvdar' with small random values (mean(X) * |N(0, 1)| / 100).
    """
    n, m = X.shape
    dtype = X.dtype
    U, s, Vt = randomized_svd(X, n_components, rng)
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


def initial_factors(X, n_components, init, rng):
    """W (n_samples, k) and H (k, n_features) in X's dtype, C-contiguous."""
    if init == "random":
        return random_factors(X, n_components, rng)
    return nndsvd_factors(X, n_components, init, rng)
