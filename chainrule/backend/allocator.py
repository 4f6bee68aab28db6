"""Where NumPy's large arrays come from: glibc's heap, kept by the process between training steps.

glibc's malloc serves a block above its mmap threshold with pages of its own, and gives freed memory at the top of
the heap back to the kernel once more than its trim threshold is free. Both thresholds adapt to at most a few MB, and
a training step allocates and frees the same tens of megabytes on every step (an LSTM over MNIST rows keeps 7 MB of
gate activations), so every step paid again for fresh, zeroed pages, more system time than an LSTM's gate math
(docs/performance.md, "Recurrent ops, second pass"). :func:`keep_freed_memory` fixes the thresholds
(blocks up to 32 MB from the heap, up to 128 MB of free heap kept), so freed arrays serve the next step; blocks
larger than that still come and go as pages of their own, so a big dataset array is returned to the system.

It runs once when chainrule is imported, on glibc only, and leaves malloc alone where the user set
``MALLOC_MMAP_THRESHOLD_`` or ``MALLOC_TRIM_THRESHOLD_`` (glibc's own variables) or ``CHAINRULE_MALLOC=system``.

>>> MMAP_THRESHOLD // 2**20, TRIM_THRESHOLD // 2**20   # MB
(32, 128)
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

MMAP_THRESHOLD = 32 << 20   # glibc's largest allowed value on 64-bit machines
TRIM_THRESHOLD = 128 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)
_USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds (see the module's docstring); True if they were set."""
    choice = os.environ.get("CHAINRULE_MALLOC", "keep")
    if choice not in ("keep", "system"):
        raise ValueError(f"CHAINRULE_MALLOC={choice!r}: expected 'keep' (the default) or 'system'")
    if choice == "system" or not sys.platform.startswith("linux") or any(k in os.environ for k in _USER_SETTINGS):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # glibc's own symbol: musl has a mallopt that does nothing
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
