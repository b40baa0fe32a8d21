import numpy as np
from numpy.typing import NDArray

MAX_BLOCK_ROWS: int  # at most this many rows per block (one syrk call each)
MIN_BLOCK_ROWS: int  # and at least this many, unless the factor is one block

def block_rows(r: int) -> int: ...  # rows per block of an r-row factor's Gram

def blocks_for(
    F: NDArray[np.floating],  # (r, k)
    out: NDArray[np.floating],  # (k, k)
    n_threads: int,
) -> tuple[NDArray[np.floating], int, int] | None: ...

def gram(
    F: NDArray[np.floating],  # const floating[:, ::1], (r, k)
    out: NDArray[np.floating],  # floating[:, ::1], (k, k), overwritten
    n_threads: int = 1,
) -> NDArray[np.floating]: ...
