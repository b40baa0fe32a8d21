import numpy as np
from numpy.typing import NDArray

PIECE: int  # entries per piece (the unit threads share)

def value_range(
    values: NDArray[np.floating],  # const floating[::1], (n,)
    out: NDArray[np.floating] | None = None,  # floating[::1], (n,), overwritten with values
    n_threads: int = 1,
) -> tuple[float, float]: ...
