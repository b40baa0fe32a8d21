"""Arrays placed against an unreadable page: a kernel that reads past one crashes."""
import ctypes
import mmap
import sys

import numpy as np


def at_page_end(array):
    """A copy of `array` whose last byte is the last one before an unreadable page, or
    None where that cannot be arranged (not Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    page = mmap.PAGESIZE
    size = array.nbytes
    pages = (size + page - 1) // page + 1
    region = mmap.mmap(-1, pages * page, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    start = ctypes.addressof(ctypes.c_char.from_buffer(region))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    if libc.mprotect(start + (pages - 1) * page, page, 0) != 0:
        return None
    offset = (pages - 1) * page - size
    copy = np.ndarray(array.shape, array.dtype, buffer=region, offset=offset,
                      order="F" if array.flags.f_contiguous and not array.flags.c_contiguous
                      else "C")
    copy[...] = array       # (the array holds the mapping through its buffer)
    return copy
