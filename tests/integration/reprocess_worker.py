"""A reprocess run in its own process, with a file-backed ledger, so that a test can SIGKILL it.

Run: python -m tests.integration.reprocess_worker BOOTSTRAP DLQ_TOPIC PARTITION START END DB RUN_ID BATCH

Prints "progress <sent>" after every batch and "report <json>" at the end. With
REPROCESS_WORKER_KILL=pending:N it SIGKILLs itself right after the ledger recorded batch N as
pending (before the commit); with confirm:N right before batch N is confirmed (after the commit).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from kafka_admin.config import ClusterConfig
from kafka_admin.dlq.routing import header_targets
from kafka_admin.reprocess import OffsetRange, PendingEntry, Progress, RecordKey, reprocess

CLUSTER = "crash-test"


class SqliteLedger:
    """The Ledger protocol on an sqlite3 file: every call is one committed sqlite transaction."""

    def __init__(self, path: str | Path) -> None:
        self.db = sqlite3.connect(str(path), timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        with self.db:
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS status (topic TEXT, partition INT, offset INT, status TEXT,"
                " PRIMARY KEY (topic, partition, offset))"
            )
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS pending (topic TEXT, partition INT, offset INT, run_id TEXT,"
                " target_topic TEXT, target_partition INT, target_offset INT,"
                " PRIMARY KEY (topic, partition, offset, run_id))"
            )
        self.pending_calls = 0
        self.confirm_calls = 0
        self.kill = os.environ.get("REPROCESS_WORKER_KILL", "")

    def _statuses(self, keys: Sequence[RecordKey], only: str | None = None) -> set[RecordKey]:
        wanted = set(keys)
        spans: dict[tuple[str, int], list[int]] = {}
        for topic, partition, offset in wanted:
            spans.setdefault((topic, partition), []).append(offset)
        found: set[RecordKey] = set()
        for (topic, partition), offsets in spans.items():
            rows = self.db.execute(
                "SELECT offset, status FROM status WHERE topic = ? AND partition = ? AND offset BETWEEN ? AND ?",
                (topic, partition, min(offsets), max(offsets)),
            )
            found |= {(topic, partition, o) for o, s in rows if only is None or s == only}
        return found & wanted

    def done(self, keys: Sequence[RecordKey]) -> set[RecordKey]:
        return self._statuses(keys)

    def resolved(self, keys: Sequence[RecordKey]) -> set[RecordKey]:
        return self._statuses(keys, "resolved")

    def record_pending(self, entries: Sequence[PendingEntry]) -> None:
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO pending VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(*e.key, e.run_id, e.target_topic, e.target_partition, e.target_offset) for e in entries],
            )
        self.pending_calls += 1
        if self.kill == f"pending:{self.pending_calls}":
            os.kill(os.getpid(), signal.SIGKILL)

    def pending(self) -> list[PendingEntry]:
        rows = self.db.execute("SELECT * FROM pending").fetchall()
        return [PendingEntry((t, p, o), tt, tp, to, run) for t, p, o, run, tt, tp, to in rows]

    def confirm(self, keys: Sequence[RecordKey], run_id: str) -> None:
        self.confirm_calls += 1
        if self.kill == f"confirm:{self.confirm_calls}":
            os.kill(os.getpid(), signal.SIGKILL)
        with self.db:
            self.db.executemany(
                "DELETE FROM pending WHERE topic = ? AND partition = ? AND offset = ? AND run_id = ?",
                [(*k, run_id) for k in keys],
            )
            self.db.executemany("INSERT OR REPLACE INTO status VALUES (?, ?, ?, 'reprocessed')", keys)

    def abandon(self, keys: Sequence[RecordKey], run_id: str) -> None:
        with self.db:
            self.db.executemany(
                "DELETE FROM pending WHERE topic = ? AND partition = ? AND offset = ? AND run_id = ?",
                [(*k, run_id) for k in keys],
            )

    def count_done(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM status").fetchone()[0]


def main(argv: list[str]) -> int:
    bootstrap, dlq_topic, partition, start, end, db, run_id, batch = argv
    config = ClusterConfig(name=CLUSTER, bootstrap_servers=bootstrap, request_timeout_s=10.0, cycle_timeout_s=30.0)

    def progress(p: Progress) -> None:
        print(f"progress {p.sent}", flush=True)

    report = reprocess(
        config,
        dlq_topic,
        OffsetRange(int(partition), int(start), int(end)),
        targets=header_targets(dlq_topic),
        ledger=SqliteLedger(db),
        actor="crash-test",
        run_id=run_id,
        batch_size=int(batch),
        on_progress=progress,
    )
    print("report " + json.dumps(asdict(report), default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
