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

#define NMF_T double
#define NMF_MASK_T long long
#define NMF_FABS fabs
#define NMF_NAME(name) name##_double
#include "_cd_block_impl.h"     /* which #undefs these four */

#define NMF_T float
#define NMF_MASK_T int
#define NMF_FABS fabsf
#define NMF_NAME(name) name##_float
#include "_cd_block_impl.h"     /* which #undefs these four */

#endif
