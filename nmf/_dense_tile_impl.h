/* One instance of the dense products, for the type NMF_T (see _dense_tile.h, which
 * includes this file once per floating type with NMF_T, NMF_FMA, NMF_VECTOR, NMF_VFMA,
 * NMF_VSET1, NMF_COLS_VECTORS and NMF_NAME set). */

/* Rows of a cols panel: NMF_COLS_VECTORS vectors of a's row s per step. */
#define NMF_COLS_PANEL (NMF_COLS_VECTORS * NMF_DENSE_VECTOR_BYTES / (ptrdiff_t) sizeof(NMF_T))

typedef NMF_T NMF_NAME(nmf_dvec)
    __attribute__((vector_size(NMF_DENSE_VECTOR_BYTES), aligned(sizeof(NMF_T)), may_alias));

/* acc + x * f in one rounding (x broadcast to every lane). */
static inline NMF_NAME(nmf_dvec) NMF_NAME(nmf_madd)(NMF_T x, NMF_NAME(nmf_dvec) f,
                                                    NMF_NAME(nmf_dvec) acc)
{
    return (NMF_NAME(nmf_dvec)) NMF_VFMA(NMF_VSET1(x), (NMF_VECTOR) f, (NMF_VECTOR) acc);
}

/* ---- rows: out[r, :] = sum_s a[r * lda + s] * b[s, :] ------------------------------- */

/* acc[q][c:c + VECTORS * width] += sum over s < len of x[q][s] * b[s * ldb + c + ...]
 * for the tile's ROWS rows q; VECTORS is 1, 2 or (AVX-512) 4. */
#define NMF_ROWS_TILE(ROWS, VECTORS)                                                    \
static inline void NMF_NAME(nmf_rows_tile_##ROWS##x##VECTORS)(                           \
    NMF_T (*acc)[NMF_DENSE_MAX_K], ptrdiff_t c, const NMF_T *b, ptrdiff_t ldb,           \
    const NMF_T *const *x, ptrdiff_t len)                                                \
{                                                                                        \
    typedef NMF_NAME(nmf_dvec) vec;                                                      \
    enum { WIDTH = NMF_DENSE_VECTOR_BYTES / sizeof(NMF_T) };                             \
    vec sum[ROWS][VECTORS];                                                              \
    ptrdiff_t q, v, s;                                                                   \
    for (q = 0; q < ROWS; q++)                                                           \
        for (v = 0; v < VECTORS; v++)                                                    \
            sum[q][v] = *(const vec *) (acc[q] + c + v * WIDTH);                         \
    for (s = 0; s < len; s++) {                                                          \
        const NMF_T *p = b + s * ldb + c;                                                \
        if (ROWS <= 4) {             /* a vector of the factor at a time */              \
            for (v = 0; v < VECTORS; v++) {                                              \
                const vec f = *(const vec *) (p + v * WIDTH);                            \
                for (q = 0; q < ROWS; q++)                                               \
                    sum[q][v] = NMF_NAME(nmf_madd)(x[q][s], f, sum[q][v]);               \
            }                                                                            \
        } else {                     /* a row's broadcast at a time: fewer registers */  \
            vec f[VECTORS];                                                              \
            for (v = 0; v < VECTORS; v++)                                                \
                f[v] = *(const vec *) (p + v * WIDTH);                                   \
            for (q = 0; q < ROWS; q++) {                                                 \
                const NMF_T xq = x[q][s];                                                \
                for (v = 0; v < VECTORS; v++)                                            \
                    sum[q][v] = NMF_NAME(nmf_madd)(xq, f[v], sum[q][v]);                 \
            }                                                                            \
        }                                                                                \
    }                                                                                    \
    for (q = 0; q < ROWS; q++)                                                           \
        for (v = 0; v < VECTORS; v++)                                                    \
            *(vec *) (acc[q] + c + v * WIDTH) = sum[q][v];                               \
}

