import numpy as np
from numpy.typing import NDArray

def vector_extensions() -> bool: ...
def cd_sweep(
    W: NDArray[np.floating],  # floating[:, ::1], (n, k), updated in place
    gram: NDArray[np.floating],  # const floating[:, ::1], (k, k)
    cross: NDArray[np.floating],  # const floating[:, ::1], (n, >= k): first k columns read
    order: NDArray[np.intp],  # const Py_ssize_t[::1], (k,)
    row_violation: NDArray[np.float64],  # double[::1], (n,) work buffer
    n_threads: int = 1,
    row_change: NDArray[np.float64] | None = None,  # double[::1], (n,) or None
) -> float: ...
def sum_in_order(
    values: NDArray[np.float64],  # const double[::1]
) -> float: ...
def cd_sweep_csr(
    W: NDArray[np.floating],  # floating[:, ::1], (n, k), updated in place
    gram: NDArray[np.floating],  # const floating[:, ::1], (k, k)
    data: NDArray[np.floating],  # const floating[::1], X's CSR values
    indices: NDArray[np.int32 | np.int64],  # const index_t[::1], their columns
    indptr: NDArray[np.int32 | np.int64],  # const index_t[::1], (n + 1,) row starts
    Ht: NDArray[np.floating],  # const floating[:, ::1], (m, >= k): first k columns read
    l1: float,
    order: NDArray[np.intp],  # const Py_ssize_t[::1], (k,)
    row_violation: NDArray[np.float64],  # double[::1], (n,) work buffer
    n_threads: int = 1,
    indices_checked: bool = False,  # bint: every index in [0, m) (count_outside)
) -> float: ...
