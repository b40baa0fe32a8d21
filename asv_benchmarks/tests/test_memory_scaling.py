"""memory_scaling.c builds with the C compiler and OpenMP and prints its table."""
import pathlib
import shutil
import subprocess

import pytest

SOURCE = pathlib.Path(__file__).resolve().parents[1] / "memory_scaling.c"


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler")
    binary = tmp_path_factory.mktemp("memory_scaling") / "memory_scaling"
    subprocess.run([compiler, "-O2", "-fopenmp", str(SOURCE), "-o", str(binary)],
                   check=True)
    return binary


def test_prints_each_operation_per_size_and_the_cores_row(program):
    run = subprocess.run([str(program), "1", "2"], capture_output=True, text=True,
                         check=True)
    rows = [line.split() for line in run.stdout.splitlines()[1:]]
    assert [(row[0], row[1]) for row in rows] == [
        ("read", "1"), ("copy", "1"), ("random", "1"),
        ("read", "2"), ("copy", "2"), ("random", "2"), ("cores", "-")]
    for row in rows:
        one, two, ratio = float(row[2]), float(row[4]), float(row[6])
        assert ratio > 0
        if one >= 1:            # milliseconds printed to 0.01: the ratio checks out
            assert ratio == pytest.approx(two / one, abs=0.02)


@pytest.mark.parametrize("args", [[], ["0"]])
def test_refuses_no_size_or_a_size_too_small(program, args):
    run = subprocess.run([str(program), *args], capture_output=True, text=True)
    assert run.returncode == 2 and run.stderr
