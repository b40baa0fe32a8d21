"""Lin's projected-gradient subproblem, compiled: a whole solve in one call.

The subproblem, on the row-major form the solvers use (F is W, or Ht = H.T):

    min_{F >= 0}  0.5 * tr(F G F^T) - <C, F>,      gradient  F G - C,

with F (r, k), the Gram G (k, k) and the cross product C (r, k). It is solved as in
C.-J. Lin, "Projected gradient methods for non-negative matrix factorization", Neural
Computation 19 (2007), `nlssubprob`: projected gradient steps F <- max(F - alpha *
grad, 0) with an Armijo-type step search (sufficient decrease sigma = 0.01, step factor
beta = 0.1, at most 20 trial steps per iteration), the step size carried over from one
iteration to the next. The driver (nmf/_pg.py) owns the outer loop, the tolerances and
the warnings.

Cost per iteration: one BLAS product F @ G (r x k x k), one BLAS d^T d (r x k x k / 2)
per trial step (the quadratic term <d, d G> is then <G, d^T d>, a k x k sum), and a
few single passes over the (r, k) arrays for everything else. The passes run over
fixed row chunks with per-chunk partial sums added in chunk order, so results do not
depend on the number of threads.
"""
from cpython.exc cimport PyErr_CheckSignals
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport sqrt
from libc.limits cimport INT_MAX

from ._blas cimport gemm, syrk

cdef double SIGMA = 0.01        # sufficient decrease: (1 - SIGMA) <grad, d> + <d, Qd> / 2 < 0
cdef double STEP_FACTOR = 0.1   # Lin's beta: trial steps shrink or grow by this factor
cdef int MAX_TRIALS = 20        # trial steps per iteration

cdef enum:
    MAX_CHUNKS = 64             # passes split the rows into at most this many chunks
    N_SUMS = 2                  # partial sums a pass returns per chunk
    # What a pass does (see _pass_chunk).
    GRADIENT = 0
    TRIAL = 1
    ACCEPT = 2
    PROJECTED = 3

# Threads for the passes only when a pass has at least this many entries.
cdef Py_ssize_t MIN_PARALLEL_SIZE = 1 << 16
# Take the GIL to look for a pending signal (Ctrl-C) after about this many
# multiply-adds: a few milliseconds of work.
cdef double SIGNAL_CHECK_WORK = 1 << 24


cdef inline floating _step(floating f, floating g, floating alpha) noexcept nogil:
    """The projected step max(f - alpha * g, 0), the same bits wherever it is used."""
    cdef floating x = f - alpha * g
    return x if x > 0 else 0


cdef void _pass_chunk(int kind, floating *F, floating *grad, const floating *C,
                      floating *d, floating alpha, floating alpha_prev, bint compare,
                      Py_ssize_t start, Py_ssize_t end, double *sums) noexcept nogil:
    """One pass over the entries [start, end) of the flattened (r, k) arrays.

    GRADIENT   grad <- grad - C;  sums: ||grad||^2, ||projected grad||^2
    TRIAL      d <- max(F - alpha grad, 0) - F;  sums: <grad, d>, and (when compare)
               the number of entries where the candidate differs from the previous
               candidate max(F - alpha_prev grad, 0)
    ACCEPT     F <- max(F - alpha grad, 0)
    PROJECTED  sums: ||projected grad||^2 (entries with grad < 0 or F > 0)

    Sums are accumulated in double over 4 interleaved lanes (so that the additions
    overlap), then added in a fixed order.
    """
    cdef Py_ssize_t i, j
    cdef floating f, g, fn
    cdef double a[4]
    cdef double b[4]
    cdef double gg
    for j in range(4):
        a[j] = 0
        b[j] = 0
    if kind == GRADIENT:
        for i in range(start, end):
            g = grad[i] - C[i]
            grad[i] = g
            gg = <double> g * g
            a[i & 3] += gg
            b[i & 3] += gg if (g < 0 or F[i] > 0) else 0
    elif kind == TRIAL:
        for i in range(start, end):
            f = F[i]
            g = grad[i]
            fn = _step(f, g, alpha)
            d[i] = fn - f
            a[i & 3] += <double> g * (fn - f)
            if compare:
                b[i & 3] += fn != _step(f, g, alpha_prev)
    elif kind == ACCEPT:
        for i in range(start, end):
            F[i] = _step(F[i], grad[i], alpha)
    else:
        for i in range(start, end):
            g = grad[i]
            b[i & 3] += <double> g * g if (g < 0 or F[i] > 0) else 0
    sums[0] = (a[0] + a[1]) + (a[2] + a[3])
    sums[1] = (b[0] + b[1]) + (b[2] + b[3])


