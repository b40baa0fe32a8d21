/* Products of a dense X with a thin factor, and a thin factor's Gram, for
 * nmf/_dense_fast.pyx.
 *
 * BLAS is slow on this shape, a long sum into a result only k columns wide (OpenBLAS
 * runs 5000 x 2000 times 2000 x 30 at a third of its square-matrix speed). Two kernels
 * cover X @ F and X.T @ F for X in either layout; in both, a is X's memory and
 * A(r, s) the entry multiplying factor row s into result row r (a third, gram, sums
 * over the rows s of one factor):
 *
 *   rows: A(r, s) = a[r * lda + s]   (result rows are contiguous rows of a)
 *         Tiles of TILE_ROWS (or WIDE_ROWS) result rows by two vectors of columns,
 *         summed in registers: per step s, two vector loads of the factor row, a
 *         broadcast of A per tile row and two fused multiply-adds per tile row, over
 *         blocks of ROWS_DEPTH steps (or blocked as described at WIDE_ROWS).
 *   cols: A(r, s) = a[s * lda + r]   (result rows are contiguous columns of a)
 *         Tiles of a panel of result rows (COLS_VECTORS vectors of a's row s) by
 *         COLS_GROUP factor columns: per step, COLS_VECTORS vector loads of a,
 *         COLS_GROUP broadcasts of the factor row and COLS_VECTORS * COLS_GROUP fused
 *         multiply-adds; the tile is kept transposed and moved to and from the result
 *         between blocks of COLS_DEPTH steps. Two vectors a step (a 64-byte line with
 *         AVX2), except float with AVX-512: one. Measured on dense 5000 x 2000 times
 *         5000 x 30 (AVX-512, one thread): float 11.6 ms with two vectors, 8.6 with
 *         one; double 15.6 with two, 17.0 with one.
 *
 *   gram: out = F^T F for the factor F (rows of k entries): tiles of GRAM_ROWS result
 *         rows by up to four vectors of columns, from the vector holding the tile's
 *         first row (the lower triangle is mirrored): per factor row, the vector loads
 *         of the row and GRAM_ROWS broadcasts of it. OpenBLAS's syrk takes 2.4 times as
 *         long on a 61089 x 30 float64 factor (3.9 against 1.6 ms, AVX-512).
 *
 * Every result entry is one chain of fused multiply-adds over s = 0, 1, ... in order
 * (partial sums stored and reloaded between blocks, which is exact), in every kernel,
 * for any tile, block or thread count: the bits depend on nothing but the data.
 *
 * Compiled only where the build targets FMA (x86-64 with -mavx2 -mfma, or -mavx512f,
 * nmf/meson.build): the vector multiply-adds are the FMA intrinsics, whatever the
 * optimisation level, and the scalar edges fma(), the same operation.
 */
#ifndef NMF_DENSE_TILE_H
#define NMF_DENSE_TILE_H

#include <immintrin.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef NMF_DENSE_VECTOR_BYTES
#define NMF_DENSE_VECTOR_BYTES 32
#endif
#define NMF_DENSE_TILE_ROWS 4
/* Steps of a rows block, and whether the block asks for the next block's lines of
 * its rows of a ahead. AVX2: blocks of 32 steps, prefetched: on AMD Zen 2 (AVX2 only,
 * 32 KB L1), X @ F float64, one thread, 5000 x 2000 at k = 10 9.1 -> 8.8 ms (scratch
 * harness on this header, medians of 21, two runs). The AVX-512 build, tuned on
 * machines with AVX-512, keeps blocks of 128 without the prefetch. */
#if NMF_DENSE_VECTOR_BYTES == 64
#define NMF_DENSE_ROWS_DEPTH 128
#define NMF_DENSE_ROWS_PREFETCH 0
#else
#define NMF_DENSE_ROWS_DEPTH 32
#define NMF_DENSE_ROWS_PREFETCH 1
#endif
/* AVX2, a factor of WIDE_VECTORS vectors a row or more (float64 k > 12, float k > 24):
 * tiles of WIDE_ROWS = 6 rows by two vectors, 12 accumulators (a 5-cycle FMA issued
 * twice a cycle needs 10 chains; 4 x 2 has 8), and the loops blocked: for each block
 * of WIDE_BLOCK rows, for each WIDE_DEPTH steps (the factor's rows of those steps, 30
 * KB of float64 at k = 30, stay in L1 or L2, where a 2000 x 30 float64 factor read
 * whole for every tile does not fit Zen 2's 512 KB L2), every tile of the block; the
 * block's sums, WIDE_BLOCK x MAX_K entries (60 KB of float64), are on the stack. AMD
 * Zen 2, X @ F, one thread, medians of 4-5 interleaved runs of a scratch harness on
 * this header: 5000 x 2000 at k = 30 float64 19.9 -> 16.1-16.7 ms, float32 8.6 -> 8.0;
 * 2000 x 1000 at k = 30 3.8 -> 3.3-3.5 and 1.8 -> 1.7 (blocks of 240 rows: the same
 * within 2%; of 96: float32 1.9 and 9.1). With fewer vectors a row the 4-row tiles
 * stay faster (5000 x 2000 at k = 10 float64 8.5 against 9.7 ms). */
#if NMF_DENSE_VECTOR_BYTES == 64
#define NMF_DENSE_WIDE_ROWS 0
#else
#define NMF_DENSE_WIDE_ROWS 6
#define NMF_DENSE_WIDE_VECTORS 4
#define NMF_DENSE_WIDE_BLOCK 120
#define NMF_DENSE_WIDE_DEPTH 128
#endif
/* Rows after which the rows kernel's walk starts over (a wide block, or a tile): a
 * caller cutting X into row blocks of a whole number of these leaves no short tile
 * but at the end (nmf/_products.py, the CD pass over row blocks). */
