"""Keep freed memory for reuse instead of returning it to the operating system.

A training step allocates and frees the same large arrays (im2col columns, their gradients)
every iteration. glibc's malloc hands blocks above its mmap threshold straight back to the
kernel, so each step pays again for zeroed pages: for the 19 MB columns of a 32x16x32x32
convolution that was a third of the step. Raising the thresholds keeps those blocks in the
heap, as the caching allocators of other frameworks do. The price is a process that keeps its
peak memory reserved, so importing the package never does it: the training loop
(:func:`tinygrad_cnn.train.fit`, and so the CLI's ``train``) calls :func:`keep_freed_memory`
when it starts, and a user's own loop may call it. TINYGRAD_CNN_KEEP_MEMORY=0 opts out.
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
    """Tune glibc's malloc, for the whole process, to reuse freed blocks up to 32 MB. Returns
    False, changing nothing, where that is not glibc or TINYGRAD_CNN_KEEP_MEMORY is 0."""
    if os.environ.get("TINYGRAD_CNN_KEEP_MEMORY", "1") == "0":
        return False
    path = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(path).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX)) and bool(
        mallopt(_M_TRIM_THRESHOLD, 1 << 30)
    )
