"""Non-negative matrix factorization with compiled coordinate-descent and
projected-gradient solvers."""
from ._estimator import NMF
from ._exceptions import ConvergenceWarning, NotFittedError
from ._factorize import non_negative_factorization
from ._threads import get_num_threads, set_num_threads

__version__ = "0.1.0"
__all__ = ["NMF", "ConvergenceWarning", "NotFittedError", "non_negative_factorization",
           "get_num_threads", "set_num_threads"]
