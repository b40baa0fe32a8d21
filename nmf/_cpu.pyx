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
    #include <cpuid.h>
    #include <string.h>
    /* AMD family 19h (Zen 3 and Zen 4; of these only Zen 4 has AVX-512) runs a 512-bit
       instruction as two 256-bit halves. */
    static int nmf_cpu_splits_512bit(void) {
        unsigned int eax, ebx, ecx, edx;
        char vendor[13];
        if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return 0;
        memcpy(vendor, &ebx, 4); memcpy(vendor + 4, &edx, 4); memcpy(vendor + 8, &ecx, 4);
        vendor[12] = 0;
        if (strcmp(vendor, "AuthenticAMD") != 0 || !__get_cpuid(1, &eax, &ebx, &ecx, &edx))
            return 0;
        unsigned int family = (eax >> 8) & 0xf;
        if (family == 0xf) family += (eax >> 20) & 0xff;
        return family == 0x19 && nmf_cpu_has_avx512f();
    }
    #else
    static int nmf_cpu_splits_512bit(void) { return 0; }
    static int nmf_cpu_has_avx2(void) { return 0; }
    static int nmf_cpu_has_fma(void) { return 0; }
    static int nmf_cpu_has_avx512f(void) { return 0; }
    #endif
    #if defined(__unix__) || defined(__APPLE__)
    #include <unistd.h>
    #endif
    /* The L2 cache of one core in bytes as the C library reports it (glibc: from the
       processor's CPUID), 0 where it does not. */
    static long nmf_cpu_l2_cache_bytes(void) {
    #ifdef _SC_LEVEL2_CACHE_SIZE
        const long size = sysconf(_SC_LEVEL2_CACHE_SIZE);
        return size > 0 ? size : 0;
    #else
        return 0;
    #endif
    }
    """
    int nmf_cpu_has_avx2() noexcept nogil
    int nmf_cpu_has_fma() noexcept nogil
    int nmf_cpu_has_avx512f() noexcept nogil
    int nmf_cpu_splits_512bit() noexcept nogil
    long nmf_cpu_l2_cache_bytes() noexcept nogil


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


def splits_512bit_vectors():
    """True on processors that run a 512-bit vector instruction as two 256-bit halves
    (AMD Zen 4): there some of nmf's dense products run faster in the AVX2 build
    (nmf/_kernels.py)."""
    return bool(nmf_cpu_splits_512bit())


def l2_cache_bytes():
    """One core's L2 cache in bytes, or 0 where the C library does not say
    (nmf/_padding.py pads factor rows only where it knows the size)."""
    return int(nmf_cpu_l2_cache_bytes())
