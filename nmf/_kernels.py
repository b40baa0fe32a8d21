"""The compiled kernel modules, in the variant built for this processor.

On x86-64 meson compiles _cd_fast.pyx, _range_fast.pyx and _sparse_fast.pyx twice: for
the baseline instruction set (SSE2) and with AVX2 enabled (nmf/meson.build). Fused
multiply-add is left out of both, so every operation rounds the same way: the two
variants give the same bits, the AVX2 one faster. It is used when the processor has
AVX2 and it was built.

dense_fast (X @ F and X.T @ F for a dense X, on fused multiply-adds) is built for
x86-64 by GCC or clang, with AVX2 and with AVX-512 (the same bits: each result entry is
the same chain of fused multiply-adds), and used on processors with FMA and either;
elsewhere it is None and BLAS computes those products. dense_cols_fast is the module
for the products whose result rows run across X's memory (X.T @ F for a C-ordered X,
X @ F for an F-ordered one, the "cols" kernel of nmf/_dense_tile.h): dense_fast, except
on processors that split 512-bit instructions in two (AMD Zen 4), where the AVX2 build
runs that kernel faster: X.T @ W, 5000 x 2000 float64, k = 30: 17.5-17.9 against
27.2-27.8 ms, k = 10: 9.9-12.5 against 20.1-25.0 (asv_benchmarks/dense_kernels.py,
three runs). The other products stay on AVX-512 there (X @ H.T at k = 30: 12.2-12.4
against 16.9-17.2 ms).
"""
from ._cpu import has_avx2, has_avx512f, has_fma, splits_512bit_vectors

if has_avx2():
    try:
        from . import _cd_fast_avx2 as cd_fast
        from . import _range_fast_avx2 as range_fast
        from . import _sparse_fast_avx2 as sparse_fast
    except ImportError:     # built without the variant (another compiler)
        from . import _cd_fast as cd_fast
        from . import _range_fast as range_fast
        from . import _sparse_fast as sparse_fast
else:
    from . import _cd_fast as cd_fast
    from . import _range_fast as range_fast
    from . import _sparse_fast as sparse_fast

# Both dense builds this processor runs (None where not built or not supported).
avx512_dense_fast = avx2_dense_fast = None
if has_avx512f() and has_fma():
    try:
        from . import _dense_fast_avx512 as avx512_dense_fast
    except ImportError:     # built without it (another compiler or processor family)
        pass
if has_avx2() and has_fma():
    try:
        from . import _dense_fast as avx2_dense_fast
    except ImportError:
        pass
dense_fast = avx512_dense_fast if avx512_dense_fast is not None else avx2_dense_fast
dense_cols_fast = (avx2_dense_fast if avx2_dense_fast is not None and splits_512bit_vectors()
                   else dense_fast)

__all__ = ["avx2_dense_fast", "avx512_dense_fast", "cd_fast", "dense_cols_fast",
           "dense_fast", "range_fast", "sparse_fast"]
