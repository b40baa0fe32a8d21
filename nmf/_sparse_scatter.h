/* Output rows lo to hi of A.T @ F for CSR A (nmf/_sparse_fast.pyx, csr_t_times):
 * entry p of row i adds data[p] * F[i] to output row indices[p], the entries in
 * storage order, every product and sum rounded apart (the same bits as a textbook
 * loop, for any lo and hi). F's rows are k long, the output's ldo >= k apart (padded
 * rows may start on cache lines; the padding is set to zero with the rows, and stays
 * zero where the entries are finite).
 *
 * With GNU C vector extensions and one vector <= k <= NMF_SCATTER_VECTORS vectors, a
 * row of F is loaded into registers once for all of A's row i, and each entry costs
 * the loads, multiplies, adds and stores of its output row: whole vectors at 0, W,
 * 2 W, ... as many as fit, then a tail for the r = k % W entries left: half a vector
 * at k - W / 2 when r <= W / 2, else a whole one at k - W. The tail overlaps the
 * vector before it when it is longer than r; both are computed from the output row as
 * it was before the entry, so the entries they share get the same value twice. A half
 * tail stores 16 bytes (AVX) where a whole one stores 32 and crosses a cache line more
 * often (k = 10 floats: 3-6% faster). Where the output rows are padded with room for
 * it (ldo >= k - r + W), the tail is instead a whole vector at k - r, F's r entries
 * and zeros, which adds zero to the padding (finite entries): no overlap, whole
 * vectors only (k = 10 floats in rows of 16 on sparse_20000x5000, a throwaway harness
 * on this header, three runs: 1.09-1.11 -> 1.04-1.06 ms; whole fits, in
 * asv_benchmarks/padding.py, no change beyond the host's noise). Wider k goes by
 * chunks of columns of at most NMF_SCATTER_VECTORS vectors, each chunk one pass over
 * A (see NMF_SCATTER_DISPATCH); k below a vector, and NMF_PLAIN_C, entry by entry
 * through a loop over the row.
 *
 * search: each row's indices are sorted; its first entry in range is found by binary
 * search (none when lo is 0: entries below 0 fail the range test) and the row is left
 * at the first one past hi. The search compiles to conditional moves, a fixed number
 * of probes for a row's length: a branch on each probe went the wrong way about half
 * the time. starts and ends (with search; NULL where not known) give each row's first
 * entry in range and the first past it, found once for many products
 * (scatter_row_splits in nmf/_sparse_fast.pyx): no search, and the row ends at the
 * part's last entry. The upper half of sparse_20000x5000's columns, float32 k = 10,
 * one thread (a throwaway harness, two runs): 0.99-1.08 ms searching with this
 * header, 0.57-0.62 from starts (the same loop written out), where the whole product
 * takes 1.26-1.46. Either is taken within the row (clamped), so wrong ones give a
 * wrong sum, never a write outside [lo, hi) or a read outside the row.
 *
 * count: the entries outside [0, n_cols) are counted (returned); with search, those
 * sit at the rows' ends.
 *
 * checked: the caller has made sure that every column lies in [0, n_cols)
 * (count_outside in nmf/_sparse_fast.pyx, once a fit). Where the part is then all of
 * out's rows, or bounded by starts / ends on each side not at out's ends, every entry
 * the loop meets is in range, and a kernel without the entry's test runs (TESTED 0:
 * no subtraction of lo, no comparison, no branch an entry). Its output row is O +
 * col ldo, inside O for any checked column, so splits not made for the bounds can
 * only put an entry into another thread's part, not outside O. Measured on
 * sparse_20000x5000 at k = 10, one thread (a throwaway harness on this header and the
 * gather's, medians of 41 calls, interleaved, three runs): X^T W float32 in rows of
 * 16 1.42-1.47 -> 1.13-1.26 ms, float64 2.15-2.25 -> 1.95-2.06; the gather of X @
 * H^T float32 0.93-1.01 -> 0.79-0.91, float64 1.51-1.69 -> 1.38-1.51. The loop is
 * bound by its instructions, not by memory, and the test is three of its 15-18.
 */
