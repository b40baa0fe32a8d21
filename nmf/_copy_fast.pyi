import numpy as np
from numpy.typing import NDArray

BLOCK_ROWS: int  # source rows per block (the unit threads share)
ENTRIES_PER_THREAD: int  # entries a thread copies at least

def transposed_copy(
    A: NDArray[np.floating],  # const floating[:, ::1], (r, c)
    out: NDArray[np.floating],  # floating[:, ::1], (c, r), overwritten with A.T
    n_threads: int = 1,
) -> None: ...
def copy_rows(
    A: NDArray[np.floating],  # const floating[:, ::1], (r, c)
    out: NDArray[np.floating],  # floating[:, ::1], (r, >= c): first c columns overwritten
    n_threads: int = 1,
) -> None: ...
