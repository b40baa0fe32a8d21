"""Thousands of small fits, successful or refused, do not grow the process's memory."""
import gc
import os
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import nmf
from nmf import NMF, ConvergenceWarning
from nmf import non_negative_factorization as nnf
from nmf._cd_fast import cd_sweep

from _solvers import SOLVERS

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _resident_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE


def _workload(solver):
    """A list of calls covering dense/sparse, float32/64, the estimator, errors."""
    rng = np.random.default_rng(0)
    dense = rng.random((30, 20))
    sparse = sp.random(30, 20, density=0.3, format="csr", random_state=0)
    W0, H0 = rng.random((30, 3)), rng.random((3, 20))
    kw = dict(n_components=3, solver=solver, max_iter=15, random_state=0)
    bad_gram = np.ones((2, 2))

    def refused(call):
        try:
            call()
        except (ValueError, TypeError):
            return
        raise AssertionError("not refused")

    return [
        lambda: nnf(dense, **kw),
        lambda: nnf(dense.astype(np.float32), init="nndsvd", **kw),
        lambda: nnf(sparse, init="nndsvdar", **kw),
        lambda: nnf(sparse.astype(np.float32).tocsc(), shuffle=True, **kw),
        lambda: nnf(dense, W0, H0, init="custom", alpha=0.1, regularization="both", **kw),
        lambda: nnf(dense * 1e300, **kw),                      # scaled internally
        lambda: NMF(**kw).fit(sparse).transform(sparse),
        lambda: refused(lambda: nnf(-dense, **kw)),
        lambda: refused(lambda: nnf(dense, W0, -H0, init="custom", **kw)),
        lambda: refused(lambda: cd_sweep(W0.copy(), bad_gram, W0, np.arange(3),
                                         np.empty(30))),
    ]


@pytest.mark.parametrize("solver", SOLVERS)
def test_thousands_of_fits_do_not_grow_memory(solver):
    calls = _workload(solver)
    # One kernel thread: on a busy machine an OpenMP team per tiny sparse product waits
    # for descheduled threads, up to 100x this test's time. The calls run the same
    # code and allocations; only the per-thread buffers' sizes follow the thread count.
    nmf.set_num_threads(1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for _ in range(30):                 # warm up: caches, allocator pools
                for call in calls:
                    call()
            gc.collect()
            before = _resident_bytes()
            for _ in range(200):                # 2000 calls
                for call in calls:
                    call()
            gc.collect()
            grown = _resident_bytes() - before
    finally:
        nmf.set_num_threads(None)
    # Measured: 0.0 MiB. Leaking 500 bytes per call would be 1 MiB.
    assert grown < 2**20, f"resident memory grew by {grown / 2**20:.2f} MiB"
