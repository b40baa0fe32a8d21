/* Output rows lo to hi of A.T @ F for CSR A (nmf/_sparse_fast.pyx, csr_t_times):
 * entry p of row i adds data[p] * F[i] to output row indices[p], the entries in
 * storage order, every product and sum rounded apart (the same bits as a textbook
 * loop, for any lo and hi).
 *
 * With GNU C vector extensions and one vector <= k <= NMF_SCATTER_VECTORS vectors, a
 * row of F is loaded into registers once for all of A's row i, and each entry costs
 * the loads, multiply-adds and stores of its output row: vectors at 0, W, 2 W, ... and
 * the last one at k - W (overlapping the one before when W does not divide k: both are
 * computed from the output row as it was before the entry, so the entries they share
 * get the same value twice). Other k, and NMF_PLAIN_C, go entry by entry through a
 * loop over the row.
 *
 * search: each row's indices are sorted; its first entry in range is found by binary
 * search and the row is left at the first one past hi. count: the entries outside
 * [0, n_cols) are counted (returned); with search, those sit at the rows' ends.
 */
#ifndef NMF_SPARSE_SCATTER_H
#define NMF_SPARSE_SCATTER_H

#include <stdint.h>
#include <string.h>
#include "_vector.h"

#define NMF_SCATTER_VECTORS 8

#define NMF_SCATTER_EACH(S) S(0) S(1) S(2) S(3) S(4) S(5) S(6) S(7)
/* Vector v's place in a row: constant but for the last one (k - W). */
#define NMF_SCATTER_OFFSET(v) (v < NVEC - 1 ? v * W : last)
#define NMF_SCATTER_LOAD_F(v)                                                          \
    if (v < NVEC) f##v = *(const vec *) (f + NMF_SCATTER_OFFSET(v));
#define NMF_SCATTER_ADD(v)                                                             \
    if (v < NVEC) y##v = *(const vec *) (y + NMF_SCATTER_OFFSET(v)) + a * f##v;
#define NMF_SCATTER_STORE(v) if (v < NVEC) *(vec *) (y + NMF_SCATTER_OFFSET(v)) = y##v;

/* The loop over A's rows, with BEGIN_ROW run once per row (F[i] is f) and ADD once
   per entry in range (y its output row, a its value). */
#define NMF_SCATTER_ROWS(T, BEGIN_ROW, ADD)                                             \
    T *const O_lo = O + lo * k;                                                        \
    const size_t span = (size_t) (hi - lo);                                            \
    for (Py_ssize_t i = 0; i < n_rows; i++) {                                          \
        Py_ssize_t p = indptr[i];                                                      \
        const Py_ssize_t end = indptr[i + 1];                                          \
        if (search) {                                                                  \
            if (count) {                                                               \
                Py_ssize_t low = p, high = end - 1;                                    \
                for (; low < end && ind[low] < 0; low++)                               \
                    bad++;                                                             \
                for (; high >= low && ind[high] >= n_cols; high--)                     \
                    bad++;                                                             \
            }                                                                          \
            Py_ssize_t low = p, high = end;  /* the first entry with index >= lo */    \
            while (low < high) {                                                       \
                const Py_ssize_t mid = low + (high - low) / 2;                         \
                if (ind[mid] < lo)                                                     \
                    low = mid + 1;                                                     \
                else                                                                   \
                    high = mid;                                                        \
            }                                                                          \
            p = low;                                                                   \
        }                                                                              \
        const T *restrict f = F + i * k;                                               \
        BEGIN_ROW                                                                      \
        for (; p < end; p++) {                                                         \
            /* col - lo as unsigned: below lo wraps past span, one comparison */       \
            const size_t c = (size_t) (Py_ssize_t) ind[p] - (size_t) lo;               \
            if (__builtin_expect(c >= span, 0)) {                                      \
                const Py_ssize_t col = ind[p];                                         \
                if (search) {                                                          \
                    if (col >= hi)                                                     \
                        break;          /* the rest of the row is past this range */   \
                } else if (count && (col < 0 || col >= n_cols)) {                      \
                    bad++;                                                             \
                }                                                                      \
                continue;                                                              \
            }                                                                          \
            T *restrict y = O_lo + c * k;                                              \
            const T a = data[p];                                                       \
            ADD                                                                        \
        }                                                                              \
    }

