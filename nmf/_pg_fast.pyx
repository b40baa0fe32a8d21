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

Cost per iteration: BLAS gemms for F @ G and, per trial step, for d^T d (k x k; the
quadratic term <d, d G> is then <G, d^T d>: no (r, k) product d @ G to write and read
back, and faster than dsymm, dsyrk or dtrmm for these shapes), both on row blocks of
at most BLAS_CALL_WORK multiply-adds (run in parallel when large); plus single
element-wise passes over the (r, k) arrays: gradient with projection and first trial
step, each further trial step, the accepted step. Those passes are in
nmf/_pg_passes.h (compiled for AVX-512, AVX2 and the baseline, picked at load time
where the platform allows) and return their sums (<grad, d>, the projected gradient's
norm), kept in fixed lanes and tiles added in a fixed order, so that results do not
depend on the number of threads. Below a few dozen multiply-adds, products are plain
loops: a BLAS call costs more than the arithmetic of tiny problems.
"""
import numpy as np

from cpython.exc cimport PyErr_CheckSignals
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport isfinite, sqrt
from libc.limits cimport INT_MAX

from ._blas cimport dot, gemm
from ._threads import thread_limit


cdef extern from "_pg_passes.h" nogil:
    void nmf_pg_gradient_d(const double *F, double *grad, const double *C, double *d,
                           double alpha, Py_ssize_t n, double *sums)
    void nmf_pg_gradient_s(const float *F, float *grad, const float *C, float *d,
                           float alpha, Py_ssize_t n, double *sums)
    void nmf_pg_trial_d(const double *F, const double *grad, double *d, double alpha,
                        Py_ssize_t n, double *sums)
    void nmf_pg_trial_s(const float *F, const float *grad, float *d, float alpha,
                        Py_ssize_t n, double *sums)
    void nmf_pg_projected_d(const double *F, const double *grad, Py_ssize_t n,
                            double *sums)
    void nmf_pg_projected_s(const float *F, const float *grad, Py_ssize_t n,
                            double *sums)
    void nmf_pg_accept_d(double *F, const double *grad, double alpha, Py_ssize_t n)
    void nmf_pg_accept_s(float *F, const float *grad, float alpha, Py_ssize_t n)

cdef double SIGMA = 0.01        # sufficient decrease: (1 - SIGMA) <grad, d> + <d, Qd> / 2 < 0
cdef double STEP_FACTOR = 0.1   # Lin's beta: trial steps shrink or grow by this factor
cdef int MAX_TRIALS = 20        # trial steps per iteration

cdef enum:
    # Entries per tile: a pass's sums are added tile by tile (float32 partial sums stay
    # short), as are _sum_squares's BLAS dots (far below OpenBLAS's threshold for
    # threading a dot, so the same for any BLAS threads).
    TILE = 2048
    # Below this many multiply-adds a product or sum is a plain loop: a BLAS call
    # costs more than the arithmetic there.
    SMALL = 64
    MAP_CHUNKS = 64             # a parallel pass splits the rows into this many chunks
    # What a pass does (see _range).
    GRADIENT = 0
    PROJECTED = 1
    TRIAL = 2
    ACCEPT = 3

# Threads for the element-wise passes only when they have at least this many entries:
# arrays beyond a core's cache, where a pass takes milliseconds. Below, a pass takes
# microseconds and waking threads (which then spin, competing with BLAS's own) costs
# more than it saves.
cdef Py_ssize_t MIN_PARALLEL_SIZE = 1 << 20
# Multiply-adds per BLAS call in the products (F @ G, d^T d), which are cut into row
# blocks of at most this size: OpenBLAS runs such calls on its single-threaded
# small-matrix kernels, while bigger ones go to its threaded driver, and with several
# BLAS threads a handover per call made whole fits several times slower. Row blocks
# also make the bits independent of BLAS's thread count.
cdef double BLAS_CALL_WORK = 1e6
# Take the GIL to look for a pending signal (Ctrl-C) after about this many
# multiply-adds: a few milliseconds of work.
cdef double SIGNAL_CHECK_WORK = 1 << 24


cdef inline floating _step(floating f, floating g, floating alpha) noexcept nogil:
    """The projected step max(f - alpha * g, 0): the same operations, so the same bits,
    as the passes of nmf/_pg_passes.h."""
    cdef floating x = f - alpha * g
    return x if x > 0 else 0


cdef inline double _dot(Py_ssize_t n, const floating *x, const floating *y) noexcept nogil:
    """sum x * y in double; BLAS unless n is tiny (its call costs more than the sum)."""
    cdef Py_ssize_t i
    cdef double total = 0
    if n >= SMALL:
        return dot(<int> n, x, 1, y, 1)
    for i in range(n):
        total += <double> x[i] * y[i]
    return total


cdef void _range(int kind, floating *F, floating *grad, const floating *C, floating *d,
                 floating alpha, Py_ssize_t start, Py_ssize_t end,
                 double *sums) noexcept nogil:
    """One pass over the entries [start, end) of the (r, k) arrays; sums[0:2] += its sums.

    GRADIENT   grad <- grad - C, then d <- max(F - alpha grad, 0) - F (the first trial
               step, computed here to save a pass); sums: ||projected grad||^2, <grad, d>
    TRIAL      d <- max(F - alpha grad, 0) - F;  sums: -, <grad, d>
    PROJECTED  sums: ||projected grad||^2, -
    ACCEPT     F <- max(F - alpha grad, 0)

    The work is in nmf/_pg_passes.h, tile by tile (float32 sums stay short), the
    tiles' sums added in order.
    """
    cdef double tile_sums[2]
    cdef Py_ssize_t n, tile = start
    if kind == ACCEPT:
        if floating is double:
            nmf_pg_accept_d(F + start, grad + start, alpha, end - start)
        else:
            nmf_pg_accept_s(F + start, grad + start, alpha, end - start)
        return
    while tile < end:
        n = min(<Py_ssize_t> TILE, end - tile)
        if kind == GRADIENT:
            if floating is double:
                nmf_pg_gradient_d(F + tile, grad + tile, C + tile, d + tile, alpha, n,
                                  tile_sums)
            else:
                nmf_pg_gradient_s(F + tile, grad + tile, C + tile, d + tile, alpha, n,
                                  tile_sums)
        elif kind == TRIAL:
            if floating is double:
                nmf_pg_trial_d(F + tile, grad + tile, d + tile, alpha, n, tile_sums)
            else:
                nmf_pg_trial_s(F + tile, grad + tile, d + tile, alpha, n, tile_sums)
        elif floating is double:
            nmf_pg_projected_d(F + tile, grad + tile, n, tile_sums)
        else:
            nmf_pg_projected_s(F + tile, grad + tile, n, tile_sums)
        sums[0] += tile_sums[0]
        sums[1] += tile_sums[1]
        tile += n


cdef void _pass(int kind, floating *F, floating *grad, const floating *C, floating *d,
                floating alpha, Py_ssize_t r, Py_ssize_t k, int n_threads,
                double *sums) noexcept nogil:
    """A pass over all entries (see _range); sums[0:2] <- its sums.

    The rows are split in fixed chunks, run in parallel when the arrays are large, and
    the chunks' sums are added in order: the same result for any thread count.
    """
    cdef double partial[2 * MAP_CHUNKS]
    cdef Py_ssize_t c, n_chunks = min(<Py_ssize_t> MAP_CHUNKS, r)
    for c in range(2 * n_chunks):
        partial[c] = 0
    if n_threads > 1 and r * k >= MIN_PARALLEL_SIZE:
        for c in prange(n_chunks, num_threads=n_threads, schedule="static"):
            _range(kind, F, grad, C, d, alpha, (c * r // n_chunks) * k,
                   ((c + 1) * r // n_chunks) * k, &partial[2 * c])
    else:
        for c in range(n_chunks):
            _range(kind, F, grad, C, d, alpha, (c * r // n_chunks) * k,
                   ((c + 1) * r // n_chunks) * k, &partial[2 * c])
    sums[0] = 0
    sums[1] = 0
    for c in range(n_chunks):
        sums[0] += partial[2 * c]
        sums[1] += partial[2 * c + 1]


cdef double _sum_squares(const floating *x, Py_ssize_t n) noexcept nogil:
    """sum x^2 in double: BLAS dots over tiles, added in order."""
    cdef Py_ssize_t start = 0
    cdef double total = 0
    while start < n:
        total += _dot(min(<Py_ssize_t> TILE, n - start), x + start, x + start)
        start += TILE
    return total


cdef bint _same_step(const floating *F, const floating *grad, floating alpha,
                     floating other_alpha, Py_ssize_t n) noexcept nogil:
    """Whether both step sizes give the same candidate (usually decided at once)."""
    cdef Py_ssize_t i
    for i in range(n):
        if _step(F[i], grad[i], alpha) != _step(F[i], grad[i], other_alpha):
            return False
    return True


cdef inline Py_ssize_t _block_rows(Py_ssize_t k) noexcept nogil:
    """Rows of F per BLAS call: at most BLAS_CALL_WORK multiply-adds (see there)."""
    return max(1, <Py_ssize_t> (BLAS_CALL_WORK / <double> max(k * k, 1)))


cdef void _times_gram(const floating *F, const floating *gram, floating *out,
                      Py_ssize_t r, Py_ssize_t k, int n_threads) noexcept nogil:
    """out <- F @ gram, (r, k): BLAS gemm on row blocks, in parallel when large (like
    the passes)."""
    cdef Py_ssize_t b, start, rows = _block_rows(k)
    cdef Py_ssize_t n_blocks = (r + rows - 1) // rows
    if n_threads > 1 and r * k >= MIN_PARALLEL_SIZE:
        for b in prange(n_blocks, num_threads=n_threads, schedule="static"):
            start = b * rows
            gemm(c'N', c'N', <int> k, <int> min(rows, r - start), <int> k, <floating> 1,
                 gram, <int> k, F + start * k, <int> k, <floating> 0, out + start * k,
                 <int> k)
    else:
        for b in range(n_blocks):
            start = b * rows
            gemm(c'N', c'N', <int> k, <int> min(rows, r - start), <int> k, <floating> 1,
                 gram, <int> k, F + start * k, <int> k, <floating> 0, out + start * k,
                 <int> k)


cdef void _gradient(floating *F, const floating *gram, const floating *C, floating *grad,
                    floating *d, floating alpha, Py_ssize_t r, Py_ssize_t k, int n_threads,
                    double *sums) noexcept nogil:
    """grad <- F @ gram - C (BLAS, or loops when tiny), d <- max(F - alpha grad, 0) - F;
    sums <- ||projected grad||^2, <grad, d>."""
    cdef Py_ssize_t i, s, t
    cdef floating total
    if r * k * k >= SMALL:
        _times_gram(F, gram, grad, r, k, n_threads)
    else:
        for i in range(r):
            for t in range(k):
                total = 0
                for s in range(k):
                    total = total + F[i * k + s] * gram[s * k + t]
                grad[i * k + t] = total
    _pass(GRADIENT, F, grad, C, d, alpha, r, k, n_threads, sums)


cdef double _quadratic(const floating *gram, const floating *d, floating *dtd,
                       floating *partial, Py_ssize_t r, Py_ssize_t k,
                       int n_threads) noexcept nogil:
    """<d, d @ gram> = <gram, d^T d>, with d^T d (k, k) from BLAS gemms on row blocks
    (in parallel when large, like the passes; the blocks' (k, k) products, in
    `partial`, added in block order), or loops when tiny."""
    cdef Py_ssize_t b, i, s, t, start, rows = _block_rows(k)
    cdef Py_ssize_t n_blocks = (r + rows - 1) // rows, kk = k * k
    cdef double total = 0
    cdef floating entry
    if r * k * k < SMALL:
        for s in range(k):
            for t in range(k):
                entry = 0
                for i in range(r):
                    entry = entry + d[i * k + s] * d[i * k + t]
                dtd[s * k + t] = entry
    elif n_blocks == 1:
        gemm(c'N', c'T', <int> k, <int> k, <int> r, <floating> 1, d, <int> k, d, <int> k,
             <floating> 0, dtd, <int> k)
    else:
        if n_threads > 1 and r * k >= MIN_PARALLEL_SIZE:
            for b in prange(n_blocks, num_threads=n_threads, schedule="static"):
                start = b * rows
                gemm(c'N', c'T', <int> k, <int> k, <int> min(rows, r - start),
                     <floating> 1, d + start * k, <int> k, d + start * k, <int> k,
                     <floating> 0, partial + b * kk, <int> k)
        else:
            for b in range(n_blocks):
                start = b * rows
                gemm(c'N', c'T', <int> k, <int> k, <int> min(rows, r - start),
                     <floating> 1, d + start * k, <int> k, d + start * k, <int> k,
                     <floating> 0, partial + b * kk, <int> k)
        for i in range(kk):
            entry = partial[i]
            for b in range(1, n_blocks):
                entry = entry + partial[b * kk + i]
            dtd[i] = entry
    for i in range(kk):
        total += <double> gram[i] * dtd[i]
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
    const floating[:, ::1] F not None,       # (r, k) factor
    const floating[:, ::1] gram not None,    # (k, k) Gram of the other factor, + L2 and sparseness terms
    const floating[:, ::1] cross not None,   # (r, k) X @ other (or X.T @ other), - L1
    floating[:, ::1] grad not None,          # (r, k) out: F @ gram - cross
    floating[:, ::1] step not None,          # (r, k) work buffer
    int n_threads=1,
):
    """Compute the gradient into grad; return (||grad||^2, ||projected grad||^2).

    The projected gradient keeps the entries where grad < 0 or F > 0.
    """
    cdef Py_ssize_t r = F.shape[0], k = F.shape[1]
    cdef double norm_sq
    cdef double sums[2]
    _check_shape("gram", gram.shape, k, k)
    _check_shape("cross", cross.shape, r, k)
    _check_shape("grad", grad.shape, r, k)
    _check_shape("step", step.shape, r, k)
    _check_sizes(r, k)
    if r == 0 or k == 0:
        return 0.0, 0.0
    n_threads = max(1, min(n_threads, thread_limit()))  # see nmf/_threads.py
    with nogil:
        _gradient(<floating *> &F[0, 0], &gram[0, 0], &cross[0, 0], &grad[0, 0],
                  &step[0, 0], 1, r, k, n_threads, sums)
        norm_sq = _sum_squares(&grad[0, 0], r * k)
    return norm_sq, sums[0]


def pg_subproblem(
    floating[:, ::1] F not None,             # (r, k) factor, updated in place
    const floating[:, ::1] gram not None,    # (k, k) Gram of the other factor, + L2 and sparseness terms
    const floating[:, ::1] cross not None,   # (r, k) X @ other (or X.T @ other), - L1
    floating[:, ::1] grad not None,          # (r, k) out: the gradient at the top of the last iteration
    floating[:, ::1] step not None,          # (r, k) work buffer
    floating[:, ::1] step_gram not None,     # (k, k) work buffer
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
        Whether the test passed (F was not moved after the last gradient). A gradient
        with inf or NaN (overflowed inputs) returns at once, not converged, F unchanged.
    projected_norm_sq : float
        ||projected grad||^2 of the returned grad, projected with the returned F.

    Raises KeyboardInterrupt (or whatever a signal handler raises) when a signal
    arrives during the solve; it looks for one every few milliseconds of work.
    """
    cdef Py_ssize_t r = F.shape[0], k = F.shape[1]
    cdef double alpha = 1, alpha_prev = 1, projected_sq = 0, dQd, work = 0
    cdef double sums[2]     # a pass's sums: ||projected grad||^2, <grad, d>
    cdef double size = <double> r * k, product_work = <double> r * k * k
    cdef int n_iter = 0, trial
    cdef bint converged = False, sufficient, decrease
    cdef floating *f
    cdef floating *g
    cdef const floating *c
    cdef const floating *q
    cdef floating *d
    cdef floating *dtd
    cdef floating *partial
    cdef floating[::1] partials
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
    n_threads = max(1, min(n_threads, thread_limit()))  # see nmf/_threads.py
    f, g, c, q = &F[0, 0], &grad[0, 0], &cross[0, 0], &gram[0, 0]
    d, dtd = &step[0, 0], &step_gram[0, 0]
    # The row blocks' (k, k) products d^T d (see _quadratic), when there are several.
    cdef Py_ssize_t n_blocks = (r + _block_rows(k) - 1) // _block_rows(k)
    partial = NULL
    if n_blocks > 1:
        partials = np.empty(n_blocks * k * k,
                            dtype=np.float64 if floating is double else np.float32)
        partial = &partials[0]
    with nogil:
        for n_iter in range(1, max_iter + 1):
            # The first trial step (from the current alpha) comes with the gradient.
            _gradient(f, q, c, g, d, <floating> alpha, r, k, n_threads, sums)
            projected_sq = sums[0]
            work += product_work + size
            if sqrt(projected_sq) < tol or projected_sq == 0:
                converged = True
                break
            if not isfinite(projected_sq):
                break       # overflowed Gram or cross product: no step can pass
            decrease = False
            for trial in range(MAX_TRIALS):
                if work >= SIGNAL_CHECK_WORK:
                    work = 0
                    with gil:
                        PyErr_CheckSignals()
                if trial > 0 and not decrease and _same_step(f, g, <floating> alpha,
                                                             <floating> alpha_prev, r * k):
                    # A longer step gives the same candidate: take it (Lin's Hp == Hn).
                    _pass(ACCEPT, f, g, c, d, <floating> alpha_prev, r, k, n_threads,
                          sums)
                    work += size
                    break
                if trial > 0:
                    _pass(TRIAL, f, g, c, d, <floating> alpha, r, k, n_threads, sums)
                dQd = _quadratic(q, d, dtd, partial, r, k, n_threads)
                work += product_work + 2 * size
                sufficient = (1 - SIGMA) * sums[1] + 0.5 * dQd < 0
                if trial == 0:
                    decrease = not sufficient
                if decrease:
                    if sufficient:
                        _pass(ACCEPT, f, g, c, d, <floating> alpha, r, k, n_threads,
                              sums)
                        work += size
                        break
                    alpha *= STEP_FACTOR
                elif not sufficient:
                    # Back to the last candidate that passed (never F itself: the
                    # first trial of the growing phase moved F and passed).
                    _pass(ACCEPT, f, g, c, d, <floating> alpha_prev, r, k, n_threads,
                          sums)
                    work += size
                    break
                else:
                    alpha_prev = alpha
                    alpha /= STEP_FACTOR
        if not converged:
            _pass(PROJECTED, f, g, c, d, 0, r, k, n_threads, sums)
            projected_sq = sums[0]
    return n_iter, alpha, converged, projected_sq