#if NMF_DENSE_WIDE_ROWS
#define NMF_DENSE_ROW_BLOCK NMF_DENSE_WIDE_BLOCK
#else
#define NMF_DENSE_ROW_BLOCK NMF_DENSE_TILE_ROWS
#endif
/* Columns a cols tile sums at once: COLS_VECTORS accumulators each, 12 of the 16 vector
 * registers with AVX2, at most 20 of the 32 with AVX-512. Ten, not twelve, so that
 * k = 10, 20 and 30 make whole groups (twelve split k = 10 into 6 + 4 and k = 30 into
 * 12 + 12 + 6, each group one more pass over a panel of X): X^T W, float64, one thread,
 * 2000 x 1000 at k = 10 1.92 -> 1.62 ms, k = 20 3.15 -> 2.44, 5000 x 2000 at k = 30
 * 17.1 -> 14.9; no shape measured slower (throwaway harness, medians of 15). */
#if NMF_DENSE_VECTOR_BYTES == 64
#define NMF_DENSE_COLS_GROUP 10
#else
#define NMF_DENSE_COLS_GROUP 6
#endif
#define NMF_DENSE_COLS_DEPTH 256
/* AVX2, a factor of at most COLS_CHUNK_K columns (two column groups or fewer): the
 * cols kernel goes by chunks of result rows whose sums, transposed (k x chunk), fill
 * COLS_CHUNK_BYTES of work memory (an L2-sized share); for each COLS_CHUNK_STEPS steps
 * it runs every tile of the chunk, so that X is read along its rows (each step's
 * stretch of the chunk, 4-13 KB) where the hardware prefetchers follow it, instead of
 * a panel's line of every step, a row's length apart, 256 steps at a time. The sums
 * go to and from the work memory every 8 steps: with few column groups a panel's
 * tiles are short, and the panel-major walk waits on X. AMD Zen 2, one thread, the
 * package (parts.py), both commits alternating, three rounds: X^T W 5000 x 2000 k=10
 * float64 10.7-12.2 -> 8.4-8.9 ms, float32 8.8-9.8 -> 4.2-4.4. At k = 20 the same
 * (16.0), at k = 30 slower (20.0-20.7 -> 22.7-23.4), so wider factors keep the panel
 * walk; 16 or 32 steps instead of 8 were slower. The AVX-512 build, tuned elsewhere,
 * keeps the panel walk. Same bits either way: each sum still runs over the steps in
 * order, stored and reloaded between passes. */
#if NMF_DENSE_VECTOR_BYTES == 64
#define NMF_DENSE_COLS_CHUNK_K 0
#else
#define NMF_DENSE_COLS_CHUNK_K 12
#endif
#define NMF_DENSE_COLS_CHUNK_BYTES (128 * 1024)
#define NMF_DENSE_COLS_CHUNK_STEPS 8
/* Measure a change to these kernels in the package (asv_benchmarks/parts.py), not only
 * in a harness on this header: on AMD Zen 2 the same machine code of the cols kernel
 * ran float X^T W, 5000 x 2000 at k = 10, in 5.8 or 6.9 ms depending on where it
 * landed in the library, and a next-panel prefetch that a harness measured faster was
 * slower in the package on every set. */
/* Gram tiles: GRAM_ROWS rows of the result by up to four vectors (24 or 12 accumulators),
 * over blocks of GRAM_DEPTH rows of the factor. */
#if NMF_DENSE_VECTOR_BYTES == 64
#define NMF_DENSE_GRAM_ROWS 6
#else
#define NMF_DENSE_GRAM_ROWS 3
#endif
#define NMF_DENSE_GRAM_DEPTH 128
/* Widest factor handled (wider ones go to BLAS, efficient there): the rows kernel's
 * sums live on the stack, TILE_ROWS (or WIDE_BLOCK) x NMF_DENSE_MAX_K entries. */
#define NMF_DENSE_MAX_K 64

/* The vector fused multiply-add and broadcast of each type at this width. */
#if NMF_DENSE_VECTOR_BYTES == 64
#define NMF_VECTOR_double __m512d
#define NMF_VFMA_double _mm512_fmadd_pd
#define NMF_VSET1_double _mm512_set1_pd
#define NMF_VECTOR_float __m512
#define NMF_VFMA_float _mm512_fmadd_ps
#define NMF_VSET1_float _mm512_set1_ps
#else
#define NMF_VECTOR_double __m256d
#define NMF_VFMA_double _mm256_fmadd_pd
#define NMF_VSET1_double _mm256_set1_pd
#define NMF_VECTOR_float __m256
#define NMF_VFMA_float _mm256_fmadd_ps
#define NMF_VSET1_float _mm256_set1_ps
#endif

#define NMF_T double
#define NMF_FMA fma
#define NMF_VECTOR NMF_VECTOR_double
#define NMF_VFMA NMF_VFMA_double
#define NMF_VSET1 NMF_VSET1_double
#define NMF_COLS_VECTORS 2
#define NMF_NAME(name) name##_double
#include "_dense_tile_impl.h"    /* which #undefs these seven */

#define NMF_T float
#define NMF_FMA fmaf
#define NMF_VECTOR NMF_VECTOR_float
#define NMF_VFMA NMF_VFMA_float
#define NMF_VSET1 NMF_VSET1_float
#if NMF_DENSE_VECTOR_BYTES == 64
#define NMF_COLS_VECTORS 1
#else
#define NMF_COLS_VECTORS 2
#endif
#define NMF_NAME(name) name##_float
#include "_dense_tile_impl.h"    /* which #undefs these seven */

#endif