#if NMF_VECTOR_EXTENSIONS
#define NMF_SCATTER_NV(T, I, NV)                                                       \
static void nmf_scatter_##T##_##I##_##NV(                                             \
        const T *restrict data, const I *restrict ind, const I *restrict indptr,       \
        Py_ssize_t n_rows, const T *restrict F, T *restrict O, Py_ssize_t n_cols,      \
        Py_ssize_t k, Py_ssize_t lo, Py_ssize_t hi, int search, int count,             \
        Py_ssize_t *bad_entries) {                                                     \
    typedef T vec __attribute__((vector_size(NMF_VECTOR_BYTES), aligned(sizeof(T)),   \
                                 may_alias));                                         \
    typedef T reg __attribute__((vector_size(NMF_VECTOR_BYTES)));                      \
    enum { W = NMF_VECTOR_BYTES / sizeof(T), NVEC = NV };                              \
    const Py_ssize_t last = k - W;                                                     \
    Py_ssize_t bad = 0;                                                                \
    reg f0, f1, f2, f3, f4, f5, f6, f7;                                                \
    reg y0, y1, y2, y3, y4, y5, y6, y7;                                                \
    NMF_SCATTER_ROWS(T, NMF_SCATTER_EACH(NMF_SCATTER_LOAD_F),                          \
                     NMF_SCATTER_EACH(NMF_SCATTER_ADD)                                 \
                     NMF_SCATTER_EACH(NMF_SCATTER_STORE))                              \
    *bad_entries = bad;                                                                \
}
#define NMF_SCATTER_CASES(T, I) NMF_FOR_1_TO_8(NMF_SCATTER_NV, T, I)
#define NMF_SCATTER_CASE(T, I, NV)                                                     \
    case NV:                                                                           \
        nmf_scatter_##T##_##I##_##NV(data, ind, indptr, n_rows, F, O, n_cols, k, lo,   \
                                     hi, search, count, &bad);                         \
        return bad;
#define NMF_SCATTER_DISPATCH(T, I)                                                     \
    const Py_ssize_t W = NMF_VECTOR_BYTES / sizeof(T);                                 \
    if (k >= W && k <= NMF_SCATTER_VECTORS * W) {                                      \
        switch ((k + W - 1) / W) {                                                     \
            NMF_FOR_1_TO_8(NMF_SCATTER_CASE, T, I)                                     \
        }                                                                              \
    }
#else
#define NMF_SCATTER_CASES(T, I)
#define NMF_SCATTER_DISPATCH(T, I)
#endif

#define NMF_SCATTER_PART(T, I)                                                         \
NMF_SCATTER_CASES(T, I)                                                                \
static Py_ssize_t nmf_scatter_part_##T##_##I(                                         \
        const T *restrict data, const I *restrict ind, const I *restrict indptr,       \
        Py_ssize_t n_rows, const T *restrict F, T *restrict O, Py_ssize_t n_cols,      \
        Py_ssize_t k, Py_ssize_t lo, Py_ssize_t hi, int search, int count) {           \
    Py_ssize_t bad = 0;                                                                \
    memset(O + lo * k, 0, (size_t) ((hi - lo) * k) * sizeof(T));                       \
    NMF_SCATTER_DISPATCH(T, I)                                                         \
    NMF_SCATTER_ROWS(T, , for (Py_ssize_t c = 0; c < k; c++) y[c] += a * f[c];)        \
    return bad;                                                                        \
}

NMF_SCATTER_PART(float, int32_t)
NMF_SCATTER_PART(float, int64_t)
NMF_SCATTER_PART(double, int32_t)
NMF_SCATTER_PART(double, int64_t)

#endif
