"""The `nmf` command: fit, transform, info, and the built-in example (the default).

Exit status: 0 on success, 2 on an error (one line on stderr, never a traceback, no
output file left), 130 on Ctrl-C (SIGINT), 143 on SIGTERM. Reading and fitting run in
a worker thread while the main thread waits, draws the progress line and receives the
signals, so an interruption is handled within a fraction of a second even while a
compiled kernel runs; outputs are written only once the work is complete.
"""
import argparse
import contextlib
import functools
import math
import os
import signal
import sys
import threading
import time
import warnings

import numpy as np

from . import __version__, _example, _io
from . import _validation as v
from ._factorize import default_init, factorize
from ._scaling import reconstruction_error
from ._threads import get_num_threads, set_num_threads

EXIT_ERROR = 2
# How often the waiting main thread wakes up to draw progress and notice Ctrl-C.
_POLL_SECONDS = 0.1
_ERRORS = (ValueError, TypeError, OSError, MemoryError)


# ---- option values ------------------------------------------------------------------
def _number(text, kind, low, high=math.inf):
    """text as a kind (int or float) in [low, high], or an argparse error."""
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or not low <= value <= high:
        what = "an integer" if kind is int else "a number"
        bounds = f"in [{low}, {high}]" if high < math.inf else f">= {low}"
        raise argparse.ArgumentTypeError(f"must be {what} {bounds}; got {text!r}")
    return value


def _positive_int(text):
    return _number(text, int, 1)


def _non_negative_float(text):
    return _number(text, float, 0)


def _fraction(text):
    return _number(text, float, 0, 1)


