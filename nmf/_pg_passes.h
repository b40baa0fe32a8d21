/* The element-wise passes of the projected-gradient kernel (nmf/_pg_fast.pyx).
 *
 * Each pass reads its arrays once and returns its sums (the projected gradient's
 * squared norm, <grad, d>) computed on the way. The sums are kept in NMF_LANES
 * separate partial sums (entry i goes to lane i % NMF_LANES), added in a fixed order
 * at the end: the compiler turns the lanes into vector registers, and the order of
 * every addition is written here, so every instruction set gives the same bits.
 *
 * On x86-64 Linux with GCC or Clang each pass is compiled for AVX-512, AVX2 and the
 * baseline, and the loader picks the best one the CPU has (function multiversioning);
 * elsewhere there is one portable version. Products are never fused into FMAs.
 *
 * step(f, g) = max(f - alpha * g, 0) is the projected gradient step; the projected
 * gradient keeps g where g < 0 or f > 0.
 */
#ifndef NMF_PG_PASSES_H
#define NMF_PG_PASSES_H

#include <limits.h>  /* defines __GLIBC__ where glibc is the C library */
#include <stddef.h>

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF  /* GCC does not contract in ISO C mode (c_std=c11) */
#endif

/* Multiversioning needs the loader's ifunc support: glibc on x86-64. */
#if defined(__x86_64__) && defined(__GLIBC__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define NMF_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef NMF_CLONES
#define NMF_CLONES
#endif

/* Inlined into each pass, so that its lanes stay in registers. */
#if defined(__GNUC__)
#define NMF_INLINE static inline __attribute__((always_inline))
#else
#define NMF_INLINE static inline
#endif

/* Partial sums per pass: two AVX-512 registers of doubles, one of floats. */
#define NMF_LANES 16

/* The lanes' total, added pairwise in a fixed order. */
#define NMF_PG_LANE_TOTAL(T, S)                                                         \
NMF_INLINE double nmf_pg_lane_total_##S(const T *lanes) {                         \
    double half[NMF_LANES / 2];                                                        \
    for (int j = 0; j < NMF_LANES / 2; j++)                                            \
        half[j] = (double) lanes[j] + (double) lanes[j + NMF_LANES / 2];               \
    for (int width = NMF_LANES / 4; width >= 1; width /= 2)                            \
        for (int j = 0; j < width; j++)                                                \
            half[j] += half[j + width];                                                \
    return half[0];                                                                    \
}

/* One entry of each pass, adding to the partial sums P (squared projected gradient)
 * and S (grad * d): the same expressions in every loop. */
#define NMF_PG_GRADIENT_ENTRY(T, i, P, S)                                               \
    {                                                                                  \
        T f = F[i], g = grad[i] - C[i], x = f - alpha * g;                             \
        T step = (x > 0 ? x : 0) - f, p = ((g < 0) | (f > 0)) ? g : 0;                \
        grad[i] = g;                                                                   \
        d[i] = step;                                                                   \
        P += p * p;                                                                    \
        S += g * step;                                                                 \
    }
#define NMF_PG_TRIAL_ENTRY(T, i, P, S)                                                  \
    {                                                                                  \
        T f = F[i], x = f - alpha * grad[i];                                           \
        T step = (x > 0 ? x : 0) - f;                                                  \
        d[i] = step;                                                                   \
        S += grad[i] * step;                                                           \
    }
#define NMF_PG_PROJECTED_ENTRY(T, i, P, S)                                              \
    {                                                                                  \
        T g = grad[i], p = ((g < 0) | (F[i] > 0)) ? g : 0;                             \
        P += p * p;                                                                    \
    }

/* Run ENTRY over [0, n) and set sums[0:2] to the totals of P and S: blocks of
 * NMF_LANES entries, entry i in lane i % NMF_LANES, the tail in the first lanes.
 * Short arrays (tiny problems, where nanoseconds count) use one scalar sum each: lanes
 * written one by one and read back as vectors would stall on store forwarding. */
#define NMF_PG_LOOP(T, S_, ENTRY)                                                       \
    if (n < 4 * NMF_LANES) {                                                           \
        T projected = 0, slope = 0;                                                    \
        for (ptrdiff_t i = 0; i < n; i++)                                              \
            ENTRY(T, i, projected, slope)                                              \
        sums[0] = projected;                                                           \
        sums[1] = slope;                                                               \
    } else {                                                                           \
        T projected[NMF_LANES] = {0}, slope[NMF_LANES] = {0};                          \
        ptrdiff_t i = 0;                                                               \
        for (; i + NMF_LANES <= n; i += NMF_LANES)                                     \
            for (int j = 0; j < NMF_LANES; j++)                                        \
                ENTRY(T, i + j, projected[j], slope[j])                                \
        for (int j = 0; i + j < n; j++)                                                \
            ENTRY(T, i + j, projected[j], slope[j])                                    \
        sums[0] = nmf_pg_lane_total_##S_(projected);                                   \
        sums[1] = nmf_pg_lane_total_##S_(slope);                                       \
    }

#define NMF_PG_PASSES(T, S)                                                             \
NMF_PG_LANE_TOTAL(T, S)                                                                \
/* grad <- grad - C; d <- step(F, grad) - F;                                           \
 * sums <- ||projected gradient||^2, <grad, d>. */                                     \
NMF_CLONES static void nmf_pg_gradient_##S(                                            \
        const T *restrict F, T *restrict grad, const T *restrict C, T *restrict d,     \
        T alpha, ptrdiff_t n, double *sums) {                                          \
    NMF_PG_LOOP(T, S, NMF_PG_GRADIENT_ENTRY)                                           \
}                                                                                      \
/* d <- step(F, grad) - F; sums <- 0, <grad, d>. */                                    \
NMF_CLONES static void nmf_pg_trial_##S(                                               \
        const T *restrict F, const T *restrict grad, T *restrict d, T alpha,           \
        ptrdiff_t n, double *sums) {                                                   \
    NMF_PG_LOOP(T, S, NMF_PG_TRIAL_ENTRY)                                              \
}                                                                                      \
/* sums <- ||projected gradient||^2, 0. */                                             \
NMF_CLONES static void nmf_pg_projected_##S(                                           \
        const T *restrict F, const T *restrict grad, ptrdiff_t n, double *sums) {      \
    NMF_PG_LOOP(T, S, NMF_PG_PROJECTED_ENTRY)                                          \
}                                                                                      \
/* F <- step(F, grad). */                                                              \
NMF_CLONES static void nmf_pg_accept_##S(T *restrict F, const T *restrict grad,        \
                                         T alpha, ptrdiff_t n) {                       \
    for (ptrdiff_t i = 0; i < n; i++) {                                                \
        T x = F[i] - alpha * grad[i];                                                  \
        F[i] = x > 0 ? x : 0;                                                          \
    }                                                                                  \
}

NMF_PG_PASSES(double, d)
NMF_PG_PASSES(float, s)

#endif
