"""The products every iteration needs: Grams and cross products with X.

Factors are held row-major: W is (n_samples, k) and Ht = H.T is (n_features, k), both
C-contiguous, so that a CD sweep walks contiguous rows. Dense products go to the kernel
of nmf/_dense_fast.pyx where the processor has it (AVX2 and FMA; thin factors), else to
BLAS; sparse ones to the kernels of nmf/_sparse_fast.pyx. All write into buffers
allocated once per fit. X is never copied or transposed in memory (X.T of a C array is
an F array; a CSC matrix's arrays are the CSR arrays of its transpose).
"""
import numpy as np
import scipy.sparse as sp

from . import _gram_fast as gram_fast
from ._kernels import dense_cols_fast, dense_fast, sparse_fast


def compressed_arrays(X):
    """X's (data, indices, indptr), indptr in the indices' integer type.

    scipy keeps both in one type; should they differ, indptr (one entry per row) is
    the one converted, never the (nnz,) arrays.
    """
    indptr = X.indptr
    if indptr.dtype != X.indices.dtype:
        if X.indices.dtype == np.int32 and indptr[-1] > np.iinfo(np.int32).max:
            raise ValueError("X has more stored entries than its int32 indices can address.")
        indptr = indptr.astype(X.indices.dtype)
    return X.data, X.indices, indptr


def check_indices(X, n_threads=1):
    """Raise ValueError unless every stored index of a sparse X lies within its
    dimension (scipy does not check that on construction); nothing to check for dense
    X. One pass over the indices, made once for all the products a fit or an
    initialisation makes of X: those are then told (indices_checked) and test none."""
    if not sp.issparse(X):
        return
    indices = X.indices
    n_cols = X.shape[1] if X.format == "csr" else X.shape[0]
    outside = sparse_fast.count_outside(indices, n_cols, threads_for(indices.size, n_threads))
    if outside:
        raise ValueError(f"X's indices must lie in [0, {n_cols}); {outside} entries do not."
                         " Rebuild X from valid (row, column) pairs.")


def gram_function(rows, k, n_threads=1):
    """A function (factor, out) -> out = factor.T @ factor (k, k), for factors of this
    shape, the choice below made once. nmf/_dense_fast.pyx's kernel where there is one
    (2.4 times as fast as OpenBLAS's syrk on a tall thin factor); else NumPy's syrk,
    or for a tall factor syrk over row blocks in parallel (nmf/_gram_fast.pyx;
    NumPy's one call would run on one core). Small factors go to NumPy either way (the
    kernel's call costs a few microseconds). The bits never depend on the thread
    count."""
    work = rows * k * k
    threads = threads_for(work, n_threads)
    if dense_fast is not None and k <= dense_fast.MAX_K and work >= GRAM_KERNEL_WORK:
        kernel = dense_fast.gram
        return lambda factor, out: kernel(factor, out, threads)
    if gram_fast.block_rows(rows) >= rows:     # one block
        return lambda factor, out: np.dot(factor.T, factor, out=out)
    kernel = gram_fast.gram
    return lambda factor, out: kernel(factor, out, threads)


def gram(factor, out, n_threads=1):
    """factor.T @ factor (k, k) into out (see gram_function)."""
    return gram_function(*factor.shape, n_threads)(factor, out)


# Multiply-adds from which a Gram goes to the dense kernel rather than NumPy (about 10
# microseconds of BLAS work).
GRAM_KERNEL_WORK = 1 << 16


# Below this many multiply-adds per thread a parallel region costs more than it saves,
# and GNU OpenMP's threads, spinning after it, slow the BLAS call that follows.
MIN_WORK_PER_THREAD = 1_000_000


