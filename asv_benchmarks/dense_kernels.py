"""nmf's dense product kernels in each build this processor runs, side by side.

nmf compiles its dense kernels (nmf/_dense_tile.h) twice on x86-64, for AVX2 and for
AVX-512; the two give the same bits, and nmf/_kernels.py picks one per kernel by
processor. This times both builds on the same operands, alternating, one thread,
medians of the repeats: X @ F and X.T @ F for a C-ordered X (the "rows" and "cols"
kernels) and the factor's Gram, float64 and float32, and marks the build nmf uses.
The choice in nmf/_kernels.py is read off these figures:

    python asv_benchmarks/dense_kernels.py
    python asv_benchmarks/dense_kernels.py --shapes 5000x2000 -k 10 30
"""
import argparse
import pathlib
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from compare import pinned  # noqa: E402

from nmf import _kernels  # noqa: E402


def runnable_builds():
    """{label: module} of the builds present that this processor can run."""
    builds = {"AVX2": _kernels.avx2_dense_fast, "AVX-512": _kernels.avx512_dense_fast}
    return {label: module for label, module in builds.items() if module is not None}


def kernels(X, k, rng):
    """{kernel: (call(module), which nmf module runs it)} on operands made here."""
    n, m = X.shape
    H_t, W = rng.random((m, k)).astype(X.dtype), rng.random((n, k)).astype(X.dtype)
    out_rows, out_cols = np.empty((n, k), X.dtype), np.empty((m, k), X.dtype)
    gram = np.empty((k, k), X.dtype)
    return {
        "rows: X @ F": (lambda mod: mod.dense_times(X, False, H_t, out_rows, 1),
                        _kernels.dense_fast),
        "cols: X.T @ F": (lambda mod: mod.dense_times(X, True, W, out_cols, 1),
                          _kernels.dense_cols_fast),
        "gram: F.T @ F": (lambda mod: mod.gram(W, gram, 1), _kernels.dense_fast),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", nargs="+", default=["2000x1000", "5000x2000"],
                        help="X's shapes, n x m (default: the dense benchmark sets')")
    parser.add_argument("-k", type=int, nargs="+", default=[10, 30])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    builds = runnable_builds()
    if not builds:
        print("no dense kernel build runs on this processor (nmf uses BLAS)")
        return
    labels = list(builds)
    print(f"ms per call, one thread, medians of {args.repeats} alternating repeats;"
          " * marks the build nmf uses")
    print(f"{'shape':>10} {'k':>3} {'dtype':>8} {'kernel':<14}"
          + "".join(f"{label:>10}" for label in labels))
    rng = np.random.default_rng(0)
    with pinned(1):
        for shape in args.shapes:
            n, m = (int(s) for s in shape.split("x"))
            for k in args.k:
                for dtype in (np.float64, np.float32):
                    X = rng.random((n, m)).astype(dtype)
                    for name, (call, used) in kernels(X, k, rng).items():
                        times = {label: [] for label in labels}
                        for _ in range(args.repeats):
                            for label in labels:
                                start = time.perf_counter()
                                call(builds[label])
                                times[label].append(time.perf_counter() - start)
                        cells = "".join(
                            f"{statistics.median(times[label]) * 1e3:>9.3f}"
                            + ("*" if builds[label] is used else " ") for label in labels)
                        print(f"{shape:>10} {k:>3} {np.dtype(dtype).name:>8} {name:<14}"
                              + cells)


if __name__ == "__main__":
    main()
