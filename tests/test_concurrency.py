"""Fits in several Python threads at once: the same bits as serial runs, and the
compiled kernels really release the GIL (another Python thread keeps running). Fits
in processes forked after a parallel fit neither hang nor change."""
import multiprocessing
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal

import nmf
from nmf import NMF
from nmf import non_negative_factorization as nnf
from nmf._cd_fast import cd_sweep

from _solvers import SOLVERS


def _problems():
    rng = np.random.default_rng(0)
    dense = rng.random((300, 120))
    sparse = sp.random(300, 120, density=0.2, format="csr", random_state=1)
    return [
        (dense, dict(n_components=6)),
        (dense.astype(np.float32), dict(n_components=4, shuffle=True)),
        (sparse, dict(n_components=5, init="nndsvda")),
        (sparse.astype(np.float32).tocsc(), dict(n_components=3, alpha=0.1,
                                                 regularization="both")),
    ]


def _fit(X, solver, kwargs):
    W, H, n_iter = nnf(X, solver=solver, tol=0, max_iter=40, random_state=3, **kwargs)
    return W, H, n_iter


@pytest.mark.parametrize("solver", SOLVERS)
def test_concurrent_fits_give_the_same_bits_as_serial_fits(solver):
    problems = _problems()
    serial = [_fit(X, solver, kwargs) for X, kwargs in problems]
    jobs = [i for i in range(len(problems)) for _ in range(3)]
    np.random.default_rng(0).shuffle(jobs)
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [(i, pool.submit(_fit, *problems[i][:1], solver, problems[i][1]))
                   for i in jobs]
        results = [(i, future.result()) for i, future in futures]
    for i, (W, H, n_iter) in results:
        assert_array_equal(W, serial[i][0])
        assert_array_equal(H, serial[i][1])
        assert n_iter == serial[i][2]


def test_concurrent_estimators_transform_like_serial_ones():
    X = np.random.default_rng(0).random((200, 60))
    estimators = [NMF(k, random_state=k, max_iter=30, tol=0).fit(X) for k in (2, 3, 4, 5)]
    serial = [e.transform(X) for e in estimators]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(lambda e: e.transform(X), estimators * 2))
    for W, expected in zip(concurrent, serial * 2):
        assert_array_equal(W, expected)


class _Ticker:
    """A pure-Python thread that notes the longest time it could not run."""

    def __init__(self):
        self.longest_pause = 0.0
        self.ticks = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        last = time.perf_counter()
        while not self._stop:
            now = time.perf_counter()
            self.longest_pause = max(self.longest_pause, now - last)
            self.ticks += 1
            last = now

    def __enter__(self):
        self._thread.start()
        while self.ticks < 1000:  # spinning
            time.sleep(0.001)
        return self

    def __exit__(self, *exc):
        self._stop = True
        self._thread.join()

    def measure(self, work):
        """Run work(); return (its duration, the ticker's longest pause, ticks) meanwhile."""
        self.longest_pause, ticks_before = 0.0, self.ticks
        start = time.perf_counter()
        work()
        duration = time.perf_counter() - start
        return duration, self.longest_pause, self.ticks - ticks_before

    def least_paused(self, work, tries=3):
        """measure(work) with the smallest pause relative to the duration, of up to
        `tries` runs, stopping at one below half: on a loaded machine the ticker may
        also wait for a core, while a call holding the GIL stops it every time."""
        runs = []
        for _ in range(tries):
            runs.append(self.measure(work))
            if runs[-1][1] < 0.5 * runs[-1][0]:
                break
        return min(runs, key=lambda run: run[1] / run[0])


def _big_sweep(dtype):
    n, k = 300_000, 64  # long enough (> 0.05 s) even on a quiet, fast machine
    rng = np.random.default_rng(0)
    W = rng.random((n, k)).astype(dtype)
    H = rng.random((k, 50)).astype(dtype)
    gram, cross = H @ H.T, rng.random((n, k)).astype(dtype)
    order, buffer = np.arange(k, dtype=np.intp), np.empty(n)
    return lambda: cd_sweep(W, gram, cross, order, buffer, 1)


def test_the_ticker_sees_a_call_that_holds_the_gil():
    """The control: sorting a list is C code that keeps the GIL throughout."""
    values = np.random.default_rng(0).random(1_000_000).tolist()
    with _Ticker() as ticker:
        duration, pause, _ = ticker.measure(lambda: sorted(values))
    assert duration > 0.05 and pause > 0.8 * duration, (duration, pause)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cd_sweep_releases_the_gil(dtype):
    """While one thread runs a long sweep (one OpenMP thread), a Python thread keeps
    ticking: the longest pause it sees is a small part of the sweep, where a kernel
    holding the GIL would stop it for the whole sweep."""
    sweep = _big_sweep(dtype)
    with _Ticker() as ticker:
        duration, pause, ticks = ticker.least_paused(sweep)
    assert duration > 0.05, "the sweep is too short to tell"
    assert ticks > 0 and pause < 0.5 * duration, (duration, pause, ticks)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("sparse", [False, True])
def test_a_whole_fit_lets_other_python_threads_run(solver, sparse):
    rng = np.random.default_rng(0)
    X = sp.random(20000, 500, density=0.03, format="csr", random_state=0) if sparse \
        else rng.random((2000, 800))
    with _Ticker() as ticker:
        duration, pause, _ = ticker.least_paused(
            lambda: nnf(X, n_components=20, solver=solver, tol=0, max_iter=3,
                        nls_max_iter=10, random_state=0))
    assert pause < 0.5 * duration, (duration, pause)


def _parallel_fit(solver):
    X = np.random.default_rng(0).random((3000, 300))  # big enough to run on threads
    return nnf(X, n_components=12, solver=solver, tol=0, max_iter=5, random_state=0)


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_process_forked_after_a_parallel_fit_fits_without_hanging(solver):
    """GNU OpenMP's threads do not survive fork(): a child that started a parallel
    region after its parent did would wait forever. Forked children run serially."""
    nmf.set_num_threads(2)
    try:
        expected = _parallel_fit(solver)          # the parent's OpenMP pool is alive
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork + threads
            pool = multiprocessing.get_context("fork").Pool(1)
        try:
            result = pool.apply_async(_parallel_fit, (solver,)).get(timeout=30)
        finally:
            pool.terminate()
            pool.join()
    finally:
        nmf.set_num_threads(None)
    for a, b in zip(result, expected):
        assert_array_equal(a, b)
