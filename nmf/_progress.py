"""Progress of a solver's outer loop: the verbose printout and an optional callback."""
import time


class Progress:
    """Prints every iteration when verbose > 1, else the first, the last and at most one
    a second; calls callback(n_iter, ratio) once per iteration when given (the command
    line's progress display). ratio is the solver's stopping quantity relative to its
    start: it stops at tol."""

    def __init__(self, verbose, solver, callback=None):
        self.verbose = verbose
        self.solver = solver
        self.callback = callback
        self.start = time.perf_counter()
        self.last_print = -float("inf")
        self.last_iter = None

    def report(self, n_iter, ratio, force=False):
        if self.callback is not None and n_iter != self.last_iter:
            self.callback(n_iter, ratio)
        self.last_iter = n_iter
        if not self.verbose:
            return
        now = time.perf_counter()
        if force or self.verbose > 1 or n_iter == 1 or now - self.last_print >= 1.0:
            self.last_print = now
            print(f"[nmf {self.solver}] iteration {n_iter:5d}  violation ratio {ratio:.3e}"
                  f"  elapsed {now - self.start:.2f} s", flush=True)
