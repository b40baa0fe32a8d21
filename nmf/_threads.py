"""How many threads the compiled kernels use.

By default the kernels follow the OpenMP runtime's limit, which OMP_NUM_THREADS and
threadpoolctl's ``threadpool_limits(user_api="openmp")`` set. ``set_num_threads``
overrides it for this process. Results are bitwise the same for any thread count.
Thread counts are capped at MAX_THREADS: asking the OpenMP runtime for tens of
thousands of threads (OMP_NUM_THREADS=100000, say) makes it abort the process.
"""
import os
from numbers import Integral

from ._openmp import openmp_max_threads

# Far more than any machine gains from, far fewer than a runtime fails to create.
MAX_THREADS = max(64, 4 * (os.cpu_count() or 1))

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
    """The number of threads the kernels use now (at most MAX_THREADS)."""
    n_threads = _num_threads if _num_threads is not None else openmp_max_threads()
    return max(1, min(n_threads, MAX_THREADS))
