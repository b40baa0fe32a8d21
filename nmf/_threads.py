"""How many threads the compiled kernels use.

By default the kernels follow the OpenMP runtime's limit, which OMP_NUM_THREADS and
threadpoolctl's ``threadpool_limits(user_api="openmp")`` set. ``set_num_threads``
overrides it for this process. Results are bitwise the same for any thread count.
"""
from numbers import Integral

from ._openmp import openmp_max_threads

_num_threads = None


def set_num_threads(n_threads):
    """Set the number of threads the kernels use; None restores the OpenMP default.

    Parameters
    ----------
    n_threads : int >= 1 or None
    """
    global _num_threads
    if n_threads is not None and (
        not isinstance(n_threads, Integral) or isinstance(n_threads, bool) or n_threads < 1
    ):
        raise ValueError(f"n_threads must be a positive integer or None; got {n_threads!r}.")
    _num_threads = None if n_threads is None else int(n_threads)


def get_num_threads():
    """The number of threads the kernels use now."""
    return _num_threads if _num_threads is not None else max(1, openmp_max_threads())
