"""nmf's dense product kernels in each build this processor runs, side by side.

nmf compiles its dense kernels (nmf/_dense_tile.h) twice on x86-64, for AVX2 and for
AVX-512; the two give the same bits, and nmf/_kernels.py picks one per kernel by
processor. This times both builds on the same operands, alternating, one thread,
medians of the repeats: X @ F and X.T @ F for a C-ordered X (the "rows" and "cols"
kernels) and the factor's Gram, float64 and float32, and marks the build nmf uses.
The choice in nmf/_kernels.py is read off these figures:

    python asv_benchmarks/dense_kernels.py
    python asv_benchmarks/dense_kernels.py --shapes 5000x2000 -k 10 30

--offsets places X that many bytes past a 2 MB boundary (a fresh X for each, and
--placements fresh copies of each): the kernels' times depend on where X lies in
memory, not only on its shape (NumPy puts a large array 16 bytes past a 4 KB page's
start). The "huge" column is the share of X on transparent huge pages.

    python asv_benchmarks/dense_kernels.py --shapes 5000x2000 -k 30 --offsets 0 16 32 64
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


# Where --offsets count from: a transparent huge page's boundary, so that an offset
# fixes every address bit a cache set or a page depends on (within a huge page the
# virtual and physical addresses agree up to bit 20).
HUGE_PAGE = 2 << 20


def placed(shape, dtype, offset, rng):
    """A new C-ordered array of random entries starting `offset` bytes past a 2 MB
    boundary (its memory asked for on huge pages, as NumPy asks for large arrays')."""
    itemsize = np.dtype(dtype).itemsize
    if offset % itemsize:
        raise SystemExit(f"--offsets must be multiples of {itemsize} for {np.dtype(dtype)}")
    nbytes = shape[0] * shape[1] * itemsize
    memory = np.empty(nbytes + HUGE_PAGE + offset, np.uint8)
    start = -memory.ctypes.data % HUGE_PAGE + offset
    X = memory[start:start + nbytes].view(dtype).reshape(shape)
    X[...] = rng.random(shape)
    return X


def huge_page_share(X, smaps_path="/proc/self/smaps"):
    """The share of X's bytes the kernel holds on transparent huge pages (the
    AnonHugePages of the mappings X lies in, from the process's smaps), or None where
    that file is not to be had."""
    low = X.ctypes.data
    high = low + X.nbytes
    huge = 0
    try:
        with open(smaps_path) as smaps:
            overlaps = False
            for line in smaps:
                fields = line.split()
                if fields and "-" in fields[0] and not fields[0].endswith(":"):
                    begin, end = (int(a, 16) for a in fields[0].split("-"))
                    overlaps = begin < high and end > low
                elif overlaps and fields[:1] == ["AnonHugePages:"]:
                    huge += int(fields[1]) * 1024
    except OSError:
        return None
    return min(huge, X.nbytes) / X.nbytes if X.nbytes else 0.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", nargs="+", default=["2000x1000", "5000x2000"],
                        help="X's shapes, n x m (default: the dense benchmark sets')")
    parser.add_argument("-k", type=int, nargs="+", default=[10, 30])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--offsets", type=int, nargs="+",
                        help="bytes past a 2 MB boundary where X starts (default:"
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
    print(f"{'shape':>10} {'k':>3} {'dtype':>8} {'offset':>8} {'huge':>5} {'kernel':<14}"
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
                    share = huge_page_share(X)
                    huge = "-" if share is None else f"{share:.0%}"
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
                        print(f"{shape:>10} {k:>3} {np.dtype(dtype).name:>8} {where:>8}"
                              f" {huge:>5} {name:<14}" + cells)


if __name__ == "__main__":
    main()
