"""Keep freed memory for reuse instead of returning it to the operating system.

A training step allocates and frees the same large arrays (im2col columns, their gradients)
every iteration. glibc's malloc hands blocks above its mmap threshold straight back to the
kernel, so each step pays again for zeroed pages: for the 19 MB columns of a 32x16x32x32
convolution that was a third of the step. Raising the thresholds keeps those blocks in the
heap, as the caching allocators of other frameworks do. The price is a process that keeps its
peak memory reserved. Set TINYGRAD_CNN_KEEP_MEMORY=0 before importing to opt out.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

__all__ = ["keep_freed_memory"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_MAX = 32 * 1024 * 1024  # glibc's upper limit on 64-bit systems


def keep_freed_memory() -> bool:
    """Tune glibc's malloc to reuse freed blocks up to 32 MB; False where that is not glibc."""
    path = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(path).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX)) and bool(
        mallopt(_M_TRIM_THRESHOLD, 1 << 30)
    )


if os.environ.get("TINYGRAD_CNN_KEEP_MEMORY", "1") != "0":
    keep_freed_memory()
