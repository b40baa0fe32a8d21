"""Initializations, through the public API: each fit runs one iteration after its
init, so the cost of the init alone is a row's time minus that of init='random'."""
from nmf import non_negative_factorization

from . import data

SETS = ["dense_2000x1000", "sparse_20000x5000", "debian_tfidf"]


class Init:
    params = (SETS, ["random", "nndsvd", "nndsvda", "nndsvdar"], [10])
    param_names = ["data", "init", "n_components"]
    number = 1
    timeout = 300

    def setup(self, name, init, n_components):
        self.threads = data.Threads(1)    # first: teardown runs even when setup skips
        self.X = data.load(name)

    def teardown(self, *params):
        self.threads.undo()

    def _fit(self, init, n_components):
        return non_negative_factorization(self.X, n_components=n_components, init=init,
                                          random_state=0, max_iter=1, tol=0)

    def time_init(self, name, init, n_components):
        self._fit(init, n_components)

    def peakmem_init(self, name, init, n_components):
        self._fit(init, n_components)

    def track_objective(self, name, init, n_components):
        W, H, _ = self._fit(init, n_components)
        return data.objective(self.X, W, H)

    track_objective.unit = "0.5 ||X - WH||^2"
