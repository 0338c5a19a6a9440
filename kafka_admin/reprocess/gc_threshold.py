"""Fewer young-generation collections while a run is on: its live pages are many small containers."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Above the net container allocations of the two pages a run holds, so the cycle detector does not
# rescan them; reference counting still frees each page once it is sent (measurements: docs/dlq.md).
GC_YOUNG_THRESHOLD = 1_000_000
_gc_lock = threading.Lock()
_gc_runs = 0
_gc_saved: tuple[int, int, int] | None = None


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the young generation's GC threshold while any run is on (it is per process: the
    last run to end restores what was there before the first)."""
    global _gc_runs, _gc_saved
    with _gc_lock:
        if _gc_runs == 0:
            _gc_saved = gc.get_threshold()
            young, *older = _gc_saved
            if young and young < GC_YOUNG_THRESHOLD:  # 0: collection is off; leave it so
                gc.set_threshold(GC_YOUNG_THRESHOLD, *older)
        _gc_runs += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_runs -= 1
            if _gc_runs == 0 and _gc_saved is not None:
                gc.set_threshold(*_gc_saved)
                _gc_saved = None
