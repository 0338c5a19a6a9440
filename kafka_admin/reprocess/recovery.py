"""Settling the pending entries of earlier runs: each record is in its target topic (confirm) or not (abandon)."""

from __future__ import annotations

import time
from collections import defaultdict

from kafka_admin.config import ClusterConfig
from kafka_admin.dlq.routing import reprocessed_from
from kafka_admin.records.read import FromOffset, read_records
from kafka_admin.reprocess.errors import Halt, note
from kafka_admin.reprocess.ledger import Ledger, PendingEntry, RecordKey
from kafka_admin.reprocess.reports import RecoveryReport
from kafka_admin.reprocess.sender import DEFAULT_PARTITIONER, ProducerShape, Sender
from kafka_admin.reprocess.transactional_id import transactional_id_for

# Pending entries within this many offsets of each other are checked with one read.
SETTLE_SPAN = 5_000


def recover(
    config: ClusterConfig,
    dlq_topic: str,
    ledger: Ledger,
    transactional_id: str | None = None,
    *,
    timeout_s: float | None = None,
) -> RecoveryReport:
    """Fence earlier runs of this DLQ topic and settle the ledger's pending entries.

    init_transactions() with the runs' transactional.id aborts an open transaction of a crashed
    run; then each pending entry's target offset is read with read_committed: the record is there
    with matching ``dlq.reprocessed.from.*`` headers (committed: confirm) or not (aborted: abandon).
    Entries that cannot be told yet stay pending (``undecided``). `timeout_s` bounds the wait for
    a target's last stable offset to pass an entry (default: the request timeout).
    """
    tid = transactional_id or transactional_id_for(config.name, dlq_topic)
    sender = Sender(config, tid, DEFAULT_PARTITIONER)
    try:
        sender.start(ProducerShape.default())
    except Halt as halt:
        undecided = [e for e in ledger.pending() if e.key[0] == dlq_topic]
        return RecoveryReport(undecided=undecided, errors=[str(halt)])
    try:
        return settle(config, dlq_topic, ledger, timeout_s)
    finally:
        sender.close()


def settle(config: ClusterConfig, dlq_topic: str, ledger: Ledger, timeout_s: float | None) -> RecoveryReport:
    report = RecoveryReport()
    try:
        entries = [e for e in ledger.pending() if e.key[0] == dlq_topic]
    except Exception as exc:
        raise Halt(f"the ledger could not list pending records: {type(exc).__name__}: {exc}") from exc
    if not entries:
        return report
    deadline = time.monotonic() + (config.request_timeout_s if timeout_s is None else timeout_s)
    confirm: dict[str, list[RecordKey]] = defaultdict(list)
    abandon: dict[str, list[RecordKey]] = defaultdict(list)
    by_partition: dict[tuple[str, int], list[PendingEntry]] = defaultdict(list)
    for e in entries:
        by_partition[(e.target_topic, e.target_partition)].append(e)
    for (topic, partition), group in by_partition.items():
        group.sort(key=lambda e: e.target_offset)
        start = 0
        for i in range(1, len(group) + 1):
            if i == len(group) or group[i].target_offset - group[start].target_offset > SETTLE_SPAN:
                _settle_span(config, topic, partition, group[start:i], deadline, confirm, abandon, report)
                start = i
    try:
        for run_id, keys in confirm.items():
            ledger.confirm(keys, run_id)
            report.confirmed += len(keys)
        for run_id, keys in abandon.items():
            ledger.abandon(keys, run_id)
            report.abandoned += len(keys)
    except Exception as exc:
        raise Halt(f"the ledger could not settle pending records: {type(exc).__name__}: {exc}") from exc
    return report


def _settle_span(
    config: ClusterConfig,
    topic: str,
    partition: int,
    want: list[PendingEntry],
    deadline: float,
    confirm: dict[str, list[RecordKey]],
    abandon: dict[str, list[RecordKey]],
    report: RecoveryReport,
) -> None:
    """Decide entries (sorted by target offset, one target partition) by reading the target committed."""
    pos = want[0].target_offset
    problem = ""
    while want:
        result = read_records(
            config,
            topic,
            partition,
            FromOffset(pos),
            limit=min(1000, want[-1].target_offset - pos + 1),
            max_value_bytes=0,  # the headers say whose record it is; keys and values are not needed
            read_committed=True,
        )
        low, high = result.start_offset, result.end_offset
        if result.error and not result.records:
            if low is not None and pos < low:
                gone = [e for e in want if e.target_offset < low]
                _undecided(report, gone, f"target offsets below the log start {low} of {topic}/{partition}")
                want = [e for e in want if e.target_offset >= low]
                pos = low
                continue
            problem = result.error
        else:
            found = {r.offset: r for r in result.records}
            end = result.next_offset if result.next_offset is not None else pos
            for e in [e for e in want if e.target_offset < end]:
                record = found.get(e.target_offset)
                if record is not None and reprocessed_from(record.headers) == e.key:
                    confirm[e.run_id].append(e.key)
                else:
                    abandon[e.run_id].append(e.key)
            want = [e for e in want if e.target_offset >= end]
            if end > pos:
                pos = end
                continue
            problem = f"the last stable offset of {topic}/{partition} is {high}, not past offset {pos} yet"
        if time.monotonic() >= deadline:
            _undecided(report, want, problem)
            return
        time.sleep(0.1)


def _undecided(report: RecoveryReport, entries: list[PendingEntry], why: str) -> None:
    if entries:
        report.undecided.extend(entries)
        note(report.errors, f"{len(entries)} pending records could not be settled ({why}); they stay pending")
