"""The ledger: the durable memory of which DLQ records were re-published, and an in-memory one."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Literal, NamedTuple, Protocol

RecordKey = tuple[str, int, int]
"""(DLQ topic, partition, offset) of one DLQ record."""


class PendingEntry(NamedTuple):
    """A record produced in a transaction whose outcome the ledger does not know yet.

    A NamedTuple (immutable like a frozen dataclass, cheaper to build): one is built per record sent."""

    key: RecordKey
    target_topic: str
    target_partition: int
    target_offset: int
    run_id: str


class Ledger(Protocol):
    """The durable per-record memory of a DLQ topic (a database table on the Django side)."""

    def done(self, keys: Sequence[RecordKey]) -> set[RecordKey]:
        """Those of `keys` already reprocessed (confirmed) or resolved."""
        ...

    def resolved(self, keys: Sequence[RecordKey]) -> set[RecordKey]:
        """Those of `keys` resolved without re-publishing: never re-sent, even by a forced run.

        Asked only by forced runs, and only about keys done() returned.
        """
        ...

    def record_pending(self, entries: Sequence[PendingEntry]) -> None:
        """Remember produced records, after the flush and before the transaction commits."""
        ...

    def pending(self) -> list[PendingEntry]:
        """Every entry whose outcome is unknown (a crash between record_pending and confirm)."""
        ...

    def confirm(self, keys: Sequence[RecordKey], run_id: str) -> None:
        """The transaction of `run_id` that sent `keys` committed: they are reprocessed."""
        ...

    def abandon(self, keys: Sequence[RecordKey], run_id: str) -> None:
        """The transaction of `run_id` that sent `keys` aborted: forget those pending entries."""
        ...


Status = Literal["reprocessed", "resolved"]


class MemoryLedger:
    """A Ledger in memory, for tests and one-off scripts."""

    def __init__(self) -> None:
        self.status: dict[RecordKey, Status] = {}
        self.entries: dict[tuple[RecordKey, str], PendingEntry] = {}
        self.confirmed: list[PendingEntry] = []
        self._lock = threading.Lock()

    def done(self, keys: Sequence[RecordKey]) -> set[RecordKey]:
        with self._lock:
            return {k for k in keys if k in self.status}

    def resolved(self, keys: Sequence[RecordKey]) -> set[RecordKey]:
        with self._lock:
            return {k for k in keys if self.status.get(k) == "resolved"}

    def resolve(self, keys: Iterable[RecordKey]) -> None:
        with self._lock:
            for k in keys:
                self.status[k] = "resolved"

    def record_pending(self, entries: Sequence[PendingEntry]) -> None:
        with self._lock:
            for e in entries:
                self.entries[(e.key, e.run_id)] = e

    def pending(self) -> list[PendingEntry]:
        with self._lock:
            return list(self.entries.values())

    def confirm(self, keys: Sequence[RecordKey], run_id: str) -> None:
        with self._lock:
            for k in keys:
                entry = self.entries.pop((k, run_id), None)
                if entry is not None:
                    self.confirmed.append(entry)
                if self.status.get(k) != "resolved":
                    self.status[k] = "reprocessed"

    def abandon(self, keys: Sequence[RecordKey], run_id: str) -> None:
        with self._lock:
            for k in keys:
                self.entries.pop((k, run_id), None)
