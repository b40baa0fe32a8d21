import numpy as np
from numpy.typing import NDArray

def csr_times(
    data: NDArray[np.floating],  # const floating[::1], (nnz,)
    indices: NDArray[np.int32 | np.int64],  # const index_t[::1], (nnz,)
    indptr: NDArray[np.int32 | np.int64],  # const index_t[::1], (n_rows + 1,)
    factor: NDArray[np.floating],  # const floating[:, ::1], (n_cols, k)
    out: NDArray[np.floating],  # floating[:, ::1], (n_rows, k), overwritten
    n_threads: int = 1,
    indices_checked: bool = False,  # bint: every index in [0, n_cols) (count_outside)
) -> None: ...
def csr_t_times(
    data: NDArray[np.floating],  # const floating[::1], (nnz,)
    indices: NDArray[np.int32 | np.int64],  # const index_t[::1], (nnz,)
    indptr: NDArray[np.int32 | np.int64],  # const index_t[::1], (n_rows + 1,)
    factor: NDArray[np.floating],  # const floating[:, ::1], (n_rows, k)
    out: NDArray[np.floating],  # floating[:, ::1], (n_cols, >= k), overwritten (padding: zeros)
    n_threads: int = 1,
    sorted_indices: bool = False,  # bint: each row's indices non-decreasing
    bounds: NDArray[np.intp] | None = None,  # const Py_ssize_t[::1], (n_parts + 1,)
    row_splits: NDArray[np.int32 | np.int64] | None = None,  # const index_t[:, ::1], (n_parts - 1, n_rows)
    indices_checked: bool = False,  # bint: every index in [0, n_cols) (count_outside)
) -> None: ...
def count_outside(
    indices: NDArray[np.int32 | np.int64],  # const index_t[::1], (nnz,)
    n_cols: int,
    n_threads: int = 1,
) -> int: ...
def scatter_bounds(
    indices: NDArray[np.int32 | np.int64],  # const index_t[::1], (nnz,)
    indptr: NDArray[np.int32 | np.int64],  # const index_t[::1], (n_rows + 1,)
    n_cols: int,
    n_parts: int,
) -> NDArray[np.intp]: ...
def scatter_row_splits(
    indices: NDArray[np.int32 | np.int64],  # const index_t[::1], (nnz,), rows sorted
    indptr: NDArray[np.int32 | np.int64],  # const index_t[::1], (n_rows + 1,)
    bounds: NDArray[np.intp],  # const Py_ssize_t[::1], (n_parts + 1,)
    n_threads: int = 1,
) -> NDArray[np.int32 | np.int64]: ...  # (n_parts - 1, n_rows), indptr's dtype
def csr_inner_lowrank(
    data: NDArray[np.floating],  # const floating[::1], (nnz,)
    indices: NDArray[np.int32 | np.int64],  # const index_t[::1], (nnz,)
    indptr: NDArray[np.int32 | np.int64],  # const index_t[::1], (n_rows + 1,)
    W: NDArray[np.floating],  # const floating[:, ::1], (n_rows, k)
    Ht: NDArray[np.floating],  # const floating[:, ::1], (n_cols, k)
    row_sums: NDArray[np.float64],  # double[::1], (n_rows,) work buffer
    n_threads: int = 1,
) -> float: ...