#ifndef NMF_SPARSE_SCATTER_H
#define NMF_SPARSE_SCATTER_H

#include <stdint.h>
#include <string.h>
#include "_vector.h"

#define NMF_SCATTER_VECTORS 8

#define NMF_SCATTER_EACH(S) S(0) S(1) S(2) S(3) S(4) S(5) S(6) S(7)
/* Whole vector v of a row (v < NF), at v W. */
#define NMF_SCATTER_LOAD_F(v) if (v < NF) f##v = *(const vec *) (f + v * W);
#define NMF_SCATTER_ADD(v) if (v < NF) y##v = *(const vec *) (y + v * W) + a * f##v;
#define NMF_SCATTER_STORE(v) if (v < NF) *(vec *) (y + v * W) = y##v;
/* The tail at `tail`: none (TAIL 0), half a vector (1), a whole one (2), or a whole
   one past the last whole vector into the row's padding, F's entries and zeros (3):
   read in place on through the start of F's next row and the lanes past the row's end
   cleared, or for F's last row copied entry by entry (a copy on every row costs its
   stores reloaded as one vector; with the constant offset of the tail below, float32
   k = 10 in rows of 16 4-6% faster than copying, a throwaway harness). */
#define NMF_SCATTER_TAIL_LOAD_F(T)                                                     \
    if (TAIL == 1) fh = *(const half *) (f + tail);                                    \
    if (TAIL == 2) ft = *(const vec *) (f + tail);                                     \
    if (TAIL == 3) {                                                                   \
        if (i + 1 < n_rows) {                                                          \
            ft = (reg) ((lanes) *(const vec *) (f + tail) & in_row);                   \
        } else {                                                                       \
            T part[W];                                                                 \
            for (int c = 0; c < W; c++)                                                \
                part[c] = c < kc - tail ? f[tail + c] : 0;                             \
            ft = *(const vec *) part;                                                  \
        }                                                                              \
    }
#define NMF_SCATTER_TAIL_ADD                                                           \
    if (TAIL == 1) yh = *(const half *) (y + tail) + a * fh;                           \
    if (TAIL >= 2) yt = *(const vec *) (y + tail) + a * ft;
#define NMF_SCATTER_TAIL_STORE                                                         \
    if (TAIL == 1) *(half *) (y + tail) = yh;                                          \
    if (TAIL >= 2) *(vec *) (y + tail) = yt;

/* The first p in [begin, end) with ind[p] >= lo, or end: ind sorted on that range.
   Conditional moves, a fixed number of probes for the range's length (see search
   above); also scatter_row_splits' search (nmf/_sparse_fast.pyx). */
#define NMF_FIRST_AT_LEAST(I)                                                          \
static inline Py_ssize_t nmf_first_at_least_##I(const I *ind, Py_ssize_t begin,       \
                                                Py_ssize_t end, Py_ssize_t lo) {      \
    if (begin >= end) return end;                                                      \
    Py_ssize_t base = begin, len = end - begin;                                        \
    while (len > 1) {                                                                  \
        const Py_ssize_t half = len / 2;                                               \
        base = ind[base + half] < lo ? base + half : base;                             \
        len -= half;                                                                   \
    }                                                                                  \
    return base + (ind[base] < lo);                                                    \
}
NMF_FIRST_AT_LEAST(int32_t)
NMF_FIRST_AT_LEAST(int64_t)

/* The loop over A's rows, with BEGIN_ROW run once per row (F[i] is f) and ADD once
   per entry in range (y its output row, a its value). TESTED 0: every entry the loop
   meets is in range (see nmf_scatter_part's checked), none is tested. */
