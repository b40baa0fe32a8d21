"""Where the host has put the two CPUs a 2-thread timing runs on: core_latency.c's
round trip of a cache line between them, built once with the C compiler.

On the benchmark VMs the host moves the two virtual CPUs between cores close together
and cores far apart, within minutes, and a 2-thread fit's time moves with them (README,
Performance). compare.py measures the round trip next to each pair of 1- and 2-thread
fits and reports the thread ratio by placement.

    python asv_benchmarks/placement.py      # prints the round trip now, in ns
"""
import atexit
import functools
import os
import pathlib
import shutil
import subprocess
import tempfile

SOURCE = pathlib.Path(__file__).resolve().parent / "core_latency.c"

# Round trips up to this many nanoseconds count as "near". On the AMD EPYC Zen 4 VM
# the round trip sat at one of five levels, each for seconds to minutes: 50-65, ~80,
# ~110 and ~200 ns, where nmf's 2-thread debian_tfidf k=30 fits took 0.55-0.56 of the
# 1-thread time, or 300-360 and 570-610 ns, where they took 0.69 (`python
# asv_benchmarks/fixed_cost.py debian_tfidf -k 30 --threads 1 2 --iterations 1 5
# --rounds 21`, session 18).
NEAR_NS = 250.0


@functools.lru_cache(maxsize=None)
def _program():
    """The built probe's path, or None (no C compiler, or the build failed)."""
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return None
    folder = tempfile.mkdtemp(prefix="nmf-core-latency-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    binary = pathlib.Path(folder) / "core_latency"
    build = subprocess.run([compiler, "-O2", "-pthread", str(SOURCE), "-o", str(binary)],
                           capture_output=True, text=True)
    return binary if build.returncode == 0 else None


def round_trip_ns():
    """The round trip now between the first two CPUs allowed, in ns; None when it
    cannot be measured (no compiler, one CPU)."""
    program = _program()
    if program is None:
        return None
    run = subprocess.run([str(program)], capture_output=True, text=True)
    if run.returncode != 0:
        return None
    return float(run.stdout.split()[5])


def describe(ns):
    """'near' (sharing an L3), 'far', or '?' for a round trip in ns (or None)."""
    if ns is None:
        return "?"
    return "near" if ns <= NEAR_NS else "far"


if __name__ == "__main__":
    ns = round_trip_ns()
    print("not measured (no C compiler, or one CPU)" if ns is None
          else f"round trip {ns:.0f} ns ({describe(ns)})")
