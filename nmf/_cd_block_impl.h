/* One instance of the block sweep, for the type NMF_T (see _cd_block.h, which includes
 * this file once per floating type with NMF_T, NMF_WIDTH (entries per vector),
 * NMF_MASK_T, NMF_FABS and NMF_NAME set, and #undefs them at its end). */

#if NMF_VECTOR_EXTENSIONS
typedef NMF_T NMF_NAME(nmf_vec) __attribute__((vector_size(NMF_VECTOR_BYTES)));
typedef NMF_MASK_T NMF_NAME(nmf_mask) __attribute__((vector_size(NMF_VECTOR_BYTES)));

static inline NMF_NAME(nmf_vec) NMF_NAME(nmf_load)(const NMF_T *p)
{
    NMF_NAME(nmf_vec) v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void NMF_NAME(nmf_store)(NMF_T *p, NMF_NAME(nmf_vec) v)
{
    memcpy(p, &v, sizeof v);
}
#endif

/* dst[c * dst_stride + r] = src[r * src_stride + c] for r < n_rows, c < n_cols. */
static inline void NMF_NAME(nmf_transpose)(const NMF_T *src, ptrdiff_t src_stride,
                                           NMF_T *dst, ptrdiff_t dst_stride,
                                           ptrdiff_t n_rows, ptrdiff_t n_cols)
{
    ptrdiff_t r0 = 0, r, c;
#if NMF_TILE_TRANSPOSE
    typedef NMF_NAME(nmf_vec) vec;
    for (; r0 + NMF_WIDTH <= n_rows; r0 += NMF_WIDTH) {
        ptrdiff_t c0 = 0;
        for (; c0 + NMF_WIDTH <= n_cols; c0 += NMF_WIDTH) {
            const NMF_T *s = src + r0 * src_stride + c0;
            NMF_T *d = dst + c0 * dst_stride + r0;
#define NMF_LOAD_ROW(i) vec v##i = NMF_NAME(nmf_load)(s + i * src_stride);
#define NMF_STORE_ROW(i) NMF_NAME(nmf_store)(d + i * dst_stride, v##i);
#if NMF_WIDTH == 2
            NMF_LOAD_ROW(0) NMF_LOAD_ROW(1)
            NMF_INTERLEAVE(v0, v1, 2_1)
            NMF_STORE_ROW(0) NMF_STORE_ROW(1)
#elif NMF_WIDTH == 4
            NMF_LOAD_ROW(0) NMF_LOAD_ROW(1) NMF_LOAD_ROW(2) NMF_LOAD_ROW(3)
            NMF_INTERLEAVE(v0, v1, 4_1) NMF_INTERLEAVE(v2, v3, 4_1)
            NMF_INTERLEAVE(v0, v2, 4_2) NMF_INTERLEAVE(v1, v3, 4_2)
            NMF_STORE_ROW(0) NMF_STORE_ROW(1) NMF_STORE_ROW(2) NMF_STORE_ROW(3)
#elif NMF_WIDTH == 8
            NMF_LOAD_ROW(0) NMF_LOAD_ROW(1) NMF_LOAD_ROW(2) NMF_LOAD_ROW(3)
            NMF_LOAD_ROW(4) NMF_LOAD_ROW(5) NMF_LOAD_ROW(6) NMF_LOAD_ROW(7)
            NMF_INTERLEAVE(v0, v1, 8_1) NMF_INTERLEAVE(v2, v3, 8_1)
            NMF_INTERLEAVE(v4, v5, 8_1) NMF_INTERLEAVE(v6, v7, 8_1)
            NMF_INTERLEAVE(v0, v2, 8_2) NMF_INTERLEAVE(v1, v3, 8_2)
            NMF_INTERLEAVE(v4, v6, 8_2) NMF_INTERLEAVE(v5, v7, 8_2)
            NMF_INTERLEAVE(v0, v4, 8_4) NMF_INTERLEAVE(v1, v5, 8_4)
            NMF_INTERLEAVE(v2, v6, 8_4) NMF_INTERLEAVE(v3, v7, 8_4)
            NMF_STORE_ROW(0) NMF_STORE_ROW(1) NMF_STORE_ROW(2) NMF_STORE_ROW(3)
            NMF_STORE_ROW(4) NMF_STORE_ROW(5) NMF_STORE_ROW(6) NMF_STORE_ROW(7)
#else
#error "no tile transpose for this vector width"
#endif
#undef NMF_LOAD_ROW
#undef NMF_STORE_ROW
        }
        for (r = r0; r < r0 + NMF_WIDTH; r++)       /* the columns left of this strip */
            for (c = c0; c < n_cols; c++)
                dst[c * dst_stride + r] = src[r * src_stride + c];
    }
#endif
    for (r = r0; r < n_rows; r++)                   /* the rows left */
        for (c = 0; c < n_cols; c++)
            dst[c * dst_stride + r] = src[r * src_stride + c];
}

/* Sweep `rows` <= NMF_LANES(NMF_T) consecutive rows of the factor w (row-major, k
 * entries each; cross's rows are k entries cross_stride >= k apart), components in
 * `order`; write each row's violation (summed |projected gradient|) and squared change
 * into violation[:rows] and change[:rows] (change NULL: not computed).
 *
 * w_lanes and cross_lanes (k * lanes entries each) receive the block's rows of w and
 * cross transposed; lanes past `rows` are zero and never copied back. violation and
 * change have `lanes` entries. Every buffer is aligned to NMF_VECTOR_BYTES. Rows are
 * read and written whole, in order (what the memory system streams best). */
static void NMF_NAME(nmf_sweep_block)(NMF_T *w, const NMF_T *gram, const NMF_T *cross,
                                      ptrdiff_t cross_stride, const Py_ssize_t *order,
                                      ptrdiff_t k, ptrdiff_t rows,
                                      NMF_T *w_lanes, NMF_T *cross_lanes,
                                      NMF_T *violation, NMF_T *change)
{
    enum { WIDTH = NMF_VECTOR_BYTES / sizeof(NMF_T), LANES = NMF_LANES(NMF_T) };
    ptrdiff_t j, q, r;

    NMF_NAME(nmf_transpose)(w, k, w_lanes, LANES, rows, k);
    NMF_NAME(nmf_transpose)(cross, cross_stride, cross_lanes, LANES, rows, k);
    for (q = rows; q < LANES; q++) {
        for (r = 0; r < k; r++) {
            w_lanes[r * LANES + q] = 0;
            cross_lanes[r * LANES + q] = 0;
        }
    }
    for (q = 0; q < LANES; q++) {
        violation[q] = 0;
        if (change)
            change[q] = 0;
    }
    for (j = 0; j < k; j++) {
        const ptrdiff_t t = order[j];
        const NMF_T *gt = gram + t * k;
        const NMF_T hess = gt[t];
        const NMF_T *ct = cross_lanes + t * LANES;
        NMF_T *wt = w_lanes + t * LANES;
#if NMF_VECTOR_EXTENSIONS
        typedef NMF_NAME(nmf_vec) vec;
        typedef NMF_NAME(nmf_mask) mask;
        const vec zero = {0};
        const mask sign = (mask)(-zero);    /* the sign bit of every lane */
        vec acc[NMF_BLOCK_VECTORS];
        ptrdiff_t v;
#pragma GCC unroll 8
        for (v = 0; v < NMF_BLOCK_VECTORS; v++)
            acc[v] = -NMF_NAME(nmf_load)(ct + v * WIDTH);
        for (r = 0; r < k; r++) {
            const NMF_T g = gt[r];
            const NMF_T *x = w_lanes + r * LANES;
#pragma GCC unroll 8
            for (v = 0; v < NMF_BLOCK_VECTORS; v++)
                acc[v] = acc[v] + g * NMF_NAME(nmf_load)(x + v * WIDTH);
        }
        /* The projected gradient's size goes into the violation (g where the entry is
         * positive, min(g, 0) at the bound), then the update max(old - g / hess, 0):
         * selects by bit masks, no branch on the data. */
#pragma GCC unroll 8
        for (v = 0; v < NMF_BLOCK_VECTORS; v++) {
            const vec g = acc[v];
            const vec old = NMF_NAME(nmf_load)(wt + v * WIDTH);
            const mask keep = (mask)(old > zero) | ~(mask)(g > zero);
            const vec size = (vec)((mask)g & keep & ~sign);
            NMF_NAME(nmf_store)(violation + v * WIDTH,
                                NMF_NAME(nmf_load)(violation + v * WIDTH) + size);
            if (hess > 0) {
                const vec step = old - g / hess;
                const vec updated = (vec)((mask)step & ~(mask)(step < zero));
                if (change) {
                    const vec diff = updated - old;
                    NMF_NAME(nmf_store)(change + v * WIDTH,
                                        NMF_NAME(nmf_load)(change + v * WIDTH) + diff * diff);
                }
                NMF_NAME(nmf_store)(wt + v * WIDTH, updated);
            }
        }
#else
        NMF_T grad[LANES];
        for (q = 0; q < LANES; q++)
            grad[q] = -ct[q];
        for (r = 0; r < k; r++) {
            const NMF_T g = gt[r];
            const NMF_T *x = w_lanes + r * LANES;
            for (q = 0; q < LANES; q++)
                grad[q] = grad[q] + g * x[q];
        }
        for (q = 0; q < LANES; q++) {
            const NMF_T g = grad[q], old = wt[q];
            violation[q] = violation[q] + NMF_FABS((old > 0 || !(g > 0)) ? g : 0);
            if (hess > 0) {
                const NMF_T step = old - g / hess;
                const NMF_T updated = (step < 0) ? 0 : step;
                if (change)
                    change[q] = change[q] + (updated - old) * (updated - old);
                wt[q] = updated;
            }
        }
#endif
    }
    NMF_NAME(nmf_transpose)(w_lanes, LANES, w, k, k, rows);
}

#undef NMF_T
#undef NMF_WIDTH
#undef NMF_MASK_T
#undef NMF_FABS
#undef NMF_NAME
