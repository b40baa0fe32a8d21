import numpy as np
from numpy.typing import NDArray

def projected_gradient(
    F: NDArray[np.floating],  # const floating[:, ::1], (r, k)
    gram: NDArray[np.floating],  # const floating[:, ::1], (k, k)
    cross: NDArray[np.floating],  # const floating[:, ::1], (r, k)
    grad: NDArray[np.floating],  # floating[:, ::1], (r, k) out
    step: NDArray[np.floating],  # floating[:, ::1], (r, k) work buffer
    n_threads: int = 1,
) -> tuple[float, float]: ...
def pg_subproblem(
    F: NDArray[np.floating],  # floating[:, ::1], (r, k), updated in place
    gram: NDArray[np.floating],  # const floating[:, ::1], (k, k)
    cross: NDArray[np.floating],  # const floating[:, ::1], (r, k)
    grad: NDArray[np.floating],  # floating[:, ::1], (r, k) out
    step: NDArray[np.floating],  # floating[:, ::1], (r, k) work buffer
    step_gram: NDArray[np.floating],  # floating[:, ::1], (k, k) work buffer
    tol: float,  # double
    max_iter: int,  # int
    n_threads: int = 1,
) -> tuple[int, float, bool, float]: ...