/* All column tiles of one ROWS-row tile over steps [0, len) of b (row stride ldb). */
#define NMF_ROWS_SPAN_DEFINITION(ROWS)                                                  \
static inline void NMF_NAME(nmf_rows_span_##ROWS)(                                       \
    NMF_T (*acc)[NMF_DENSE_MAX_K], ptrdiff_t kp, const NMF_T *b, ptrdiff_t ldb,          \
    const NMF_T *const *x, ptrdiff_t len)                                                \
{                                                                                        \
    enum { WIDTH = NMF_DENSE_VECTOR_BYTES / sizeof(NMF_T) };                             \
    ptrdiff_t c = 0;                                                                     \
    if (NMF_DENSE_VECTOR_BYTES == 64)       /* 32 registers: four vectors a row fit */   \
        for (; c + 4 * WIDTH <= kp; c += 4 * WIDTH)                                      \
            NMF_NAME(nmf_rows_tile_##ROWS##x4)(acc, c, b, ldb, x, len);                  \
    for (; c + 2 * WIDTH <= kp; c += 2 * WIDTH)                                          \
        NMF_NAME(nmf_rows_tile_##ROWS##x2)(acc, c, b, ldb, x, len);                      \
    if (c < kp)                                                                          \
        NMF_NAME(nmf_rows_tile_##ROWS##x1)(acc, c, b, ldb, x, len);                      \
}
#define NMF_ROWS_TILES(ROWS)                                                            \
    NMF_ROWS_TILE(ROWS, 1) NMF_ROWS_TILE(ROWS, 2) NMF_ROWS_TILE(ROWS, 4)                 \
    NMF_ROWS_SPAN_DEFINITION(ROWS)
#define NMF_ROWS_TILES_OF(ROWS) NMF_ROWS_TILES(ROWS)     /* ROWS a macro, expanded */
NMF_ROWS_TILES_OF(NMF_DENSE_TILE_ROWS)
#if NMF_DENSE_WIDE_ROWS
NMF_ROWS_TILES_OF(NMF_DENSE_WIDE_ROWS)
#endif
#undef NMF_ROWS_TILE
#undef NMF_ROWS_TILES
#undef NMF_ROWS_SPAN_DEFINITION
#undef NMF_ROWS_TILES_OF

#define NMF_ROWS_SPAN_OF(ROWS) NMF_ROWS_SPAN(ROWS)     /* ROWS a macro, expanded */
#define NMF_ROWS_SPAN(ROWS) NMF_NAME(nmf_rows_span_##ROWS)

/* Result rows [r_begin, r_end) of the rows product; k <= NMF_DENSE_MAX_K; with
 * accumulate, each sum starts from out's entry instead of 0. The factor
 * is read in whole vectors, kp >= k entries a row: past the end of a row into the
 * next, which stays inside b except for its last few rows, read from a padded copy.
 *
 * A factor of fewer than WIDE_VECTORS vectors a row: tiles of TILE_ROWS rows, each
 * over all steps in blocks of ROWS_DEPTH. Wider (AVX2 only): tiles of WIDE_ROWS rows,
 * the loops blocked so that the factor's rows of a block of WIDE_DEPTH steps stay in
 * L1 while every tile of a block of WIDE_BLOCK rows passes over them. */
static void NMF_NAME(nmf_dense_rows)(const NMF_T *a, ptrdiff_t lda, ptrdiff_t depth,
                                     const NMF_T *b, ptrdiff_t k, NMF_T *out,
                                     ptrdiff_t r_begin, ptrdiff_t r_end, int accumulate)
{
    enum { WIDTH = NMF_DENSE_VECTOR_BYTES / sizeof(NMF_T) };
    const ptrdiff_t kp = (k + WIDTH - 1) / WIDTH * WIDTH;
    /* Steps whose rows can be read kp entries long inside b: s * k + kp <= depth * k. */
    const ptrdiff_t over = (kp - k + k - 1) / k;
    const ptrdiff_t direct = depth > over ? depth - over : 0;
    NMF_T tail[WIDTH][NMF_DENSE_MAX_K] __attribute__((aligned(64)));
    ptrdiff_t s;

    memset(tail, 0, sizeof tail);
    for (s = direct; s < depth; s++)
        memcpy(tail[s - direct], b + s * k, k * sizeof(NMF_T));
#if NMF_DENSE_WIDE_ROWS
    if (kp >= NMF_DENSE_WIDE_VECTORS * WIDTH) {
        enum { ROWS = NMF_DENSE_WIDE_ROWS, BLOCK = NMF_DENSE_WIDE_BLOCK };
        NMF_T acc[BLOCK][NMF_DENSE_MAX_K] __attribute__((aligned(64)));
        const NMF_T *x[BLOCK], *xs[ROWS];
        ptrdiff_t i0, i, q, s0;
        for (i0 = r_begin; i0 < r_end; i0 += BLOCK) {
            const ptrdiff_t rows = r_end - i0 < BLOCK ? r_end - i0 : BLOCK;
            const ptrdiff_t tiled = (rows + ROWS - 1) / ROWS * ROWS;
            for (q = 0; q < tiled; q++)     /* a short tile repeats the last row */
                x[q] = a + (i0 + (q < rows ? q : rows - 1)) * lda;
            memset(acc, 0, tiled * sizeof acc[0]);
            if (accumulate)
                for (q = 0; q < rows; q++)
                    memcpy(acc[q], out + (i0 + q) * k, k * sizeof(NMF_T));
            /* Blocks of steps inside b, then the padded copy's steps [direct, depth). */
            for (s0 = 0; s0 < depth; ) {
                const int inside = s0 < direct;
                const ptrdiff_t end = !inside ? depth
                                      : direct - s0 < NMF_DENSE_WIDE_DEPTH
                                          ? direct : s0 + NMF_DENSE_WIDE_DEPTH;
                const NMF_T *bs = inside ? b + s0 * k : tail[0];
                const ptrdiff_t ldb = inside ? k : NMF_DENSE_MAX_K;
                for (i = 0; i < tiled; i += ROWS) {
                    for (q = 0; q < ROWS; q++)
                        xs[q] = x[i + q] + s0;
                    /* The next tile's lines of X, a row apart: not foreseen by the
                     * processor's prefetchers. */
                    if (i + ROWS < tiled)
                        for (q = 0; q < ROWS; q++)
                            for (s = s0; s < end; s += 64 / sizeof(NMF_T))
                                __builtin_prefetch(x[i + ROWS + q] + s);
                    NMF_ROWS_SPAN_OF(NMF_DENSE_WIDE_ROWS)(acc + i, kp, bs, ldb, xs,
                                                          end - s0);
                }
                s0 = end;
            }
            for (q = 0; q < rows; q++)
                memcpy(out + (i0 + q) * k, acc[q], k * sizeof(NMF_T));
        }
        return;
    }
#endif
    {
        enum { ROWS = NMF_DENSE_TILE_ROWS };
        NMF_T acc[ROWS][NMF_DENSE_MAX_K] __attribute__((aligned(64)));
        const NMF_T *x[ROWS], *xs[ROWS];
        ptrdiff_t i, q, s0;
        for (i = r_begin; i < r_end; i += ROWS) {
            const ptrdiff_t rows = r_end - i < ROWS ? r_end - i : ROWS;
            for (q = 0; q < ROWS; q++)      /* a short tile repeats its last row */
                x[q] = a + (i + (q < rows ? q : rows - 1)) * lda;
            memset(acc, 0, sizeof acc);
            if (accumulate)
                for (q = 0; q < rows; q++)
                    memcpy(acc[q], out + (i + q) * k, k * sizeof(NMF_T));
            for (s0 = 0; s0 < direct; s0 += NMF_DENSE_ROWS_DEPTH) {
                const ptrdiff_t len = direct - s0 < NMF_DENSE_ROWS_DEPTH
                                          ? direct - s0 : NMF_DENSE_ROWS_DEPTH;
                for (q = 0; q < ROWS; q++)
                    xs[q] = x[q] + s0;
                if (NMF_DENSE_ROWS_PREFETCH && s0 + NMF_DENSE_ROWS_DEPTH < direct)
                    for (q = 0; q < ROWS; q++)
                        for (s = 0; s < NMF_DENSE_ROWS_DEPTH; s += 64 / sizeof(NMF_T))
                            __builtin_prefetch(xs[q] + NMF_DENSE_ROWS_DEPTH + s);
                NMF_ROWS_SPAN_OF(NMF_DENSE_TILE_ROWS)(acc, kp, b + s0 * k, k, xs, len);
            }
            if (direct < depth) {
                for (q = 0; q < ROWS; q++)
                    xs[q] = x[q] + direct;
                NMF_ROWS_SPAN_OF(NMF_DENSE_TILE_ROWS)(acc, kp, tail[0], NMF_DENSE_MAX_K,
                                                      xs, depth - direct);
            }
            for (q = 0; q < rows; q++)
                memcpy(out + (i + q) * k, acc[q], k * sizeof(NMF_T));
        }
    }
}
#undef NMF_ROWS_SPAN
#undef NMF_ROWS_SPAN_OF

/* ---- cols: out[r, :] = sum_s a[s * lda + r] * b[s, :] ------------------------------- */

/* t[c * stride:][:panel] (result rows r0 to r0 + panel, factor column c0 + c) += over
 * s < len of a[s * lda + r0 + ...] * b[s * k + c0 + c], for GROUP <= COLS_GROUP
 * columns. */
#define NMF_COLS_TILE(GROUP)                                                            \
static inline void NMF_NAME(nmf_cols_tile##GROUP)(                                       \
    NMF_T *t, ptrdiff_t stride, const NMF_T *a, ptrdiff_t lda, const NMF_T *b,           \
    ptrdiff_t k, ptrdiff_t len)                                                          \
{                                                                                        \
    typedef NMF_NAME(nmf_dvec) vec;                                                      \
    enum { WIDTH = NMF_DENSE_VECTOR_BYTES / sizeof(NMF_T) };                             \
    vec sum[GROUP][NMF_COLS_VECTORS];                                                    \
    ptrdiff_t c, s, v;                                                                   \
    for (c = 0; c < GROUP; c++)                                                          \
        for (v = 0; v < NMF_COLS_VECTORS; v++)                                           \
            sum[c][v] = *(const vec *) (t + c * stride + v * WIDTH);                     \
    for (s = 0; s < len; s++) {                                                          \
        vec x[NMF_COLS_VECTORS];                                                         \
        for (v = 0; v < NMF_COLS_VECTORS; v++)                                           \
            x[v] = *(const vec *) (a + s * lda + v * WIDTH);                             \
        for (c = 0; c < GROUP; c++) {                                                    \
            const NMF_T f = b[s * k + c];                                                \
            for (v = 0; v < NMF_COLS_VECTORS; v++)                                       \
                sum[c][v] = NMF_NAME(nmf_madd)(f, x[v], sum[c][v]);                      \
        }                                                                                \
    }                                                                                    \
    for (c = 0; c < GROUP; c++)                                                          \
        for (v = 0; v < NMF_COLS_VECTORS; v++)                                           \
            *(vec *) (t + c * stride + v * WIDTH) = sum[c][v];                           \
}
NMF_COLS_TILE(1)
NMF_COLS_TILE(2)
NMF_COLS_TILE(3)
NMF_COLS_TILE(4)
NMF_COLS_TILE(5)
NMF_COLS_TILE(6)
#if NMF_DENSE_COLS_GROUP == 10
NMF_COLS_TILE(10)
#endif
#undef NMF_COLS_TILE

/* One panel's sums over steps [0, len) (as = a + s0 * lda + r0, bs = b + s0 * k) added
 * to what sums holds: result row r0 + r, column c at sums[r * k + c]. */
static void NMF_NAME(nmf_cols_panel)(const NMF_T *as, ptrdiff_t lda, ptrdiff_t len,
                                     const NMF_T *bs, ptrdiff_t k, NMF_T *sums)
{
    enum { PANEL = NMF_COLS_PANEL };
    NMF_T t[NMF_DENSE_COLS_GROUP][PANEL] __attribute__((aligned(64)));
    ptrdiff_t r, c0, c, group;
    for (c0 = 0; c0 < k; c0 += group) {
        /* Groups of COLS_GROUP columns, then of 6, then what is left. */
        group = k - c0 >= NMF_DENSE_COLS_GROUP ? NMF_DENSE_COLS_GROUP
                : k - c0 >= 6                  ? 6
                                               : k - c0;
        for (c = 0; c < group; c++)
            for (r = 0; r < PANEL; r++)
                t[c][r] = sums[r * k + c0 + c];
        switch (group) {
        case 1: NMF_NAME(nmf_cols_tile1)(t[0], PANEL, as, lda, bs + c0, k, len); break;
        case 2: NMF_NAME(nmf_cols_tile2)(t[0], PANEL, as, lda, bs + c0, k, len); break;
        case 3: NMF_NAME(nmf_cols_tile3)(t[0], PANEL, as, lda, bs + c0, k, len); break;
        case 4: NMF_NAME(nmf_cols_tile4)(t[0], PANEL, as, lda, bs + c0, k, len); break;
        case 5: NMF_NAME(nmf_cols_tile5)(t[0], PANEL, as, lda, bs + c0, k, len); break;
        case 6: NMF_NAME(nmf_cols_tile6)(t[0], PANEL, as, lda, bs + c0, k, len); break;
#if NMF_DENSE_COLS_GROUP == 10
        default: NMF_NAME(nmf_cols_tile10)(t[0], PANEL, as, lda, bs + c0, k, len); break;
#endif
        }
        for (c = 0; c < group; c++)
            for (r = 0; r < PANEL; r++)
                sums[r * k + c0 + c] = t[c][r];
    }
}

/* Result rows [r_begin, r_end) of the cols product, their sums over steps [s0, s0 +
 * len) added to what out holds, panel by panel. Rows past the last whole panel: with
 * tail_sums, the panel that ends at r_end, overlapping the one before, its sums in
 * tail_sums (PANEL x k; the caller keeps the rows it needs); without, entry by entry,
 * with the same fused multiply-adds. */
static void NMF_NAME(nmf_cols_block)(const NMF_T *a, ptrdiff_t lda, ptrdiff_t s0,
                                     ptrdiff_t len, const NMF_T *b, ptrdiff_t k,
                                     NMF_T *out, ptrdiff_t r_begin, ptrdiff_t r_end,
                                     NMF_T *tail_sums)
{
    enum { PANEL = NMF_COLS_PANEL };
    ptrdiff_t r0, r, c, s;
    const NMF_T *as = a + s0 * lda, *bs = b + s0 * k;

    for (r0 = r_begin; r0 + PANEL <= r_end; r0 += PANEL) {
        /* The next panel's lines of a, one per step and a row's length apart, which the
         * processor's prefetchers do not foresee: asked for now, they arrive while this
         * panel is summed. */
        if (r0 + 2 * PANEL <= r_end)
            for (s = 0; s < len; s++)
                for (r = 0; r < PANEL; r += 64 / sizeof(NMF_T))
                    __builtin_prefetch(as + s * lda + r0 + PANEL + r);
        NMF_NAME(nmf_cols_panel)(as + r0, lda, len, bs, k, out + r0 * k);
    }
    if (r0 < r_end && tail_sums != NULL) {
        NMF_NAME(nmf_cols_panel)(as + r_end - PANEL, lda, len, bs, k, tail_sums);
        return;
    }
    for (r = r0; r < r_end; r++) {
        for (c = 0; c < k; c++) {
            NMF_T sum = out[r * k + c];
            for (s = 0; s < len; s++)
                sum = NMF_FMA(as[s * lda + r], bs[s * k + c], sum);
            out[r * k + c] = sum;
        }
    }
}

/* The tiles of a chunk of result rows [r0, r0 + ch) (whole panels), steps [s0, s0 +
 * len), on sums held transposed in acc (column c of the factor at acc + c * ch). */
static void NMF_NAME(nmf_cols_chunk_pass)(const NMF_T *a, ptrdiff_t lda, ptrdiff_t s0,
                                          ptrdiff_t len, const NMF_T *b, ptrdiff_t k,
                                          ptrdiff_t r0, ptrdiff_t ch, NMF_T *acc)
{
    enum { PANEL = NMF_COLS_PANEL };
    const NMF_T *as = a + s0 * lda + r0, *bs = b + s0 * k;
    ptrdiff_t p, c0, group;
    for (p = 0; p < ch; p += PANEL) {
        for (c0 = 0; c0 < k; c0 += group) {
            group = k - c0 >= NMF_DENSE_COLS_GROUP ? NMF_DENSE_COLS_GROUP
                    : k - c0 >= 6                  ? 6
                                                   : k - c0;
            NMF_T *t = acc + c0 * ch + p;
            switch (group) {
            case 1: NMF_NAME(nmf_cols_tile1)(t, ch, as + p, lda, bs + c0, k, len); break;
            case 2: NMF_NAME(nmf_cols_tile2)(t, ch, as + p, lda, bs + c0, k, len); break;
            case 3: NMF_NAME(nmf_cols_tile3)(t, ch, as + p, lda, bs + c0, k, len); break;
            case 4: NMF_NAME(nmf_cols_tile4)(t, ch, as + p, lda, bs + c0, k, len); break;
            case 5: NMF_NAME(nmf_cols_tile5)(t, ch, as + p, lda, bs + c0, k, len); break;
            case 6: NMF_NAME(nmf_cols_tile6)(t, ch, as + p, lda, bs + c0, k, len); break;
#if NMF_DENSE_COLS_GROUP == 10
            default: NMF_NAME(nmf_cols_tile10)(t, ch, as + p, lda, bs + c0, k, len); break;
#endif
            }
        }
    }
}

/* Result rows [r_begin, r_end) of the cols product; k <= NMF_DENSE_MAX_K; with
 * accumulate, each sum starts from out's entry instead of 0. Narrow
 * factors (k <= COLS_CHUNK_K) go chunk by chunk through whole panels, sums in work
 * memory (see _dense_tile.h); wider ones, or when the work memory cannot be had, block
 * by block of COLS_DEPTH steps (nmf_cols_block). The rows past the last whole panel
 * (when there are PANEL rows or more) come from one more panel, the one that ends at
 * r_end: its sums over every step in tail_sums, of which the last rows are kept.
 * Each sum runs over the steps in order either way, so the same bits. */
static void NMF_NAME(nmf_dense_cols)(const NMF_T *a, ptrdiff_t lda, ptrdiff_t depth,
                                     const NMF_T *b, ptrdiff_t k, NMF_T *out,
                                     ptrdiff_t r_begin, ptrdiff_t r_end, int accumulate)
{
    enum { PANEL = NMF_COLS_PANEL };
    ptrdiff_t s0, r0, r, c, ch;
    const ptrdiff_t panels_end = r_begin + (r_end - r_begin) / PANEL * PANEL;
    const ptrdiff_t tail = r_end - panels_end;
    NMF_T tail_sums[PANEL * NMF_DENSE_MAX_K] __attribute__((aligned(64)));
    NMF_T *const overlap = tail > 0 && panels_end > r_begin ? tail_sums : NULL;
    ptrdiff_t chunk = NMF_DENSE_COLS_CHUNK_BYTES / (k * (ptrdiff_t) sizeof(NMF_T))
                      / PANEL * PANEL;
    void *memory = NULL;
    NMF_T *acc;
    if (overlap != NULL) {       /* before the panels write their rows of out */
        if (accumulate)
            memcpy(tail_sums, out + (r_end - PANEL) * k, PANEL * k * sizeof(NMF_T));
        else
            memset(tail_sums, 0, PANEL * k * sizeof(NMF_T));
    }
    if (chunk < PANEL) chunk = PANEL;
    if (chunk > panels_end - r_begin) chunk = panels_end - r_begin;  /* what is needed */
    if (k <= NMF_DENSE_COLS_CHUNK_K && panels_end > r_begin)
        memory = malloc((size_t) (k * chunk) * sizeof(NMF_T) + 64);
    if (memory == NULL) {
        if (!accumulate)
            memset(out + r_begin * k, 0, (r_end - r_begin) * k * sizeof(NMF_T));
        for (s0 = 0; s0 < depth; s0 += NMF_DENSE_COLS_DEPTH)
            NMF_NAME(nmf_cols_block)(a, lda, s0,
                                     depth - s0 < NMF_DENSE_COLS_DEPTH ? depth - s0
                                                                       : NMF_DENSE_COLS_DEPTH,
                                     b, k, out, r_begin, r_end, overlap);
    } else {
        acc = (NMF_T *) (((uintptr_t) memory + 63) & ~(uintptr_t) 63);  /* whole lines */
        for (r0 = r_begin; r0 < panels_end; r0 += ch) {
            ch = panels_end - r0 < chunk ? panels_end - r0 : chunk;
            if (accumulate)
                for (r = 0; r < ch; r++)
                    for (c = 0; c < k; c++)
                        acc[c * ch + r] = out[(r0 + r) * k + c];
            else
                memset(acc, 0, k * ch * sizeof(NMF_T));
            for (s0 = 0; s0 < depth; s0 += NMF_DENSE_COLS_CHUNK_STEPS)
                NMF_NAME(nmf_cols_chunk_pass)(a, lda, s0,
                                              depth - s0 < NMF_DENSE_COLS_CHUNK_STEPS
                                                  ? depth - s0 : NMF_DENSE_COLS_CHUNK_STEPS,
                                              b, k, r0, ch, acc);
            for (r = 0; r < ch; r++)
                for (c = 0; c < k; c++)
                    out[(r0 + r) * k + c] = acc[c * ch + r];
        }
        free(memory);
        /* Here there is a whole panel: any rows past the panels are overlap's. */
        if (overlap != NULL)
            for (s0 = 0; s0 < depth; s0 += NMF_DENSE_COLS_DEPTH)
                NMF_NAME(nmf_cols_panel)(a + s0 * lda + r_end - PANEL, lda,
                                         depth - s0 < NMF_DENSE_COLS_DEPTH
                                             ? depth - s0 : NMF_DENSE_COLS_DEPTH,
                                         b + s0 * k, k, tail_sums);
    }
    if (overlap != NULL)
        memcpy(out + panels_end * k, tail_sums + (PANEL - tail) * k,
               tail * k * sizeof(NMF_T));
}

/* ---- gram: out[r, c] = sum_i a[i * k + r] * a[i * k + c] ---------------------------- */

/* acc[r0 + q][c:c + VECTORS * width] += over i < len of a[i * k + r0 + q] times
 * a[i * k + c + ...], for the GRAM_ROWS rows q of the tile; rows past k - 1 repeat
 * row k - 1 (acc has room for them; their sums are not used). VECTORS is 1 to 4. */
#define NMF_GRAM_TILE(VECTORS)                                                          \
static inline void NMF_NAME(nmf_gram_tile##VECTORS)(                                     \
    NMF_T (*acc)[NMF_DENSE_MAX_K], ptrdiff_t r0, ptrdiff_t c, const NMF_T *a,            \
    ptrdiff_t k, ptrdiff_t len)                                                          \
{                                                                                        \
    typedef NMF_NAME(nmf_dvec) vec;                                                      \
    enum { WIDTH = NMF_DENSE_VECTOR_BYTES / sizeof(NMF_T) };                             \
    vec sum[NMF_DENSE_GRAM_ROWS][VECTORS];                                               \
    ptrdiff_t row[NMF_DENSE_GRAM_ROWS];                                                  \
    ptrdiff_t q, v, i;                                                                   \
    for (q = 0; q < NMF_DENSE_GRAM_ROWS; q++) {                                          \
        row[q] = r0 + q < k ? r0 + q : k - 1;                                            \
        for (v = 0; v < VECTORS; v++)                                                    \
            sum[q][v] = *(const vec *) (acc[r0 + q] + c + v * WIDTH);                    \
    }                                                                                    \
    for (i = 0; i < len; i++) {                                                          \
        const NMF_T *p = a + i * k;                                                      \
        vec x[VECTORS];                                                                  \
        for (v = 0; v < VECTORS; v++)                                                    \
            x[v] = *(const vec *) (p + c + v * WIDTH);                                   \
        for (q = 0; q < NMF_DENSE_GRAM_ROWS; q++)                                        \
            for (v = 0; v < VECTORS; v++)                                                \
                sum[q][v] = NMF_NAME(nmf_madd)(p[row[q]], x[v], sum[q][v]);              \
    }                                                                                    \
    for (q = 0; q < NMF_DENSE_GRAM_ROWS; q++)                                            \
        for (v = 0; v < VECTORS; v++)                                                    \
            *(vec *) (acc[r0 + q] + c + v * WIDTH) = sum[q][v];                          \
}
NMF_GRAM_TILE(1)
NMF_GRAM_TILE(2)
NMF_GRAM_TILE(3)
NMF_GRAM_TILE(4)
#undef NMF_GRAM_TILE

/* out (k x k, both triangles) = the sum over rows i < n of a (k entries each) of
 * a[i]^T a[i]; k <= NMF_DENSE_MAX_K. Only entries c >= r are summed (tiles of GRAM_ROWS
 * rows from the vector holding their first row), then mirrored. A row is read kp >= k
 * entries long, into the next: `readable` rows from a on belong to the operand, and
 * the last few of those go entry by entry. */
static void NMF_NAME(nmf_dense_gram)(const NMF_T *a, ptrdiff_t n, ptrdiff_t readable,
                                     ptrdiff_t k, NMF_T *out)
{
    enum { WIDTH = NMF_DENSE_VECTOR_BYTES / sizeof(NMF_T) };
    const ptrdiff_t kp = (k + WIDTH - 1) / WIDTH * WIDTH;
    const ptrdiff_t over = (kp - k + k - 1) / k;
    const ptrdiff_t direct = readable - over < n ? (readable > over ? readable - over : 0)
                                                 : n;
    NMF_T acc[NMF_DENSE_MAX_K + NMF_DENSE_GRAM_ROWS][NMF_DENSE_MAX_K]
        __attribute__((aligned(64)));
    ptrdiff_t i0, i, r0, r, c;

    memset(acc, 0, (k + NMF_DENSE_GRAM_ROWS) * sizeof acc[0]);
    for (i0 = 0; i0 < direct; i0 += NMF_DENSE_GRAM_DEPTH) {
        const ptrdiff_t len = direct - i0 < NMF_DENSE_GRAM_DEPTH ? direct - i0
                                                                 : NMF_DENSE_GRAM_DEPTH;
        const NMF_T *ai = a + i0 * k;
        for (r0 = 0; r0 < k; r0 += NMF_DENSE_GRAM_ROWS) {
            for (c = r0 / WIDTH * WIDTH; c + 4 * WIDTH <= kp; c += 4 * WIDTH)
                NMF_NAME(nmf_gram_tile4)(acc, r0, c, ai, k, len);
            switch ((kp - c) / WIDTH) {
            case 3: NMF_NAME(nmf_gram_tile3)(acc, r0, c, ai, k, len); break;
            case 2: NMF_NAME(nmf_gram_tile2)(acc, r0, c, ai, k, len); break;
            case 1: NMF_NAME(nmf_gram_tile1)(acc, r0, c, ai, k, len); break;
            }
        }
    }
    for (i = direct; i < n; i++)
        for (r = 0; r < k; r++)
            for (c = r; c < k; c++)
                acc[r][c] = NMF_FMA(a[i * k + r], a[i * k + c], acc[r][c]);
    for (r = 0; r < k; r++)
        for (c = r; c < k; c++)
            out[r * k + c] = out[c * k + r] = acc[r][c];
}

#undef NMF_T
#undef NMF_FMA
#undef NMF_VECTOR
#undef NMF_VFMA
#undef NMF_VSET1
#undef NMF_COLS_VECTORS
#undef NMF_COLS_PANEL
#undef NMF_NAME
