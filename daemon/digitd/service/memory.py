"""Keep a worker's freed page buffers for the next page instead of handing them back.

Reading an A4 page allocates and frees buffers of 4 to 26 MB (the decoded
scan, its work copy, masks, label images). With glibc's default, adaptive
settings many of them are handed back to the kernel when freed and come back
as fresh pages, each zeroed by the kernel on first touch: about 14,000 page
faults and 20 to 50 ms of system time per A4 page, a sixth of the page's time.
Fixed settings that keep freed memory in the process remove them; the price
is that a worker's resident size stays near its peak (about 100 MB more
between documents after an A4 page).
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["keep_freed_memory"]

# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

# Buffers up to this size come from the heap, not from their own mapping: the
# most glibc's adaptive threshold reaches on 64-bit (an A4 RGB scan at 300 dpi
# is 26 MB; larger scans are resampled to the work resolution at once).
MMAP_THRESHOLD = 32 * 1024 * 1024
# Freed memory at the top of the heap is kept up to this size.
TRIM_THRESHOLD = 256 * 1024 * 1024


def keep_freed_memory(
    *, mmap_threshold: int = MMAP_THRESHOLD, trim_threshold: int = TRIM_THRESHOLD
) -> bool:
    """Set the C allocator to reuse freed page buffers; call once at process start.

    Parameters
    ----------
    mmap_threshold : int
        Bytes; larger allocations get their own mapping (returned when freed).
    trim_threshold : int
        Bytes of free memory at the top of the heap kept rather than returned.

    Returns
    -------
    bool
        True when the settings took effect; False where the C library has no
        ``mallopt`` (not Linux, or not glibc) or refused a value; the
        process then works as before, only with more page faults.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    done = mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold)) == 1
    return mallopt(_M_TRIM_THRESHOLD, int(trim_threshold)) == 1 and done
