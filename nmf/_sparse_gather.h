/* Rows of A @ F for CSR A, for csr_times (nmf/_sparse_fast.pyx) and the W sweep on CSR
 * X (cd_sweep_csr, nmf/_cd_fast.pyx), both through nmf/_sparse_gather.pxd: each row's
 * entries in storage order, each result entry the in-order sum ((0 + a0 f0) + a1 f1)
 * + ... with every product and sum rounded apart (the same bits as a textbook loop).
 *
 * The result row is summed in chunks of at most NMF_GATHER_VECTORS vectors held in
 * registers across the whole row (a chunk of k = 10 doubles is three AVX2 registers),
 * not in memory: each entry then costs its loads and multiply-adds, with no reload
 * and store of the sum in between. Wider rows take several chunks, each one more pass
 * over the row's entries (still in order).
 *
 * A chunk reads whole vectors of a factor row, past the row's k entries into the next
 * row: that stays inside F for columns up to `last_padded` (nmf_gather_last_padded);
 * a column past it is copied into a zero-padded buffer first, and a column outside
 * [0, n_cols) is counted and left out. The lanes past k are never stored.
 *
 * Without GNU C vector extensions (NMF_PLAIN_C) the same loops run on arrays.
 */
#ifndef NMF_SPARSE_GATHER_H
#define NMF_SPARSE_GATHER_H

#include <stdint.h>
#include <string.h>
#include "_vector.h"

#define NMF_GATHER_VECTORS 8

#define NMF_EACH_VECTOR(S) S(0) S(1) S(2) S(3) S(4) S(5) S(6) S(7)

#if NMF_VECTOR_EXTENSIONS
/* acc0..acc7 are separate variables, not an array, so that the compiler keeps them
   in registers; those at or past NV are never used and vanish. */
#define NMF_GATHER_DECLARE(v) reg acc##v = {0};
#define NMF_GATHER_STEP(v) if (v < NVEC) acc##v += a * *(const vec *) (f + v * W);
#define NMF_GATHER_STORE(v) if (v < NVEC) *(vec *) (sum + v * W) = acc##v;
#define NMF_GATHER_TYPES(T)                                                             \
    typedef T vec __attribute__((vector_size(NMF_VECTOR_BYTES), aligned(sizeof(T)),  \
                                 may_alias));                                         \
    typedef T reg __attribute__((vector_size(NMF_VECTOR_BYTES)));
#define NMF_GATHER_SUM(T)                                                              \
    NMF_EACH_VECTOR(NMF_GATHER_DECLARE)                                                \
    for (; p < end; p++) {                                                             \
        NMF_GATHER_FACTOR_ROW(T)                                                       \
        NMF_EACH_VECTOR(NMF_GATHER_STEP)                                               \
    }                                                                                  \
    NMF_EACH_VECTOR(NMF_GATHER_STORE)
#else
#define NMF_GATHER_TYPES(T)
#define NMF_GATHER_SUM(T)                                                              \
    for (int c = 0; c < NVEC * W; c++) sum[c] = 0;                                     \
    for (; p < end; p++) {                                                             \
        NMF_GATHER_FACTOR_ROW(T)                                                       \
        for (int c = 0; c < NVEC * W; c++) sum[c] += a * f[c];                         \
    }
#endif

/* The entry p's factor row chunk f (padded copy if needed) and value a; skips (and
   counts) an entry whose column is outside [0, n_cols). */
#define NMF_GATHER_FACTOR_ROW(T)                                                       \
    const Py_ssize_t col = ind[p];                                                     \
    const T *f = F + col * k + c0;                                                     \
    if (col < 0 || col > last_padded) {                                                \
        if (col < 0 || col >= n_cols) {                                                \
            bad++;                                                                     \
            continue;                                                                  \
        }                                                                              \
        for (int c = 0; c < NVEC * W; c++) padded[c] = c < kc ? f[c] : 0;              \
        f = padded;                                                                    \
    }                                                                                  \
    const T a = data[p];