#define NMF_SCATTER_ROWS(T, I, TESTED, BEGIN_ROW, ADD)                                  \
    T *const O_lo = O + lo * ldo;                                                      \
    const size_t span = (size_t) (hi - lo);                                            \
    for (Py_ssize_t i = 0; i < n_rows; i++) {                                          \
        Py_ssize_t p = indptr[i];                                                      \
        Py_ssize_t end = indptr[i + 1];                                                \
        if (search) {                                                                  \
            if (count) {                                                               \
                Py_ssize_t low = p, high = end - 1;                                    \
                for (; low < end && ind[low] < 0; low++)                               \
                    bad++;                                                             \
                for (; high >= low && ind[high] >= n_cols; high--)                     \
                    bad++;                                                             \
            }                                                                          \
            if (starts) {                                                              \
                const Py_ssize_t first = starts[i];                                    \
                p = first < p ? p : first < end ? first : end;                         \
            } else if (lo > 0) {                                                       \
                p = nmf_first_at_least_##I(ind, p, end, lo);                           \
            }                                                                          \
            if (ends) {                                                                \
                const Py_ssize_t past = ends[i];                                       \
                end = past < p ? p : past < end ? past : end;                          \
            }                                                                          \
        }                                                                              \
        const T *restrict f = F + i * k;                                               \
        BEGIN_ROW                                                                      \
        for (; p < end; p++) {                                                         \
            /* col - lo as unsigned: below lo wraps past span, one comparison */       \
            const size_t c = (size_t) (Py_ssize_t) ind[p] - (size_t) (TESTED ? lo : 0); \
            if (TESTED && __builtin_expect(c >= span, 0)) {                            \
                const Py_ssize_t col = ind[p];                                         \
                if (search) {                                                          \
                    if (col >= hi)                                                     \
                        break;          /* the rest of the row is past this range */   \
                } else if (count && (col < 0 || col >= n_cols)) {                      \
                    bad++;                                                             \
                }                                                                      \
                continue;                                                              \
            }                                                                          \
            T *restrict y = (TESTED ? O_lo : O) + c * ldo;                             \
            const T a = data[p];                                                       \
            ADD                                                                        \
        }                                                                              \
    }

#if NMF_VECTOR_EXTENSIONS
#define NMF_SCATTER_KERNEL(T, I, NF_, TAIL_, TESTED_)                                 \
static void nmf_scatter_##T##_##I##_##NF_##_##TAIL_##_##TESTED_(                      \
        const T *restrict data, const I *restrict ind, const I *restrict indptr,       \
        Py_ssize_t n_rows, const T *restrict F, T *restrict O, Py_ssize_t ldo,         \
        Py_ssize_t n_cols, Py_ssize_t k, Py_ssize_t kc, Py_ssize_t lo, Py_ssize_t hi,  \
        int search, int count, const I *starts, const I *ends,                         \
        Py_ssize_t *bad_entries) {                                                     \
    typedef T vec __attribute__((vector_size(NMF_VECTOR_BYTES), aligned(sizeof(T)),   \
                                 may_alias));                                         \
    typedef T half __attribute__((vector_size(NMF_VECTOR_BYTES / 2),                  \
                                  aligned(sizeof(T)), may_alias));                    \
    typedef T reg __attribute__((vector_size(NMF_VECTOR_BYTES)));                      \
    typedef T half_reg __attribute__((vector_size(NMF_VECTOR_BYTES / 2)));             \
    enum { W = NMF_VECTOR_BYTES / sizeof(T), NF = NF_, TAIL = TAIL_ };                 \
    /* TAIL 3: NF = kc / W (NMF_SCATTER_CASE), so a constant offset */                 \
    const Py_ssize_t tail = TAIL == 3 ? NF * W : kc - (TAIL == 1 ? W / 2 : W);         \
    Py_ssize_t bad = 0;                                                                \
    reg f0, f1, f2, f3, f4, f5, f6, f7, ft;                                            \
    /* TAIL 3: the lanes of the tail within the row (c < kc - tail) */                 \
    typedef __typeof__(ft < ft) lanes;                                                 \
    T lane_index[W];                                                                   \
    for (int c = 0; c < W; c++) lane_index[c] = (T) c;                                 \
    const lanes in_row = *(const vec *) lane_index < (reg) {0} + (T) (kc - tail);      \
    reg y0, y1, y2, y3, y4, y5, y6, y7, yt;                                            \
    half_reg fh, yh;                                                                   \
    NMF_SCATTER_ROWS(T, I, TESTED_,                                                    \
                     NMF_SCATTER_EACH(NMF_SCATTER_LOAD_F) NMF_SCATTER_TAIL_LOAD_F(T)   \
                     ,                                                                 \
                     NMF_SCATTER_EACH(NMF_SCATTER_ADD) NMF_SCATTER_TAIL_ADD            \
                     NMF_SCATTER_EACH(NMF_SCATTER_STORE) NMF_SCATTER_TAIL_STORE)       \
    *bad_entries = bad;                                                                \
}
/* NF whole vectors and each tail (none with NF = 8: at most 8 pieces in registers),
   each with and without the entries' test */
