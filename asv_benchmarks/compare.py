"""nmf side by side with scikit-learn: same data, same start, one process.

For each data set and rank k, every variant (solver x dtype x thread count) runs in
rounds, A B C ... A B C ..., and each ratio is taken within a round; the tables
show medians over rounds (in a round, each solver's dtypes and thread counts run back
to back, scikit-learn's 'cd' right after nmf's):

* per-iteration time: a fit of a fixed number of iterations (tol=0) from the same
  initial factors (init='custom' for both libraries), divided by that number;
* the floor: one round's time of the products no iteration can avoid, X H^T, X^T W,
  W^T W and H H^T, with NumPy's BLAS for dense X and scipy.sparse for sparse X (and
  again through nmf's own product functions, when nmf has them);
* time to target: the wall time of a fit that stops at the first iteration whose
  objective is within 1e-3 (relative) of the best objective either solver of the
  pair reaches within its trace budget (float64);
* peak memory beyond X: tracemalloc's peak during one short fit, X and the caller's
  initial factors excluded;
* with more than one thread count: nmf 'cd''s ratio to its own 1-thread time by where
  the host had put the CPUs (placement.py: a cache line's round trip between the
  first two, measured before and after each 1- and 2-thread pair).

It also draws the convergence figure: objective gap to the best objective vs time,
log-log, for nmf 'cd' and 'pg' and scikit-learn's 'cd' and 'mu', on one set.

    python asv_benchmarks/compare.py --quick
    python asv_benchmarks/compare.py --threads 1 2 --out results.md \\
        --figure asv_benchmarks/convergence.png

debian_tfidf.npz is read from $NMF_BENCH_DATA (default ../shared/data beside the
repository) and skipped when missing.
"""
import argparse
import contextlib
import dataclasses
import gc
import inspect
import math
import os
import pathlib
import platform
import subprocess
import sys
import time
import tracemalloc
import warnings

import numpy as np
import scipy
import scipy.sparse as sp
import threadpoolctl

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import placement  # noqa: E402
from benchmarks import data  # noqa: E402

import nmf  # noqa: E402

TARGET = 1e-3          # relative distance to the best objective counted as "reached"
PLATEAU = 1e-9         # a trace stops once a chunk improves the objective less than this
CHUNK_GROWTH = 0.05    # CD-type traces advance by 5% of the iterations done so far
GRID_GROWTH = 1.25     # other solvers' traces: independent fits at a geometric grid
SETS = ["dense_2000x1000", "dense_5000x2000", "sparse_20000x5000", "debian_tfidf"]
QUICK_SETS = ["dense_2000x1000", "sparse_20000x5000", "debian_tfidf"]
FIGURE_CASE = ("debian_tfidf", 30)
FIGURE_FALLBACK = ("sparse_20000x5000", 30)
PLACED_SOLVER = "nmf cd"  # the solver whose thread ratio is shown by the CPUs' placement


@dataclasses.dataclass
class Budget:
    """How much work one run of the script does."""
    iterations: dict        # set -> iterations of a per-iteration fit
    pg_iterations: dict     # the same for 'pg', whose iterations cost far more
    rounds: int             # rounds of the per-iteration measurements
    target_rounds: int      # rounds of the time-to-target fits
    trace_seconds: float    # time budget of each solver's convergence trace
    trace_iterations: int   # iteration cap of each trace
    memory_iterations: int  # iterations of the tracemalloc fit


FULL = Budget({"dense_2000x1000": 20, "dense_5000x2000": 10, "sparse_20000x5000": 15,
               "debian_tfidf": 5},
              {"dense_2000x1000": 5, "dense_5000x2000": 2, "sparse_20000x5000": 3,
               "debian_tfidf": 1}, rounds=7, target_rounds=3, trace_seconds=6.0,
              trace_iterations=3000, memory_iterations=3)
QUICK = Budget({"dense_2000x1000": 10, "dense_5000x2000": 5, "sparse_20000x5000": 10,
                "debian_tfidf": 3},
               {"dense_2000x1000": 5, "dense_5000x2000": 2, "sparse_20000x5000": 3,
                "debian_tfidf": 1}, rounds=3, target_rounds=1, trace_seconds=1.0,
               trace_iterations=300, memory_iterations=2)