/* Columns c0 to c0 + kc of the row (kc <= NV vectors) into row[c0:c0 + kc]. */
#define NMF_GATHER_CHUNK(T, I, NV)                                                     \
static inline Py_ssize_t nmf_gather_chunk_##T##_##I##_##NV(                           \
        const T *restrict data, const I *restrict ind, Py_ssize_t p, Py_ssize_t end,   \
        const T *restrict F, Py_ssize_t n_cols, Py_ssize_t k, Py_ssize_t c0,           \
        Py_ssize_t kc, Py_ssize_t last_padded, T *restrict row) {                      \
    NMF_GATHER_TYPES(T)                                                                \
    enum { W = NMF_VECTOR_BYTES / sizeof(T), NVEC = NV };                              \
    T sum[NVEC * W], padded[NVEC * W];                                                 \
    Py_ssize_t bad = 0;                                                                \
    NMF_GATHER_SUM(T)                                                                  \
    memcpy(row + c0, sum, kc * sizeof(T));                                             \
    return bad;                                                                        \
}

#define NMF_GATHER_CASE(T, I, NV)                                                      \
    case NV:                                                                           \
        for (Py_ssize_t i = r0; i < r1; i++)                                           \
            bad += nmf_gather_chunk_##T##_##I##_##NV(data, ind, indptr[i], indptr[i + 1], \
                                                     F, n_cols, k, c0, kc, lp,         \
                                                     out + i * k);                     \
        break;

/* Rows r0 to r1 of out = A @ F (out n_rows x k, C order); returns the number of
   entries whose column is outside [0, n_cols) (left out). */
#define NMF_GATHER_ROWS(T, I)                                                          \
NMF_FOR_1_TO_8(NMF_GATHER_CHUNK, T, I)                                                 \
static Py_ssize_t nmf_gather_rows_##T##_##I(                                          \
        const T *data, const I *ind, const I *indptr, Py_ssize_t r0, Py_ssize_t r1,    \
        const T *F, Py_ssize_t n_cols, Py_ssize_t k, Py_ssize_t last_padded, T *out) { \
    const Py_ssize_t W = NMF_VECTOR_BYTES / sizeof(T), chunk = NMF_GATHER_VECTORS * W; \
    Py_ssize_t bad = 0;                                                                \
    for (Py_ssize_t c0 = 0; c0 < k; c0 += chunk) {                                     \
        const Py_ssize_t kc = k - c0 < chunk ? k - c0 : chunk;                         \
        /* Only the last chunk can read past a factor row's end. */                    \
        const Py_ssize_t lp = c0 + chunk < k ? n_cols - 1 : last_padded;               \
        bad = 0;                /* every chunk meets the same bad entries */           \
        switch ((kc + W - 1) / W) {                                                    \
            NMF_FOR_1_TO_8(NMF_GATHER_CASE, T, I)                                      \
        }                                                                              \
    }                                                                                  \
    return bad;                                                                        \
}

NMF_GATHER_ROWS(float, int32_t)
NMF_GATHER_ROWS(float, int64_t)
NMF_GATHER_ROWS(double, int32_t)
NMF_GATHER_ROWS(double, int64_t)

/* The last column whose factor row the last chunk may read whole vectors of without
   leaving F (n_cols x k), -1 when none may. */
static inline Py_ssize_t nmf_gather_last_padded(Py_ssize_t n_cols, Py_ssize_t k,
                                                Py_ssize_t itemsize) {
    const Py_ssize_t W = NMF_VECTOR_BYTES / itemsize, chunk = NMF_GATHER_VECTORS * W;
    const Py_ssize_t c0 = (k - 1) / chunk * chunk;
    const Py_ssize_t reach = c0 + (k - c0 + W - 1) / W * W;    /* entries read per row */
    return n_cols * k >= reach ? (n_cols * k - reach) / k : -1;
}

#endif
