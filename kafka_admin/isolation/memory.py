"""Hand the C heap's free pages back to the system once a cycle is done.

A cycle at tens of thousands of groups allocates and frees hundreds of megabytes of dicts, sets
and arrays (the hand-off's rebuild, the figures of the groups that changed); glibc keeps freed
chunks in its arenas, so a process's RSS stays at its high-water mark rather than at what it
holds. `malloc_trim(0)` gives the free pages back (bench/RESULTS.md, "Memory of every process").
"""

from __future__ import annotations

import ctypes
import ctypes.util


def _malloc_trim() -> ctypes._CFuncPtr | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None


_TRIM = _malloc_trim()


def release_free_memory() -> None:
    """Trim the C heap (nothing where the C library has no malloc_trim)."""
    if _TRIM is not None:
        _TRIM(0)
