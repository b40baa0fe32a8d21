/* One pass over an array for the checks of nmf/_range_fast.pyx: its smallest and
 * largest entry and whether it holds a NaN, optionally copying it on the way.
 *
 * NumPy's min() and max() are two passes over the data, and a checked copy of a factor
 * a third; memory, not arithmetic, is what those passes cost. Here each entry is
 * loaded once, compared with running minima and maxima in vector registers (x86
 * min/max instructions, several accumulators to keep them busy) and, for a copy,
 * stored. A NaN is flagged on its own (an unordered compare): min/max instructions
 * skip it. Elsewhere, and in a build without vector code (NMF_PLAIN_C), the same
 * loop runs on scalars.
 */
#ifndef NMF_RANGE_H
#define NMF_RANGE_H

#include <math.h>
#include <stddef.h>

#if !defined(NMF_PLAIN_C) && defined(__AVX__)
#include <immintrin.h>
#define NMF_RANGE_DOUBLE_LANES 4
#define NMF_RANGE_FLOAT_LANES 8
typedef __m256d nmf_range_double_vec;
typedef __m256 nmf_range_float_vec;
#define NMF_RANGE_OP(name, S) _mm256_##name##_##S
#define NMF_RANGE_UNORDERED(S, b) _mm256_cmp_##S(b, b, _CMP_UNORD_Q)
#define NMF_RANGE_VECTORS 1
#elif !defined(NMF_PLAIN_C) && defined(__SSE2__)
#include <emmintrin.h>
#define NMF_RANGE_DOUBLE_LANES 2
#define NMF_RANGE_FLOAT_LANES 4
typedef __m128d nmf_range_double_vec;
typedef __m128 nmf_range_float_vec;
#define NMF_RANGE_OP(name, S) _mm_##name##_##S
#define NMF_RANGE_UNORDERED(S, b) _mm_cmpunord_##S(b, b)
#define NMF_RANGE_VECTORS 1
#else
#define NMF_RANGE_VECTORS 0
#endif

#if NMF_RANGE_VECTORS
/* Loads, stores, min, max and the NaN mask of T's vectors (intrinsics' suffix S). */
#define NMF_RANGE_OPS(T, S)                                                            \
    typedef nmf_range_##T##_vec nmf_##T##_vec;                                         \
    static inline nmf_##T##_vec nmf_load_##T(const T *x) { return NMF_RANGE_OP(loadu, S)(x); } \
    static inline void nmf_store_##T(T *x, nmf_##T##_vec v) { NMF_RANGE_OP(storeu, S)(x, v); } \
    static inline nmf_##T##_vec nmf_splat_##T(T a) { return NMF_RANGE_OP(set1, S)(a); } \
    static inline nmf_##T##_vec nmf_min_##T(nmf_##T##_vec a, nmf_##T##_vec b) {        \
        return NMF_RANGE_OP(min, S)(a, b);                                             \
    }                                                                                  \
    static inline nmf_##T##_vec nmf_max_##T(nmf_##T##_vec a, nmf_##T##_vec b) {        \
        return NMF_RANGE_OP(max, S)(a, b);                                             \
    }                                                                                  \
    /* a with b's NaN lanes set */                                                     \
    static inline nmf_##T##_vec nmf_nan_##T(nmf_##T##_vec a, nmf_##T##_vec b) {        \
        return NMF_RANGE_OP(or, S)(a, NMF_RANGE_UNORDERED(S, b));                      \
    }                                                                                  \
    static inline int nmf_any_##T(nmf_##T##_vec a) { return NMF_RANGE_OP(movemask, S)(a) != 0; }
NMF_RANGE_OPS(double, pd)
NMF_RANGE_OPS(float, ps)
#endif

/* Entries x[i:n] folded into *lo and *hi (NaNs left out), one at a time; returns
   whether any is NaN. With `out`, they are also copied to out[i:n]. */
#define NMF_RANGE_SCALARS(T)                                                           \
static inline int nmf_range_scalars_##T(const T *restrict x, Py_ssize_t i,             \
                                        Py_ssize_t n, T *restrict out, T *lo, T *hi) { \
    T low = *lo, high = *hi;                                                           \
    int found_nan = 0;                                                                 \
    for (; i < n; i++) {                                                               \
        const T a = x[i];                                                              \
        if (out) out[i] = a;                                                           \
        low = a < low ? a : low;                                                       \
        high = a > high ? a : high;                                                    \
        found_nan |= a != a;                                                           \
    }                                                                                  \
    *lo = low;                                                                         \
    *hi = high;                                                                        \
    return found_nan;                                                                  \
}
NMF_RANGE_SCALARS(double)
NMF_RANGE_SCALARS(float)

