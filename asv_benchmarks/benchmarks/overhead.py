"""The 6 x 2 example: no arithmetic to speak of, so these time the Python layer
(validation, setup, the solver's outer loop) per call."""
from nmf import NMF, non_negative_factorization

from . import data


class Overhead:
    params = ["cd", "pg"]
    param_names = ["solver"]

    def setup(self, solver):
        data.require_solver(solver)
        self.X = data.EXAMPLE_6X2
        self.model = NMF(n_components=2, init="random", solver=solver, random_state=0)
        self.model.fit(self.X)

    def time_fit_transform(self, solver):
        NMF(n_components=2, init="random", solver=solver, random_state=0).fit_transform(self.X)

    def time_non_negative_factorization(self, solver):
        non_negative_factorization(self.X, n_components=2, solver=solver, random_state=0)

    def time_one_iteration(self, solver):
        non_negative_factorization(self.X, n_components=2, solver=solver, random_state=0,
                                   max_iter=1, tol=0)

    def time_transform(self, solver):
        self.model.transform(self.X)

    def track_n_iter(self, solver):
        return NMF(n_components=2, init="random", solver=solver, random_state=0).fit(
            self.X).n_iter_

    track_n_iter.unit = "iterations"

    def track_reconstruction_err(self, solver):
        return NMF(n_components=2, init="random", solver=solver, random_state=0).fit(
            self.X).reconstruction_err_

    track_reconstruction_err.unit = "||X - WH||"