cdef void _pass(int kind, floating *F, floating *grad, const floating *C, floating *d,
                floating alpha, floating alpha_prev, bint compare, Py_ssize_t r,
                Py_ssize_t k, int n_threads, double *sums) noexcept nogil:
    """Run a pass over all r rows in fixed chunks; sums as in _pass_chunk."""
    cdef double partial[MAX_CHUNKS * N_SUMS]
    cdef Py_ssize_t c, n_chunks = min(<Py_ssize_t> MAX_CHUNKS, r)
    if n_threads > 1 and r * k >= MIN_PARALLEL_SIZE:
        for c in prange(n_chunks, num_threads=n_threads, schedule="static"):
            _pass_chunk(kind, F, grad, C, d, alpha, alpha_prev, compare,
                        (c * r // n_chunks) * k, ((c + 1) * r // n_chunks) * k,
                        &partial[c * N_SUMS])
    else:
        for c in range(n_chunks):
            _pass_chunk(kind, F, grad, C, d, alpha, alpha_prev, compare,
                        (c * r // n_chunks) * k, ((c + 1) * r // n_chunks) * k,
                        &partial[c * N_SUMS])
    sums[0] = 0
    sums[1] = 0
    for c in range(n_chunks):
        sums[0] += partial[c * N_SUMS]
        sums[1] += partial[c * N_SUMS + 1]


cdef void _gradient(floating *F, const floating *gram, const floating *C, floating *grad,
                    Py_ssize_t r, Py_ssize_t k, int n_threads, double *sums) noexcept nogil:
    """grad <- F @ gram - C; sums: ||grad||^2, ||projected grad||^2."""
    gemm(c'N', c'N', <int> k, <int> r, <int> k, <floating> 1, gram, <int> k, F, <int> k,
         <floating> 0, grad, <int> k)
    _pass(GRADIENT, F, grad, C, NULL, 0, 0, False, r, k, n_threads, sums)


cdef double _quadratic(const floating *gram, const floating *d, floating *dtd,
                       Py_ssize_t r, Py_ssize_t k) noexcept nogil:
    """<d, d @ gram> = <gram, d^T d>, with d^T d from one BLAS syrk (lower triangle)."""
    cdef Py_ssize_t s, t
    cdef double total = 0
    syrk(c'U', c'N', <int> k, <int> r, <floating> 1, d, <int> k, <floating> 0, dtd,
         <int> k)
    for s in range(k):
        total += <double> gram[s * k + s] * dtd[s * k + s]
        for t in range(s):
            total += (<double> gram[s * k + t] + gram[t * k + s]) * dtd[s * k + t]
    return total


cdef int _check_shape(str name, const Py_ssize_t *shape, Py_ssize_t rows,
                      Py_ssize_t cols) except -1:
    if shape[0] != rows or shape[1] != cols:
        raise ValueError(f"{name} must have shape ({rows}, {cols}); got "
                         f"({shape[0]}, {shape[1]}).")
    return 0


cdef int _check_sizes(Py_ssize_t r, Py_ssize_t k) except -1:
    if r > INT_MAX // max(k, 1) or k > INT_MAX:
        raise ValueError(f"the factor's shape ({r}, {k}) is too large for BLAS (int sizes).")
    return 0


def projected_gradient(
    const floating[:, ::1] F,       # (r, k) factor
    const floating[:, ::1] gram,    # (k, k) Gram of the other factor, + L2 and sparseness terms
    const floating[:, ::1] cross,   # (r, k) X @ other (or X.T @ other), - L1
    floating[:, ::1] grad,          # (r, k) out: F @ gram - cross
    int n_threads=1,
):
    """Compute the gradient into grad; return (||grad||^2, ||projected grad||^2).

    The projected gradient keeps the entries where grad < 0 or F > 0.
    """
    cdef Py_ssize_t r = F.shape[0], k = F.shape[1]
    cdef double sums[N_SUMS]
    _check_shape("gram", gram.shape, k, k)
    _check_shape("cross", cross.shape, r, k)
    _check_shape("grad", grad.shape, r, k)
    _check_sizes(r, k)
    if r == 0 or k == 0:
        return 0.0, 0.0
    with nogil:
        _gradient(<floating *> &F[0, 0], &gram[0, 0], &cross[0, 0], &grad[0, 0], r, k,
                  n_threads, sums)
    return sums[0], sums[1]


def pg_subproblem(
    floating[:, ::1] F,             # (r, k) factor, updated in place
    const floating[:, ::1] gram,    # (k, k) Gram of the other factor, + L2 and sparseness terms
    const floating[:, ::1] cross,   # (r, k) X @ other (or X.T @ other), - L1
    floating[:, ::1] grad,          # (r, k) out: the gradient at the top of the last iteration
    floating[:, ::1] step,          # (r, k) work buffer
    floating[:, ::1] step_gram,     # (k, k) work buffer
    double tol,
    int max_iter,
    int n_threads=1,
):
    """Solve min_{F >= 0} 0.5 tr(F gram F^T) - <cross, F> from F by Lin's projected gradient.

    Each iteration computes grad = F @ gram - cross and stops when the norm of the
    projected gradient (entries with grad < 0 or F > 0) is below tol, or is 0;
    otherwise it searches a step size alpha (starting from the last one; 1 at the
    first iteration) and moves F to max(F - alpha * grad, 0).

    Returns
    -------
    n_iter : int
        The iteration at which the test passed, or max_iter.
    alpha : float
        The step size at return (the next iteration would start from it).
    converged : bool
        Whether the test passed (F was not moved after the last gradient).
    projected_norm_sq : float
        ||projected grad||^2 of the returned grad, projected with the returned F.

    Raises KeyboardInterrupt (or whatever a signal handler raises) when a signal
    arrives during the solve; it looks for one every few milliseconds of work.
    """
    cdef Py_ssize_t r = F.shape[0], k = F.shape[1]
    cdef double sums[N_SUMS]
    cdef double alpha = 1, alpha_prev = 1, gradd, dQd, work = 0
    cdef double size = <double> r * k, product_work = <double> r * k * k
    cdef int n_iter = 0, trial
    cdef bint converged = False, sufficient, decrease, growing
    cdef floating *f
    cdef floating *g
    cdef const floating *c
    cdef const floating *q
    cdef floating *dd
    cdef floating *dtd
    _check_shape("gram", gram.shape, k, k)
    _check_shape("cross", cross.shape, r, k)
    _check_shape("grad", grad.shape, r, k)
    _check_shape("step", step.shape, r, k)
    _check_shape("step_gram", step_gram.shape, k, k)
    _check_sizes(r, k)
    if max_iter < 1:
        raise ValueError(f"max_iter must be >= 1; got {max_iter}.")
    if not tol >= 0:
        raise ValueError(f"tol must be >= 0; got {tol}.")
    if r == 0 or k == 0:
        return 1, alpha, True, 0.0
    f, g, c, q = &F[0, 0], &grad[0, 0], &cross[0, 0], &gram[0, 0]
    dd, dtd = &step[0, 0], &step_gram[0, 0]
    with nogil:
        for n_iter in range(1, max_iter + 1):
            _gradient(f, q, c, g, r, k, n_threads, sums)
            work += product_work + size
            if sqrt(sums[1]) < tol or sums[1] == 0:
                converged = True
                break
            decrease = False
            for trial in range(MAX_TRIALS):
                if work >= SIGNAL_CHECK_WORK:
                    work = 0
                    with gil:
                        PyErr_CheckSignals()
                # Growing the step: count where the candidate differs from the last.
                growing = trial > 0 and not decrease
                _pass(TRIAL, f, g, c, dd, <floating> alpha, <floating> alpha_prev,
                      growing, r, k, n_threads, sums)
                work += size
                if growing and sums[1] == 0:
                    # A longer step gives the same candidate: take it (Lin's Hp == Hn).
                    _pass(ACCEPT, f, g, c, dd, <floating> alpha_prev, 0, False, r, k,
                          n_threads, sums)
                    work += size
                    break
                gradd = sums[0]
                dQd = _quadratic(q, dd, dtd, r, k)
                work += product_work / 2
                sufficient = (1 - SIGMA) * gradd + 0.5 * dQd < 0
                if trial == 0:
                    decrease = not sufficient
                if decrease:
                    if sufficient:
                        _pass(ACCEPT, f, g, c, dd, <floating> alpha, 0, False, r, k,
                              n_threads, sums)
                        work += size
                        break
                    alpha *= STEP_FACTOR
                elif not sufficient:
                    # Back to the last candidate that passed (never F itself: the
                    # first trial of the growing phase moved F and passed).
                    _pass(ACCEPT, f, g, c, dd, <floating> alpha_prev, 0, False, r, k,
                          n_threads, sums)
                    work += size
                    break
                else:
                    alpha_prev = alpha
                    alpha /= STEP_FACTOR
        if not converged:
            _pass(PROJECTED, f, g, c, dd, 0, 0, False, r, k, n_threads, sums)
    return n_iter, alpha, converged, sums[1]
