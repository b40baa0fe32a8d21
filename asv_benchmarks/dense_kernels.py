"""nmf's dense product kernels in each build this processor runs, side by side.

nmf compiles its dense kernels (nmf/_dense_tile.h) twice on x86-64, for AVX2 and for
AVX-512; the two give the same bits, and nmf/_kernels.py picks one per kernel by
processor. This times both builds on the same operands, alternating, one thread,
medians of the repeats: X @ F and X.T @ F for a C-ordered X (the "rows" and "cols"
kernels) and the factor's Gram, float64 and float32, and marks the build nmf uses.
The choice in nmf/_kernels.py is read off these figures:

    python asv_benchmarks/dense_kernels.py
    python asv_benchmarks/dense_kernels.py --shapes 5000x2000 -k 10 30

--offsets places X that many bytes past a 64-byte boundary (a fresh X for each, and
--placements fresh copies of each): the kernels' times depend on where X lies in
memory, not only on its shape (NumPy puts a large array 16 bytes past one).

    python asv_benchmarks/dense_kernels.py --shapes 5000x2000 -k 30 --offsets 0 16 32
"""
import argparse
import itertools
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


def placed(shape, dtype, offset, rng):
    """A new C-ordered array of random entries starting `offset` bytes past a 64-byte
    boundary."""
    itemsize = np.dtype(dtype).itemsize
    if offset % itemsize:
        raise SystemExit(f"--offsets must be multiples of {itemsize} for {np.dtype(dtype)}")
    nbytes = shape[0] * shape[1] * itemsize
    memory = np.empty(nbytes + 64 + offset, np.uint8)
    start = -memory.ctypes.data % 64 + offset
    X = memory[start:start + nbytes].view(dtype).reshape(shape)
    X[...] = rng.random(shape)
    return X


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", nargs="+", default=["2000x1000", "5000x2000"],
                        help="X's shapes, n x m (default: the dense benchmark sets')")
    parser.add_argument("-k", type=int, nargs="+", default=[10, 30])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--offsets", type=int, nargs="+",
                        help="bytes past a 64-byte boundary where X starts (default:"
                             " where NumPy puts it)")
    parser.add_argument("--placements", type=int, default=1,
                        help="fresh copies of X timed at each offset (default 1)")
    args = parser.parse_args(argv)
    builds = runnable_builds()
    if not builds:
        print("no dense kernel build runs on this processor (nmf uses BLAS)")
        return
    labels = list(builds)
    print(f"ms per call, one thread, medians of {args.repeats} alternating repeats;"
          " * marks the build nmf uses")
    print(f"{'shape':>10} {'k':>3} {'dtype':>8} {'offset':>6} {'kernel':<14}"
          + "".join(f"{label:>10}" for label in labels))
    rng = np.random.default_rng(0)
    with pinned(1):
        for shape in args.shapes:
            n, m = (int(s) for s in shape.split("x"))
            for k in args.k:
                for dtype, offset, _ in itertools.product(
                        (np.float64, np.float32), args.offsets or [None],
                        range(args.placements)):
                    X = (rng.random((n, m)).astype(dtype) if offset is None
                         else placed((n, m), dtype, offset, rng))
                    where = "-" if offset is None else str(offset)
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
                        print(f"{shape:>10} {k:>3} {np.dtype(dtype).name:>8} {where:>6}"
                              f" {name:<14}" + cells)


if __name__ == "__main__":
    main()
