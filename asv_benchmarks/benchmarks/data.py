"""The benchmark data sets, the objective, and thread pinning, shared by the asv
suite and compare.py.

Synthetic sets are generated from fixed seeds, so they are the same on every run and
machine. The real set, debian_tfidf.npz (61089 x 20000 TF-IDF, 0.14% dense, see
shared/data/README.md), is read from the folder named by the environment variable
NMF_BENCH_DATA, by default ../shared/data next to the repository; a benchmark that
needs it raises NotImplementedError (asv's "skipped") when the file is missing.
"""
import os
import pathlib
import warnings

import numpy as np
import scipy.sparse as sp
import threadpoolctl

import nmf

# The benchmarks run fixed iteration counts: reaching max_iter is the point.
warnings.filterwarnings("ignore", category=nmf.ConvergenceWarning)

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]
DEBIAN_FILE = "debian_tfidf.npz"

# name -> (kind, shape); the rank of the planted structure is 20 for every
# dense and sparse set, so k=10 under-fits it and k=30 over-fits it; the zipf set has
# no planted structure (its column frequencies are what it is for).
SYNTHETIC = {
    "dense_2000x1000": ("dense", (2000, 1000)),
    "dense_5000x2000": ("dense", (5000, 2000)),
    "sparse_20000x5000": ("sparse", (20000, 5000)),
    "zipf_30000x20000": ("zipf", (30000, 20000)),
}
PLANTED_RANK = 20
KEEP = 0.1
ZIPF_PER_ROW = 30
NOISE = 0.1
SEED = 0
# The 6 x 2 example of the API's documentation: all overhead, no arithmetic.
EXAMPLE_6X2 = np.array([[1, 1], [2, 1], [3, 1.2], [4, 1], [5, 0.8], [6, 1]])


def data_dir():
    """The folder holding debian_tfidf.npz: $NMF_BENCH_DATA or ../shared/data."""
    return pathlib.Path(os.environ.get("NMF_BENCH_DATA", REPOSITORY.parent / "shared" / "data"))


def debian_available():
    return (data_dir() / DEBIAN_FILE).is_file()


def dense_low_rank(shape, seed=SEED):
    """|W H + noise|: a planted rank-20 non-negative product plus Gaussian noise of
    NOISE times the product's mean, made non-negative by an absolute value."""
    rng = np.random.default_rng(seed)
    n, m = shape
    W = rng.random((n, PLANTED_RANK))
    H = rng.random((PLANTED_RANK, m))
    X = W @ H
    X += NOISE * X.mean() * rng.standard_normal((n, m))
    return np.abs(X, out=X)


