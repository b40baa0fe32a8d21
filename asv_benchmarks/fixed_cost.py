"""A 'cd' fit's fixed work and its marginal iteration, at each thread count.

Fits of `short` and `long` iterations (tol=0, init='custom', the same start), timed
like compare.py's per-iteration fits and interleaved round by round. The marginal
iteration is (t_long - t_short) / (long - short); the fixed work, what a fit costs
beyond its iterations (checking X, copying the caller's factors, the final checks),
is t_short - short * marginal. With a second thread count, the ratios to the first:
the whole `long`-iteration fit's and the marginal iteration's (per-round ratios,
medians). This is how issue 4's 2-thread figure on debian_tfidf k=30 splits:

    python asv_benchmarks/fixed_cost.py debian_tfidf -k 30 --threads 1 2

--blas-before runs a 1500 x 1500 NumPy matmul (BLAS at the pinned thread count) before
each fit, as the other solvers of a comparison do, and --settle sets how long a timed
call at more than one thread waits for other threads to go idle (compare.py's
SETTLE_SECONDS): the figures in compare.ready_for_timing's docstring are

    python asv_benchmarks/fixed_cost.py debian_tfidf -k 30 --threads 1 2 --blas-before --settle 0.2

--init starts every fit from that initialisation instead (random_state=0), so that its
cost is part of the fixed work, e.g. NNDSVD at 1 and 2 threads:

    python asv_benchmarks/fixed_cost.py dense_2000x1000 -k 10 --threads 1 2 --init nndsvd

--dtypes times each precision in the same rounds and adds their ratios to the first
(whole fit, marginal iteration, fixed work), e.g. issue 4's float32 figure:

    python asv_benchmarks/fixed_cost.py debian_tfidf -k 10 --dtypes float64 float32

--profile instead lists, for `short`-iteration fits at the first thread count, the
functions that take the most time of their own (cProfile), the fixed work's parts.

With a second thread count the ratios are also given by where the host had put the
CPUs in each round (near or far, placement.py, measured before and after the round's
fits of each dtype), as compare.py does.
"""
import argparse
import cProfile
import pathlib
import pstats
import statistics
import sys
import warnings

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchmarks import data  # noqa: E402
import compare  # noqa: E402
import placement  # noqa: E402
from compare import SETS, _nmf_fit, pinned, ready_for_timing, timed  # noqa: E402

import nmf  # noqa: E402


def _fit_from(init):
    """A fit like compare.py's that ignores the start it is given and makes its own
    with `init` (random_state=0)."""
    def fit(X, W, H, max_iter):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nmf.ConvergenceWarning)
            return nmf.non_negative_factorization(
                X, n_components=W.shape[1], init=init, random_state=0, tol=0,
                max_iter=max_iter)[:2]
    return fit


def iteration_counts(args, parser):
    """(short, long) from --iterations, checked."""
    short, long = args.iterations
    if not 1 <= short < long:
        parser.error("--iterations needs 1 <= SHORT < LONG")
    return short, long


