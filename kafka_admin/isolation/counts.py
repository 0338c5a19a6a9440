"""Deaths of the server's broker-work children, counted by kind and cause, for /metrics.

The poller's collector has its Health per cluster (stored where every web process sees it); the
children the pages start (a reset call, a record reader, a reprocess run) die in the process that
serves the page, so that process counts them here. In a scaled-out deployment each web process
reports its own counts, as its own Prometheus target.
"""

from __future__ import annotations

import threading

COLLECTOR = "collector"  # the poller's child (also counted per cluster in its Health)
BROKER_ACTION = "broker-action"  # a child per offset-reset call
RECORD_READER = "record-reader"  # the pool that reads records for the pages
REPROCESS = "reprocess"  # a child per reprocess run


class CrashCounts:
    """A thread-safe count of child deaths by (kind, cause)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], int] = {}

    def note(self, kind: str, cause: str) -> None:
        with self._lock:
            self._counts[(kind, cause)] = self._counts.get((kind, cause), 0) + 1

    def counts(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._counts)


WORKER_CRASHES = CrashCounts()
