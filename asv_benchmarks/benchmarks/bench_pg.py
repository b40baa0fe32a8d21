"""The compiled projected-gradient solver against Lin's algorithm in plain NumPy.

Both run the same iterations from the same start (setup checks it), on one thread:
- PGSubproblem: W's subproblem from a random start, a fixed number of iterations;
- PGFit: a whole fit (tol=1e-4).
on the 6x2 example (k=2, where interpreter overhead dominates) and on a dense
2000 x 1000 problem with k=20. The ratio time_numpy / time_compiled is the speed-up.

Print the ratios (medians over interleaved pairs of CPU times) with:
    cd asv_benchmarks && python -m benchmarks.bench_pg
The share of a fit spent in BLAS: profile compiled fits alone, and the same process
without fits (start-up and setup) to subtract, e.g. with Linux perf:
    cd asv_benchmarks
    perf record -o fits.data python -m benchmarks.bench_pg --profile 2000x1000 --seconds 20
    perf record -o setup.data python -m benchmarks.bench_pg --profile 2000x1000 --seconds 0
    perf report -i fits.data --sort dso -n --stdio     # samples per library; likewise setup
BLAS share = (BLAS samples of fits - of setup) / (all samples of fits - of setup),
where the BLAS samples are those in the OpenBLAS libraries (numpy's and scipy's).
"""
import argparse
import statistics
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import nmf
from nmf._init import random_factors
from nmf._pg_fast import pg_subproblem

from ._pg_numpy import nls_subproblem, pg_fit

EXAMPLE = np.array([[1, 1], [2, 1], [3, 1.2], [4, 1], [5, 0.8], [6, 1]])
PROBLEMS = ["6x2", "2000x1000"]
SUBPROBLEM_ITERATIONS = 20
FIT_MAX_ITER = {"6x2": 200, "2000x1000": 10}


def make_problem(name):
    """(X, W0, H0): the 6x2 example with k=2 or a random 2000 x 1000 with k=20."""
    if name == "6x2":
        X, k = EXAMPLE, 2
    else:
        X, k = np.random.default_rng(0).random((2000, 1000)), 20
    W0, H0 = random_factors(X, k, np.random.RandomState(0))
    return X, W0, H0


class _OneThread:
    """Pin BLAS and the package's kernels to one thread during the timings."""

    def setup(self, *params):
        self._limits = threadpool_limits(1)
        nmf.set_num_threads(1)

    def teardown(self, *params):
        self._limits.restore_original_limits()
        nmf.set_num_threads(None)


class PGSubproblem(_OneThread):
    params = [PROBLEMS]
    param_names = ["problem"]

    def setup(self, problem):
        super().setup(problem)
        X, self.W0, H0 = make_problem(problem)
        self.gram, self.cross = H0 @ H0.T, X @ H0.T
        self.buffers = (np.empty_like(self.W0), np.empty_like(self.W0),
                        np.empty_like(self.gram))
        compiled = self.time_compiled(problem)
        reference = self.time_numpy(problem)
        if compiled[:2] != reference[2:]:
            raise RuntimeError(f"not the same iterations: {compiled} vs {reference[2:]}")

    def time_compiled(self, problem):
        return pg_subproblem(self.W0.copy(), self.gram, self.cross, *self.buffers, 0.0,
                             SUBPROBLEM_ITERATIONS)

    def time_numpy(self, problem):
        return nls_subproblem(self.W0, self.gram, self.cross, 0.0, SUBPROBLEM_ITERATIONS)


class PGFit(_OneThread):
    params = [PROBLEMS]
    param_names = ["problem"]

    def setup(self, problem, check=True):
        super().setup(problem)
        self.X, self.W0, self.H0 = make_problem(problem)
        self.max_iter = FIT_MAX_ITER[problem]
        if not check:
            return
        compiled, reference = self.time_compiled(problem), self.time_numpy(problem)
        if compiled[2] != reference[2] or not np.allclose(compiled[0], reference[0]):
            raise RuntimeError("the compiled and NumPy fits differ")

    def time_compiled(self, problem):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nmf.ConvergenceWarning)
            return nmf.non_negative_factorization(
                self.X, self.W0.copy(), self.H0.copy(), self.W0.shape[1], init="custom",
                solver="pg", tol=1e-4, max_iter=self.max_iter)

    def time_numpy(self, problem):
        return pg_fit(self.X, self.W0, self.H0, tol=1e-4, max_iter=self.max_iter)

    def track_objective(self, problem):
        W, H, _ = self.time_compiled(problem)
        return float(0.5 * np.sum((self.X - W @ H) ** 2))


def _median_ratio(benchmark, problem, repeats, min_time=0.2):
    """Median over interleaved pairs of time_numpy / time_compiled; also the medians."""
    def timed(method):
        calls, start = 0, time.process_time()
        while True:
            method(problem)
            calls += 1
            elapsed = time.process_time() - start
            if elapsed >= min_time:
                return elapsed / calls

    pairs = [(timed(benchmark.time_compiled), timed(benchmark.time_numpy))
             for _ in range(repeats)]
    return (statistics.median(b / a for a, b in pairs),
            statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--profile", choices=PROBLEMS,
                        help="only run compiled fits of this problem, for a profiler")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    if args.profile:
        benchmark = PGFit()
        benchmark.setup(args.profile, check=False)
        fits, start = 0, time.perf_counter()
        while time.perf_counter() - start < args.seconds:
            benchmark.time_compiled(args.profile)
            fits += 1
        print(f"{fits} fits of {args.profile} in {time.perf_counter() - start:.2f} s")
        return
    for name, cls in (("subproblem", PGSubproblem), ("fit", PGFit)):
        for problem in PROBLEMS:
            benchmark = cls()
            benchmark.setup(problem)
            ratio, compiled, reference = _median_ratio(benchmark, problem, args.repeats)
            per = ""
            if cls is PGSubproblem:
                per = f"  per iteration {compiled / SUBPROBLEM_ITERATIONS * 1e6:9.1f} us"
            print(f"{name:10s} {problem:9s}  compiled {compiled * 1e3:9.3f} ms  numpy"
                  f" {reference * 1e3:9.3f} ms  numpy/compiled {ratio:6.1f}x{per}",
                  flush=True)
            benchmark.teardown(problem)
    with threadpool_limits(1):
        for library in threadpool_info():
            print(f"{library['user_api']}: {library['internal_api']} {library['version']}"
                  f" {library.get('architecture', '')} ({library['filepath']}),"
                  f" threads pinned to {library['num_threads']}")


if __name__ == "__main__":
    main()
