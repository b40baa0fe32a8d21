"""The compiled builds of a kernel module that run on this processor.

A build for an instruction set the processor lacks must not be imported at all: its
module initialisation is compiled for that instruction set too and can stop the process
with SIGILL. is_built() looks for the file without running it."""
import importlib
import importlib.util

from nmf._cpu import has_avx2


def is_built(name):
    """True when the extension module nmf.<name> is in this build (not imported)."""
    return importlib.util.find_spec(f"nmf.{name}") is not None


def kernel_builds(name):
    """[nmf.<name>] and, where it is built and the processor has AVX2, its AVX2 build
    nmf.<name>_avx2 (both must give the same bits)."""
    builds = [importlib.import_module(f"nmf.{name}")]
    if has_avx2() and is_built(f"{name}_avx2"):
        builds.append(importlib.import_module(f"nmf.{name}_avx2"))
    return builds