#define NMF_SCATTER_KERNEL_PAIR(T, I, NF, TAIL)                                        \
    NMF_SCATTER_KERNEL(T, I, NF, TAIL, 1) NMF_SCATTER_KERNEL(T, I, NF, TAIL, 0)
#define NMF_SCATTER_KERNELS(T, I, NF)                                                  \
    NMF_SCATTER_KERNEL_PAIR(T, I, NF, 0)                                               \
    NMF_SCATTER_KERNEL_PAIR(T, I, NF, 1)                                               \
    NMF_SCATTER_KERNEL_PAIR(T, I, NF, 2)                                               \
    NMF_SCATTER_KERNEL_PAIR(T, I, NF, 3)
#define NMF_SCATTER_CASES(T, I)                                                        \
    NMF_FOR_1_TO_7(NMF_SCATTER_KERNELS, T, I) NMF_SCATTER_KERNEL_PAIR(T, I, 8, 0)
#define NMF_SCATTER_CALL_TESTED(T, I, NF, TAIL, TESTED)                                \
    nmf_scatter_##T##_##I##_##NF##_##TAIL##_##TESTED(                                  \
        data, ind, indptr, n_rows, F, O, ldo, n_cols, k, kc, lo, hi, search, count,    \
        starts, ends, &bad);
#define NMF_SCATTER_CALL(T, I, NF, TAIL)                                               \
    if (tested) { NMF_SCATTER_CALL_TESTED(T, I, NF, TAIL, 1) }                         \
    else { NMF_SCATTER_CALL_TESTED(T, I, NF, TAIL, 0) }                                \
    return bad;
/* A whole tail into the padding where the row has room; else a half tail where half a
   vector holds two entries or more. */
#define NMF_SCATTER_CASE(T, I, NF)                                                     \
    case NF:                                                                           \
        if (r == 0) { NMF_SCATTER_CALL(T, I, NF, 0) }                                  \
        if (room >= kc - r + W) { NMF_SCATTER_CALL(T, I, NF, 3) }                      \
        if (W >= 4 && r <= W / 2) { NMF_SCATTER_CALL(T, I, NF, 1) }                    \
        NMF_SCATTER_CALL(T, I, NF, 2)
/* Columns [0, kc) of F's and O's rows (row strides k and ldo; F and O already offset
   to the chunk's first column, room entries of an output row from there on), kc from
   one vector to NMF_SCATTER_VECTORS. */
