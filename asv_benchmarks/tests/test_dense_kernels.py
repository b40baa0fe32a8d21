"""dense_kernels.py times each dense kernel in every build the processor runs."""
import dense_kernels

from nmf import _kernels


def test_dense_kernels_prints_a_row_per_kernel_and_marks_nmfs_build(capsys):
    dense_kernels.main(["--shapes", "300x200", "-k", "3", "--repeats", "2"])
    lines = capsys.readouterr().out.splitlines()
    builds = dense_kernels.runnable_builds()
    if not builds:
        assert _kernels.dense_fast is None and "uses BLAS" in lines[0]
        return
    rows = lines[2:]
    assert len(rows) == 2 * 3                      # dtypes x kernels
    for row in rows:
        cells = row.split()[-len(builds):]         # one per build, after the names
        assert row.split()[3] in ("rows:", "cols:", "gram:")
        assert sum(cell.endswith("*") for cell in cells) == 1
        assert all(float(cell.rstrip("*")) > 0 for cell in cells)
