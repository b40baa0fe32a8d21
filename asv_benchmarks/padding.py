"""Sparse 'cd' fits with and without rows padded to cache lines (nmf/_padding.py).

For each dtype, fits of `short` and `long` iterations (tol=0, the comparison's initial
factors, one thread unless --threads) with the rows padded as nmf decides and with
plain rows (padded_row_length answering k), the two variants alternating in each
round and taking turns at going first. Prints each variant's marginal iteration (as
fixed_cost.py: (t_long - t_short) / (long - short)), the padded / plain ratio and the
float32 / float64 ratio of each variant (per-round ratios, medians), e.g.

    python asv_benchmarks/padding.py sparse_20000x5000 -k 10
"""
import argparse
import pathlib
import statistics
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from compare import _nmf_fit, pinned, timed  # noqa: E402
from fixed_cost import iteration_counts, operands  # noqa: E402

import nmf._padding as padding  # noqa: E402

SETS = ("sparse_20000x5000", "debian_tfidf")


def plain_rows(rows, k, itemsize, l2_bytes=None):
    """padded_row_length's answer without padding."""
    return k


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("set", choices=SETS)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--iterations", type=int, nargs=2, default=[1, 6],
                        metavar=("SHORT", "LONG"))
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    short, long = iteration_counts(args, parser)
    dtypes = ("float64", "float32")
    arrays = operands(args.set, args.k, dtypes)
    rule = padding.padded_row_length
    variants = {"padded": rule, "plain": plain_rows}
    fit = _nmf_fit()
    marginal = {}
    try:
        with pinned(args.threads):
            for r in range(args.rounds):
                order = list(variants) if r % 2 == 0 else list(variants)[::-1]
                for variant in order:
                    padding.padded_row_length = variants[variant]
                    for dtype, (X, W0, H0) in arrays.items():
                        t_short = timed(fit, X, W0, H0, short)
                        t_long = timed(fit, X, W0, H0, long)
                        marginal.setdefault((variant, dtype), []).append(
                            (t_long - t_short) / (long - short))
    finally:
        padding.padded_row_length = rule

    def ratio(a, b):
        return statistics.median(x / y for x, y in zip(marginal[a], marginal[b]))

    X = arrays["float64"][0]
    n_other = X.shape[1] if X.format == "csr" else X.shape[0]
    print(f"{args.set}, k={args.k}, {args.threads} thread(s): marginal iteration, medians"
          f" of {args.rounds} rounds (ms); rows of the gathered factor ({n_other} rows)")
    for dtype in dtypes:
        width = rule(n_other, args.k, arrays[dtype][0].dtype.itemsize)
        print(f"{dtype:>8s}: {width} entries a row padded;"
              f" padded {statistics.median(marginal['padded', dtype]) * 1e3:.3f},"
              f" plain {statistics.median(marginal['plain', dtype]) * 1e3:.3f};"
              f" padded / plain {ratio(('padded', dtype), ('plain', dtype)):.3f}")
    for variant in variants:
        print(f"float32 / float64, {variant}:"
              f" {ratio((variant, 'float32'), (variant, 'float64')):.3f}")


if __name__ == "__main__":
    main()
