"""The compiled kernel modules, in the variant built for this processor.

On x86-64 meson compiles _cd_fast.pyx and _sparse_fast.pyx twice: for the baseline
instruction set (SSE2) and with AVX2 enabled (nmf/meson.build). Fused multiply-add is
left out of both, so every operation rounds the same way: the two variants give the
same bits, the AVX2 one faster. It is used when the processor has AVX2 and it was built.

dense_fast (X @ F and X.T @ F for a dense X, on fused multiply-adds) is built for
x86-64 by GCC or clang, with AVX2 and with AVX-512 (the same bits: each result entry is
the same chain of fused multiply-adds), and used on processors with FMA and either;
elsewhere it is None and BLAS computes those products.
"""
from ._cpu import has_avx2, has_avx512f, has_fma

if has_avx2():
    try:
        from . import _cd_fast_avx2 as cd_fast
        from . import _sparse_fast_avx2 as sparse_fast
    except ImportError:     # built without the variant (another compiler)
        from . import _cd_fast as cd_fast
        from . import _sparse_fast as sparse_fast
else:
    from . import _cd_fast as cd_fast
    from . import _sparse_fast as sparse_fast

dense_fast = None
if has_avx512f() and has_fma():
    try:
        from . import _dense_fast_avx512 as dense_fast
    except ImportError:     # built without it (another compiler or processor family)
        pass
if dense_fast is None and has_avx2() and has_fma():
    try:
        from . import _dense_fast as dense_fast
    except ImportError:
        pass

__all__ = ["cd_fast", "dense_fast", "sparse_fast"]
