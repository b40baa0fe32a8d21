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
#define NMF_RANGE_OPS(T, P, S)                                                         \
    static inline nmf_range_##T##_vec nmf_load_##T(const T *x) { return P##loadu_##S(x); } \
    static inline void nmf_store_##T(T *x, nmf_range_##T##_vec v) { P##storeu_##S(x, v); } \
    static inline nmf_range_##T##_vec nmf_splat_##T(T a) { return P##set1_##S(a); }    \
    static inline nmf_range_##T##_vec nmf_min_##T(nmf_range_##T##_vec a,               \
                                                 nmf_range_##T##_vec b) {              \
        return P##min_##S(a, b);                                                       \
    }                                                                                  \
    static inline nmf_range_##T##_vec nmf_max_##T(nmf_range_##T##_vec a,               \
                                                 nmf_range_##T##_vec b) {              \
        return P##max_##S(a, b);                                                       \
    }                                                                                  \
    static inline nmf_range_##T##_vec nmf_nan_##T(nmf_range_##T##_vec a,               \
                                                 nmf_range_##T##_vec b) {              \
        return P##or_##S(a, P##cmp_##S(b, b, _CMP_UNORD_Q));                           \
    }                                                                                  \
    static inline int nmf_any_##T(nmf_range_##T##_vec a) { return P##movemask_##S(a) != 0; }
NMF_RANGE_OPS(double, _mm256_, pd)
NMF_RANGE_OPS(float, _mm256_, ps)
#define NMF_RANGE_VECTORS 1
#elif !defined(NMF_PLAIN_C) && defined(__SSE2__)
#include <emmintrin.h>
#define NMF_RANGE_DOUBLE_LANES 2
#define NMF_RANGE_FLOAT_LANES 4
typedef __m128d nmf_range_double_vec;
typedef __m128 nmf_range_float_vec;
#define NMF_RANGE_OPS(T, P, S)                                                         \
    static inline nmf_range_##T##_vec nmf_load_##T(const T *x) { return P##loadu_##S(x); } \
    static inline void nmf_store_##T(T *x, nmf_range_##T##_vec v) { P##storeu_##S(x, v); } \
    static inline nmf_range_##T##_vec nmf_splat_##T(T a) { return P##set1_##S(a); }    \
    static inline nmf_range_##T##_vec nmf_min_##T(nmf_range_##T##_vec a,               \
                                                 nmf_range_##T##_vec b) {              \
        return P##min_##S(a, b);                                                       \
    }                                                                                  \
    static inline nmf_range_##T##_vec nmf_max_##T(nmf_range_##T##_vec a,               \
                                                 nmf_range_##T##_vec b) {              \
        return P##max_##S(a, b);                                                       \
    }                                                                                  \
    static inline nmf_range_##T##_vec nmf_nan_##T(nmf_range_##T##_vec a,               \
                                                 nmf_range_##T##_vec b) {              \
        return P##or_##S(a, P##cmpunord_##S(b, b));                                    \
    }                                                                                  \
    static inline int nmf_any_##T(nmf_range_##T##_vec a) { return P##movemask_##S(a) != 0; }
NMF_RANGE_OPS(double, _mm_, pd)
NMF_RANGE_OPS(float, _mm_, ps)
#define NMF_RANGE_VECTORS 1
#else
#define NMF_RANGE_VECTORS 0
#endif

/* Entries of x[0:n] folded into *lo and *hi (NaNs left out); returns whether any is
   NaN. With `out`, x is also copied to out[0:n]. Four vectors at a time (the min, max
   and compare instructions' latencies), then one, then scalars. */
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
    T low = *lo, high = *hi;                                                           \
    for (int v = 0; v < LANES; v++) {                                                  \
        low = lanes_lo[v] < low ? lanes_lo[v] : low;                                   \
        high = lanes_hi[v] > high ? lanes_hi[v] : high;                                \
    }                                                                                  \
    int found_nan = nmf_any_##T(nan);                                                  \
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
NMF_RANGE(double, NMF_RANGE_DOUBLE_LANES)
NMF_RANGE(float, NMF_RANGE_FLOAT_LANES)
#else
#define NMF_RANGE(T)                                                                   \
static int nmf_range_##T(const T *restrict x, Py_ssize_t n, T *restrict out, T *lo,    \
                         T *hi) {                                                      \
    T low = *lo, high = *hi;                                                           \
    int found_nan = 0;                                                                 \
    for (Py_ssize_t i = 0; i < n; i++) {                                               \
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
NMF_RANGE(double)
NMF_RANGE(float)
#endif

#endif
