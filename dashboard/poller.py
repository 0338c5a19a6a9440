"""The loop: collect -> store -> (history, evaluate, publish as they land). One per cluster.

The collection is blocking librdkafka work and runs in a worker thread; the loop itself is a
coroutine so that it can share the server's event loop (embedded default) or run alone
(`manage.py poll_kafka`). It logs one line per change of reachability, not one per cycle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from asgiref.sync import sync_to_async

from dashboard import store
from kafka_admin.collect import SnapshotCollector
from kafka_admin.config import ClusterConfig
from kafka_admin.model import ClusterSnapshot

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 60.0


class Poller:
    def __init__(self, config: ClusterConfig, interval_s: float) -> None:
        self.config = config
        self.interval_s = interval_s
        self._collector: SnapshotCollector | None = None
        self._was_reachable: bool | None = None
        self.failures = 0

    def cycle(self) -> ClusterSnapshot:
        """One synchronous cycle: collect and store. Returns the snapshot it stored."""
        if self._collector is None:
            self._collector = SnapshotCollector(self.config)
        snapshot = self._collector.collect()
        store.save(snapshot)
        self._note_reachability(snapshot)
        return snapshot

    def _note_reachability(self, snapshot: ClusterSnapshot) -> None:
        if snapshot.reachable:
            self.failures = 0
            if self._was_reachable is False:
                log.warning("cluster %s reachable again", self.config.name)
            elif self._was_reachable is None:
                log.info(
                    "cluster %s: first snapshot, %d topics, %d groups in %.0f ms",
                    self.config.name,
                    len(snapshot.topics),
                    len(snapshot.groups),
                    snapshot.duration_ms,
                )
        else:
            self.failures += 1
            if self._was_reachable is not False:
                reason = snapshot.errors[0].message if snapshot.errors else "unknown"
                log.warning("cluster %s unreachable: %s", self.config.name, reason)
        self._was_reachable = snapshot.reachable

    def next_delay(self) -> float:
        """The interval while healthy; doubling back-off (capped) while the cluster is unreachable."""
        if self.failures == 0:
            return self.interval_s
        return min(MAX_BACKOFF_S, self.interval_s * 2 ** min(self.failures - 1, 6))

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                await sync_to_async(self.cycle, thread_sensitive=False)()
            except Exception:
                log.exception("poll cycle for cluster %s failed", self.config.name)
                self.failures += 1
            delay = max(0.0, self.next_delay() - (time.monotonic() - started))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
