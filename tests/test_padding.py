"""The rule that pads factor rows to whole cache lines (nmf/_padding.py)."""
import numpy as np
import pytest

from nmf._cpu import l2_cache_bytes
from nmf._padding import LINE_BYTES, line_aligned_empty, lines_touched, padded_row_length

MB = 1 << 20


@pytest.mark.parametrize("row, stride, lines", [
    (40, 40, 1.5),       # float32 k = 10: starts 0, 8, ..., 56; from 32 on, two lines
    (40, 64, 1.0),
    (80, 80, 2.0),       # float64 k = 10: starts 0, 16, 32, 48, always two lines
    (80, 128, 2.0),
    (120, 120, 2.75),    # float32 k = 30: starts 0 and 8 two lines, the other six three
    (240, 240, 4.5),     # float64 k = 30
    (240, 256, 4.0),
    (64, 64, 1.0),
    (4, 4, 1.0),
])
def test_lines_touched(row, stride, lines):
    assert lines_touched(row, stride) == lines


def test_lines_touched_by_counting_every_row():
    """The average over one period of starts is the average over many rows."""
    for itemsize in (4, 8):
        for k in range(1, 70):
            row = k * itemsize
            counted = np.mean([(i * row + row - 1) // LINE_BYTES - i * row // LINE_BYTES + 1
                               for i in range(64 * 64)])
            assert lines_touched(row, row) == pytest.approx(counted)


@pytest.mark.parametrize("rows, k, itemsize, l2, width", [
    (5000, 10, 4, MB, 16),       # 200 KB -> 320 KB, in L2 either way: padded
    (5000, 10, 8, MB, 10),       # 80-byte rows: two lines either way
    (20000, 10, 4, MB, 10),      # 800 KB in L2, 1.25 MB padded would not be
    (61089, 10, 4, MB, 16),      # out of L2 either way
    (5000, 30, 4, MB, 32),
    (5000, 30, 8, MB, 32),
    (5000, 20, 4, MB, 20),       # 80-byte rows
    (5000, 16, 4, MB, 16),       # whole lines already
    (5000, 3, 4, MB, 3),         # rows under half a line: not padded
    (5000, 10, 4, 0, 10),        # L2 not known: not padded
    (0, 10, 4, MB, 16),
])
def test_padded_row_length(rows, k, itemsize, l2, width):
    assert padded_row_length(rows, k, itemsize, l2) == width


def test_padded_rows_are_whole_lines_and_save_lines():
    for itemsize in (4, 8):
        for k in range(1, 200):
            width = padded_row_length(100, k, itemsize, MB)
            if width == k:
                continue
            assert width * itemsize % LINE_BYTES == 0
            assert k < width and (width - k) * itemsize < LINE_BYTES
            assert (lines_touched(k * itemsize, k * itemsize)
                    >= lines_touched(k * itemsize, width * itemsize) + 0.25)


def test_padded_row_length_defaults_to_this_processors_l2():
    assert padded_row_length(5000, 10, 4) == padded_row_length(5000, 10, 4,
                                                               l2_cache_bytes())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows, cols", [(0, 16), (1, 1), (7, 16), (1000, 10), (3, 32)])
def test_line_aligned_empty(dtype, rows, cols):
    for _ in range(8):                  # whatever alignment the allocator gives
        a = line_aligned_empty(rows, cols, dtype)
        assert a.shape == (rows, cols) and a.dtype == dtype and a.flags.c_contiguous
        assert a.flags.writeable
        if a.size:
            assert a.ctypes.data % LINE_BYTES == 0
            a[...] = 1                  # all of it is its own memory
