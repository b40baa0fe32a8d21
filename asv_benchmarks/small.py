"""Small problems: 'cd' per-iteration time, nmf against scikit-learn.

On a small X an iteration does little arithmetic, so its time is mostly each
library's per-call work (Python, argument checks, kernel calls). Fits of a fixed
number of iterations (tol=0) from the same initial factors (init='custom'), dense
float64, one thread (BLAS and nmf's kernels pinned); the fits alternate within each
repeat, and each ratio is the median of the per-repeat ratios. The time per
iteration includes each fit's fixed costs divided by the iteration count.

"kernels" is nmf with its dense products in its own kernels at every size
(_products.SMALL_PRODUCT_WORK = 0), against "nmf" with products of at most that many
multiply-adds in BLAS; the last two problems lie just below and just above it:

    python asv_benchmarks/small.py
"""
import argparse
import contextlib
import pathlib
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchmarks import data  # noqa: E402
from compare import _nmf_fit, _sklearn_fit, pinned  # noqa: E402

from nmf import _products  # noqa: E402


def problems():
    """{name: (X, k)}: the 6 x 2 example and four planted low-rank products."""
    rng = np.random.default_rng(0)

    def planted(n, m, k):
        return rng.random((n, k)) @ rng.random((k, m)), k

    return {"6x2 k=2": (data.EXAMPLE_6X2, 2), "50x20 k=5": planted(50, 20, 5),
            "200x100 k=10": planted(200, 100, 10), "400x250 k=10": planted(400, 250, 10),
            "400x300 k=10": planted(400, 300, 10)}


@contextlib.contextmanager
def products_in_kernels():
    """nmf's dense products in its own kernels whatever their size."""
    saved = _products.SMALL_PRODUCT_WORK
    _products.SMALL_PRODUCT_WORK = 0
    try:
        yield
    finally:
        _products.SMALL_PRODUCT_WORK = saved


def _in_kernels(fit):
    def fit_in_kernels(*args):
        with products_in_kernels():
            return fit(*args)
    return fit_in_kernels


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    fits = {"nmf": _nmf_fit(solver="cd"), "kernels": _in_kernels(_nmf_fit(solver="cd"))}
    try:
        fits["sklearn"] = _sklearn_fit("cd")
    except ImportError:         # the bench extra brings it; without it, nmf alone
        pass
    print(f"'cd', dense float64, 1 thread, {args.iterations} iterations:"
          f" us per iteration, medians of {args.repeats} repeats")
    print(f"{'problem':14s} " + " ".join(f"{name:>11s}" for name in fits)
          + "  nmf/kernels" + ("  nmf/sklearn" if "sklearn" in fits else ""))
    with pinned(1):
        for name, (X, k) in problems().items():
            W0, H0 = data.initial_factors(X, k)
            seconds = {lib: [] for lib in fits}
            for _ in range(args.repeats):
                for lib, fit in fits.items():
                    W, H = W0.copy(), H0.copy()
                    start = time.perf_counter()
                    fit(X, W, H, args.iterations)
                    seconds[lib].append(time.perf_counter() - start)
            per_iteration = {lib: statistics.median(s) / args.iterations * 1e6
                             for lib, s in seconds.items()}
            line = f"{name:14s} " + " ".join(f"{per_iteration[lib]:11.1f}" for lib in fits)
            for other in ("kernels", "sklearn"):
                if other in fits:
                    ratio = statistics.median(a / b for a, b in zip(seconds["nmf"],
                                                                    seconds[other]))
                    line += f"  {ratio:11.2f}"
            print(line)


if __name__ == "__main__":
    main()
