"""When the cycle detector runs in a process that holds a large cluster's state (poller, collector child).

Why: at 50,000 groups a poller holds about five million objects the cycle detector tracks (snapshot
rows, status windows, figures), nearly all freed by reference counting, not by the detector.
CPython 3.11 starts a full collection once the objects that survived young collections since the
last one exceed a quarter of the long-lived ones: at that size about once a cycle, each a pause of
every thread (pages included) of seconds that finds next to nothing (bench/RESULTS.md, "Downstream
at W4"). So, above LARGE_ROWS group-partition rows, automatic full collections are off and each
cycle ends with a full collection, which skips what earlier cycles froze and so scans only what
was made since (the cycle's new state, the pages' garbage), then freezes the survivors (gc.freeze:
out of the detector's view, still freed by reference counting). Freezing without that collection
kept the reference cycles a page request leaves behind, some megabytes each, for good: the server
grew by gigabytes in minutes. Reference cycles that reach frozen objects are freed by one full
collection, with everything unfrozen, every FULL_EVERY_S. Young collections run as before.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time

log = logging.getLogger(__name__)

# Below this the default schedule's full collections take tens of milliseconds. The environment's
# KAFKA_DASHBOARD_GC_FREEZE_ROWS moves it (0: never; the default schedule throughout).
LARGE_ROWS = int(os.environ.get("KAFKA_DASHBOARD_GC_FREEZE_ROWS", "20000") or 0) or 2**62
FULL_EVERY_S = 600.0
NO_AUTOMATIC_FULL = 2**31 - 1  # the third threshold: young-collection rounds before a full one

_lock = threading.Lock()
_saved: tuple[int, int, int] | None = None
_last_full = time.monotonic()
_rows: dict[str, int] = {}  # the rows each poller of this process held at its last cycle


def settle_after_cycle(who: str, rows: int, now: float | None = None) -> bool:
    """End a cycle of poller `who` (a cluster's name) holding `rows` group-partition rows: while the
    process's pollers hold LARGE_ROWS or more, freeze the survivors (and collect in full when one
    is due); below it, the default schedule. True when frozen."""
    global _saved, _last_full
    now = time.monotonic() if now is None else now
    with _lock:
        if rows:
            _rows[who] = rows
        else:
            _rows.pop(who, None)
        if sum(_rows.values()) < LARGE_ROWS:
            if _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None
                gc.unfreeze()
            return False
        if _saved is None:
            current = gc.get_threshold()
            if current[0] == 0:
                return False  # collection is off in this process: leave it so
            _saved = current
            gc.set_threshold(current[0], current[1], NO_AUTOMATIC_FULL)
            _last_full = now
        started = time.process_time()
        everything = now - _last_full >= FULL_EVERY_S
        if everything:
            gc.unfreeze()
            _last_full = now
        found = gc.collect()  # what the frozen objects are not part of, unless everything was unfrozen
        gc.freeze()
        log.debug(
            "%s collection: %d objects freed in %.2f s CPU",
            "full" if everything else "since-freeze",
            found,
            time.process_time() - started,
        )
        return True


def forget(who: str) -> None:
    """Poller `who` stopped: its rows no longer count (the default schedule when none is large)."""
    settle_after_cycle(who, 0)