# ---- the solvers -----------------------------------------------------------------------
@dataclasses.dataclass
class Solver:
    name: str
    fit: object             # fit(X, W, H, max_iter) -> (W, H); may overwrite W and H
    memoryless: bool        # continuing from a fit's (W, H) equals running it longer
    float32: bool = True    # measured on the float32 rows too
    missing: str = ""       # why it cannot run here ("" when it can)


def _nmf_fit(**options):
    def fit(X, W, H, max_iter):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nmf.ConvergenceWarning)
            W, H, _ = nmf.non_negative_factorization(
                X, W, H, n_components=W.shape[1], init="custom", tol=0, max_iter=max_iter,
                **options)
        return W, H
    return fit


def _sklearn_fit(solver):
    from sklearn.decomposition import non_negative_factorization
    from sklearn.exceptions import ConvergenceWarning

    def fit(X, W, H, max_iter):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            W, H, _ = non_negative_factorization(
                X, W, H, n_components=W.shape[1], init="custom", solver=solver, tol=0,
                max_iter=max_iter)
        return W, H
    return fit


def solvers():
    """nmf 'cd', scikit-learn's 'cd' (next to it, for the headline ratio), nmf 'cd'
    with accelerated=True, nmf 'pg' and scikit-learn's 'mu', in the order a round
    runs them; each probed on the 6 x 2 example (a solver that fails there is
    reported, not measured)."""
    found = [Solver("nmf cd", _nmf_fit(solver="cd"), memoryless=True),
             Solver("sklearn cd", _sklearn_fit("cd"), memoryless=True),
             Solver("nmf cd accel", _nmf_fit(solver="cd", accelerated=True),
                    memoryless=True),
             Solver("nmf pg", _nmf_fit(solver="pg"), memoryless=False),
             Solver("sklearn mu", _sklearn_fit("mu"), memoryless=True, float32=False)]
    for solver in found:
        probe(solver)
    return found


def probe(solver):
    """Fit the 6 x 2 example; on failure, say why in solver.missing."""
    W, H = data.initial_factors(data.EXAMPLE_6X2, 2)
    try:
        solver.fit(data.EXAMPLE_6X2, W, H, 2)
    except Exception as error:  # report it, measure the others
        solver.missing = f"{type(error).__name__}: {error}"


# ---- the floor ---------------------------------------------------------------------------
def _library_products(X, W, Ht, out_n, out_m):
    """X Ht, X^T W and the two Grams with NumPy (dense X) or scipy.sparse (sparse X)."""
    if sp.issparse(X):
        X @ Ht
        X.T @ W
    else:
        np.dot(X, Ht, out=out_n)
        np.dot(X.T, W, out=out_m)
    W.T @ W
    Ht.T @ Ht


def _nmf_products():
    """The same products through nmf's own functions (on nmf's thread count when they
    take one), or None if nmf has none."""
    try:
        from nmf import _products as products
        X_times, Xt_times, gram = products.X_times, products.Xt_times, products.gram
    except (ImportError, AttributeError):
        return None
    threaded = "n_threads" in inspect.signature(X_times).parameters
    threaded_gram = "n_threads" in inspect.signature(gram).parameters
    # Where nmf chooses a product's kernel and threads once a fit (product_function),
    # choose them once per operands and thread count here too, for the last X only.
    product_function = getattr(products, "product_function", None)
    chosen_for = [None]     # the X whose choices `chosen` holds
    chosen = {}             # (k, n_threads) -> (X @ F, X.T @ F)

    def run(X, W, Ht, out_n, out_m, out_k):
        n_threads, k = nmf.get_num_threads(), W.shape[1]
        if product_function is not None:
            if chosen_for[0] is not X:
                chosen_for[0] = X
                chosen.clear()
            if (k, n_threads) not in chosen:
                chosen[k, n_threads] = (product_function(X, False, k, n_threads),
                                        product_function(X, True, k, n_threads))
            times, t_times = chosen[k, n_threads]
            times(Ht, out_n)
            t_times(W, out_m)
        else:
            threads = {"n_threads": n_threads} if threaded else {}
            X_times(X, Ht, out=out_n, **threads)
            Xt_times(X, W, out=out_m, **threads)
        threads = {"n_threads": n_threads} if threaded_gram else {}
        gram(W, out=out_k, **threads)
        gram(Ht, out=out_k, **threads)
    return run


