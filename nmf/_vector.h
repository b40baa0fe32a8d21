/* What the C kernels (nmf/_cd_block.h, nmf/_sparse_fast.pyx) may use for vectors.
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

#endif
