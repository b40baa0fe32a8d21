import numpy as np
from numpy.typing import NDArray

BLOCK_ROWS: int  # rows per block (one syrk call each)

def gram(
    F: NDArray[np.floating],  # const floating[:, ::1], (r, k)
    out: NDArray[np.floating],  # floating[:, ::1], (k, k), overwritten
    n_threads: int = 1,
) -> NDArray[np.floating]: ...
