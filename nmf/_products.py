"""The products every iteration needs: Grams and cross products with X.

Factors are held row-major: W is (n_samples, k) and Ht = H.T is (n_features, k), both
C-contiguous, so that a CD sweep walks contiguous rows. Dense products go to BLAS and
write into buffers allocated once per fit; X is never copied or transposed in memory
(X.T of a C array is an F array, of a CSR matrix a CSC one).
"""
import numpy as np
import scipy.sparse as sp


def gram(factor, out):
    """factor.T @ factor (k, k) into out; numpy hands A.T @ A to BLAS syrk."""
    return np.dot(factor.T, factor, out=out)


def X_times(X, factor, out):
    """X @ factor, (n_samples, k), into out; factor is (n_features, k)."""
    if sp.issparse(X):
        out[...] = X @ factor
        return out
    return np.dot(X, factor, out=out)


def Xt_times(X, factor, out):
    """X.T @ factor, (n_features, k), into out; factor is (n_samples, k)."""
    if sp.issparse(X):
        out[...] = X.T @ factor
        return out
    return np.dot(X.T, factor, out=out)


def squared_residual(X, W, Ht):
    """||X - W @ Ht.T||_F^2 without forming an (n_samples, n_features) matrix.

    Dense X: exact, in row blocks of a few MB. Sparse X: ||X||^2 - 2 <X, W Ht.T> +
    ||W Ht.T||^2 through the k x k Grams, accumulated in float64, clipped at 0.
    """
    n, m = X.shape
    if sp.issparse(X):
        data = X.data.astype(np.float64, copy=False)
        norm_X = float(data @ data)
        cross = float(np.einsum("ik,ik->", X @ Ht, W, dtype=np.float64))
        norm_WH = float(np.einsum("ij,ij->", W.T @ W, Ht.T @ Ht, dtype=np.float64))
        return max(norm_X - 2.0 * cross + norm_WH, 0.0)
    rows = max(1, (1 << 22) // max(1, 8 * m))
    total = 0.0
    for start in range(0, n, rows):
        block = W[start:start + rows] @ Ht.T
        np.subtract(X[start:start + rows], block, out=block)
        total += float(np.einsum("ij,ij->", block, block, dtype=np.float64))
    return total
