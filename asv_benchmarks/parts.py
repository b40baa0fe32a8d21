"""Where a 'cd' iteration's time goes: each product and sweep timed alone.

For one data set and rank k, times (medians of interleaved repeats) the parts of an
iteration as nmf runs them: X H^T and X^T W (nmf's product kernels), the two Grams,
the sweeps over W and over H^T; and scipy's / NumPy's X H^T and X^T W, the floor's
products; for a CSR X also the W update a fit runs there, the sweep with its rows of
X H^T summed block by block inside it. For float64 and float32, at each thread count
asked for (BLAS and nmf's kernels pinned alike), with the float32 / float64 ratio and
the ratio to the first thread count, that one also over the repeats in which the CPUs
were near and those in which they were far (placement.py, measured before and after
each repeat; see compare.py). The kernel tuning of issue 4 is read off these figures:

    python asv_benchmarks/parts.py debian_tfidf -k 30 --threads 1 2
"""
import argparse
import pathlib
import statistics
import sys
import time

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchmarks import data  # noqa: E402
import placement  # noqa: E402
from compare import SETS, pinned, round_placement  # noqa: E402

from nmf import _products  # noqa: E402
from nmf._kernels import cd_fast  # noqa: E402


def parts(X, W, Ht, n_threads):
    """{name: callable} for each part of an iteration, on buffers made here."""
    k = W.shape[1]
    cross_W, cross_H = np.empty_like(W), np.empty_like(Ht)
    gram = np.empty((k, k), W.dtype)
    gram_W, gram_H = Ht.T @ Ht, W.T @ W      # sweeps on fixed Grams and crosses
    _products.X_times(X, Ht, cross_W)
    _products.Xt_times(X, W, cross_H)
    order = np.arange(k, dtype=np.intp)
    violations = np.empty(max(len(W), len(Ht)))

    def sweep(factor, gram_, cross):
        # Sweeps again and again over its own copy: a sweep's cost does not depend
        # on the values (no branch on the data in the kernel).
        factor = factor.copy()
        return lambda: cd_fast.cd_sweep(factor, gram_, cross, order,
                                        violations[:len(factor)], n_threads)

    library_X = X if sp.issparse(X) else np.asarray(X)
    # Chosen once, as a fit chooses them (kernel, threads, the split of X^T W's rows).
    X_times = _products.product_function(X, False, k, n_threads)
    Xt_times = _products.product_function(X, True, k, n_threads)
    on_X = {}
    if sp.issparse(X) and X.format == "csr":
        W_swept, arrays = W.copy(), _products.compressed_arrays(X)
        on_X["W update on X"] = lambda: cd_fast.cd_sweep_csr(
            W_swept, gram_W, *arrays, Ht, 0.0, order, violations[:len(W)], n_threads)
    return {
        "X H^T": lambda: X_times(Ht, cross_W),
        "X^T W": lambda: Xt_times(W, cross_H),
        "Grams": lambda: (_products.gram(W, gram, n_threads),
                          _products.gram(Ht, gram, n_threads)),
        "sweep W": sweep(W, gram_W, cross_W),
        "sweep H^T": sweep(Ht, gram_H, cross_H),
        "floor X H^T": lambda: library_X @ Ht,
        "floor X^T W": lambda: library_X.T @ W,
        **on_X,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("set", choices=SETS)
    parser.add_argument("-k", type=int, default=30)
    parser.add_argument("--threads", type=int, nargs="+", default=[1])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    X64 = data.load(args.set)
    W64, H64 = data.initial_factors(X64, args.k)
    seconds = {}
    runs = {}
    for dtype in ("float64", "float32"):
        X = X64.astype(dtype)
        W, Ht = W64.astype(dtype), np.ascontiguousarray(H64.T, dtype=dtype)
        for n_threads in args.threads:
            with pinned(n_threads):
                runs[dtype, n_threads] = parts(X, W, Ht, n_threads)
    placed = len(args.threads) > 1
    places = []                         # each repeat's placement of the CPUs
    for _ in range(args.repeats):       # interleaved: every part once per repeat
        before = placement.round_trip_ns() if placed else None
        for (dtype, n_threads), named in runs.items():
            with pinned(n_threads):
                for name, run in named.items():
                    start = time.perf_counter()
                    run()
                    seconds.setdefault((name, dtype, n_threads), []).append(
                        time.perf_counter() - start)
        places.append(round_placement(before, placement.round_trip_ns()) if placed
                      else None)

    def ms(key):
        return statistics.median(seconds[key]) * 1e3

    def ratio(a, b, place=None):
        pairs = [x / y for x, y, p in zip(seconds[a], seconds[b], places)
                 if place is None or p == place]
        return statistics.median(pairs) if pairs else None

    def cell(value, width):
        return f"{'-':>{width}s}" if value is None else f"{value:{width}.2f}"

    print(f"{args.set}, k={args.k}: ms per call, medians of {args.repeats} repeats"
          + (f"; CPUs near in {places.count('near')}, far in {places.count('far')}"
             if placed else ""))
    print(f"{'part':13s} {'dtype':8s} {'threads':>7s} {'ms':>8s} {'f32/f64':>8s}"
          f" {'/1 thread':>9s}" + (f" {'near':>6s} {'far':>6s}" if placed else ""))
    base = args.threads[0]
    for (name, dtype, n_threads) in seconds:
        key = (name, dtype, n_threads)
        f32 = (cell(ratio(key, (name, 'float64', n_threads)), 8)
               if dtype == "float32" else f"{'':8s}")
        scaling = ""
        if n_threads != base:
            scaling = cell(ratio(key, (name, dtype, base)), 9) + "".join(
                " " + cell(ratio(key, (name, dtype, base), place), 6)
                for place in ("near", "far"))
        print(f"{name:13s} {dtype:8s} {n_threads:7d} {ms(key):8.2f} {f32} {scaling}")


if __name__ == "__main__":
    main()