# ---- threads and the machine ---------------------------------------------------------------
@contextlib.contextmanager
def pinned(n_threads):
    with threadpoolctl.threadpool_limits(limits=n_threads):
        nmf.set_num_threads(n_threads)
        try:
            yield
        finally:
            nmf.set_num_threads(None)


def describe_threads():
    lines = []
    for lib in threadpoolctl.threadpool_info():
        extra = f", kernel {lib['architecture']}" if lib.get("architecture") else ""
        layer = f", {lib['threading_layer']}" if lib.get("threading_layer") else ""
        lines.append(f"{lib['user_api']}: {lib['internal_api']} {lib.get('version') or ''}"
                     f"{extra}{layer}, {lib['num_threads']} thread(s)"
                     f" ({pathlib.Path(lib['filepath']).name})")
    lines.append(f"nmf kernels: {nmf.get_num_threads()} thread(s)")
    return lines


def describe_machine(args, budget):
    import sklearn

    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = "?"
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        commit = subprocess.run(["git", "-C", str(data.REPOSITORY), "rev-parse", "--short",
                                 "HEAD"], capture_output=True, text=True,
                                check=True).stdout.strip()
    lines = [
        f"command: python asv_benchmarks/compare.py {' '.join(sys.argv[1:])}",
        f"machine: {cpu}, {os.cpu_count()} cores; Python {platform.python_version()}",
        f"nmf {nmf.__version__} (commit {commit}, {pathlib.Path(nmf.__file__).parent}),"
        f" scikit-learn {sklearn.__version__}, numpy {np.__version__}, scipy {scipy.__version__}",
        "load average at the start (1, 5, 15 min): "
        + ", ".join(f"{x:.1f}" for x in os.getloadavg()),
        f"rounds: {budget.rounds} per-iteration, {budget.target_rounds} time-to-target;"
        f" trace budget {budget.trace_seconds:g} s or {budget.trace_iterations} iterations"
        " per solver",
    ]
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if name in os.environ:
            lines.append(f"WARNING: {name}={os.environ[name]} is set; it can select a slower"
                         " OpenBLAS kernel. Unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE"
                         " together for benchmark runs.")
    if len(args.threads) > 1:
        ns = placement.round_trip_ns()
        lines.append("CPUs' placement at the start: " + (
            "not measured (no C compiler, or one CPU)" if ns is None
            else f"round trip {ns:.0f} ns ({placement.describe(ns)})"))
    for n_threads in args.threads:
        with pinned(n_threads):
            lines.append(f"pinned to {n_threads} thread(s):")
            lines += ["  " + line for line in describe_threads()]
    return lines


# ---- measuring -------------------------------------------------------------------------------
# Seconds a timed call at more than one thread waits first; see ready_for_timing.
SETTLE_SECONDS = 0.5


