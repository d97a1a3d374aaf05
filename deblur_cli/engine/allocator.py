"""Keeping freed memory in the process on glibc, so that large tensors are not faulted in page by page.

glibc hands every block above its mmap threshold (at most 32 MiB by default) straight back to the kernel
when freed, so each new full-resolution feature map of a forward pass is faulted in again, page by page:
about 8 ms for 32 MiB on the 2-core CPU, a fifth of DMPHN 1-2-4's time at 512x512 (docs/performance.md).
Raising the mmap and trim thresholds keeps that memory for the next tensor. Peak memory stays what the
largest pass needs; the process just does not shrink between passes.
"""

from __future__ import annotations

import ctypes
import logging
import os

logger = logging.getLogger(__name__)

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_ENV = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
THRESHOLD = 1 << 30
"""Blocks up to this size come from the reusable heap, and this much freed memory may stay in it."""

_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds to `THRESHOLD`, once per process. Returns whether they are
    raised: False off glibc (macOS, Windows, musl) and when the user set either through the environment
    (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`), which is left as it is."""
    global _applied
    if _applied is None:
        _applied = _raise_thresholds()
    return _applied


def _is_glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (AttributeError, ValueError, OSError):  # no confstr (Windows), or no such name (macOS, musl)
        return False


def _raise_thresholds() -> bool:
    if not _is_glibc() or any(name in os.environ for name in _ENV):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # Older glibc refuses an mmap threshold above 32 MiB: the largest feature maps are then still mapped.
    mapped = mallopt(_M_MMAP_THRESHOLD, THRESHOLD) or mallopt(_M_MMAP_THRESHOLD, 32 << 20)
    trimmed = mallopt(_M_TRIM_THRESHOLD, THRESHOLD)
    logger.debug("glibc malloc thresholds raised: mmap %s, trim %s", bool(mapped), bool(trimmed))
    return bool(mapped and trimmed)
