"""What the processor running the kernels can do."""

cdef extern from *:
    """
    #if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    static int nmf_cpu_has_avx2(void) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2");   /* also checks the OS saves the registers */
    }
    static int nmf_cpu_has_fma(void) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("fma");
    }
    static int nmf_cpu_has_avx512f(void) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f");
    }
    #else
    static int nmf_cpu_has_avx2(void) { return 0; }
    static int nmf_cpu_has_fma(void) { return 0; }
    static int nmf_cpu_has_avx512f(void) { return 0; }
    #endif
    """
    int nmf_cpu_has_avx2() noexcept nogil
    int nmf_cpu_has_fma() noexcept nogil
    int nmf_cpu_has_avx512f() noexcept nogil


def has_avx2():
    """True when the processor (and operating system) run AVX2 instructions."""
    return bool(nmf_cpu_has_avx2())


def has_fma():
    """True when the processor runs fused multiply-add (FMA3) instructions."""
    return bool(nmf_cpu_has_fma())


def has_avx512f():
    """True when the processor (and operating system) run AVX-512 Foundation
    instructions."""
    return bool(nmf_cpu_has_avx512f())