def threads_for(work, n_threads):
    """Threads worth using for `work` multiply-adds, at most n_threads."""
    return max(1, min(n_threads, work // MIN_WORK_PER_THREAD))


# BLAS's threads keep spinning on the cores for a while after each call: an OpenMP
# region right after competes with them. Next to BLAS (dense X's products in BLAS, or
# a caller that calls BLAS between nmf's products), nmf's own parallel work (a CD
# sweep, a dense product) goes parallel only when this many times past the usual
# threshold. Measured on 2 cores: a CD sweep of dense 5000 x 2000 at k=30 took 39
# against 33 ms per iteration in parallel next to BLAS products; X @ F of 2000 x 1000
# float32 at k=10 took 0.41 ms on two threads alone, 7.7 ms right after a 2-thread
# NumPy product, 0.79 ms on one thread either way. A CD fit whose products are nmf's
# kernels calls no BLAS between iterations and uses the usual threshold. Dense 2000 x
# 1000 float64 k=10, 2 threads against 1 (asv_benchmarks/fixed_cost.py dense_2000x1000
# -k 10 --threads 1 2 --iterations 1 11): marginal iteration 1.00 -> 0.59 of one
# thread's; an 11-iteration fit right after a 2-thread NumPy product (--blas-before
# --settle 0) 1.43 -> 1.47, slower than one thread either way.
DENSE_WORK_FACTOR = 32


def product_function(X, transpose, k, n_threads=1, next_to_blas=True,
                     indices_checked=False):
    """A function (factor, out) -> out = (X.T if transpose else X) @ factor for factors
    of k columns, the choice of kernel and threads made once (a CD iteration calls it
    twice: on small X the per-call choices cost as much as the product). next_to_blas:
    the caller runs BLAS between these products (see DENSE_WORK_FACTOR).
    indices_checked: the caller has run check_indices on the sparse X; else it is run
    here (the kernels then test no entry's index).

    Sparse X: nmf/_sparse_fast.pyx on X's compressed arrays read as CSR, a gather
    (csr_times) where the result's rows are X's compressed rows, else a scatter
    (csr_t_times). Dense X: nmf's kernel for a C- or F-ordered X and at most
    dense_fast.MAX_K columns (BLAS is slow on that thin shape; the kernel's bits do not
    depend on its thread count), BLAS otherwise.
    """
    if sp.issparse(X):
        if not indices_checked:
            check_indices(X, n_threads)
        arrays = compressed_arrays(X)
        threads = threads_for(X.nnz * k, n_threads)
        if (X.format == "csr") != transpose:
            gather = sparse_fast.csr_times

            def sparse_gather(factor, out):
                gather(*arrays, factor, out, threads, True)
                return out
            return sparse_gather
        # Each thread owns a range of the result's rows holding about as many of X's
        # entries as the others' (sparse_fast.scatter_bounds), chosen once; with sorted
        # indices, where each thread's entries start in every row of X is found once
        # too (sparse_fast.scatter_row_splits: threads - 1 integers a row).
        scatter, sorted_indices = sparse_fast.csr_t_times, X.has_sorted_indices
        bounds = splits = None
        if threads > 1:
            bounds = sparse_fast.scatter_bounds(arrays[1], arrays[2], X.shape[transpose],
                                                threads)
            if sorted_indices:
                splits = sparse_fast.scatter_row_splits(arrays[1], arrays[2], bounds,
                                                        threads)

        def sparse_scatter(factor, out):
            scatter(*arrays, factor, out, threads, sorted_indices, bounds, splits, True)
            return out
        return sparse_scatter
    if not uses_blas(X, k):
        # The result's rows run across X's memory: the cols kernel, whose best build
        # depends on the processor (nmf/_kernels.py).
        both_orders = X.flags.c_contiguous and X.flags.f_contiguous
        across = not both_orders and X.flags.f_contiguous != transpose
        kernel = (dense_cols_fast if across else dense_fast).dense_times
        work = X.size * k // (DENSE_WORK_FACTOR if next_to_blas else 1)
        threads = threads_for(work, n_threads)
        return lambda factor, out: kernel(X, transpose, factor, out, threads)
    A = X.T if transpose else X
    return lambda factor, out: np.dot(A, factor, out=out)


# Bytes of X in one block of pass_products: X @ Ht and then X.T @ W over the same
# rows while they are still in cache (an L3-sized share). One thread, a CD iteration
# in the pass against the whole products (a throwaway script alternating both in one
# process, three runs): dense_2000x1000 float64 0.93-0.96 (k=10) and 0.91-0.98 (k=30),
# float32 0.98-1.04 and 0.93-0.99; dense_5000x2000 float64 0.92-0.95 and 0.99-1.00,
# float32 0.91-0.95 and 0.91-0.96. (A first prototype: 2 MB blocks 8.21, 4 MB 8.02,
# 8 MB 8.45 ms against 9.25 on dense_2000x1000 float64 k=30.)
PASS_BLOCK_BYTES = 4 << 20
# At least this many rows a block: each block's X.T @ W moves the m x k result in and
# out of its kernel once.
PASS_MIN_ROWS = 240
# Blocks a whole number of the rows kernel's blocks (120 rows in the AVX2 build's wide
# walk), so that no block ends on a short tile.
PASS_ROW_MULTIPLE = dense_fast.ROW_BLOCK if dense_fast is not None else 1


def pass_products(X, k, n_threads=1):
    """For a C-contiguous dense X in nmf's kernels: (blocks, times, t_times_add), X's
    row blocks as slices, times(rows, factor, out) -> out = X[rows] @ factor and
    t_times_add(rows, factor, out) -> out (+)= X[rows].T @ factor, each sum going on
    from out's entry past the first block: over the blocks in order, the bits of the
    whole X.T @ factor. One thread.

    None where X is not such an array; where it fits in one block (the loop's calls
    would be all that changes: 2-3 microseconds an iteration); where PASS_MIN_ROWS of
    its rows overflow twice PASS_BLOCK_BYTES (no block would stay in cache); or where
    the products over all of X would run on several threads: there each block adds
    two parallel regions, and on 2 threads the pass was faster on some shapes and
    slower on others (asv_benchmarks/MEASUREMENTS.md: dense_2000x1000 float64 k=30
    0.79-0.85 of the whole products' time, float32 k=10 0.96-1.80).
    """
    if sp.issparse(X) or uses_blas(X, k) or not X.flags.c_contiguous:
        return None
    if threads_for(X.size * k, n_threads) > 1:
        return None
    n, m = X.shape
    block = max(PASS_MIN_ROWS, PASS_BLOCK_BYTES // max(1, m * X.itemsize)
                // PASS_ROW_MULTIPLE * PASS_ROW_MULTIPLE)
    if n <= block:          # one block: the whole products, without the loop's calls
        return None
    if block * m * X.itemsize > 2 * PASS_BLOCK_BYTES:
        return None
    blocks = [slice(start, min(n, start + block)) for start in range(0, n, block)]
    times, t_times = dense_fast.dense_times, dense_cols_fast.dense_times

    def rows_times(rows, factor, out):
        return times(X[rows], False, factor, out)

    def rows_t_times_add(rows, factor, out):
        return t_times(X[rows], True, factor, out, 1, rows.start > 0)
    return blocks, rows_times, rows_t_times_add


# Multiply-adds of a dense product (X.size * k) up to which NumPy's BLAS is the faster:
# X then stays in the core's own cache, where BLAS computes near the core's peak and
# nmf's kernels, made to stream X from memory, do not. A single column is a matrix-
# vector product, which BLAS streams as well. Whole 'cd' fits, BLAS products over the
# kernels' time (AMD Zen 4, OpenBLAS 0.3.30; throwaway scripts, in
# asv_benchmarks/MEASUREMENTS.md; `python asv_benchmarks/small.py` shows it): 0.50-0.88
# below this work (6 x 2 to 400 x 250, k = 2 to 30), 1.17-1.42 just above it (400 x 300
# k = 10, 250 x 160 k = 30); k = 1 on 1000 x 500 to 4000 x 2000, 0.32-0.47 on 1 thread,
# 0.38-0.58 on 2.
SMALL_PRODUCT_WORK = 1 << 20


def uses_blas(X, k):
    """True when product_function(X, ..., k) multiplies through NumPy's BLAS: dense X
    without nmf's kernel for it (no AVX2 and FMA, more than dense_fast.MAX_K columns,
    or X contiguous in neither order), or where BLAS is the faster (one column, or at
    most SMALL_PRODUCT_WORK multiply-adds)."""
    return not sp.issparse(X) and not (
        dense_fast is not None and 1 < k <= dense_fast.MAX_K
        and X.size * k > SMALL_PRODUCT_WORK
        and (X.flags.c_contiguous or X.flags.f_contiguous))


def X_times(X, factor, out, n_threads=1):
    """X @ factor, (n_samples, k), into out; factor is (n_features, k)."""
    return product_function(X, False, factor.shape[1], n_threads)(factor, out)


def Xt_times(X, factor, out, n_threads=1):
    """X.T @ factor, (n_features, k), into out; factor is (n_samples, k)."""
    return product_function(X, True, factor.shape[1], n_threads)(factor, out)


def _float64_gram(factor, n_threads=1):
    """factor.T @ factor in float64; a float32 factor converted a block of rows at a
    time (no float64 copy of the whole factor)."""
    k = factor.shape[1]
    out = np.zeros((k, k))
    if factor.dtype == np.float64:
        gram(factor, out, n_threads)
        return out
    rows = max(1, (1 << 20) // max(1, 8 * k))
    block_gram = np.empty((k, k))
    for start in range(0, len(factor), rows):
        block = factor[start:start + rows].astype(np.float64)
        out += np.dot(block.T, block, out=block_gram)
    return out


def squared_residual(X, W, Ht, n_threads=1):
    """||X - W @ Ht.T||_F^2 without forming an (n_samples, n_features) matrix.

    Dense X: exact, in row blocks of a few MB. Sparse X: ||X||^2 - 2 <X, W Ht.T> +
    ||W Ht.T||^2, the middle term over X's stored entries only and the last through
    the k x k Grams, all in float64 (float32 factors too: with float32 Grams a close
    fit's residual, a small difference of terms of ||X||^2's size, was lost to their
    rounding, reported 4.5 times too large or as 0), clipped at 0. Each term is
    rounded to about 1e-16 of ||X||^2, so a residual below about 1e-7 ||X|| is
    reported only to within that.
    """
    n, m = X.shape
    if sp.issparse(X):
        if not X.has_canonical_format:  # duplicate entries add up before being squared
            X = X.copy()
            X.sum_duplicates()
        norm_X = float(np.einsum("i,i->", X.data, X.data, dtype=np.float64))
        W = np.ascontiguousarray(W, dtype=X.dtype)
        Ht = np.ascontiguousarray(Ht, dtype=X.dtype)
        threads = threads_for(X.nnz * W.shape[1], n_threads)
        if X.format == "csr":
            cross = sparse_fast.csr_inner_lowrank(*compressed_arrays(X), W, Ht, np.empty(n),
                                                  threads)
        else:
            cross = sparse_fast.csr_inner_lowrank(*compressed_arrays(X), Ht, W, np.empty(m),
                                                  threads)
        norm_WH = float(np.einsum("ij,ij->", _float64_gram(W, n_threads),
                                  _float64_gram(Ht, n_threads)))
        return max(norm_X - 2.0 * cross + norm_WH, 0.0)
    rows = max(1, (1 << 22) // max(1, 8 * m))
    total = 0.0
    for start in range(0, n, rows):
        block = W[start:start + rows] @ Ht.T
        np.subtract(X[start:start + rows], block, out=block)
        total += float(np.einsum("ij,ij->", block, block, dtype=np.float64))
    return total
