"""dense_kernels.py times each dense kernel in every build the processor runs."""
import numpy as np
import pytest

import dense_kernels

from nmf import _kernels


def _rows(capsys, argv):
    dense_kernels.main(argv)
    lines = capsys.readouterr().out.splitlines()
    builds = dense_kernels.runnable_builds()
    if not builds:
        assert _kernels.dense_fast is None and "uses BLAS" in lines[0]
        return None, builds
    return lines[2:], builds


def test_dense_kernels_prints_a_row_per_kernel_and_marks_nmfs_build(capsys):
    rows, builds = _rows(capsys, ["--shapes", "300x200", "-k", "3", "--repeats", "2"])
    if rows is None:
        return
    assert len(rows) == 2 * 3                      # dtypes x kernels
    for row in rows:
        cells = row.split()[-len(builds):]         # one per build, after the names
        assert row.split()[3] == "-"               # X where NumPy put it
        assert row.split()[4] == "-" or row.split()[4].endswith("%")   # on huge pages
        assert row.split()[5] in ("rows:", "cols:", "gram:")
        assert sum(cell.endswith("*") for cell in cells) == 1
        assert all(float(cell.rstrip("*")) > 0 for cell in cells)


def test_dense_kernels_times_each_offset_and_placement(capsys):
    rows, _ = _rows(capsys, ["--shapes", "70x40", "-k", "2", "--repeats", "1",
                             "--offsets", "0", "16", "--placements", "2"])
    if rows is None:
        return
    assert len(rows) == 2 * 2 * 2 * 3              # dtypes x offsets x placements x kernels
    assert [row.split()[3] for row in rows[::3]] == ["0", "0", "16", "16"] * 2


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("offset", [0, 8, 16, 56, 4112])
def test_placed_starts_offset_bytes_past_a_huge_page(dtype, offset):
    X = dense_kernels.placed((5, 3), dtype, offset, np.random.default_rng(0))
    assert X.ctypes.data % (2 << 20) == offset
    assert X.dtype == dtype and X.shape == (5, 3) and X.flags.c_contiguous
    assert ((X >= 0) & (X < 1)).all()


def test_placed_refuses_an_offset_inside_an_entry():
    with pytest.raises(SystemExit, match="multiples of 8"):
        dense_kernels.placed((2, 2), np.float64, 4, np.random.default_rng(0))


def test_huge_page_share_is_a_share_of_x():
    X = np.ones((1000, 1000))                       # 8 MB: NumPy asks for huge pages
    share = dense_kernels.huge_page_share(X)
    if share is None:
        pytest.skip("no /proc/self/smaps here")
    assert 0 <= share <= 1
    assert dense_kernels.huge_page_share(np.ones(10)) <= 1


def test_huge_page_share_reads_the_mappings_x_lies_in(tmp_path):
    X = np.ones((512, 1024))                        # 4 MB
    low, high = X.ctypes.data, X.ctypes.data + X.nbytes
    smaps = tmp_path / "smaps"
    smaps.write_text(
        f"{low - 8192:x}-{low - 4096:x} rw-p 00000000 00:00 0\n"
        "AnonHugePages:      2048 kB\n"            # another mapping: not X's
        f"{low - 4096:x}-{low + 3 * 2 ** 20:x} rw-p 00000000 00:00 0\n"
        "Size:               4096 kB\n"
        "AnonHugePages:      2048 kB\n"
        f"{low + 3 * 2 ** 20:x}-{high + 4096:x} rw-p 00000000 00:00 0\n"
        "AnonHugePages:         0 kB\n"
        f"{high + 4096:x}-{high + 8192:x} rw-p 00000000 00:00 0\n"
        "AnonHugePages:      2048 kB\n")             # past X: not X's
    assert dense_kernels.huge_page_share(X, smaps) == 0.5
    assert dense_kernels.huge_page_share(X, tmp_path / "missing") is None
