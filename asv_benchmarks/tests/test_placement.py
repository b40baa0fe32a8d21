"""placement.py builds core_latency.c and reads the round trip between two CPUs."""
import os
import subprocess

import pytest

import placement


@pytest.fixture(scope="module")
def program():
    built = placement._program()
    if built is None:
        pytest.skip("no C compiler")
    return built


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="one CPU")
def test_round_trip_is_a_positive_time_and_is_described(program):
    ns = placement.round_trip_ns()
    assert ns is not None and 1.0 < ns < 1e6
    assert placement.describe(ns) in ("near", "far")
    assert placement.describe(placement.NEAR_NS) == "near"
    assert placement.describe(placement.NEAR_NS + 1) == "far"
    assert placement.describe(None) == "?"


def test_one_cpu_has_nothing_to_measure(program):
    cpu = min(os.sched_getaffinity(0))
    run = subprocess.run([str(program)], capture_output=True, text=True,
                         preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
    assert run.returncode == 2 and "fewer than two CPUs" in run.stderr
