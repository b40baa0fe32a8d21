/* What the C kernels (nmf/_cd_block.h, nmf/_sparse_gather.h, nmf/_sparse_scatter.h)
 * may use for vectors.
 *
 * NMF_VECTOR_EXTENSIONS: GNU C vector extensions (GCC, clang), unless the build asks
 * for plain C loops (-Dvector_extensions=disabled defines NMF_PLAIN_C); both give the
 * same bits. NMF_VECTOR_BYTES: the processor's vector registers as this build targets
 * them, 32 bytes with AVX, else 16 (SSE2, NEON); wider vectors would be split into
 * pieces through memory.
 */
#ifndef NMF_VECTOR_H
#define NMF_VECTOR_H

#if !defined(NMF_PLAIN_C) && (defined(__GNUC__) || defined(__clang__))
#define NMF_VECTOR_EXTENSIONS 1
#else
#define NMF_VECTOR_EXTENSIONS 0
#endif

#if defined(__AVX__)
#define NMF_VECTOR_BYTES 32
#else
#define NMF_VECTOR_BYTES 16
#endif

/* S(T, I, n) for n = 1 to 7 or 8: the counts of vectors per row the sparse kernels
   (nmf/_sparse_gather.h, nmf/_sparse_scatter.h) are specialised on. */
#define NMF_FOR_1_TO_7(S, T, I)                                                        \
    S(T, I, 1) S(T, I, 2) S(T, I, 3) S(T, I, 4) S(T, I, 5) S(T, I, 6) S(T, I, 7)
#define NMF_FOR_1_TO_8(S, T, I) NMF_FOR_1_TO_7(S, T, I) S(T, I, 8)

#endif