/* The same for x[0:n]: four vectors at a time (the min, max and compare instructions'
   latencies), then one, then the scalars left. */
#if NMF_RANGE_VECTORS
#define NMF_RANGE(T, LANES)                                                            \
static int nmf_range_##T(const T *restrict x, Py_ssize_t n, T *restrict out, T *lo,    \
                         T *hi) {                                                      \
    typedef nmf_range_##T##_vec vec;                                                   \
    vec lo0 = nmf_splat_##T(*lo), lo1 = lo0, lo2 = lo0, lo3 = lo0;                     \
    vec hi0 = nmf_splat_##T(*hi), hi1 = hi0, hi2 = hi0, hi3 = hi0;                     \
    vec nan = nmf_splat_##T(0);                                                        \
    Py_ssize_t i = 0;                                                                  \
    for (; i + 4 * LANES <= n; i += 4 * LANES) {                                       \
        const vec a = nmf_load_##T(x + i), b = nmf_load_##T(x + i + LANES);            \
        const vec c = nmf_load_##T(x + i + 2 * LANES), d = nmf_load_##T(x + i + 3 * LANES); \
        if (out) {                                                                     \
            nmf_store_##T(out + i, a);                                                 \
            nmf_store_##T(out + i + LANES, b);                                         \
            nmf_store_##T(out + i + 2 * LANES, c);                                     \
            nmf_store_##T(out + i + 3 * LANES, d);                                     \
        }                                                                              \
        lo0 = nmf_min_##T(a, lo0); hi0 = nmf_max_##T(a, hi0);                          \
        lo1 = nmf_min_##T(b, lo1); hi1 = nmf_max_##T(b, hi1);                          \
        lo2 = nmf_min_##T(c, lo2); hi2 = nmf_max_##T(c, hi2);                          \
        lo3 = nmf_min_##T(d, lo3); hi3 = nmf_max_##T(d, hi3);                          \
        nan = nmf_nan_##T(nmf_nan_##T(nmf_nan_##T(nmf_nan_##T(nan, a), b), c), d);     \
    }                                                                                  \
    for (; i + LANES <= n; i += LANES) {                                               \
        const vec a = nmf_load_##T(x + i);                                             \
        if (out) nmf_store_##T(out + i, a);                                            \
        lo0 = nmf_min_##T(a, lo0); hi0 = nmf_max_##T(a, hi0);                          \
        nan = nmf_nan_##T(nan, a);                                                     \
    }                                                                                  \
    lo0 = nmf_min_##T(nmf_min_##T(lo0, lo1), nmf_min_##T(lo2, lo3));                   \
    hi0 = nmf_max_##T(nmf_max_##T(hi0, hi1), nmf_max_##T(hi2, hi3));                   \
    T lanes_lo[LANES], lanes_hi[LANES];                                                \
    nmf_store_##T(lanes_lo, lo0);                                                      \
    nmf_store_##T(lanes_hi, hi0);                                                      \
    for (int v = 0; v < LANES; v++) {                                                  \
        *lo = lanes_lo[v] < *lo ? lanes_lo[v] : *lo;                                   \
        *hi = lanes_hi[v] > *hi ? lanes_hi[v] : *hi;                                   \
    }                                                                                  \
    return nmf_any_##T(nan) | nmf_range_scalars_##T(x, i, n, out, lo, hi);             \
}
NMF_RANGE(double, NMF_RANGE_DOUBLE_LANES)
NMF_RANGE(float, NMF_RANGE_FLOAT_LANES)
#else
static int nmf_range_double(const double *restrict x, Py_ssize_t n, double *restrict out,
                            double *lo, double *hi) {
    return nmf_range_scalars_double(x, 0, n, out, lo, hi);
}
static int nmf_range_float(const float *restrict x, Py_ssize_t n, float *restrict out,
                           float *lo, float *hi) {
    return nmf_range_scalars_float(x, 0, n, out, lo, hi);
}
#endif

#endif