def sparse_low_rank(shape, seed=SEED):
    """CSR, about 1% dense, shaped like text: each of the 20 planted components
    ("topics") lives on its own random 5% of the columns, each row mixes 2 of them
    with random weights, and each entry of that product is kept with probability
    KEEP (the rest are zeros), so the matrix is near, not at, rank 20."""
    rng = np.random.default_rng(seed)
    n, m = shape
    r = PLANTED_RANK
    support = max(1, m // 20)
    topic_cols = np.concatenate([rng.choice(m, support, replace=False) for _ in range(r)])
    H = sp.csr_matrix((rng.random(r * support), topic_cols,
                       np.arange(0, r * support + 1, support)), shape=(r, m))
    row_topics = np.sort(np.argsort(rng.random((n, r)), axis=1)[:, :2], axis=1)
    W = sp.csr_matrix((rng.random(2 * n), row_topics.ravel(), np.arange(0, 2 * n + 1, 2)),
                      shape=(n, r))
    X = (W @ H).tocsr()
    X.data[rng.random(X.nnz) >= KEEP] = 0
    X.eliminate_zeros()
    X.sort_indices()
    return X


def sparse_zipf(shape, per_row=ZIPF_PER_ROW, seed=SEED):
    """CSR with ~per_row entries a row whose columns are drawn with frequencies
    1 / (j + 10), so column 0 is the most frequent: a vocabulary sorted by term
    frequency, as many text pipelines leave it (most entries fall in the first
    columns; the sparse kernels must share such work evenly between threads).
    Values uniform in (0, 1]; repeated columns in a row are summed."""
    rng = np.random.default_rng(seed)
    n, m = shape
    weights = 1.0 / (np.arange(m) + 10.0)
    columns = rng.choice(m, size=n * per_row, p=weights / weights.sum())
    X = sp.csr_matrix((1.0 - rng.random(n * per_row), columns,
                       np.arange(0, n * per_row + 1, per_row)), shape=(n, m))
    X.sum_duplicates()              # sorts the indices too
    return X


def debian_tfidf():
    """The real text matrix (CSR float64); NotImplementedError when it is missing."""
    path = data_dir() / DEBIAN_FILE
    if not path.is_file():
        raise NotImplementedError(f"{path} not found; set NMF_BENCH_DATA to its folder")
    return sp.load_npz(path).tocsr()


def load(name, dtype="float64"):
    """The data set `name` (a key of SYNTHETIC or 'debian_tfidf') in `dtype`."""
    if name == "debian_tfidf":
        X = debian_tfidf()
    else:
        kind, shape = SYNTHETIC[name]
        make = {"dense": dense_low_rank, "sparse": sparse_low_rank, "zipf": sparse_zipf}
        X = make[kind](shape)
    return X.astype(dtype, copy=False)


def nbytes(X):
    """Bytes held by X's arrays (data, indices and indptr for sparse X)."""
    if sp.issparse(X):
        return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    return X.nbytes


def initial_factors(X, k, seed=SEED):
    """Random W (n, k), H (k, m) in X's dtype: |N(0, 1)| * sqrt(mean(X) / k), the
    usual scale of a random NMF start; the same for every solver compared."""
    rng = np.random.default_rng(seed)
    n, m = X.shape
    scale = np.sqrt(X.mean() / k)
    W = np.abs(rng.standard_normal((n, k))) * scale
    H = np.abs(rng.standard_normal((k, m))) * scale
    return W.astype(X.dtype), H.astype(X.dtype)


def objective(X, W, H):
    """0.5 * ||X - W H||_F^2 in float64, without forming a dense n x m matrix for
    sparse X (||X||^2 - 2 <X, WH> + <W^T W, H H^T>) and in row blocks for dense X."""
    W = np.asarray(W, dtype=np.float64)
    H = np.asarray(H, dtype=np.float64)
    if sp.issparse(X):
        X = X.tocsr()
        data = X.data.astype(np.float64)
        cross = float(np.einsum("ik,ik->", np.asarray(X @ H.T), W))
        squared = float(data @ data) - 2.0 * cross + float(np.einsum("ij,ij->", W.T @ W, H @ H.T))
        return 0.5 * max(squared, 0.0)
    rows = max(1, (1 << 22) // (8 * X.shape[1]))
    squared = 0.0
    for start in range(0, X.shape[0], rows):
        block = W[start:start + rows] @ H
        block -= X[start:start + rows]
        squared += float(np.einsum("ij,ij->", block, block))
    return 0.5 * squared


class Threads:
    """Pin BLAS and OpenMP (threadpoolctl) and nmf's kernels to n threads; undo()
    restores the libraries' limits and nmf's default."""

    def __init__(self, n):
        self._limits = threadpoolctl.threadpool_limits(limits=n)
        nmf.set_num_threads(n)

    def undo(self):
        nmf.set_num_threads(None)
        self._limits.restore_original_limits()


_solver_errors = {}


def require_solver(solver):
    """NotImplementedError (asv's "skipped") when nmf's `solver` cannot fit the 6 x 2
    example here, e.g. 'pg' before it exists; the reason is in the message."""
    if solver not in _solver_errors:
        try:
            nmf.non_negative_factorization(EXAMPLE_6X2, n_components=2, solver=solver,
                                           init="random", random_state=0, max_iter=2, tol=0)
            _solver_errors[solver] = None
        except Exception as error:
            _solver_errors[solver] = f"{type(error).__name__}: {error}"
    if _solver_errors[solver] is not None:
        raise NotImplementedError(f"solver={solver!r} unavailable: {_solver_errors[solver]}")
