"""NMF.transform: W for the data with the fitted components fixed."""
from nmf import NMF

from . import data
from .fit import ITERATIONS, SETS


BATCH = 5000    # rows transformed: a batch of "new" rows, the first of the set


class Transform:
    """transform of a batch of rows by a model fitted for a few iterations (k=10,
    tol=0, so transform runs exactly max_iter iterations), 1 thread."""

    params = (SETS, ["cd", "pg"], ["float64", "float32"])
    param_names = ["data", "solver", "dtype"]
    number = 1
    timeout = 600

    def setup(self, name, solver, dtype):
        self.threads = data.Threads(1)    # first: teardown runs even when setup skips
        data.require_solver(solver)
        self.X = data.load(name, dtype)
        self.model = NMF(n_components=10, init="nndsvda", solver=solver, tol=0,
                         max_iter=ITERATIONS[solver][name], random_state=0).fit(self.X)
        self.batch = self.X[:BATCH]

    def teardown(self, *params):
        self.threads.undo()

    def time_transform(self, *params):
        self.model.transform(self.batch)

    def peakmem_transform(self, *params):
        self.model.transform(self.batch)
