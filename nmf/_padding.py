"""Factor rows padded to whole cache lines, where that makes a sparse product faster.

With sparse X the products read or write a factor's rows in X's index order, that is
at random: the gather of X @ Ht reads row Ht[j] for each stored entry (i, j), the
scatter of X.T @ W adds into output row j. Each such access costs the cache lines its
row touches. Rows of k entries stored back to back start anywhere in a line: float32
rows of k = 10 (40 bytes) touch 1.5 lines on average, where rows padded to 16 entries
and starting on a line touch one. Where the padded array still fits in one core's L2
cache (or the plain one did not fit either), that saving costs no extra misses.
The padding takes memory: nmf/_cd.py pads only within memory the fit does not use.

Measured on the kernels alone (a throwaway C harness calling the headers with a row
stride, medians of 31 calls, 1 thread, AMD Zen 4 with 1 MB of L2; sparse_20000x5000,
Ht 5000 rows): the gather of X @ Ht at k = 10 float32 1.11 -> 1.03 ms, k = 30 float32
2.22 -> 1.65, float64 4.58 -> 4.03 ms; the scatter of X.T @ W at k = 10 float32 1.38 ->
1.28 ms, k = 30 float32 2.99 -> 2.31, float64 6.25 -> 5.24 ms. Where padding saves no
line it costs: float64 k = 10 (80-byte rows, two lines at any start) gathered 1.76 ->
1.95 ms padded to 128 bytes; and where it pushes the array out of L2 too: debian_tfidf
(20000 columns) at k = 10 float32, 800 KB plain and 1.25 MB padded, gathered 2.65 ->
3.16 ms. Whole fits, padded and plain alternating (asv_benchmarks/padding.py, 1
thread, marginal iteration, padded / plain): sparse_20000x5000 k = 10 float32 0.95,
k = 30 float32 0.84 and float64 0.93, debian_tfidf k = 30 float32 0.95 and float64
0.98; float64 at k = 10 and debian_tfidf at k = 10 are not padded.
"""
import math

import numpy as np

from ._cpu import l2_cache_bytes

LINE_BYTES = 64

# Rows shorter than this are not padded: the line they save is a small part of the
# memory a padding of at least as much again would cost.
MIN_ROW_BYTES = LINE_BYTES // 2

# The lines a row must save on average, at least, to be padded.
MIN_LINES_SAVED = 0.25


def lines_touched(row_bytes, stride_bytes):
    """Cache lines a row of row_bytes touches, averaged over the rows of an array of
    rows stride_bytes apart that starts on a line: the rows start at every multiple of
    gcd(stride_bytes, LINE_BYTES) within a line equally often."""
    starts = range(0, LINE_BYTES, math.gcd(stride_bytes, LINE_BYTES))
    return sum((start + row_bytes - 1) // LINE_BYTES + 1 for start in starts) / len(starts)


def padded_row_length(rows, k, itemsize, l2_bytes=None):
    """Entries between consecutive rows of a (rows, k) factor that the sparse products
    read or write at random: k rounded up to whole cache lines where that saves at
    least MIN_LINES_SAVED lines a row and the padded array fits in l2_bytes (one
    core's L2; default: this processor's) or the plain one did not; k otherwise, and
    where the L2's size is not known."""
    if l2_bytes is None:
        l2_bytes = l2_cache_bytes()
    row_bytes = k * itemsize
    if l2_bytes <= 0 or row_bytes < MIN_ROW_BYTES or LINE_BYTES % itemsize:
        return k
    padded_bytes = -(-row_bytes // LINE_BYTES) * LINE_BYTES
    saved = lines_touched(row_bytes, row_bytes) - lines_touched(row_bytes, padded_bytes)
    if saved < MIN_LINES_SAVED:
        return k
    if rows * padded_bytes > l2_bytes and rows * row_bytes <= l2_bytes:
        return k
    return padded_bytes // itemsize


def line_aligned_empty(rows, cols, dtype):
    """An uninitialised C-ordered (rows, cols) array whose first entry starts a cache
    line (rows cols entries apart then start on lines too when cols entries are whole
    lines)."""
    dtype = np.dtype(dtype)
    spare = LINE_BYTES // dtype.itemsize
    memory = np.empty(rows * cols + spare, dtype=dtype)
    start = (-memory.ctypes.data) % LINE_BYTES // dtype.itemsize
    return memory[start:start + rows * cols].reshape(rows, cols)
