/* The CD (HALS) sweep over one block of rows, for nmf/_cd_fast.pyx.
 *
 * A coordinate update of one row is a chain of dependent operations (the gradient of
 * component t needs the entries just updated), so the kernel sweeps NMF_LANES rows side
 * by side: row q of a block sits in lane q of a transposed copy (w_lanes[r * lanes + q]
 * = w[q, r]), and every step is the same operation on all lanes. The gradient of a
 * component is summed in NMF_BLOCK_VECTORS vector registers at once (one accumulator per
 * vector of lanes, one broadcast of gram[t, r] shared by all of them), so each term costs
 * one load, one multiply and one add per vector and the partial gradients never leave the
 * registers. Each lane still sums exactly as the textbook update does,
 *     grad = -cross[t] + gram[t, 0] w[0] + gram[t, 1] w[1] + ... (in that order),
 * multiply and add rounded apart (no fused multiply-add): the iterates are bitwise those
 * of the plain row-by-row loop, whatever the block size, vector width or thread count.
 *
 * Compilers with GNU C vector extensions (GCC, clang) get the register-blocked code;
 * NMF_PLAIN_C (or another compiler) selects plain loops over the lanes with the same
 * operations in the same order, hence the same bits.
 */
#ifndef NMF_CD_BLOCK_H
#define NMF_CD_BLOCK_H

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "_vector.h"

/* Eight vectors per block, each NMF_VECTOR_BYTES wide: the eight accumulators, a
 * broadcast and a load fit the 16 vector registers of x86-64 (and AArch64's 32). */
#define NMF_BLOCK_VECTORS 8
/* Rows in a block: 32 doubles or 64 floats. */
#define NMF_LANES(T) (NMF_BLOCK_VECTORS * NMF_VECTOR_BYTES / (ptrdiff_t) sizeof(T))
#define NMF_LANES_DOUBLE NMF_LANES(double)
#define NMF_LANES_FLOAT NMF_LANES(float)

/* The block's rows go into the lanes and back by a transpose of square tiles of one
 * vector's width (log2(width) rounds of interleaving pairs of vectors), the tiles'
 * leftovers one entry at a time; without vector shuffles (before GCC 12, or plain C)
 * all of it one entry at a time. Copies either way: no effect on the bits. */
#if NMF_VECTOR_EXTENSIONS && (defined(__clang__) || __GNUC__ >= 12)
#define NMF_TILE_TRANSPOSE 1
#else
#define NMF_TILE_TRANSPOSE 0
#endif

/* x, y = lo(x, y), hi(x, y): entries in blocks of s, even blocks from x's pairs of
 * blocks, odd ones from y's (lo the first block of each pair, hi the second). */
#define NMF_INTERLEAVE(x, y, ...) {                                                  \
        const vec x_ = x, y_ = y;                                                    \
        NMF_INTERLEAVE_MASKS(x_, y_, x, y, __VA_ARGS__)                              \
    }
#define NMF_INTERLEAVE_MASKS(a, b, lo, hi, ...) NMF_INTERLEAVE_##__VA_ARGS__(a, b, lo, hi)
/* Masks by width (2, 4, 8) and block size s. */
#define NMF_INTERLEAVE_2_1(a, b, lo, hi)                                             \
    lo = __builtin_shufflevector(a, b, 0, 2); hi = __builtin_shufflevector(a, b, 1, 3);
#define NMF_INTERLEAVE_4_1(a, b, lo, hi)                                             \
    lo = __builtin_shufflevector(a, b, 0, 4, 2, 6);                                  \
    hi = __builtin_shufflevector(a, b, 1, 5, 3, 7);
#define NMF_INTERLEAVE_4_2(a, b, lo, hi)                                             \
    lo = __builtin_shufflevector(a, b, 0, 1, 4, 5);                                  \
    hi = __builtin_shufflevector(a, b, 2, 3, 6, 7);
#define NMF_INTERLEAVE_8_1(a, b, lo, hi)                                             \
    lo = __builtin_shufflevector(a, b, 0, 8, 2, 10, 4, 12, 6, 14);                   \
    hi = __builtin_shufflevector(a, b, 1, 9, 3, 11, 5, 13, 7, 15);
#define NMF_INTERLEAVE_8_2(a, b, lo, hi)                                             \
    lo = __builtin_shufflevector(a, b, 0, 1, 8, 9, 4, 5, 12, 13);                    \
    hi = __builtin_shufflevector(a, b, 2, 3, 10, 11, 6, 7, 14, 15);
#define NMF_INTERLEAVE_8_4(a, b, lo, hi)                                             \
    lo = __builtin_shufflevector(a, b, 0, 1, 2, 3, 8, 9, 10, 11);                    \
    hi = __builtin_shufflevector(a, b, 4, 5, 6, 7, 12, 13, 14, 15);

#define NMF_T double
#define NMF_WIDTH (NMF_VECTOR_BYTES / 8)
#define NMF_MASK_T long long
#define NMF_FABS fabs
#define NMF_NAME(name) name##_double
#include "_cd_block_impl.h"     /* which #undefs these five */

#define NMF_T float
#define NMF_WIDTH (NMF_VECTOR_BYTES / 4)
#define NMF_MASK_T int
#define NMF_FABS fabsf
#define NMF_NAME(name) name##_float
#include "_cd_block_impl.h"     /* which #undefs these five */

#endif