def operands(name, k, dtypes):
    """{dtype: (X, W0, H0)}: the set and the comparison's initial factors in each dtype
    (the float64 arrays themselves for float64)."""
    X64 = data.load(name)
    W64, H64 = data.initial_factors(X64, k)
    return {dtype: tuple(a.astype(dtype, copy=False) for a in (X64, W64, H64))
            for dtype in dtypes}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("set", choices=SETS)
    parser.add_argument("-k", type=int, default=30)
    parser.add_argument("--threads", type=int, nargs="+", default=[1])
    parser.add_argument("--iterations", type=int, nargs=2, default=[1, 6],
                        metavar=("SHORT", "LONG"))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--dtypes", nargs="+", default=["float64"],
                        choices=["float64", "float32"])
    parser.add_argument("--blas-before", action="store_true",
                        help="a 1500 x 1500 NumPy matmul before each fit")
    parser.add_argument("--settle", type=float, default=compare.SETTLE_SECONDS,
                        help="seconds a timed call at more than one thread waits first")
    parser.add_argument("--init", default="custom",
                        choices=["custom", "random", "nndsvd", "nndsvda", "nndsvdar"],
                        help="where fits start (default: the comparison's initial factors)")
    parser.add_argument("--profile", action="store_true",
                        help="profile short fits instead of timing")
    args = parser.parse_args(argv)
    short, long = iteration_counts(args, parser)
    arrays = operands(args.set, args.k, args.dtypes)
    fit = _nmf_fit() if args.init == "custom" else _fit_from(args.init)
    compare.SETTLE_SECONDS = args.settle
    square = np.random.default_rng(0).random((1500, 1500)) if args.blas_before else None

    if args.profile:
        X, W0, H0 = arrays[args.dtypes[0]]
        with pinned(args.threads[0]):
            fit(X, W0.copy(), H0.copy(), short)            # kernels built, pages warm
            profile = cProfile.Profile()
            for _ in range(args.rounds):
                W, H = W0.copy(), H0.copy()
                ready_for_timing(W0, H0)                     # as timed() does, unprofiled
                profile.runcall(fit, X, W, H, short)
        print(f"{args.set}, k={args.k}, {args.dtypes[0]}: {args.rounds} fits of {short}"
              f" iteration(s), {args.threads[0]} thread(s)")
        pstats.Stats(profile).sort_stats("tottime").print_stats(12)
        return

    seconds = {}
    places = {dtype: [] for dtype in args.dtypes}     # each round's placement
    placed = len(args.threads) > 1
    for _ in range(args.rounds):
        for dtype, (X, W0, H0) in arrays.items():
            before = placement.round_trip_ns() if placed else None
            for n_threads in args.threads:
                with pinned(n_threads):
                    for iterations in (short, long):
                        if square is not None:
                            square @ square
                        seconds.setdefault((dtype, n_threads, iterations), []).append(
                            timed(fit, X, W0, H0, iterations))
            if placed:
                places[dtype].append(compare.round_placement(before,
                                                             placement.round_trip_ns()))

    def marginal(dtype, n_threads):
        return [(t_long - t_short) / (long - short) for t_long, t_short
                in zip(seconds[dtype, n_threads, long], seconds[dtype, n_threads, short])]

    def fixed(dtype, n_threads):
        return [t_short - short * margin for t_short, margin
                in zip(seconds[dtype, n_threads, short], marginal(dtype, n_threads))]

    def ratio(numerators, denominators):
        return statistics.median(a / b for a, b in zip(numerators, denominators))

    print(f"{args.set}, k={args.k}, init {args.init}: fits of {short} and {long}"
          f" iterations, medians of {args.rounds} rounds (ms)")
    print(f"{'dtype':>7s} {'threads':>7s} {'marginal':>9s} {'fixed':>7s} {'fit/1st':>8s}"
          f" {'marginal/1st':>13s}")
    base = args.threads[0]
    for dtype in args.dtypes:
        for n_threads in args.threads:
            line = (f"{dtype:>7s} {n_threads:7d}"
                    f" {statistics.median(marginal(dtype, n_threads)) * 1e3:9.2f}"
                    f" {statistics.median(fixed(dtype, n_threads)) * 1e3:7.2f}")
            if n_threads != base:
                line += (f" {ratio(seconds[dtype, n_threads, long], seconds[dtype, base, long]):8.2f}"
                         f" {ratio(marginal(dtype, n_threads), marginal(dtype, base)):13.2f}")
            print(line)
    for dtype in args.dtypes if placed else ():
        for n_threads in args.threads[1:]:
            for place in ("near", "far", "moved", "?"):
                chosen = [i for i, p in enumerate(places[dtype]) if p == place]
                if not chosen:
                    continue

                def of(values):
                    return [values[i] for i in chosen]
                where = "placement not measured" if place == "?" else place
                print(f"{dtype}, {n_threads} / {base} thread(s), {len(chosen)} round(s) {where}:"
                      f" fit {ratio(of(seconds[dtype, n_threads, long]), of(seconds[dtype, base, long])):.2f},"
                      f" marginal {ratio(of(marginal(dtype, n_threads)), of(marginal(dtype, base))):.2f}")
    first = args.dtypes[0]
    for dtype in args.dtypes[1:]:
        for n_threads in args.threads:
            print(f"{dtype} / {first}, {n_threads} thread(s): fit"
                  f" {ratio(seconds[dtype, n_threads, long], seconds[first, n_threads, long]):.2f},"
                  f" marginal {ratio(marginal(dtype, n_threads), marginal(first, n_threads)):.2f},"
                  f" fixed {ratio(fixed(dtype, n_threads), fixed(first, n_threads)):.2f}")


if __name__ == "__main__":
    main()
