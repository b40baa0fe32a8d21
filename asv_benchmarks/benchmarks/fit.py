"""Fits: a fixed number of iterations (tol=0) from the same random start."""
import tracemalloc

import threadpoolctl

from nmf import non_negative_factorization

from . import data

SETS = ["dense_2000x1000", "sparse_20000x5000", "debian_tfidf"]
# Iterations per fit: enough to time, few on the 61089 x 20000 text matrix and for
# 'pg', each of whose iterations solves two subproblems.
ITERATIONS = {"cd": {"dense_2000x1000": 20, "sparse_20000x5000": 20, "debian_tfidf": 5,
                     "zipf_30000x20000": 10},
              "pg": {"dense_2000x1000": 10, "sparse_20000x5000": 5, "debian_tfidf": 2}}


class Fit:
    """non_negative_factorization with init='custom' (data.initial_factors), 1 thread.

    track_objective is 0.5 ||X - WH||_F^2 after the fit: a speed-up that changes the
    answer shows here. track_traced_peak is tracemalloc's peak during the fit, in
    MB: the memory nmf allocates beyond X (no copy of X should appear in it).
    """

    params = (SETS, ["cd", "pg"], [10, 30], ["float64", "float32"])
    param_names = ["data", "solver", "n_components", "dtype"]
    number = 1
    timeout = 600

    def setup(self, name, solver, n_components, dtype):
        self.threads = data.Threads(1)    # first: teardown runs even when setup skips
        data.require_solver(solver)
        self.X = data.load(name, dtype)
        self.W0, self.H0 = data.initial_factors(self.X, n_components)
        self.options = dict(n_components=n_components, init="custom", solver=solver, tol=0,
                            max_iter=ITERATIONS[solver][name])

    def teardown(self, *params):
        self.threads.undo()

    def _fit(self):
        return non_negative_factorization(self.X, self.W0, self.H0, **self.options)

    def time_fit(self, *params):
        self._fit()

    def peakmem_fit(self, *params):
        self._fit()

    def track_objective(self, *params):
        W, H, _ = self._fit()
        return data.objective(self.X, W, H)

    track_objective.unit = "0.5 ||X - WH||^2"

    def track_traced_peak(self, *params):
        tracemalloc.start()
        try:
            self._fit()
            return tracemalloc.get_traced_memory()[1] / 1e6
        finally:
            tracemalloc.stop()

    track_traced_peak.unit = "MB"


class FitThreads:
    """'cd' at k=30 on 1 and 2 threads (results must be bitwise the same; the
    objective is tracked to show it). zipf_30000x20000 has most of its entries in its
    first columns, as text with its terms sorted by frequency: as CSR (X.T @ W shares
    its result's rows between the threads) and as CSC (so do both sweeps' products)."""

    params = (SETS + ["zipf_30000x20000", "zipf_30000x20000 csc"], [1, 2])
    param_names = ["data", "threads"]
    number = 1
    timeout = 600

    def setup(self, name, n_threads):
        self.threads = data.Threads(n_threads)
        set_name, _, layout = name.partition(" ")
        self.X = data.load(set_name)
        if layout == "csc":
            self.X = self.X.tocsc()
        self.W0, self.H0 = data.initial_factors(self.X, 30)
        self.options = dict(n_components=30, init="custom", solver="cd", tol=0,
                            max_iter=ITERATIONS["cd"][set_name])

    def teardown(self, *params):
        self.threads.undo()

    def time_fit(self, *params):
        non_negative_factorization(self.X, self.W0, self.H0, **self.options)

    def track_objective(self, *params):
        W, H, _ = non_negative_factorization(self.X, self.W0, self.H0, **self.options)
        # The objective's own sums on one BLAS thread: on two, BLAS adds them in
        # another order and the last digits differ though W and H are the same bits.
        with threadpoolctl.threadpool_limits(1):
            return data.objective(self.X, W, H)

    track_objective.unit = "0.5 ||X - WH||^2"
