import numpy as np
from numpy.typing import NDArray

def gram(F: NDArray[np.floating], out: NDArray[np.floating], n_threads: int = 1) -> NDArray[np.floating]: ...
