"""What the build gave the kernels: OpenMP and its thread limit, bounds checking."""

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    static int nmf_openmp_enabled(void) { return 1; }
    static int nmf_openmp_max_threads(void) { return omp_get_max_threads(); }
    #else
    static int nmf_openmp_enabled(void) { return 0; }
    static int nmf_openmp_max_threads(void) { return 1; }
    #endif
    static int nmf_bounds_checked(void) { return NMF_BOUNDS_CHECKED; }
    """
    int nmf_bounds_checked() noexcept nogil
    int nmf_openmp_enabled() noexcept nogil
    int nmf_openmp_max_threads() noexcept nogil


def openmp_enabled():
    """True when the kernels were compiled with OpenMP."""
    return bool(nmf_openmp_enabled())


def openmp_max_threads():
    """The OpenMP runtime's thread limit (OMP_NUM_THREADS, threadpoolctl); 1 without OpenMP."""
    return nmf_openmp_max_threads()


def bounds_checked():
    """True for a debug build (-Dbuildtype=debug): Cython bounds checks are on."""
    return bool(nmf_bounds_checked())