def ready_for_timing(W0, H0):
    """Just before a timed call: let other threads go idle, then warm fresh memory.

    Threads: after a call, OpenBLAS's worker threads keep spinning on their core for a
    while, and GNU OpenMP's briefly. On two cores, a 2-thread call made while they spin
    shares a core with them: nmf's 6-iteration debian_tfidf k=30 fits at 2 threads took
    0.79-0.82 of the 1-thread time right after a 1500 x 1500 NumPy matmul, 0.71 after
    the matmul and 0.05 s of sleep, 0.61 after 0.2 s, 0.56-0.57 after 0.5 s or 1 s,
    against 0.56-0.57 without the matmul (AMD Zen 2 VM; `fixed_cost.py debian_tfidf -k
    30 --threads 1 2 --blas-before --settle S`). So every timed call at more than one
    thread, of every solver and the floors, starts SETTLE_SECONDS after the last one
    ended.

    Memory: on virtual machines with free page reporting (this project's CI and
    benchmark machines: Firecracker, page_reporting_order=11), memory left free for
    about two seconds goes back to the host and costs ~2 ms per MB to touch again (64
    MB: 90-170 ms against 8 ms). A fit allocates its buffers fresh, so its first
    iteration would pay that whenever the solver measured before it ran for a few
    seconds: in the full run nmf's 5-iteration debian_tfidf k=30 fits took 66 ms an
    iteration against 53 ms alone. Memory touched and freed just before is handed out
    again warm, for every solver alike; the timings then measure the solvers, not the
    host.
    """
    if nmf.get_num_threads() > 1:
        time.sleep(SETTLE_SECONDS)
    block = np.ones((4 * (W0.nbytes + H0.nbytes) + (32 << 20)) // 8)
    del block


def timed(fit, X, W0, H0, max_iter):
    """Seconds of one fit from copies of (W0, H0) made outside the timer."""
    W, H = W0.copy(), H0.copy()
    ready_for_timing(W0, H0)
    gc.collect()
    start = time.perf_counter()
    fit(X, W, H, max_iter)
    return time.perf_counter() - start


def traced_peak(fit, X, W0, H0, max_iter):
    """tracemalloc's peak bytes during one fit (the copies of W0, H0 made before)."""
    W, H = W0.copy(), H0.copy()
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        fit(X, W, H, max_iter)
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


class Trace:
    """A solver's convergence from (W0, H0): points (iterations, seconds, objective).

    CD-type solvers continue from their last factors in chunks of 5% of the
    iterations so far (seconds = the calls' summed wall time); the others are fitted
    anew at each point of a geometric grid of iterations (seconds = that fit's time).
    """

    def __init__(self, solver, X, W0, H0):
        self.solver, self.X, self.W0, self.H0 = solver, X, W0, H0
        self.W, self.H = W0, H0
        self.points = [(0, 0.0, data.objective(X, W0, H0))]
        self.spent = 0.0
        self.flat = False

    def best(self):
        return min(p[2] for p in self.points)

    def extend(self, seconds, max_iterations, goal=-math.inf):
        """Advance until `seconds` more are spent, max_iterations are reached, the
        objective stops moving or falls to `goal`."""
        stop = self.spent + seconds
        while (self.spent < stop and self.points[-1][0] < max_iterations and not self.flat
               and self.points[-1][2] > goal):
            self._step()
        return self

    def _step(self):
        done = self.points[-1][0]
        if self.solver.memoryless:
            iterations = max(1, int(done * CHUNK_GROWTH))
            W, H = self.W.copy(), self.H.copy()
        else:
            iterations = max(done + 1, math.ceil(done * GRID_GROWTH))
            W, H = self.W0.copy(), self.H0.copy()
        ready_for_timing(W, H)
        start = time.perf_counter()
        W, H = self.solver.fit(self.X, W, H, iterations)
        seconds = time.perf_counter() - start
        self.spent += seconds
        objective = data.objective(self.X, W, H)
        if self.solver.memoryless:
            self.W, self.H = W, H
            self.points.append((done + iterations, self.points[-1][1] + seconds, objective))
        else:
            self.points.append((iterations, seconds, objective))
        self.flat = self.points[-2][2] - objective <= PLATEAU * abs(objective)


def first_reaching(trace, target):
    """The fewest iterations whose objective is <= target, or None. CD-type traces
    give it to within one chunk (5%); other solvers are bisected between grid
    points with fresh fits (their objectives decrease monotonically)."""
    points = trace.points
    index = next((i for i, p in enumerate(points) if p[2] <= target), None)
    if index is None:
        return None
    high = points[index][0]
    if trace.solver.memoryless or index == 0:
        return high
    low = points[index - 1][0]          # objective above the target
    while high - low > 1:
        middle = (low + high) // 2
        W, H = trace.solver.fit(trace.X, trace.W0.copy(), trace.H0.copy(), middle)
        if data.objective(trace.X, W, H) <= target:
            high = middle
        else:
            low = middle
    return high


def median(values):
    return float(np.median(values)) if values else math.nan


# ---- one data set at one rank ----------------------------------------------------------------
def run_case(name, X64, k, args, budget, all_solvers, nmf_products, want_traces_of):
    dtypes = ["float64", "float32"] if args.float32 else ["float64"]
    Xs = {dtype: X64.astype(dtype) for dtype in dtypes}
    W64, H64 = data.initial_factors(X64, k)
    starts = {dtype: (W64.astype(dtype), H64.astype(dtype)) for dtype in dtypes}
    usable = [s for s in all_solvers if not s.missing]
    reference = next((s for s in usable if s.name == "sklearn cd"), None)
    n_iter = budget.iterations[name]
    pg_iter = budget.pg_iterations[name]

    # Convergence traces (float64, first thread count). A pair's target is within
    # TARGET of the best objective either solver reached; a solver that has not
    # reached it gets the budget once more to do so.
    traces, targets = {}, {}
    with pinned(args.threads[0]):
        for solver in usable:
            if solver.name in want_traces_of:
                traces[solver.name] = Trace(solver, Xs["float64"], *starts["float64"]).extend(
                    budget.trace_seconds, budget.trace_iterations)
        pairs = [(traces[s.name], traces[reference.name]) for s in usable
                 if reference is not None and reference.name in traces
                 and s.name.startswith("nmf") and s.name in traces]
        for pair in pairs:
            goal = min(t.best() for t in pair) * (1 + TARGET)
            for t in pair:
                t.extend(budget.trace_seconds, 2 * budget.trace_iterations, goal)
            targets[pair[0].solver.name] = (goal, [first_reaching(t, goal) for t in pair])

    # Interleaved rounds. Within a round each solver's variants run back to back (nmf
    # cd float64 at 1 thread, at 2, float32 at 1, at 2, then scikit-learn's cd the
    # same way, then the next solver), so that a thread or dtype ratio pairs fits a
    # second or two apart rather than half a round apart, and nmf's cd meets
    # scikit-learn's next to it: on the benchmark VMs the host moves memory-bound
    # timings by tens of percent over minutes.
    times = {}   # (measure, dtype, threads, solver) -> [seconds per round]

    def record(key, seconds):
        times.setdefault(key, []).append(seconds)

    operands = {}
    for dtype in dtypes:
        X = Xs[dtype]
        operands[dtype] = (np.ascontiguousarray(starts[dtype][1].T),
                           np.empty((X.shape[0], k), dtype),
                           np.empty((X.shape[1], k), dtype), np.empty((k, k), dtype))
    for round_ in range(budget.rounds):
        for dtype in dtypes:
            X, (W0, H0) = Xs[dtype], starts[dtype]
            Ht0, out_n, out_m, out_k = operands[dtype]
            for n_threads in args.threads:
                with pinned(n_threads):
                    ready_for_timing(W0, H0)
                    start = time.perf_counter()
                    for _ in range(n_iter):
                        _library_products(X, W0, Ht0, out_n, out_m)
                    record(("iter", dtype, n_threads, "floor"),
                           (time.perf_counter() - start) / n_iter)
                    if nmf_products is not None:
                        ready_for_timing(W0, H0)
                        start = time.perf_counter()
                        for _ in range(n_iter):
                            nmf_products(X, W0, Ht0, out_n, out_m, out_k)
                        record(("iter", dtype, n_threads, "nmf floor"),
                               (time.perf_counter() - start) / n_iter)
        for solver in usable:
            count = pg_iter if solver.name == "nmf pg" else n_iter
            # nmf cd's thread ratio by the CPUs' placement: the round trip between
            # them just before and just after its fits at each thread count.
            placed = (solver.name == PLACED_SOLVER and len(args.threads) > 1
                      and 1 in args.threads)
            for dtype in dtypes:
                if dtype == "float32" and not solver.float32:
                    continue
                if placed:
                    before = placement.round_trip_ns()
                for n_threads in args.threads:
                    with pinned(n_threads):
                        record(("iter", dtype, n_threads, solver.name),
                               timed(solver.fit, Xs[dtype], *starts[dtype], count) / count)
                if placed:
                    record(("placement", dtype, solver.name),
                           (before, placement.round_trip_ns()))
        if round_ < budget.target_rounds:
            X, (W0, H0) = Xs["float64"], starts["float64"]
            for solver_name, (_, reached) in targets.items():
                pair = (next(s for s in usable if s.name == solver_name), reference)
                for role, solver, iterations in zip(("nmf", "ref"), pair, reached):
                    if iterations is None:
                        continue
                    for n_threads in args.threads:
                        with pinned(n_threads):
                            record(("target", "float64", n_threads, solver_name, role),
                                   timed(solver.fit, X, W0, H0, iterations))

    memory = {}
    for dtype in dtypes:
        with pinned(args.threads[-1]):
            for solver in usable:
                if dtype == "float64" or solver.float32:
                    memory[dtype, solver.name] = traced_peak(
                        solver.fit, Xs[dtype], *starts[dtype], budget.memory_iterations)
    return dict(name=name, k=k, shape=X64.shape, dtypes=dtypes, times=times,
                targets=targets, traces=traces, memory=memory,
                X_bytes={dtype: data.nbytes(Xs[dtype]) for dtype in dtypes},
                trace_seconds={name: t.points[-1][1] for name, t in traces.items()})


# ---- tables ----------------------------------------------------------------------------------
def per_round_ratio(times, key_a, key_b):
    a, b = times.get(key_a, []), times.get(key_b, [])
    return median([x / y for x, y in zip(a, b)]) if a and b else math.nan


def round_placement(before, after):
    """A round's placement from the round trips around its fits: 'near' or 'far' when
    both say so, else 'moved' (or '?' when not measured)."""
    both = {placement.describe(before), placement.describe(after)}
    return both.pop() if len(both) == 1 else "?" if "?" in both else "moved"


def fmt(value, digits=2):
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else f"{value:.{digits}f}"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def iteration_table(cases, args, has_nmf_floor):
    header = ["set", "dtype", "k", "threads", "floor ms", "nmf cd ms", "sklearn cd ms",
              "nmf cd / sklearn cd", "nmf cd / floor", "sklearn cd / floor",
              "nmf pg / floor", "sklearn mu / floor"]
    if has_nmf_floor:
        header.append("nmf cd / nmf-products floor")
    header += ["nmf cd / its 1 thread", "nmf cd / its float64"]
    rows = []
    for case in cases:
        t = case["times"]
        for dtype in case["dtypes"]:
            for n in args.threads:
                def ms(solver):
                    return fmt(1e3 * median(t.get(("iter", dtype, n, solver), [])), 1)

                def ratio(a, b, a_dtype=dtype, a_threads=n, b_dtype=dtype, b_threads=n):
                    return fmt(per_round_ratio(t, ("iter", a_dtype, a_threads, a),
                                               ("iter", b_dtype, b_threads, b)))
                row = [case["name"], dtype, case["k"], n, ms("floor"), ms("nmf cd"),
                       ms("sklearn cd"), ratio("nmf cd", "sklearn cd"),
                       ratio("nmf cd", "floor"), ratio("sklearn cd", "floor"),
                       ratio("nmf pg", "floor"), ratio("sklearn mu", "floor")]
                if has_nmf_floor:
                    row.append(ratio("nmf cd", "nmf floor"))
                row.append(ratio("nmf cd", "nmf cd", b_threads=1)
                           if n != 1 and 1 in args.threads else "-")
                row.append(ratio("nmf cd", "nmf cd", b_dtype="float64")
                           if dtype != "float64" else "-")
                rows.append(row)
    return table(header, rows)


def placement_table(cases, args):
    """nmf cd at each thread count over 1 thread, medians of the rounds by placement."""
    header = ["set", "dtype", "k", "threads", "round trips ns", "rounds near / far / moved",
              "nmf cd / its 1 thread: near", "far", "all rounds"]
    rows = []
    for case in cases:
        t = case["times"]
        for dtype in case["dtypes"]:
            trips = t.get(("placement", dtype, PLACED_SOLVER), [])
            if not trips:
                continue
            places = [round_placement(*pair) for pair in trips]
            measured = [ns for pair in trips for ns in pair if ns is not None]
            span = (f"{min(measured):.0f}-{max(measured):.0f}" if measured else "-")
            for n in args.threads:
                if n == 1:
                    continue
                ratios = [a / b for a, b in zip(t[("iter", dtype, n, PLACED_SOLVER)],
                                                t[("iter", dtype, 1, PLACED_SOLVER)])]

                def of(place):
                    chosen = [r for r, p in zip(ratios, places) if p == place]
                    return fmt(median(chosen)) if chosen else "-"
                rows.append([case["name"], dtype, case["k"], n, span,
                             " / ".join(str(places.count(p)) for p in ("near", "far",
                                                                       "moved")),
                             of("near"), of("far"), fmt(median(ratios))])
    return table(header, rows)


def placement_section(cases, args):
    rows = placement_table(cases, args)
    if len(rows) <= 2:          # header only: one thread count, or nothing measured
        return []
    return ["", "### Threads by the CPUs' placement",
            "",
            "nmf cd's per-iteration time at each thread count over its 1-thread time, the"
            " median over the rounds in which the CPUs were near (a cache line's round"
            f" trip between them at most {placement.NEAR_NS:g} ns) or far, both before and"
            " after the round's nmf cd fits of that dtype (asv_benchmarks/placement.py);"
            " 'moved': near once and far once.",
            "", *rows]


def target_table(cases, args):
    header = ["set", "k", "threads", "nmf solver", "target objective",
              "iterations nmf / sklearn cd", "nmf s", "sklearn cd s", "nmf / sklearn cd"]
    rows = []
    for case in cases:
        for solver_name, (goal, reached) in case["targets"].items():
            for n in args.threads:
                nmf_t = case["times"].get(("target", "float64", n, solver_name, "nmf"), [])
                ref_t = case["times"].get(("target", "float64", n, solver_name, "ref"), [])
                if reached[0] is None:   # nmf never got there: a lower bound
                    ratio = f"> {case['trace_seconds'][solver_name] / median(ref_t):.2f}"
                elif reached[1] is None:  # sklearn never got there: an upper bound
                    ratio = f"< {median(nmf_t) / case['trace_seconds']['sklearn cd']:.2f}"
                else:
                    ratio = fmt(per_round_ratio(
                        case["times"], ("target", "float64", n, solver_name, "nmf"),
                        ("target", "float64", n, solver_name, "ref")))
                rows.append([case["name"], case["k"], n, solver_name, f"{goal:.6g}",
                             " / ".join("not reached" if r is None else str(r)
                                        for r in reached),
                             fmt(median(nmf_t)), fmt(median(ref_t)), ratio])
    return table(header, rows)


def memory_table(cases, all_solvers):
    names = [s.name for s in all_solvers if not s.missing]
    header = (["set", "dtype", "k", "X MB", "budget MB"] + [f"{n} MB" for n in names]
              + ["nmf cd / budget", "nmf cd / sklearn cd"])
    rows = []
    for case in cases:
        n, m = case["shape"]
        for dtype in case["dtypes"]:
            size = np.dtype(dtype).itemsize
            budget = 2 * (n + m) * case["k"] * size   # W, H, one n x k, one k x m
            mb = {s: case["memory"].get((dtype, s)) for s in names}
            row = [case["name"], dtype, case["k"], fmt(case["X_bytes"][dtype] / 1e6, 1),
                   fmt(budget / 1e6, 1)]
            row += [fmt(mb[s] / 1e6, 1) if mb[s] is not None else "-" for s in names]
            nmf_cd, sk_cd = mb.get("nmf cd"), mb.get("sklearn cd")
            row.append(fmt(nmf_cd / budget) if nmf_cd is not None else "-")
            row.append(fmt(nmf_cd / sk_cd) if nmf_cd and sk_cd else "-")
            rows.append(row)
    return table(header, rows)


def report(cases, args, budget, all_solvers, machine, has_nmf_floor):
    lines = ["## nmf vs scikit-learn", ""]
    lines += ["```"] + machine + ["```", ""]
    for solver in all_solvers:
        if solver.missing:
            lines.append(f"- {solver.name}: not measured ({solver.missing})")
    lines += [
        "", "### Per-iteration time",
        "",
        "A fit of a fixed number of iterations (tol=0) from the same initial factors,"
        " divided by that number (fixed costs included): "
        + ", ".join(f"{name} {budget.iterations[name]}" for name in args.sets)
        + " iterations; for 'pg', whose iterations each solve two subproblems, "
        + ", ".join(f"{name} {budget.pg_iterations[name]}" for name in args.sets)
        + ". The floor is the time of X H^T, X^T W, W^T W and H H^T with NumPy's BLAS"
        " (dense X) or scipy.sparse (sparse X); the nmf-products floor is the same"
        " products through nmf's own functions. Medians of per-round ratios.",
        "", *iteration_table(cases, args, has_nmf_floor),
        *placement_section(cases, args),
        "", f"### Time to reach the target (float64; objective within {TARGET:g} of the"
        " best either solver of the pair reaches)",
        "",
        "Iterations are those of the first trace point at or below the target (CD-type"
        " traces advance in chunks of 5%); the times are fits of exactly that many"
        " iterations, in rounds. 'not reached': not within the trace budget (the ratio"
        " is then a bound).",
        "", *target_table(cases, args),
        "", f"### Peak memory beyond X (tracemalloc, MB; {budget.memory_iterations}-iteration"
        f" fit, {args.threads[-1]} thread(s))",
        "",
        "tracemalloc counts memory allocated through Python's and NumPy's allocators:"
        " every NumPy array, including scipy.sparse results and the arrays either"
        " library's compiled code allocates through NumPy. It does not see memory"
        " malloc'ed directly in C or Fortran (OpenBLAS work buffers, C temporaries of"
        " either library). X and the caller's initial factors are excluded (scikit-learn"
        " updates the caller's W in place; nmf copies it). budget = W + H + one n x k and"
        " one k x m buffer.",
        "", *memory_table(cases, all_solvers), ""]
    return lines


# ---- the figure ------------------------------------------------------------------------------
def figure(case, path, n_threads):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    best = min(t.best() for t in case["traces"].values())
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for name, t in case["traces"].items():
        points = t.points
        seconds = np.array([p[1] for p in points[1:]])
        gap = np.array([(p[2] - best) / best for p in points[1:]])
        keep = gap > 0
        ax.plot(seconds[keep], gap[keep], marker=".", markersize=3, label=name)
    ax.axhline(TARGET, color="grey", linestyle=":", linewidth=1, label=f"target {TARGET:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("seconds")
    ax.set_ylabel("(objective - best) / best")
    n, m = case["shape"]
    ax.set_title(f"{case['name']} ({n} x {m}), k={case['k']}, float64, {n_threads} thread(s)"
                 f"\nbest objective 0.5||X - WH||^2 = {best:.6g}", fontsize=9)
    ax.grid(True, which="both", linewidth=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# ---- main ------------------------------------------------------------------------------------
def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="a short run (a few minutes): fewer rounds, iterations and sets")
    parser.add_argument("--threads", type=int, nargs="+", default=[1],
                        help="thread counts to measure (default: 1)")
    parser.add_argument("--sets", nargs="+", choices=SETS, help="data sets (default: all;"
                        f" --quick: {' '.join(QUICK_SETS)})")
    parser.add_argument("-k", "--k", type=int, nargs="+", default=[10, 30], dest="ranks",
                        help="ranks (default: 10 30)")
    parser.add_argument("--no-float32", dest="float32", action="store_false",
                        help="skip the float32 rows")
    parser.add_argument("--out", type=pathlib.Path, help="also write the tables here")
    parser.add_argument("--figure", type=pathlib.Path,
                        help="write the convergence figure (PNG) here")
    args = parser.parse_args(argv)
    if any(n < 1 for n in args.threads):
        parser.error("--threads must be positive")
    args.threads = sorted(set(args.threads))
    args.sets = args.sets or (QUICK_SETS if args.quick else SETS)
    return args


def main(argv=None):
    args = parse_args(argv)
    budget = QUICK if args.quick else FULL
    all_solvers = solvers()
    nmf_products = _nmf_products()
    machine = describe_machine(args, budget)
    print("\n".join(machine), flush=True)

    figure_case = None
    if args.figure is not None:
        available = [c for c in (FIGURE_CASE, FIGURE_FALLBACK)
                     if c[0] in args.sets and c[1] in args.ranks
                     and (c[0] != "debian_tfidf" or data.debian_available())]
        figure_case = available[0] if available else None
        if figure_case is None:
            print("no figure: none of the figure's sets is selected", file=sys.stderr)

    cases = []
    for name in args.sets:
        if name == "debian_tfidf" and not data.debian_available():
            print(f"skipping debian_tfidf: not found in {data.data_dir()}", flush=True)
            continue
        X = data.load(name)
        for k in args.ranks:
            started = time.perf_counter()
            wanted = {"nmf cd", "nmf pg", "nmf cd accel", "sklearn cd"}
            if (name, k) == figure_case:
                wanted.add("sklearn mu")
            case = run_case(name, X, k, args, budget, all_solvers, nmf_products, wanted)
            cases.append(case)
            print(f"  {name} k={k}: {time.perf_counter() - started:.0f} s", flush=True)
            if args.out is not None:   # the tables so far, in case the run is cut short
                args.out.write_text("\n".join(report(
                    cases, args, budget, all_solvers, machine, nmf_products is not None))
                    + "\n", encoding="utf-8")
            if (name, k) == figure_case:
                figure(case, args.figure, args.threads[0])
                print(f"  wrote {args.figure}", flush=True)

    machine = machine + ["load average at the end (1, 5, 15 min): "
                         + ", ".join(f"{x:.1f}" for x in os.getloadavg())]
    lines = report(cases, args, budget, all_solvers, machine, nmf_products is not None)
    text = "\n".join(lines)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
