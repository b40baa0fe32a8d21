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
 * A chunk's vectors sit at c0, c0 + W, ... and the last one at c0 + kc - W, overlapping
 * the one before when W does not divide kc (or reaching back into the chunk before):
 * overlapping vectors sum the same products in the same order, so the entries they
 * share get the same value twice, and no vector reads past the factor row. That keeps
 * the cache lines an entry touches to those of its row (k = 10 floats: 40 bytes, not
 * the 64 of two whole vectors). Only rows shorter than one vector (k < W) are read
 * whole vectors long, into the next row: that stays inside F for the first `direct`
 * columns (nmf_gather_direct_columns); a column past them is copied into a
 * zero-padded buffer first, and just the k lanes are stored. A column outside
 * [0, n_cols) is counted and left out.
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
#define NMF_GATHER_STEP(v) if (v < NVEC) acc##v += a * *(const vec *) (f + offset[v]);
#define NMF_GATHER_STORE(v)                                                            \
    if (v < NVEC) *(vec *) (exact ? row + offset[v] : sum + v * W) = acc##v;
#define NMF_GATHER_TYPES(T)                                                             \
    typedef T vec __attribute__((vector_size(NMF_VECTOR_BYTES), aligned(sizeof(T)),  \
                                 may_alias));                                         \
    typedef T reg __attribute__((vector_size(NMF_VECTOR_BYTES)));
#define NMF_GATHER_SUM(T)                                                              \
    const int exact = k >= W;                                                          \
    Py_ssize_t offset[NVEC];                                                           \
    for (int v = 0; v < NVEC; v++)                                                     \
        offset[v] = !exact ? v * W : v < NVEC - 1 ? c0 + v * W : c0 + kc - W;          \
    NMF_EACH_VECTOR(NMF_GATHER_DECLARE)                                                \
    for (; p < end; p++) {                                                             \
        NMF_GATHER_FACTOR_ROW(T)                                                       \
        NMF_EACH_VECTOR(NMF_GATHER_STEP)                                               \
    }                                                                                  \
    NMF_EACH_VECTOR(NMF_GATHER_STORE)                                                  \
    if (!exact) memcpy(row + c0, sum, kc * sizeof(T));
#else
#define NMF_GATHER_TYPES(T)
#define NMF_GATHER_SUM(T)                                                              \
    for (int c = 0; c < kc; c++) sum[c] = 0;                                           \
    for (; p < end; p++) {                                                             \
        NMF_GATHER_FACTOR_ROW(T)                                                       \
        for (int c = 0; c < kc; c++) sum[c] += a * f[c0 + c];                          \
    }                                                                                  \
    memcpy(row + c0, sum, kc * sizeof(T));
#endif

/* The entry p's factor row f (padded copy if needed) and value a; skips (and counts)
   an entry whose column is outside [0, n_cols). Without TESTED (every column checked
   beforehand and every one direct) no test at all. */
#define NMF_GATHER_FACTOR_ROW(T)                                                       \
    const Py_ssize_t col = ind[p];                                                     \
    const T *f = F + col * ldf;                                                        \
    /* col < 0 or col >= direct, in one unsigned comparison */                        \
    if (TESTED && __builtin_expect((size_t) col >= direct, 0)) {                       \
        if (col < 0 || col >= n_cols) {                                                \
            bad++;                                                                     \
            continue;                                                                  \
        }                                                                              \
        for (int c = 0; c < NVEC * W; c++) padded[c] = c < k ? f[c] : 0;               \
        f = padded;                                                                    \
    }                                                                                  \
    const T a = data[p];

/* Columns c0 to c0 + kc of the row (kc <= NV vectors) into row[c0:c0 + kc]; with
   TESTED_ 0, the entries' columns are not tested (see nmf_gather_rows). */
