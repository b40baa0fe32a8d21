"""The compiled builds of a kernel module that run on this processor."""
import importlib

from nmf._cpu import has_avx2


def kernel_builds(name):
    """[nmf.<name>] and, where it is built and the processor has AVX2, its AVX2 build
    nmf.<name>_avx2 (both must give the same bits)."""
    builds = [importlib.import_module(f"nmf.{name}")]
    try:
        avx2 = importlib.import_module(f"nmf.{name}_avx2")
    except ImportError:
        return builds
    return builds + [avx2] if has_avx2() else builds
