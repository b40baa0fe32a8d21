import numpy as np
from numpy.typing import NDArray

BLOCK_ROWS: int  # rows per block (one syrk call each)

def blocks_for(
    F: NDArray[np.floating],  # (r, k)
    out: NDArray[np.floating],  # (k, k)
    n_threads: int,
    rows_per_block: int,
) -> tuple[NDArray[np.floating], int] | None: ...

def gram(
    F: NDArray[np.floating],  # const floating[:, ::1], (r, k)
    out: NDArray[np.floating],  # floating[:, ::1], (k, k), overwritten
    n_threads: int = 1,
) -> NDArray[np.floating]: ...