#define NMF_GATHER_CHUNK_TESTED(T, I, NV, TESTED_)                                     \
static inline Py_ssize_t nmf_gather_chunk_##T##_##I##_##NV##_##TESTED_(               \
        const T *restrict data, const I *restrict ind, Py_ssize_t p, Py_ssize_t end,   \
        const T *restrict F, Py_ssize_t ldf, Py_ssize_t n_cols, Py_ssize_t k,          \
        Py_ssize_t c0, Py_ssize_t kc, size_t direct, T *restrict row) {                \
    NMF_GATHER_TYPES(T)                                                                \
    enum { W = NMF_VECTOR_BYTES / sizeof(T), NVEC = NV, TESTED = TESTED_ };            \
    T sum[NVEC * W], padded[NVEC * W];                                                 \
    Py_ssize_t bad = 0;                                                                \
    NMF_GATHER_SUM(T)                                                                  \
    return bad;                                                                        \
}
#define NMF_GATHER_CHUNK(T, I, NV)                                                     \
    NMF_GATHER_CHUNK_TESTED(T, I, NV, 1) NMF_GATHER_CHUNK_TESTED(T, I, NV, 0)

#define NMF_GATHER_LOOP(T, I, NV, TESTED_)                                             \
    for (Py_ssize_t i = r0; i < r1; i++)                                               \
        bad += nmf_gather_chunk_##T##_##I##_##NV##_##TESTED_(                          \
            data, ind, indptr[i], indptr[i + 1], F, ldf, n_cols, k, c0, kc, direct,    \
            out + i * k);
#define NMF_GATHER_CASE(T, I, NV)                                                      \
    case NV:                                                                           \
        if (tested) { NMF_GATHER_LOOP(T, I, NV, 1) } else { NMF_GATHER_LOOP(T, I, NV, 0) } \
        break;

/* The first columns whose factor rows may be read in place one whole vector long
   without leaving F (n_cols rows ldf apart, the last one k long): all of them when
   k >= one vector. */
static inline size_t nmf_gather_direct_columns(Py_ssize_t n_cols, Py_ssize_t ldf,
                                               Py_ssize_t k, Py_ssize_t itemsize) {
    const Py_ssize_t W = NMF_VECTOR_BYTES / itemsize;
    if (k >= W) return (size_t) n_cols;
    if (n_cols == 0) return 0;
    /* column c is direct when c ldf + W <= (n_cols - 1) ldf + k, F's last entry + 1 */
    const Py_ssize_t room = (n_cols - 1) * ldf + k - W;
    return room >= 0 ? (size_t) (room / ldf + 1) : 0;
}

/* Rows r0 to r1 of out = A @ F (out n_rows x k, C order; F's rows k long, ldf >= k
   apart: padded rows may start on cache lines); returns the number of entries whose
   column is outside [0, n_cols) (left out). checked: the caller has made sure every
   column lies in [0, n_cols) (count_outside in nmf/_sparse_fast.pyx), so the
   entries' loop tests none (where every column is direct): a float32 k = 10 gather
   10-15% faster, a float64 one 8-10%, in a C harness on this header
   (nmf/_sparse_scatter.h); in the package's build float32 3-6% faster, float64 from
   1% faster to 5% slower (k = 30: the loop's placement; whole fits are neutral
   there, asv_benchmarks/MEASUREMENTS.md). */
#define NMF_GATHER_ROWS(T, I)                                                          \
NMF_FOR_1_TO_8(NMF_GATHER_CHUNK, T, I)                                                 \
static Py_ssize_t nmf_gather_rows_##T##_##I(                                          \
        const T *data, const I *ind, const I *indptr, Py_ssize_t r0, Py_ssize_t r1,    \
        const T *F, Py_ssize_t ldf, Py_ssize_t n_cols, Py_ssize_t k, int checked,      \
        T *out) {                                                                      \
    const Py_ssize_t W = NMF_VECTOR_BYTES / sizeof(T), chunk = NMF_GATHER_VECTORS * W; \
    const size_t direct = nmf_gather_direct_columns(n_cols, ldf, k, sizeof(T));        \
    const int tested = !checked || direct < (size_t) n_cols;                           \
    Py_ssize_t bad = 0;                                                                \
    for (Py_ssize_t c0 = 0; c0 < k; c0 += chunk) {                                     \
        const Py_ssize_t kc = k - c0 < chunk ? k - c0 : chunk;                         \
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

#endif