def _seed(text):
    return _number(text, int, 0, 2**32 - 1)


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error reported on one line."""

    def error(self, message):
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _parser():
    parser = _Parser(
        prog="nmf",
        description="Non-negative matrix factorization X ~ W H from the shell. Without"
                    " a command, runs the built-in example.")
    parser.add_argument("--version", action="version", version=f"nmf {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    solver = _Parser(add_help=False)
    group = solver.add_argument_group("factorization")
    group.add_argument("--solver", choices=v.SOLVERS, default="cd",
                       help="coordinate descent or projected gradient (default: cd)")
    group.add_argument("--init", choices=[i for i in v.INITS if i != "custom"],
                       help="initial factors (default: nndsvd when K < min(rows, columns),"
                            " else random)")
    group.add_argument("--max-iter", type=_positive_int, default=200, metavar="N",
                       help="iteration limit (default: 200)")
    group.add_argument("--tol", type=_non_negative_float, default=1e-4, metavar="T",
                       help="stopping tolerance, relative to the first iteration"
                            " (default: 1e-4)")
    group.add_argument("--alpha", type=_non_negative_float, default=0.0, metavar="A",
                       help="regularization strength (default: 0)")
    group.add_argument("--l1-ratio", type=_fraction, default=0.0, metavar="R",
                       help="L1 share of the penalty, in [0, 1] (default: 0)")
    group.add_argument("--regularization", default="both",
                       choices=[*v.REGULARIZATIONS, "none"],
                       help="which factors the penalty applies to (default: both)")
    group.add_argument("--random-state", type=_seed, default=0, metavar="S",
                       help="seed of the initialization (default: 0)")

    compute = _Parser(add_help=False)
    group = compute.add_argument_group("computation")
    group.add_argument("--dtype", choices=["float32", "float64"],
                       help="compute in this precision (default: float32 input stays"
                            " float32, anything else is float64)")
    group.add_argument("--threads", type=_positive_int, metavar="N",
                       help="threads of the compiled kernels (default: OpenMP's)")

    messages = _Parser(add_help=False)
    group = messages.add_argument_group("messages").add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", action="store_true",
                       help="print nothing on stderr but errors")
    group.add_argument("-v", "--verbose", action="store_true",
                       help="show progress on stderr even when it is not a terminal")

    command = commands.add_parser(
        "example", parents=[solver, compute, messages],
        help="factorize the built-in example (the default)",
        description="Factorize the built-in example, a TF-IDF matrix of 2,000 Debian"
                    " package descriptions, and print the topics found.")
    command.add_argument("-k", "--n-components", type=_positive_int, default=10,
                         metavar="K", help="number of topics (default: 10)")
    command.add_argument("--top", type=_positive_int, default=8, metavar="N",
                         help="terms shown per topic (default: 8)")
    command.set_defaults(run=_run_example)

    command = commands.add_parser(
        "fit", parents=[solver, compute, messages], help="factorize a matrix, save W and H",
        description="Factorize INPUT (.npy, .npz, .mtx, .csv or .tsv) as W H and save"
                    " W, H, n_iter, reconstruction_err and the parameters used in"
                    " OUTPUT (.npz).")
    command.add_argument("input", metavar="INPUT")
    command.add_argument("-k", "--n-components", type=_positive_int, required=True,
                         metavar="K", help="rank of the factorization")
    command.add_argument("-o", "--output", required=True, metavar="OUTPUT",
                         help="where to write the model (.npz)")
    command.add_argument("-f", "--force", action="store_true",
                         help="overwrite OUTPUT if it exists")
    command.set_defaults(run=_run_fit)

    command = commands.add_parser(
        "transform", parents=[compute, messages], help="apply a fitted model to new data",
        description="Solve W for INPUT with the components H of a model written by"
                    " 'nmf fit' held fixed, with the model's solver and parameters.")
    command.add_argument("input", metavar="INPUT")
    command.add_argument("--model", required=True, metavar="MODEL",
                         help="a model written by 'nmf fit' (.npz)")
    command.add_argument("-o", "--output", required=True, metavar="OUTPUT",
                         help="where to write W (.npy, .csv or .tsv)")
    command.add_argument("-f", "--force", action="store_true",
                         help="overwrite OUTPUT if it exists")
    command.set_defaults(run=_run_transform)

    command = commands.add_parser(
        "info", help="describe a matrix file without factorizing it",
        description="Print the shape, dtype, density and range of each INPUT.")
    command.add_argument("inputs", nargs="+", metavar="INPUT")
    command.set_defaults(run=_run_info, threads=None)
    return parser


# ---- progress -------------------------------------------------------------------------
def _duration(seconds):
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


class _Progress:
    """Progress of a command on stderr: the phase, then per iteration the violation
    ratio (stop at tol), elapsed time and an estimate of the time remaining.

    The worker sets `phase` and calls `record` (the solver's callback); the main thread
    calls `draw` and `close`. On a terminal one line is rewritten in place; otherwise
    (--verbose) a line is printed at most every second, and at once when the phase
    changes (reading, fitting, the first iteration).
    """

    _KEEP = 256  # iterations remembered for the estimate, thinned beyond that

    def __init__(self, enabled, stream, max_iter=None, tol=None):
        self.enabled = enabled
        self.stream = stream
        self.live = enabled and stream.isatty()
        self.max_iter, self.tol = max_iter, tol
        self.start = time.monotonic()
        self.phase = "starting"
        self.history = []  # (n_iter, ratio, time)
        self.last_drawn = -math.inf
        self.drawn_text = None
        self.drawn_phase = None

    def record(self, n_iter, ratio):
        history = self.history + [(n_iter, ratio, time.monotonic())]
        if len(history) > self._KEEP:
            history = history[:-1:2] + history[-1:]
        self.history = history

    def remaining(self):
        """Estimated seconds left: iterations to reach tol at the recent rate of
        decrease (log-linear), capped by max_iter, times the time per iteration."""
        history = self.history
        (n_first, _, t_first), (n_iter, ratio, now) = history[0], history[-1]
        if n_iter == n_first:
            return None
        left = self.max_iter - n_iter
        if ratio <= self.tol:
            left = 0
        elif self.tol > 0:
            n_half, ratio_half, _ = history[len(history) // 2]
            if n_half < n_iter and ratio_half > ratio > 0:
                slope = (math.log(ratio) - math.log(ratio_half)) / (n_iter - n_half)
                left = min(left, math.ceil(math.log(self.tol / ratio) / slope))
        return left * (now - t_first) / (n_iter - n_first)

    def text(self):
        elapsed = f"elapsed {_duration(time.monotonic() - self.start)}"
        if not self.history:
            return f"{self.phase}  {elapsed}"
        n_iter, ratio, _ = self.history[-1]
        remaining = self.remaining()
        remaining = "" if remaining is None else f"  remaining ~{_duration(remaining)}"
        return (f"iteration {n_iter}/{self.max_iter}  relative violation {ratio:.2e}"
                f" (stop at {self.tol:.0e})  {elapsed}{remaining}")

    def draw(self, final=False):
        now = time.monotonic()
        phase = "iterations" if self.history else self.phase
        interval = 0.2 if self.live else 1.0
        if not self.enabled or (not final and phase == self.drawn_phase
                                and now - self.last_drawn < interval):
            return
        text = self.text()
        if self.live:
            self.stream.write(f"\r\x1b[K{text}")
        elif text != self.drawn_text:
            self.stream.write(f"{text}\n")
        self.stream.flush()
        self.last_drawn, self.drawn_text, self.drawn_phase = now, text, phase

    def close(self):
        """Erase the live line; print the last state when not live."""
        if self.live and self.drawn_text is not None:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
        elif self.enabled:
            self.draw(final=True)


def _progress(args, max_iter=None, tol=None):
    return _Progress(args.verbose or (not args.quiet and sys.stderr.isatty()), sys.stderr,
                     max_iter, tol)


def _in_worker(work, progress):
    """Return work(), run in a worker thread while this (main) thread waits, draws the
    progress and stays able to receive KeyboardInterrupt."""
    outcome = {}

    def run():
        try:
            outcome["result"] = work()
        except BaseException as exc:  # handed to the main thread below
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="nmf-worker", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(_POLL_SECONDS)
            progress.draw()
    finally:
        progress.close()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def _warn(args, messages):
    if not args.quiet:
        for message in messages:
            print(f"nmf: warning: {message}", file=sys.stderr)


# ---- factorization --------------------------------------------------------------------
def _solver_params(args, shape, n_components):
    """The factorization's parameters as used (init resolved), JSON-friendly."""
    init = args.init or default_init(n_components, *shape)
    regularization = None if args.regularization == "none" else args.regularization
    return {"n_components": n_components, "solver": args.solver, "init": init,
            "max_iter": args.max_iter, "tol": args.tol, "alpha": args.alpha,
            "l1_ratio": args.l1_ratio, "regularization": regularization,
            "random_state": args.random_state}


def _factorize(X, params, progress, H=None):
    """factorize() with params; returns (W, H, n_iter, error, seconds, warnings).

    H given: solve W only, H held fixed. error is ||X - WH||_F."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X, W, H, n_iter = factorize(
            X, None, H, params["n_components"], init=params["init"],
            update_H=H is None, solver=params["solver"], tol=params["tol"],
            max_iter=params["max_iter"], alpha=params["alpha"],
            l1_ratio=params["l1_ratio"], regularization=params["regularization"],
            random_state=params["random_state"], callback=progress.record)
        error = reconstruction_error(X, W, H, get_num_threads())
    seconds = time.perf_counter() - start
    return W, H, n_iter, error, seconds, [str(w.message) for w in caught]


def _run_fit(args):
    _io.check_output(args.output, _io.MODEL_SUFFIXES, args.force)
    progress = _progress(args, args.max_iter, args.tol)

    def work():
        progress.phase = f"reading {args.input}"
        X = _io.read_input(args.input, args.dtype)
        params = _solver_params(args, X.shape, args.n_components)
        progress.phase = f"fitting ({params['init']} init, {params['solver']} solver)"
        return X.dtype, params, _factorize(X, params, progress)

    dtype, params, (W, H, n_iter, error, seconds, caught) = _in_worker(work, progress)
    params.update(dtype=str(dtype), input=args.input, nmf_version=__version__)
    _io.save_model(args.output, W, H, n_iter, error, params, args.force)
    _warn(args, caught)
    if not args.quiet:
        print(f"nmf: wrote {args.output}: W {W.shape[0]} x {W.shape[1]}, H {H.shape[0]} x"
              f" {H.shape[1]}, {dtype}; reconstruction error {error:.6g}, {n_iter}"
              f" iterations, {seconds:.2f} s", file=sys.stderr)
    return 0


def _run_transform(args):
    _io.check_output(args.output, _io.FACTOR_SUFFIXES, args.force)
    H, params = _io.load_model(args.model)
    progress = _progress(args, params["max_iter"], params["tol"])

    def work():
        progress.phase = f"reading {args.input}"
        X = _io.read_input(args.input, args.dtype)
        if X.shape[1] != H.shape[1]:
            raise ValueError(f"{args.input} has {X.shape[1]} columns but the model"
                             f" {args.model} was fitted on {H.shape[1]}.")
        progress.phase = "solving W"
        return _factorize(X, params, progress, H=H)

    W, _, n_iter, error, seconds, caught = _in_worker(work, progress)
    _io.save_factor(args.output, W, args.force)
    _warn(args, caught)
    if not args.quiet:
        print(f"nmf: wrote {args.output}: W {W.shape[0]} x {W.shape[1]}, {W.dtype};"
              f" reconstruction error {error:.6g}, {n_iter} iterations, {seconds:.2f} s",
              file=sys.stderr)
    return 0


def _run_info(args):
    def describe(path):
        X = _io.read_matrix(path)
        try:
            return _io.describe(X)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}.") from exc

    for path in args.inputs:  # in the worker, so that Ctrl-C works on a huge file too
        facts = _in_worker(functools.partial(describe, path), _Progress(False, sys.stderr))
        usable = facts["non_finite"] == 0 and (facts["min"] is None or facts["min"] >= 0)
        lines = [
            f"{path}",
            f"  layout      {facts['layout']}",
            f"  shape       {facts['shape'][0]} x {facts['shape'][1]}",
            f"  dtype       {facts['dtype']}",
            f"  non-zeros   {facts['non_zero']} ({facts['density']:.3%} dense)",
            f"  min, max    {facts['min']:.6g}, {facts['max']:.6g}"
            if facts["min"] is not None else "  min, max    none (no finite entry)",
        ]
        if facts["stored"] != facts["shape"][0] * facts["shape"][1]:
            lines.insert(4, f"  stored      {facts['stored']} entries")
        if facts["non_finite"]:
            lines.append(f"  non-finite  {facts['non_finite']} entries (NaN or infinity)")
        lines.append("  usable by nmf fit: "
                     + ("yes" if usable else "no (needs finite, non-negative values)"))
        print("\n".join(lines))
    return 0


def _run_example(args):
    progress = _progress(args, args.max_iter, args.tol)

    def work():
        progress.phase = "loading the example"
        X, terms, packages = _example.load_example()
        if args.dtype is not None:
            X = X.astype(args.dtype)
        params = _solver_params(args, X.shape, args.n_components)
        progress.phase = f"fitting ({params['init']} init, {params['solver']} solver)"
        return X, terms, packages, params, _factorize(X, params, progress)

    X, terms, packages, params, (W, H, n_iter, error, seconds, caught) = _in_worker(
        work, progress)
    _warn(args, caught)
    n, m = X.shape
    print(f"Built-in example: TF-IDF of {n} Debian package descriptions, {m} terms,"
          f" {X.nnz / (n * m):.2%} non-zero ({X.dtype}).")
    print(f"{params['n_components']} components (solver {params['solver']!r}, init"
          f" {params['init']!r}), each with its top terms and the packages using it most:\n")
    width = len(str(len(H)))
    for t, (top_terms, top_packages) in enumerate(
            _example.topics(W, H, terms, packages, args.top), start=1):
        print(f"{t:{width}d}  {' '.join(top_terms)}")
        print(f"{'':{width}}    e.g. {', '.join(top_packages)}")
    norm_X = math.sqrt(float(X.data.astype(np.float64) @ X.data))
    threads = get_num_threads()
    print(f"\n||X - WH|| = {error:.4g} (||X|| = {norm_X:.4g}) after {n_iter} iterations,"
          f" {seconds:.2f} s on {threads} thread{'s' if threads > 1 else ''}")
    return 0


# ---- entry point ----------------------------------------------------------------------
class _Terminated(BaseException):
    """SIGTERM, raised in the main thread like KeyboardInterrupt for SIGINT."""


@contextlib.contextmanager
def _sigterm_raises():
    """Within: SIGTERM (a job scheduler stopping us) unwinds like Ctrl-C, so temporary
    files are removed; the previous handler is restored on exit."""
    def terminate(signum, frame):
        raise _Terminated

    try:
        previous = signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _error_line(exc):
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    if isinstance(exc, MemoryError):
        return "out of memory"
    return " ".join(str(exc).split()) or type(exc).__name__


@contextlib.contextmanager
def _thread_count(n_threads):
    """Within: the kernels use n_threads (None: leave the setting alone)."""
    if n_threads is None:
        yield
        return
    set_num_threads(n_threads)
    try:
        yield
    finally:
        set_num_threads(None)


def main(argv=None):
    """Run the `nmf` command with argv (default: sys.argv[1:]); return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help",
                                                                "--version")):
        argv = ["example", *argv]  # `nmf`, `nmf --threads 1`: the built-in example
    args = _parser().parse_args(argv)
    try:
        with _sigterm_raises(), _thread_count(args.threads):
            status = args.run(args)
            sys.stdout.flush()  # a closed pipe shows here, not at the interpreter's exit
            return status
    except (KeyboardInterrupt, _Terminated) as exc:
        interrupted = isinstance(exc, KeyboardInterrupt)
        print(f"nmf: {'interrupted' if interrupted else 'terminated'}", file=sys.stderr,
              flush=True)
        status = 128 + (signal.SIGINT if interrupted else signal.SIGTERM)
        if threading.active_count() > 1:  # a worker may still be inside a kernel
            with contextlib.suppress(OSError, ValueError):
                sys.stdout.flush()
            os._exit(status)
        return status
    except BrokenPipeError:  # e.g. `nmf | head -1`: stop quietly, as if killed by SIGPIPE
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except _ERRORS as exc:
        print(f"nmf: error: {_error_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
