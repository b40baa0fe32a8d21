"""How many threads the compiled kernels use.

By default the kernels follow the OpenMP runtime's limit, which OMP_NUM_THREADS and
threadpoolctl's ``threadpool_limits(user_api="openmp")`` set. ``set_num_threads``
overrides it for this process. Results are bitwise the same for any thread count,
which makes two safety limits free:
- thread counts are capped at MAX_THREADS: asking the OpenMP runtime for tens of
  thousands of threads (OMP_NUM_THREADS=100000, say) makes it abort the process;
- a child process made by fork() (multiprocessing's default start method on Linux)
  runs the kernels serially: GNU OpenMP's thread pool does not survive fork(), and a
  child that starts a parallel region after its parent did waits forever. Use the
  'spawn' or 'forkserver' start method for parallel kernels in child processes.
"""
import os
from numbers import Integral

from ._openmp import openmp_max_threads

# Far more than any machine gains from, far fewer than a runtime fails to create.
MAX_THREADS = max(64, 4 * (os.cpu_count() or 1))

_num_threads = None
_forked_child = False


def _after_fork_in_child():
    global _forked_child
    _forked_child = True


os.register_at_fork(after_in_child=_after_fork_in_child)


def thread_limit():
    """The most threads a kernel may start: MAX_THREADS, or 1 in a forked child."""
    return 1 if _forked_child else MAX_THREADS


def set_num_threads(n_threads):
    """Set the number of threads the kernels use; None restores the OpenMP default.

    Parameters
    ----------
    n_threads : int >= 1 or None
    """
    global _num_threads
    if n_threads is not None:
        if not isinstance(n_threads, Integral) or isinstance(n_threads, bool):
            raise TypeError(f"n_threads must be a positive integer or None; got {n_threads!r}.")
        if n_threads < 1:
            raise ValueError(f"n_threads must be a positive integer or None; got {n_threads!r}.")
    _num_threads = None if n_threads is None else int(n_threads)


def get_num_threads():
    """The number of threads the kernels use now (at most thread_limit())."""
    n_threads = _num_threads if _num_threads is not None else openmp_max_threads()
    return max(1, min(n_threads, thread_limit()))
