"""Requests a librdkafka client has sent, as librdkafka itself counts them (its statistics).

With `statistics.interval.ms` set, librdkafka hands a JSON document to `stats_cb` that many
milliseconds apart; each broker's `tx` is the number of requests sent to it, its `req` the same
by request type (kept as "Type@node" for a breakdown by API and broker). The collector's
clients report through one RequestStats each, so a benchmark or a test can count what a cycle
really sent (the snapshot's own `requests` field is the cycle's estimate).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

# Broker handles that are not connections of their own: their requests go out on a real one.
_NOT_CONNECTIONS = frozenset({"internal", "logical"})


class RequestStats:
    """The latest total of requests sent by one client, with librdkafka's time of that total."""

    def __init__(self, interval_ms: int = 100) -> None:
        self.interval_ms = interval_ms
        self._lock = threading.Lock()
        self._sent = 0
        self._by: dict[str, int] = {}  # "Metadata@1": requests of that type sent to node 1
        self._at = 0.0  # time.monotonic() of the statistics (librdkafka's ts is the same clock)
        self._fresh = threading.Condition(self._lock)

    def overrides(self) -> dict[str, Any]:
        """What a client's configuration needs for it to report here."""
        return {"statistics.interval.ms": self.interval_ms, "stats_cb": self.callback}

    def callback(self, document: str) -> None:
        stats = json.loads(document)
        brokers = [b for b in stats.get("brokers", {}).values() if b.get("source") not in _NOT_CONNECTIONS]
        sent = sum(b.get("tx", 0) for b in brokers)
        by: dict[str, int] = {}
        for b in brokers:
            node = b["nodeid"] if b.get("nodeid", -1) >= 0 else "bootstrap"
            for kind, n in b.get("req", {}).items():
                if n:
                    by[f"{kind}@{node}"] = by.get(f"{kind}@{node}", 0) + n
        with self._fresh:
            self._sent = sent
            self._by = by
            self._at = stats.get("ts", 0) / 1e6
            self._fresh.notify_all()

    @property
    def sent(self) -> int:
        with self._lock:
            return self._sent

    def sent_after(self, moment: float, timeout: float, serve: Callable[[float], Any] | None = None) -> int:
        """The total as of statistics taken after `moment` (time.monotonic()); `serve` polls the
        client for a client whose callbacks are served by poll() (an AdminClient)."""
        return self.counts_after(moment, timeout, serve)[0]

    def counts_after(
        self, moment: float, timeout: float, serve: Callable[[float], Any] | None = None
    ) -> tuple[int, dict[str, int]]:
        """sent_after()'s total with its breakdown by "Type@node", both from the same statistics."""
        deadline = time.monotonic() + timeout
        while True:
            with self._fresh:
                if self._at >= moment:
                    return self._sent, dict(self._by)
                if serve is None:
                    if not self._fresh.wait(max(0.0, deadline - time.monotonic())):
                        raise TimeoutError("no librdkafka statistics arrived")
                    continue
            if time.monotonic() > deadline:
                raise TimeoutError("no librdkafka statistics arrived")
            serve(0.05)
