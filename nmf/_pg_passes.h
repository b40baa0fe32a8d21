/* The element-wise passes of the projected-gradient kernel (nmf/_pg_fast.pyx).
 *
 * Plain loops without reductions, so that the compiler vectorizes them. On x86-64
 * Linux with GCC or Clang each is compiled for AVX-512, AVX2 and the baseline, and the
 * loader picks the best one the CPU has (function multiversioning); elsewhere there is
 * one portable version. Entries are independent and products are never fused into
 * FMAs, so every version gives the same bits.
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

#define NMF_PG_PASSES(T, S)                                                             \
/* grad <- grad - C; d <- step(F, grad) - F; projected <- the projected gradient. */   \
NMF_CLONES static void nmf_pg_gradient_##S(const T *F, T *grad, const T *C, T *d,      \
                                           T *projected, T alpha, ptrdiff_t n) {       \
    for (ptrdiff_t i = 0; i < n; i++) {                                                \
        T f = F[i], g = grad[i] - C[i], x;                                             \
        grad[i] = g;                                                                   \
        x = f - alpha * g;                                                             \
        d[i] = (x > 0 ? x : 0) - f;                                                    \
        projected[i] = ((g < 0) | (f > 0)) ? g : 0;                                    \
    }                                                                                  \
}                                                                                      \
/* d <- step(F, grad) - F. */                                                          \
NMF_CLONES static void nmf_pg_trial_##S(const T *F, const T *grad, T *d, T alpha,      \
                                        ptrdiff_t n) {                                 \
    for (ptrdiff_t i = 0; i < n; i++) {                                                \
        T f = F[i], x = f - alpha * grad[i];                                           \
        d[i] = (x > 0 ? x : 0) - f;                                                    \
    }                                                                                  \
}                                                                                      \
/* F <- step(F, grad). */                                                              \
NMF_CLONES static void nmf_pg_accept_##S(T *F, const T *grad, T alpha, ptrdiff_t n) {  \
    for (ptrdiff_t i = 0; i < n; i++) {                                                \
        T x = F[i] - alpha * grad[i];                                                  \
        F[i] = x > 0 ? x : 0;                                                          \
    }                                                                                  \
}                                                                                      \
/* projected <- the projected gradient. */                                             \
NMF_CLONES static void nmf_pg_projected_##S(const T *F, const T *grad, T *projected,   \
                                            ptrdiff_t n) {                             \
    for (ptrdiff_t i = 0; i < n; i++) {                                                \
        T g = grad[i];                                                                 \
        projected[i] = ((g < 0) | (F[i] > 0)) ? g : 0;                                 \
    }                                                                                  \
}

NMF_PG_PASSES(double, d)
NMF_PG_PASSES(float, s)

#endif