#define NMF_SCATTER_CHUNK(T, I)                                                        \
static Py_ssize_t nmf_scatter_chunk_##T##_##I(                                        \
        const T *restrict data, const I *restrict ind, const I *restrict indptr,       \
        Py_ssize_t n_rows, const T *restrict F, T *restrict O, Py_ssize_t ldo,         \
        Py_ssize_t room, Py_ssize_t n_cols, Py_ssize_t k, Py_ssize_t kc,               \
        Py_ssize_t lo, Py_ssize_t hi, int search, int count, const I *starts,          \
        const I *ends, int tested) {                                                   \
    const Py_ssize_t W = NMF_VECTOR_BYTES / sizeof(T), r = kc % W;                     \
    Py_ssize_t bad = 0;                                                                \
    if (kc == NMF_SCATTER_VECTORS * W) {                                               \
        NMF_SCATTER_CALL(T, I, 8, 0)                                                   \
    }                                                                                  \
    switch (kc / W) {                                                                  \
        NMF_FOR_1_TO_7(NMF_SCATTER_CASE, T, I)                                         \
    }                                                                                  \
    return bad;                     /* not reached: W <= kc <= 8 W */                  \
}
/* k of at least one vector: in chunks of columns of one to eight vectors each, whole
   vectors shared out as evenly as can be (the first chunks taking any one more) and
   the last chunk the k % W columns left (at most 8 W in all, as chunks is k / 8 W
   rounded up), each chunk a pass over A with its part of F's row in registers;
   every output entry still gets its entries in storage order. The entries outside
   [0, n_cols) are counted on the first pass only. */
#define NMF_SCATTER_DISPATCH(T, I)                                                     \
    {                                                                                  \
        const Py_ssize_t W = NMF_VECTOR_BYTES / sizeof(T);                             \
        if (k >= W) {                                                                  \
            const Py_ssize_t chunks = (k + NMF_SCATTER_VECTORS * W - 1)               \
                                      / (NMF_SCATTER_VECTORS * W);                     \
            const Py_ssize_t vectors = k / W;                                          \
            for (Py_ssize_t chunk = 0; chunk < chunks; chunk++) {                      \
                const Py_ssize_t c0 = (chunk * vectors + chunks - 1) / chunks * W;     \
                const Py_ssize_t c1 = chunk + 1 < chunks                               \
                    ? ((chunk + 1) * vectors + chunks - 1) / chunks * W : k;           \
                bad += nmf_scatter_chunk_##T##_##I(                                    \
                    data, ind, indptr, n_rows, F + c0, O + c0, ldo, ldo - c0, n_cols,  \
                    k, c1 - c0, lo, hi, search, count && chunk == 0, starts, ends,     \
                    tested);                                                           \
            }                                                                          \
            return bad;                                                                \
        }                                                                              \
    }
#else
#define NMF_SCATTER_CASES(T, I)
#define NMF_SCATTER_CHUNK(T, I)
#define NMF_SCATTER_DISPATCH(T, I)
#endif

#define NMF_SCATTER_PART(T, I)                                                         \
NMF_SCATTER_CASES(T, I)                                                                \
NMF_SCATTER_CHUNK(T, I)                                                                \
static Py_ssize_t nmf_scatter_part_##T##_##I(                                         \
        const T *restrict data, const I *restrict ind, const I *restrict indptr,       \
        Py_ssize_t n_rows, const T *restrict F, T *restrict O, Py_ssize_t ldo,         \
        Py_ssize_t n_cols, Py_ssize_t k, Py_ssize_t lo, Py_ssize_t hi, int search,     \
        int count, const I *starts, const I *ends, int checked) {                      \
    Py_ssize_t bad = 0;                                                                \
    /* Every entry the loop meets is in [lo, hi) when all columns are in [0, n_cols)  \
       and each end of the range is that of the columns or bounds the rows' entries   \
       (starts / ends with search). */                                                 \
    const int tested = !(checked && (lo == 0 || (search && starts))                    \
                         && (hi == n_cols || (search && ends)));                       \
    memset(O + lo * ldo, 0, (size_t) ((hi - lo) * ldo) * sizeof(T));                   \
    NMF_SCATTER_DISPATCH(T, I)                                                         \
    (void) tested;                                                                     \
    NMF_SCATTER_ROWS(T, I, 1, , for (Py_ssize_t c = 0; c < k; c++) y[c] += a * f[c];)  \
    return bad;                                                                        \
}

NMF_SCATTER_PART(float, int32_t)
NMF_SCATTER_PART(float, int64_t)
NMF_SCATTER_PART(double, int32_t)
NMF_SCATTER_PART(double, int64_t)

#endif
