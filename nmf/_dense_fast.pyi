import numpy as np
from numpy.typing import NDArray

MAX_K: int
ROW_BLOCK: int

def dense_times(
    X: NDArray[np.floating],  # const floating[:, :], (n, m), one unit stride
    transpose: bool,  # False: X @ factor; True: X.T @ factor
    factor: NDArray[np.floating],  # const floating[:, ::1], (m, k) or (n, k)
    out: NDArray[np.floating],  # floating[:, ::1], (n, k) or (m, k)
    n_threads: int = 1,
    accumulate: bool = False,  # out += the product, each sum continuing from out
) -> NDArray[np.floating]: ...

def gram(
    F: NDArray[np.floating],  # const floating[:, ::1], (r, k), k <= MAX_K
    out: NDArray[np.floating],  # floating[:, ::1], (k, k), overwritten
    n_threads: int = 1,
) -> NDArray[np.floating]: ...
