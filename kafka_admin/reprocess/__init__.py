"""Re-publish dead-letter records to their original topic: exactly once, and safe against crashes.

How a run works (``reprocess``):

1. One transactional producer per DLQ topic (``transactional_id_for``): ``init_transactions()``
   fences any earlier producer with that id (a crashed or still-running run) and aborts its open
   transaction. Then ``recover`` settles the ledger's pending entries (below).
2. The selection is read from the DLQ with ``read_committed`` (records of an aborted DLQ write are
   never re-published) by one consumer for the whole run, assigned once per span of offsets, a
   page of ``batch_size`` records (at most ``PAGE_BYTES``) at a time; the next page is read and
   classified while a transaction's records are on their way to the broker. Keys and values are
   kept cut to ``VIEW_BYTES``, which is also exactly what the ``accept`` filter and the plan see;
   records that will be sent and were cut are read again whole, at most ``BATCH_BYTES`` at a time,
   so memory stays bounded whatever the record sizes.
3. Per record: the filter, the ledger (already reprocessed or resolved: skipped), the target
   (``targets``; none: skipped as unmapped), whether the target topic exists (never created
   here), and whether the record fits the target's ``max.message.bytes`` (else it fails alone,
   with a message, and the rest goes on). A record whose header names are not UTF-8 cannot be
   re-published byte-exact: it fails alone too.
4. Per transaction (at most ``batch_size`` records and ``BATCH_BYTES``): begin; produce key, value
   and ``republish_headers(...)`` byte-exact; flush; ``ledger.record_pending`` with the offsets the
   delivery reports gave; with ``range_group``, the group's offset for the DLQ partition joins the
   transaction; commit; ``ledger.confirm``. The ledger is called once per page (``done``) and
   twice per transaction, never per record.

Why this is exactly once: a record reaches the original topic (for read_committed readers) only
in a committed transaction, and the ledger knows every record whose transaction may have
committed: either confirmed, or pending with its target offset. A crash before ``record_pending``
leaves an open transaction that the next run's ``init_transactions()`` aborts; a crash after it
leaves pending entries that ``recover`` settles by looking at the target offset with a
read_committed consumer: the record is there (committed: confirm) or not (aborted: abandon, and
the record is sent again). An entry that cannot be settled yet (the target's last stable offset
has not passed it, or it was deleted) stays pending, and its record is not sent by this run.

Choices:

- ``force`` re-sends records this engine reprocessed before (listed in ``forced_keys``) but never
  records a person marked *resolved* (handled without re-publishing: re-sending one could put a
  known poison record back); to send such a record, un-resolve it first.
- The partition in the original topic is chosen by the producer's partitioner from the key, as
  the original producer would, not copied from the failure headers (the topic's partition count
  may have changed). The default ``murmur2_random`` is the Java client's (Spring's) partitioner;
  librdkafka-based producers use ``consistent_random``: pass ``partitioner`` to match them.
- The timestamp is the time of re-publishing (the original one may lie beyond the topic's
  retention, which would delete the record right away); the original time stays in the DLQ.
- An abortable transaction error is retried once (without the records the broker refused one by
  one, which fail); if the batch fails again, the run stops (with ``range_group`` the group's
  offset must not pass records that were not sent). Fenced or other fatal errors stop the run at
  once; records whose outcome is unknown stay pending for the next run to settle.
- Two runs of one DLQ topic share the transactional.id: the later one fences the earlier, which
  stops with an error saying so; nothing is sent twice either way.
- With ``rate_limit`` a transaction holds at most ``RATE_LIMITED_TRANSACTION_S`` of records, well
  inside the transaction timeout.
- ``stop`` ends the run after the records produced so far are committed.

Nothing here imports Django: the database ledger implements ``Ledger``.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import re
import threading
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import accumulate
from typing import Any, Literal, NamedTuple, Protocol

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType

from kafka_admin.clients import FETCH_STOP_ERRORS, error_text, make_admin
from kafka_admin.config import ClusterConfig
from kafka_admin.dlq import headers as dh
from kafka_admin.dlq.routing import FailureInfo, Header, Target, parse_failure, reprocessed_from, republish_headers
from kafka_admin.records.read import (
    BROWSER_GROUP_ID,
    DEFAULT_MAX_VALUE_BYTES,
    FETCH_QUEUE_BACKOFF_MS,
    FETCH_WAIT_MAX_MS,
    QUEUED_MAX_KBYTES,
    TIMESTAMP_TYPES,
    FromOffset,
    Record,
    make_record,
    read_records,
)

log = logging.getLogger(__name__)

RecordKey = tuple[str, int, int]
"""(DLQ topic, partition, offset) of one DLQ record."""

Accept = Callable[[Record, FailureInfo], bool]
Targets = Callable[[Record, FailureInfo], Target]

TRANSACTIONAL_ID_PREFIX = "kafka-dashboard-reprocess"
# Records per transaction (and per page read). Each transaction costs a few broker round trips
# (the partitions joining it, the flush's last acknowledgements, the commit's markers), paid while
# nothing else is sent: at 2,000 they took ~13% of a run's time (bench_reprocess), five times
# fewer of them at 10,000.
# A transaction of 10,000 records is under a second at the engine's speed; with a rate limit it is
# cut to RATE_LIMITED_TRANSACTION_S of records.
DEFAULT_BATCH_SIZE = 10_000
# What the filter and the plan see of each key and value (the message browser's default cut).
VIEW_BYTES = DEFAULT_MAX_VALUE_BYTES
# At most this many bytes of keys and values are held (and sent in one transaction) at a time,
# unless one record alone is bigger.
BATCH_BYTES = 32 * 1024 * 1024
# A page (read, then classified) ends early once it holds this many bytes of (cut) keys and values;
# a run holds two pages at a time (the next one is read ahead).
PAGE_BYTES = BATCH_BYTES // 2
# At most this many records are taken from the reader's consumer in one call (only what it holds).
CONSUME_CHUNK = 1000
# The first page of a run: while it is read, nothing else can happen but starting the producer, and
# a cold consumer fetched a whole 10,000-record page in 115-165 ms (bench_reprocess.py).
FIRST_PAGE_RECORDS = 1000
TRANSACTION_TIMEOUT_MS = 60_000
LINGER_MS = 10
DEFAULT_PARTITIONER = "murmur2_random"
# With a rate limit, a transaction holds at most this many seconds of records, well inside the
# transaction timeout.
RATE_LIMITED_TRANSACTION_S = 5.0
# The broker's default max.message.bytes, assumed until the target topics are known.
DEFAULT_MAX_MESSAGE_BYTES = 1_048_588
# librdkafka's default batch.size; smaller when a target topic takes less.
PRODUCER_BATCH_BYTES = 1_000_000
# A record batch's fixed header (baseOffset .. records count), counted in max.message.bytes.
RECORD_BATCH_OVERHEAD = 61
MAX_ERRORS = 50
# Pending entries within this many offsets of each other are checked with one read.
SETTLE_SPAN = 5_000

# Delivery errors that belong to one record (retrying it cannot help), not to the transaction.
_RECORD_ERRORS = frozenset(
    {
        KafkaError.MSG_SIZE_TOO_LARGE,
        KafkaError.INVALID_RECORD,
        KafkaError.RECORD_LIST_TOO_LARGE,
        KafkaError.INVALID_MSG_SIZE,
        KafkaError.INVALID_MSG,
    }
)
_FENCED = frozenset({KafkaError._FENCED, KafkaError.PRODUCER_FENCED})


# ------------------------------------------------------------------------------------ selections


@dataclass(frozen=True)
class OffsetRange:
    """Offsets start..end (inclusive) of one DLQ partition."""

    partition: int
    start: int
    end: int


@dataclass(frozen=True)
class Offsets:
    """Individual DLQ records as (partition, offset) pairs."""

    keys: tuple[tuple[int, int], ...]


Selection = OffsetRange | Offsets


# ---------------------------------------------------------------------------------------- ledger


class PendingEntry(NamedTuple):
    """A record produced in a transaction whose outcome the ledger does not know yet.

    A NamedTuple (immutable like a frozen dataclass): one is built per record sent, and it is
    built in a quarter of the time."""

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


# --------------------------------------------------------------------------------------- reports


@dataclass
class RecoveryReport:
    """How the pending entries of earlier runs were settled."""

    confirmed: int = 0
    abandoned: int = 0
    undecided: list[PendingEntry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Progress:
    sent: int
    skipped: int
    failed: int
    total_planned: int
    """Offsets selected that lie in the log (an upper bound of the records)."""
    elapsed_s: float


@dataclass
class Plan:
    """What a reprocess of the selection would do now (a dry run; nothing is sent)."""

    dlq_topic: str
    selected: int = 0
    would_send: int = 0
    per_target: dict[str, int] = field(default_factory=dict)
    skipped_done: list[RecordKey] = field(default_factory=list)
    forced: list[RecordKey] = field(default_factory=list)
    skipped_unmapped: list[tuple[RecordKey, str]] = field(default_factory=list)
    skipped_filtered: int = 0
    not_found: int = 0
    not_found_sample: list[RecordKey] = field(default_factory=list)
    missing_targets: dict[str, int] = field(default_factory=dict)
    too_large: list[tuple[RecordKey, str]] = field(default_factory=list)
    unsettled: list[RecordKey] = field(default_factory=list)
    """Records of an interrupted run whose outcome the reprocess settles first (not counted above)."""
    errors: list[str] = field(default_factory=list)
    """Problems: missing target topics, topics that could not be described, a read that failed."""
    notes: list[str] = field(default_factory=list)
    """For information: selected offsets outside the log (deleted, or beyond its end)."""


@dataclass
class ReprocessReport:
    """What a run did. Every selected record that was read is counted once: sent, skipped_done
    (reprocessed before or resolved), skipped_unmapped (no target, with the reason), skipped_filtered
    (the accept filter said no) or failed (with the reason in failed_keys: missing target topic, too
    large, an earlier outcome not settled yet, a transaction that failed twice)."""

    sent: int = 0
    skipped_done: int = 0
    skipped_unmapped: list[tuple[RecordKey, str]] = field(default_factory=list)
    skipped_filtered: int = 0
    failed: int = 0
    not_found: int = 0
    """Selected offsets with no committed record (transaction markers, compaction, outside the log)."""
    per_target: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    """Problems, for a person (at most MAX_ERRORS, then a last line saying there were more)."""
    notes: list[str] = field(default_factory=list)
    """For information: selected offsets outside the log (deleted, or beyond its end)."""
    forced_keys: list[RecordKey] = field(default_factory=list)
    failed_keys: list[tuple[RecordKey, str]] = field(default_factory=list)
    recovery: RecoveryReport = field(default_factory=RecoveryReport)
    stopped: str | None = None
    """Why the run ended before the end of the selection (None: it went through all of it)."""
    elapsed_s: float = 0.0

    @property
    def skipped(self) -> int:
        return self.skipped_done + len(self.skipped_unmapped) + self.skipped_filtered


def _note(errors: list[str], message: str) -> None:
    """Add a message for a person, at most MAX_ERRORS of them, and count the rest."""
    if len(errors) < MAX_ERRORS:
        errors.append(message)
    elif len(errors) == MAX_ERRORS:
        errors.append("(more problems; not listed)")


class _Halt(Exception):
    """Ends a run (or a plan) early; the message is for a person."""


# -------------------------------------------------------------------------------- transactional id


def transactional_id_for(cluster_name: str, dlq_topic: str) -> str:
    """The transactional.id of every reprocess of one DLQ topic: the same for every run, so that a
    new run fences a crashed (or still running) one. Characters outside [A-Za-z0-9._-] become "_",
    and then a hash of the exact names keeps different clusters apart; at most 200 characters."""
    raw = f"{TRANSACTIONAL_ID_PREFIX}.{cluster_name}.{dlq_topic}"
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", raw)
    if safe == raw and len(safe) <= 200:
        return safe
    digest = hashlib.sha256(f"{cluster_name}\0{dlq_topic}".encode()).hexdigest()[:12]
    return f"{safe[:187]}.{digest}"


# ------------------------------------------------------------------------------------ public API


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
    sender = _Sender(config, tid, DEFAULT_PARTITIONER)
    try:
        sender.start(_Shape.default())
    except _Halt as halt:
        undecided = [e for e in ledger.pending() if e.key[0] == dlq_topic]
        return RecoveryReport(undecided=undecided, errors=[str(halt)])
    try:
        return _settle(config, dlq_topic, ledger, timeout_s)
    finally:
        sender.close()


def plan(
    config: ClusterConfig,
    dlq_topic: str,
    selection: Selection,
    *,
    targets: Targets,
    ledger: Ledger,
    force: bool = False,
    accept: Accept | None = None,
    page_size: int = DEFAULT_BATCH_SIZE,
) -> Plan:
    """Dry run: read the selection (keys and values cut to VIEW_BYTES) and say what a reprocess would do."""
    result = Plan(dlq_topic)
    problem = _check(selection, page_size, None)
    if problem:
        result.errors.append(problem)
        return result
    unsettled = {e.key for e in ledger.pending() if e.key[0] == dlq_topic}
    scanner = _Scanner(config, dlq_topic, selection, page_size)
    classify = _Classifier(config, dlq_topic, targets, ledger, force, accept, unsettled, actor="")
    target_errors: set[str] = set()
    try:
        for page in scanner.pages():
            result.not_found += page.missing
            room = 100 - len(result.not_found_sample)
            result.not_found_sample.extend((dlq_topic, page.partition, o) for o in page.missing_sample[:room])
            for d in classify(page):
                match d.kind:
                    case "send":
                        result.would_send += 1
                        result.per_target[d.target] = result.per_target.get(d.target, 0) + 1
                        if d.forced:
                            result.forced.append(d.key)
                    case "done":
                        result.skipped_done.append(d.key)
                    case "unmapped":
                        result.skipped_unmapped.append((d.key, d.reason))
                    case "filtered":
                        result.skipped_filtered += 1
                    case "missing_target":
                        result.missing_targets[d.target] = result.missing_targets.get(d.target, 0) + 1
                    case "unsettled":
                        result.unsettled.append(d.key)
                    case "too_large":
                        result.too_large.append((d.key, d.reason))
                    case "unreadable":
                        target_errors.add(f"{dlq_topic} partition {d.key[1]} offset {d.key[2]}: {d.reason}")
                    case _:
                        target_errors.add(d.reason)
    except _Halt as halt:
        result.errors.append(str(halt))
    finally:
        scanner.close()
    result.selected = scanner.total
    result.not_found += scanner.outside_selected
    for message in sorted(target_errors):
        _note(result.errors, message)
    for topic, count in sorted(result.missing_targets.items()):
        _note(result.errors, f"target topic {topic} does not exist ({count} records); it is not created here")
    for message in scanner.notes:
        _note(result.notes, message)
    return result


def reprocess(
    config: ClusterConfig,
    dlq_topic: str,
    selection: Selection,
    *,
    targets: Targets,
    ledger: Ledger,
    actor: str,
    run_id: str,
    force: bool = False,
    accept: Accept | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    rate_limit: float | None = None,
    range_group: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
    transactional_id: str | None = None,
    partitioner: str = DEFAULT_PARTITIONER,
) -> ReprocessReport:
    """Re-publish the selected DLQ records to their targets, exactly once (see the module docstring).

    `rate_limit`: at most that many records a second. `range_group`: with an OffsetRange, the
    consumer group whose offset on the DLQ partition is committed in each transaction (ignored for
    Offsets). Never raises for Kafka or ledger problems: the report says what happened.
    """
    run = _Run(
        config=config,
        dlq_topic=dlq_topic,
        selection=selection,
        targets=targets,
        ledger=ledger,
        actor=actor,
        run_id=run_id,
        force=force,
        accept=accept,
        batch_size=batch_size,
        rate_limit=rate_limit,
        range_group=range_group if isinstance(selection, OffsetRange) else None,
        on_progress=on_progress,
        stop=stop or threading.Event(),
        transactional_id=transactional_id or transactional_id_for(config.name, dlq_topic),
        partitioner=partitioner,
    )
    with _fewer_collections():
        return run.execute()


# While a run is on, the young generation is collected only after this many net allocations of
# container objects (CPython's default: 700; CPython counts allocations minus deallocations). A
# run allocates about 25 of them per record (librdkafka's header tuples, the Record, the decision,
# the headers sent), and most live until their page is sent: at the default batch size two pages
# (the one sent and the one read ahead) peak at ~530,000 net allocations (bench_reprocess.py). A
# threshold above that means the cycle detector does not scan the live pages at all; plain
# reference counting still frees every record as soon as its page is done. With the default, the
# scans were a quarter of a run's CPU time; with 50,000 they were still 3 µs per record (~15%).
GC_YOUNG_THRESHOLD = 1_000_000
_gc_lock = threading.Lock()
_gc_runs = 0
_gc_saved: tuple[int, int, int] | None = None


@contextmanager
def _fewer_collections() -> Iterator[None]:
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


def _check(selection: object, batch_size: int, rate_limit: float | None) -> str | None:
    if batch_size < 1:
        return f"batch size must be at least 1, got {batch_size}"
    if rate_limit is not None and not rate_limit > 0:
        return f"rate limit must be positive, got {rate_limit}"
    if isinstance(selection, OffsetRange):
        if selection.partition < 0 or selection.start < 0 or selection.end < selection.start:
            return f"invalid range {selection}: needs partition >= 0 and 0 <= start <= end"
        return None
    if isinstance(selection, Offsets):
        if any(p < 0 or o < 0 for p, o in selection.keys):
            return "partitions and offsets must not be negative"
        return None
    return f"unknown selection {selection!r}"


# --------------------------------------------------------------------------------------- reading


@dataclass
class _Page:
    partition: int
    records: list[Record]
    """The selected records of the page (keys and values cut to VIEW_BYTES)."""
    read: list[Record]
    """Every record read for the page, selected or not, in offset order."""
    missing: int
    missing_sample: list[int]
    position: int
    """The offset after the page: everything before it has been read."""
    cut: set[int] = field(default_factory=set)
    """Offsets of the records read whose key or value was cut to VIEW_BYTES (read again whole to be sent)."""
    unreadable: dict[int, str] = field(default_factory=dict)
    """Offsets of the records read whose headers could not be read, with why (never sent)."""


@dataclass
class _Chunk:
    """What one _Reader.read() got."""

    records: list[Record]
    cut: set[int]
    unreadable: dict[int, str]
    next_offset: int
    at_end: bool
    """The read reached the end of the log (the last stable offset) at next_offset."""
    error: str | None


class _ReadError(Exception):
    """The partition cannot be read now; the message is for a person."""


class _Reader:
    """Reads one DLQ topic for a whole run (or plan) with one long-lived read_committed consumer.

    It is assigned one span of one partition at a time and read page by page: no consumer, metadata
    or watermark request per page. After the first record of a call, only what librdkafka already
    holds is taken (its prefetch buffer is bounded by QUEUED_MAX_KBYTES), and a page ends at
    PAGE_BYTES of keys and values, so memory stays bounded whatever the record sizes.
    """

    def __init__(self, config: ClusterConfig, topic: str, page_size: int) -> None:
        self.config = config
        self.topic = topic
        # librdkafka fetches ahead until it holds this many records (or QUEUED_MAX_KBYTES): two pages.
        self.prefetch = min(max(2 * page_size, CONSUME_CHUNK), 100_000)
        self.consumer: Consumer | None = None
        self.known: set[int] = set()  # partitions known to exist
        self.partition = -1
        self.position = -1  # the offset the consumer reads on from (-1: assign before reading)
        self.queued: list[Message] = []
        self.index = 0

    def close(self) -> None:
        if self.consumer is None:
            return
        consumer, self.consumer = self.consumer, None
        try:
            consumer.close()
        except (KafkaException, RuntimeError) as exc:
            log.info("closing the reprocess reader: %s", exc)

    def _client(self) -> Consumer:
        if self.consumer is None:
            try:
                self.consumer = Consumer(
                    self.config.client_config(
                        **{
                            "group.id": BROWSER_GROUP_ID,
                            "client.id": TRANSACTIONAL_ID_PREFIX,
                            "enable.auto.commit": False,
                            "enable.auto.offset.store": False,
                            "enable.partition.eof": True,
                            # A position outside the log is reported, not silently moved to the start or end.
                            "auto.offset.reset": "error",
                            "isolation.level": "read_committed",
                            "fetch.wait.max.ms": FETCH_WAIT_MAX_MS,
                            "queued.min.messages": self.prefetch,
                            "queued.max.messages.kbytes": QUEUED_MAX_KBYTES,
                            "fetch.queue.backoff.ms": FETCH_QUEUE_BACKOFF_MS,
                            "allow.auto.create.topics": False,
                            "logger": logging.getLogger("kafka_admin.librdkafka"),
                        }
                    )
                )
            except KafkaException as exc:
                raise _ReadError(f"could not create a consumer: {error_text(exc)}") from None
        return self.consumer

    def bounds(self, partition: int) -> tuple[int, int]:
        """The partition's log start and end (its last stable offset) now."""
        consumer = self._client()
        timeout = self.config.request_timeout_s
        if partition not in self.known:
            try:
                metadata = consumer.list_topics(self.topic, timeout=timeout)
            except KafkaException as exc:
                raise _ReadError(f"could not read metadata of topic {self.topic}: {error_text(exc)}") from None
            info = metadata.topics.get(self.topic)
            if info is None or (info.error is not None and info.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART):
                raise _ReadError(f"topic {self.topic} does not exist")
            if info.error is not None:
                raise _ReadError(f"topic {self.topic}: {info.error.str()}")
            if partition not in info.partitions:
                raise _ReadError(f"partition {partition} of topic {self.topic} does not exist")
            self.known.add(partition)
        try:
            low, high = consumer.get_watermark_offsets(
                TopicPartition(self.topic, partition), timeout=timeout, cached=False
            )
        except KafkaException as exc:
            raise _ReadError(f"could not read the offsets of partition {partition}: {error_text(exc)}") from None
        return low, high

    def read(self, partition: int, pos: int, last: int, limit: int) -> _Chunk:
        """Committed records at offsets pos..last: at most `limit` of them and about PAGE_BYTES of keys
        and values (cut to VIEW_BYTES). Ends early at the end of the log, on an error or after the
        request timeout; records read before a problem are returned with it."""
        try:
            consumer = self._client()
            if partition != self.partition or pos != self.position:
                consumer.assign([TopicPartition(self.topic, partition, pos)])
                self.partition, self.position, self.queued, self.index = partition, pos, [], 0
        except (_ReadError, KafkaException) as exc:
            self.position = -1
            return _Chunk([], set(), {}, pos, False, str(exc) if isinstance(exc, _ReadError) else error_text(exc))
        topic = self.topic
        records: list[Record] = []
        append = records.append
        cut: set[int] = set()
        unreadable: dict[int, str] = {}
        held = 0
        next_offset, stop = pos, last + 1
        at_end = False
        error: str | None = None
        transient: str | None = None
        budget = self.config.request_timeout_s
        deadline = time.monotonic() + budget
        queued, i = self.queued, self.index
        while next_offset < stop and len(records) < limit and held < PAGE_BYTES:
            if i >= len(queued):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    error = f"timed out after {budget:g} s with {len(records)} records read"
                    if transient:
                        error += f" ({transient})"
                    break
                try:
                    queued, i = consumer.consume(1, min(remaining, budget)), 0
                    if queued:  # and whatever else librdkafka holds already, without waiting
                        queued += consumer.consume(CONSUME_CHUNK, 0)
                except KafkaException as exc:
                    queued, i = [], 0
                    error = f"reading partition {partition} at offset {next_offset} failed: {error_text(exc)}"
                    break
                continue
            msg = queued[i]
            i += 1
            err = msg.error()
            if err is not None:
                code = err.code()
                if code == KafkaError._PARTITION_EOF:
                    if msg.partition() == partition:
                        # Only transaction markers (or nothing) lie between the last record and the end.
                        next_offset = max(next_offset, min(stop, msg.offset()))
                        at_end = True
                        break
                    continue
                if code in FETCH_STOP_ERRORS or err.fatal():
                    error = f"reading partition {partition} at offset {next_offset} failed: {err.str()}"
                    break
                transient = err.str()  # a broker reconnecting: keep trying until the deadline
                continue
            offset = msg.offset()
            if offset < next_offset or msg.partition() != partition:  # left from before an assign()
                continue
            if offset >= stop:
                next_offset = stop
                break
            key = msg.key()
            value = msg.value()
            key_size = 0 if key is None else len(key)
            value_size = 0 if value is None else len(value)
            if key_size > VIEW_BYTES or value_size > VIEW_BYTES:
                cut.add(offset)
                if key_size > VIEW_BYTES:
                    key = key[:VIEW_BYTES]
                if value_size > VIEW_BYTES:
                    value = value[:VIEW_BYTES]
                held += len(key or b"") + len(value or b"")
            else:
                held += key_size + value_size
            try:
                headers = msg.headers()
            except (UnicodeDecodeError, ValueError):
                headers = None
                unreadable[offset] = "its header names are not UTF-8: it cannot be re-published byte-exact"
            ts_type, ts = msg.timestamp()
            kind = TIMESTAMP_TYPES.get(ts_type)
            append(
                make_record(
                    topic,
                    partition,
                    offset,
                    ts if kind is not None else None,
                    kind,
                    key,
                    value,
                    tuple(headers) if headers else (),
                    key_size,
                    value_size,
                )
            )
            next_offset = offset + 1
        self.queued, self.index = queued, i
        self.position = next_offset if error is None else -1
        return _Chunk(records, cut, unreadable, next_offset, at_end, error)


class _Scanner:
    """Reads a selection in pages with read_committed, and notes offsets outside the log."""

    def __init__(self, config: ClusterConfig, topic: str, selection: Selection, page_size: int) -> None:
        self.config = config
        self.topic = topic
        self.selection = selection
        self.page_size = page_size
        self.reader = _Reader(config, topic, page_size)
        self.notes: list[str] = []
        self.outside_selected = 0  # offsets of an Offsets selection that lie outside the log
        self.total = len(set(selection.keys)) if isinstance(selection, Offsets) else 0
        self.first = True  # the first page is short: the first transaction starts sooner

    def close(self) -> None:
        self.reader.close()

    def pages(self) -> Iterator[_Page]:
        if isinstance(self.selection, OffsetRange):
            s = self.selection
            yield from self._span(s.partition, s.start, s.end, None)
            return
        by_partition: dict[int, list[int]] = defaultdict(list)
        for partition, offset in sorted(set(self.selection.keys)):
            by_partition[partition].append(offset)
        gap = max(self.page_size, 1000)
        for partition, offsets in by_partition.items():
            cluster = [offsets[0]]
            for offset in offsets[1:]:
                if offset - cluster[-1] > gap:
                    yield from self._span(partition, cluster[0], cluster[-1], set(cluster))
                    cluster = []
                cluster.append(offset)
            yield from self._span(partition, cluster[0], cluster[-1], set(cluster))

    def _span(self, partition: int, first: int, last: int, wanted: set[int] | None) -> Iterator[_Page]:
        pos, failures, counted = first, 0, False
        problem: str | None = None  # why the last attempt at pos failed
        while pos <= last:
            if problem is not None:
                failures += 1
                if failures >= 3:
                    raise _Halt(f"reading {self.topic} partition {partition} at offset {pos} failed: {problem}")
                time.sleep(0.2 * failures)
            try:
                low, high = self.reader.bounds(partition)
            except _ReadError as exc:
                problem = str(exc)
                continue
            if wanted is None and not counted:
                self.total = max(0, min(last + 1, high) - max(first, low))
                counted = True
            if pos < low:
                self._outside(partition, pos, min(last, low - 1), wanted, f"below the log start {low}")
                pos, problem = min(low, last + 1), None
                continue
            if pos >= high:  # nothing to read: an empty page says how far the selection was looked at
                if pos == high:
                    yield _Page(partition, [], [], 0, [], pos)
                self._outside(partition, pos, last, wanted, f"beyond the end of the log ({high})")
                return
            problem = None
            while pos <= last:
                size = self.page_size
                if self.first:
                    size, self.first = min(size, FIRST_PAGE_RECORDS), False
                chunk = self.reader.read(partition, pos, last, min(size, last - pos + 1))
                if chunk.error and not chunk.records:
                    problem = chunk.error  # the bounds again: the log start may have passed pos
                    break
                page = self._page(partition, pos, last, wanted, chunk)
                yield page
                end = page.position
                if end <= last and chunk.at_end:
                    self._outside(partition, end, last, wanted, f"beyond the end of the log ({end})")
                    return
                if end == pos:  # nothing read and not at the end
                    problem = "no progress"
                    break
                failures, pos = 0, end

    def _page(self, partition: int, pos: int, last: int, wanted: set[int] | None, chunk: _Chunk) -> _Page:
        end = max(pos, min(last + 1, chunk.next_offset))
        read = chunk.records
        if wanted is None:
            selected = read
            missing = (end - pos) - len(read)
            sample: list[int] = []
            if missing:
                present = {r.offset for r in read}
                sample = list(_first_n(o for o in range(pos, end) if o not in present))
        else:
            present = {r.offset for r in read}
            selected = [r for r in read if r.offset in wanted]
            absent = sorted(o for o in wanted if pos <= o < end and o not in present)
            missing, sample = len(absent), absent[:100]
        return _Page(partition, selected, read, missing, sample, end, chunk.cut, chunk.unreadable)

    def _outside(self, partition: int, first: int, last: int, wanted: set[int] | None, where: str) -> None:
        if first > last:
            return
        if wanted is None:
            self.notes.append(f"offsets {first}-{last} of partition {partition} are {where}")
            return
        outside = sorted(o for o in wanted if first <= o <= last)
        if outside:
            shown = ", ".join(map(str, outside[:10])) + (", ..." if len(outside) > 10 else "")
            self.notes.append(f"{len(outside)} selected offsets of partition {partition} are {where}: {shown}")
            self.outside_selected += len(outside)


def _first_n(values: Iterable[int], n: int = 100) -> Iterator[int]:
    for i, value in enumerate(values):
        if i >= n:
            return
        yield value


_tuple_new = tuple.__new__


def _size(record: Record) -> int:
    """Bytes of a record's key, value and headers (whole sizes, even when cut)."""
    return record.key_size + record.value_size + _header_size(record.headers)


def _header_size(headers: Sequence[Header]) -> int:
    """Characters of the header names plus bytes of their values (None counts 0).

    A plain loop: on Python 3.11 it took 0.95 µs for 12 headers, sum(map(len, ...)) passes over
    the same items 1.1-2.0 µs."""
    size = 0
    for name, value in headers:
        size += len(name) + len(value or b"")
    return size


def _varint_size(value: int) -> int:
    zigzag = (value << 1) ^ (value >> 63)
    size = 1
    while zigzag >= 0x80:
        zigzag >>= 7
        size += 1
    return size


def record_batch_size(key_size: int | None, value_size: int | None, headers: Sequence[tuple[str, bytes | None]]) -> int:
    """Bytes of a record batch holding just this record, as the broker compares it with
    max.message.bytes (uncompressed; None sizes are null key/value)."""

    def field_size(size: int | None) -> int:
        return _varint_size(-1) if size is None else _varint_size(size) + size

    body = 3 + field_size(key_size) + field_size(value_size) + _varint_size(len(headers))
    for name, value in headers:
        body += field_size(len(name.encode())) + field_size(None if value is None else len(value))
    return RECORD_BATCH_OVERHEAD + _varint_size(body) + body


# ---------------------------------------------------------------------------------- target topics


@dataclass(frozen=True)
class _TopicInfo:
    exists: bool
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    error: str | None = None


class _Topics:
    """Existence and max.message.bytes of target topics, asked once per run (describe_configs:
    unlike a metadata request, it never auto-creates a topic)."""

    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self.cache: dict[str, _TopicInfo] = {}
        self._admin: AdminClient | None = None

    def lookup(self, names: Iterable[str]) -> dict[str, _TopicInfo]:
        unknown = sorted({n for n in names if n not in self.cache})
        if unknown:
            if self._admin is None:
                self._admin = make_admin(self.config)
            futures = self._admin.describe_configs(
                [ConfigResource(ResourceType.TOPIC, n) for n in unknown], request_timeout=self.config.request_timeout_s
            )
            for resource, future in futures.items():
                self.cache[resource.name] = self._info(resource.name, future)
        return self.cache

    def _info(self, name: str, future) -> _TopicInfo:
        try:
            configs = future.result(timeout=self.config.request_timeout_s * 2)
        except KafkaException as exc:
            err = _kafka_error(exc)
            if err is not None and err.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                return _TopicInfo(exists=False)
            return _TopicInfo(exists=False, error=f"could not describe target topic {name}: {error_text(exc)}")
        except TimeoutError as exc:  # the records to this topic fail, with the reason
            return _TopicInfo(exists=False, error=f"could not describe target topic {name}: {error_text(exc)}")
        entry = configs.get("max.message.bytes")
        try:
            limit = int(entry.value) if entry is not None and entry.value is not None else DEFAULT_MAX_MESSAGE_BYTES
        except ValueError:
            limit = DEFAULT_MAX_MESSAGE_BYTES
        return _TopicInfo(exists=True, max_message_bytes=limit)


# ----------------------------------------------------------------------------------- classifying


@dataclass(slots=True)
class _Decision:
    record: Record
    key: RecordKey
    kind: Literal[
        "send", "done", "unmapped", "filtered", "missing_target", "unsettled", "too_large", "target_error", "unreadable"
    ]
    target: str = ""
    reason: str = ""
    forced: bool = False
    size: int = 0
    """Bytes of the record's key, value and headers (whole sizes, as _size), for BATCH_BYTES."""


class _Headers:
    """republish_headers() for one run, with the per-record work cut down: whether it keeps a header
    is asked once per header name (it decides by the name alone), and the headers it adds once per
    transaction (`start`); per record only the offset's header is new."""

    MAX_NAMES = 10_000

    def __init__(self, dlq_topic: str, actor: str) -> None:
        self.dlq_topic = dlq_topic
        self.actor = actor
        self.dropped: dict[str, bool] = {}
        self.added = len(self._republish((), 0, 0, datetime.now(UTC)))
        self.before: list[Header] = []
        self.after: list[Header] = []

    def _republish(self, headers: Sequence[Header], partition: int, offset: int, at: datetime) -> list[Header]:
        return republish_headers(
            headers, dlq_topic=self.dlq_topic, partition=partition, offset=offset, actor=self.actor, at=at
        )

    def start(self, partition: int, at: datetime) -> None:
        """The headers added to the records of one DLQ partition re-published at `at`."""
        added = self._republish((), partition, 0, at)
        i = next(i for i, (name, _) in enumerate(added) if name == dh.REPROCESSED_FROM_OFFSET)
        self.before, self.after = added[:i], added[i + 1 :]

    def __call__(self, headers: Sequence[Header], offset: int) -> list[Header]:
        """republish_headers(headers, offset=offset, ...) with the partition and time given to start()."""
        dropped = self.dropped
        try:
            out = [header for header in headers if not dropped[header[0]]]
        except KeyError:  # a name not seen yet
            out = [header for header in headers if not self._dropped(header[0])]
        out += self.before
        out.append((dh.REPROCESSED_FROM_OFFSET, b"%d" % offset))  # dh.encode_text(offset), quicker
        out += self.after
        return out

    def _dropped(self, name: str) -> bool:
        gone = self.dropped.get(name)
        return self._learn(name) if gone is None else gone

    def _learn(self, name: str) -> bool:
        if len(self.dropped) >= self.MAX_NAMES:
            self.dropped.clear()
        gone = len(self._republish(((name, None),), 0, 0, datetime.now(UTC))) == self.added
        self.dropped[name] = gone
        return gone


class _Classifier:
    """Decides, per selected record, whether it is sent and where, or why not."""

    def __init__(
        self,
        config: ClusterConfig,
        dlq_topic: str,
        targets: Targets,
        ledger: Ledger,
        force: bool,
        accept: Accept | None,
        unsettled: set[RecordKey],
        actor: str,
    ) -> None:
        self.dlq_topic = dlq_topic
        self.targets = targets
        self.ledger = ledger
        self.force = force
        self.accept = accept
        self.unsettled = unsettled
        self.actor = actor
        self.topics = _Topics(config)
        # A record batch of a record whose key, value and headers add up to `size` bytes (_size, names
        # counted in characters) is at most size + 3 * (characters of header names: UTF-8 takes up to
        # 4 bytes) + 10 * (headers: two length varints each) + slack: the headers added (at their
        # longest), the batch's overhead and the other varints. Only records near a limit are sized
        # exactly.
        longest = republish_headers(
            (), dlq_topic=dlq_topic, partition=2**31 - 1, offset=2**63 - 1, actor=actor, at=datetime.now(UTC)
        )
        self.slack = record_batch_size(0, 0, longest) + 32

    def __call__(self, page: _Page) -> list[_Decision]:
        dlq, accept, unsettled, unreadable = self.dlq_topic, self.accept, self.unsettled, page.unreadable
        partition = page.partition
        out = [_Decision(r, (dlq, partition, r.offset), "send") for r in page.records]
        infos: dict[RecordKey, FailureInfo] = {}
        candidates = out
        if accept is not None:
            candidates = []
            for d in out:
                info = infos[d.key] = parse_failure(d.record.headers)
                if accept(d.record, info):
                    candidates.append(d)
                else:
                    d.kind = "filtered"
        keys = [d.key for d in candidates]
        done = self._ledger_call("read", self.ledger.done, keys) if keys else set()
        resolved: set[RecordKey] = set()
        if self.force and done:
            resolved = self._ledger_call("read", self.ledger.resolved, [k for k in keys if k in done])
        route_pair = getattr(self.targets, "route_pair", None)
        spring_topic, project_topic = dh.SPRING_ORIGINAL_TOPIC, dh.DLQ_ORIGINAL_TOPIC
        force, slack, described = self.force, self.slack, self.topics.cache
        for d in candidates:
            key = d.key
            if unsettled and key in unsettled:
                d.kind = "unsettled"
                d.reason = "an earlier run's outcome for this record is not settled yet; not sent again"
                continue
            if done and key in done and (not force or key in resolved):
                d.kind = "done"
                continue
            if unreadable and key[2] in unreadable:
                d.kind, d.reason = "unreadable", unreadable[key[2]]
                continue
            record = d.record
            headers = record.headers
            # Without a filter, the failure headers are parsed only for the records that need a target,
            # and not at all when the targets callable can route by the headers themselves.
            header_size = -1
            if infos:
                target = self.targets(record, infos[key])
            elif route_pair is not None:
                # HeaderRouter routes by the last values of the two original-topic headers: they are
                # picked up in the pass that sizes the headers (one loop instead of two).
                header_size, spring, project = 0, None, None
                for name, value in headers:
                    header_size += len(name) + len(value or b"")
                    if name == spring_topic:
                        spring = value
                    elif name == project_topic:
                        project = value
                target = route_pair(spring, project)
            else:
                target = self.targets(record, parse_failure(headers))
            topic = target.topic
            if topic is None or topic == dlq:
                d.kind = "unmapped"
                d.reason = target.reason if topic is None else f"target {topic} is the DLQ itself"
                continue
            d.target = topic
            about = described.get(topic) or self.topics.lookup((topic,))[topic]  # described once per run
            if about.error:
                d.kind, d.reason = "target_error", about.error
                continue
            if not about.exists:
                d.kind, d.reason = "missing_target", f"target topic {topic} does not exist"
                continue
            if header_size < 0:
                header_size = _header_size(headers)
            d.size = size = record.key_size + record.value_size + header_size
            limit = about.max_message_bytes
            # A bound first (a name's character takes up to 4 bytes in UTF-8; each header adds two
            # length varints; slack covers the headers added and the batch overhead): only a record
            # near the limit is sized exactly, as the record batch it becomes.
            bound = size + 3 * header_size + 10 * len(headers) + slack
            if bound > limit and (exact := self._batch_size(record)) > limit:
                d.kind = "too_large"
                d.reason = f"{exact} bytes as a record batch exceed max.message.bytes {limit} of target topic {topic}"
                continue
            if done:
                d.forced = key in done
        return out

    def _batch_size(self, record: Record) -> int:
        headers = republish_headers(
            record.headers,
            dlq_topic=self.dlq_topic,
            partition=record.partition,
            offset=record.offset,
            actor=self.actor,
            at=datetime.now(UTC),
        )
        key_size = None if record.key is None else record.key_size
        value_size = None if record.value is None else record.value_size
        return record_batch_size(key_size, value_size, headers)

    def limits(self) -> list[int]:
        return [i.max_message_bytes for i in self.topics.cache.values() if i.exists]

    @staticmethod
    def _ledger_call(what: str, call: Callable[[list[RecordKey]], set[RecordKey]], keys: list[RecordKey]):
        try:
            return call(keys)
        except Exception as exc:
            raise _Halt(f"the ledger could not be {what}: {type(exc).__name__}: {exc}") from exc


# ---------------------------------------------------------------------------------------- producer


@dataclass(frozen=True)
class _Shape:
    """The producer's size settings: what the target topics allow."""

    message_max: int
    batch_bytes: int

    @classmethod
    def default(cls) -> _Shape:
        return cls.for_limits([])

    @classmethod
    def for_limits(cls, limits: Sequence[int]) -> _Shape:
        biggest = max([DEFAULT_MAX_MESSAGE_BYTES, *limits])
        smallest = min([DEFAULT_MAX_MESSAGE_BYTES, *limits])
        message_max = min(1_000_000_000, biggest + 64 * 1024)
        return cls(message_max, max(1, min(PRODUCER_BATCH_BYTES, smallest - 512)))


class _Abortable(Exception):
    """The transaction must be aborted; the batch may be tried again without the `refused` records."""

    def __init__(self, message: str, refused: dict[RecordKey, str] | None = None) -> None:
        super().__init__(message)
        self.refused = refused or {}


class _Sender:
    """The transactional producer of a run, and its transaction calls with Kafka's error rules."""

    def __init__(self, config: ClusterConfig, transactional_id: str, partitioner: str) -> None:
        self.config = config
        self.transactional_id = transactional_id
        self.partitioner = partitioner
        self.producer: Producer | None = None
        self.shape: _Shape | None = None
        self.in_transaction = False
        self.timeout_s = max(30.0, config.request_timeout_s * 3)

    def start(self, shape: _Shape) -> None:
        conf = self.config.client_config(
            **{
                "transactional.id": self.transactional_id,
                "client.id": TRANSACTIONAL_ID_PREFIX,
                "enable.idempotence": True,
                "acks": "all",
                "transaction.timeout.ms": TRANSACTION_TIMEOUT_MS,
                "linger.ms": LINGER_MS,
                "compression.type": "none",
                "partitioner": self.partitioner,
                "message.max.bytes": shape.message_max,
                "batch.size": shape.batch_bytes,
                "logger": logging.getLogger("kafka_admin.librdkafka"),
            }
        )
        try:
            self.producer = Producer(conf)
        except KafkaException as exc:
            raise _Halt(f"could not create the producer: {error_text(exc)}") from None
        self.shape = shape
        deadline = time.monotonic() + self.timeout_s
        self._meet_brokers()
        while True:
            try:
                self.producer.init_transactions(self._left(deadline))
                return
            except KafkaException as exc:
                err = _kafka_error(exc)
                if err is not None and err.retriable() and time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue
                raise _Halt(f"could not initialise transactions ({self.transactional_id}): {error_text(exc)}") from None

    def _meet_brokers(self) -> None:
        """One metadata request before init_transactions: librdkafka then knows the brokers by id.

        Without it, the FindCoordinator of init_transactions often went out on the bootstrap
        connection just as librdkafka replaced it with the broker's own, failed with
        _DESTROY_BROKER, and was retried by a 500 ms timer: init_transactions took 500 ms instead
        of 50 in about half of the runs (debug=eos shows it). A failure here is left to
        init_transactions to report."""
        assert self.producer is not None
        try:
            self.producer.list_topics(timeout=self.config.request_timeout_s)
        except KafkaException as exc:
            log.debug("metadata before init_transactions: %s", error_text(exc))

    def reshape(self, shape: _Shape) -> None:
        if shape != self.shape:
            self.close()
            self.start(shape)

    def close(self) -> None:
        if self.producer is None:
            return
        if self.in_transaction:
            try:
                self.abort()
            except _Halt as halt:
                log.warning("closing the reprocess producer: %s", halt)
        producer, self.producer, self.in_transaction = self.producer, None, False
        try:
            with warnings.catch_warnings():  # a fenced producer warns that it cannot abort: known, and logged above
                warnings.simplefilter("ignore", RuntimeWarning)
                producer.close()
        except KafkaException as exc:
            log.info("closing the reprocess producer: %s", error_text(exc))

    def _left(self, deadline: float) -> float:
        return max(0.1, deadline - time.monotonic())

    def begin(self) -> None:
        assert self.producer is not None
        try:
            self.producer.begin_transaction()
        except KafkaException as exc:
            raise _Halt(self._fatal("starting a transaction", exc)) from None
        self.in_transaction = True

    def produce(self, topic: str, record: Record, headers: list, on_delivery: Callable) -> None:
        """Queue one record; a KafkaException means this record was refused, _Halt that the producer is dead.

        Delivery reports are served by flush() (or here, while the local queue is full)."""
        assert self.producer is not None
        try:
            while True:
                try:
                    self.producer.produce(
                        topic, key=record.key, value=record.value, headers=headers, on_delivery=on_delivery
                    )
                    return
                except BufferError:  # the local queue is full: let deliveries drain it
                    self._serving(self.producer.poll, 0.05)
        except KafkaException as exc:
            err = _kafka_error(exc)
            if err is None or err.fatal():
                raise _Halt(self._fatal("producing", exc)) from None
            raise

    def flush(self) -> int:
        assert self.producer is not None
        try:
            return self._serving(self.producer.flush, self.timeout_s)
        except KafkaException as exc:  # a fatal error (fenced) surfaces here
            raise _Halt(self._fatal("waiting for acknowledgements", exc)) from None

    @staticmethod
    def _serving(call: Callable[..., Any], *args: object) -> Any:
        """A call that serves librdkafka's callbacks. A fatal error (fenced) is raised from it as a
        KafkaException; when a log line follows it within the same call, confluent-kafka calls the
        logger with that exception still pending, and Python reports a SystemError caused by it:
        that is the KafkaException again."""
        try:
            return call(*args)
        except SystemError as exc:
            if isinstance(exc.__cause__, KafkaException):
                raise exc.__cause__ from None
            raise

    def send_offsets(self, offsets: list[TopicPartition], metadata: object) -> None:
        assert self.producer is not None
        self._retrying(
            "committing the reprocessor group's offset", self.producer.send_offsets_to_transaction, offsets, metadata
        )

    def commit(self) -> None:
        assert self.producer is not None
        self._retrying("committing the transaction", self.producer.commit_transaction)
        self.in_transaction = False

    def abort(self) -> None:
        assert self.producer is not None
        try:
            self._retrying("aborting the transaction", self.producer.abort_transaction)
        except _Abortable as exc:
            raise _Halt(f"aborting the transaction failed: {exc}") from None
        self.in_transaction = False

    def _retrying(self, what: str, call: Callable, *args: object) -> None:
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                self._serving(call, *args, self._left(deadline))
                return
            except KafkaException as exc:
                err = _kafka_error(exc)
                if err is not None and err.retriable() and not err.txn_requires_abort() and time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                if err is not None and err.txn_requires_abort():
                    raise _Abortable(f"{what}: {error_text(exc)}") from None
                raise _Halt(self._fatal(what, exc)) from None

    def _fatal(self, what: str, exc: KafkaException) -> str:
        err = _kafka_error(exc)
        if err is not None and err.code() in _FENCED:
            return (
                f"{what} failed: another reprocess of this DLQ topic started (transactional.id"
                f" {self.transactional_id}) and fenced this one"
            )
        return f"{what} failed: {error_text(exc)}"


def _kafka_error(exc: BaseException) -> KafkaError | None:
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        return exc.args[0]
    return None


class _Pacer:
    """At most `rate` records a second; never bursts to catch up after a pause."""

    def __init__(self, rate: float | None, stop: threading.Event) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.stop = stop
        self.next: float | None = None

    def wait(self) -> bool:
        """Wait for the next slot; False when stop was set."""
        if self.stop.is_set():
            return False
        if not self.interval:
            return True
        now = time.monotonic()
        if self.next is not None and self.next > now and self.stop.wait(self.next - now):
            return False
        self.next = max(self.next or 0.0, time.monotonic()) + self.interval
        return True


# --------------------------------------------------------------------------------------- recovery


def _settle(config: ClusterConfig, dlq_topic: str, ledger: Ledger, timeout_s: float | None) -> RecoveryReport:
    report = RecoveryReport()
    try:
        entries = [e for e in ledger.pending() if e.key[0] == dlq_topic]
    except Exception as exc:
        raise _Halt(f"the ledger could not list pending records: {type(exc).__name__}: {exc}") from exc
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
        raise _Halt(f"the ledger could not settle pending records: {type(exc).__name__}: {exc}") from exc
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
        _note(report.errors, f"{len(entries)} pending records could not be settled ({why}); they stay pending")


# -------------------------------------------------------------------------------------------- run


def _prepended(first: _Page, rest: Iterator[_Page]) -> Iterator[_Page]:
    """`first`, then `rest`, holding `first` only until the next page is asked for (chain() keeps
    its arguments for as long as it lives: a page of 10,000 records for the whole run)."""
    page: _Page | None = first
    del first
    yield page
    page = None
    yield from rest


class _Ahead:
    """The pages of a run, each read and classified one step ahead: fetch() is called while a
    transaction's records are on their way to the broker (between produce and flush), so that the
    Python work of the next page overlaps the wait for acknowledgements. An exception raised then
    (a _Halt, or one of the targets or accept callables) is kept, and raised by take(), after that
    transaction is settled, as it was before the read ahead."""

    def __init__(self, pages: Iterator[_Page], classify: _Classifier) -> None:
        self.pages = pages
        self.classify = classify
        self.fetched = False
        self.item: tuple[_Page, list[_Decision]] | None = None
        self.error: Exception | None = None

    def fetch(self) -> None:
        if self.fetched:
            return
        self.fetched = True
        try:
            page = next(self.pages, None)
            self.item = None if page is None else (page, self.classify(page))
        except Exception as exc:  # noqa: BLE001 (raised again by take(), in order)
            self.error = exc

    def take(self) -> tuple[_Page, list[_Decision]] | None:
        """The next page and its decisions (None after the last page)."""
        self.fetch()
        item, error = self.item, self.error
        self.fetched, self.item, self.error = False, None, None
        if error is not None:
            raise error
        return item


@dataclass
class _Run:
    config: ClusterConfig
    dlq_topic: str
    selection: Selection
    targets: Targets
    ledger: Ledger
    actor: str
    run_id: str
    force: bool
    accept: Accept | None
    batch_size: int
    rate_limit: float | None
    range_group: str | None
    on_progress: Callable[[Progress], None] | None
    stop: threading.Event
    transactional_id: str
    partitioner: str
    report: ReprocessReport = field(default_factory=ReprocessReport)
    started: float = field(default_factory=time.monotonic)
    committed_position: int | None = None
    position: int | None = None
    inflight: list[RecordKey] = field(default_factory=list)
    ahead: _Ahead | None = None

    def execute(self) -> ReprocessReport:
        report = self.report
        problem = _check(self.selection, self.batch_size, self.rate_limit)
        if problem:
            report.errors.append(problem)
            report.stopped = problem
            return report
        self.sender = _Sender(self.config, self.transactional_id, self.partitioner)
        self.scanner = _Scanner(self.config, self.dlq_topic, self.selection, self.batch_size)
        self.pacer = _Pacer(self.rate_limit, self.stop)
        self.headers = _Headers(self.dlq_topic, self.actor)
        self.group_consumer: Consumer | None = None
        self.classify: _Classifier | None = None
        self.inflight = []
        try:
            pages = self.scanner.pages()
            first = self._first_page_while_starting(pages)
            if first is not None:
                pages, first = _prepended(first, pages), None
            report.recovery = _settle(self.config, self.dlq_topic, self.ledger, None)
            report.errors.extend(report.recovery.errors)
            unsettled = {e.key for e in report.recovery.undecided}
            self.classify = _Classifier(
                self.config, self.dlq_topic, self.targets, self.ledger, self.force, self.accept, unsettled, self.actor
            )
            if self.range_group:
                self.group_consumer = self._group_consumer()
            self._pages(pages)
            if report.stopped is None and self.position != self.committed_position:
                self._offsets_only()
        except _Halt as halt:
            report.stopped = str(halt)
            _note(report.errors, str(halt))
            if self.inflight:
                unknown = len(self.inflight)
                _note(
                    report.errors,
                    f"{unknown} records of the last batch have an unknown outcome; the next run settles them",
                )
        finally:
            self.scanner.close()
            self.sender.close()
            if self.group_consumer is not None:
                self.group_consumer.close()
        for message in self.scanner.notes:
            _note(report.notes, message)
        report.not_found += self.scanner.outside_selected
        report.elapsed_s = time.monotonic() - self.started
        self._progress()
        return report

    def _group_consumer(self) -> Consumer:
        try:
            return Consumer(
                self.config.client_config(
                    **{
                        "group.id": self.range_group,
                        "enable.auto.commit": False,
                        "logger": logging.getLogger("kafka_admin.librdkafka"),
                    }
                )
            )
        except KafkaException as exc:
            raise _Halt(f"could not create the consumer for group {self.range_group}: {error_text(exc)}") from None

    def _progress(self) -> None:
        if self.on_progress is not None:
            r = self.report
            elapsed = time.monotonic() - self.started
            self.on_progress(Progress(r.sent, r.skipped, r.failed, self.scanner.total, elapsed))

    def _fail(self, key: RecordKey, reason: str) -> None:
        self.report.failed += 1
        self.report.failed_keys.append((key, reason))
        _note(self.report.errors, f"{key[0]} partition {key[1]} offset {key[2]}: {reason}")

    # -- pages and batches

    def _first_page_while_starting(self, pages: Iterator[_Page]) -> _Page | None:
        """The selection's first page, read while the producer starts in a thread of its own.

        Starting it (metadata, FindCoordinator, InitProducerId: ~60 ms of round trips, spent in
        librdkafka without the GIL) and reading the first page (~70 ms of Python at 10,000
        records) do not depend on each other; the read does not need the fencing either, which
        concerns the target topics. Raises the producer's _Halt before the read's."""
        failed: list[BaseException] = []

        def start() -> None:
            try:
                self.sender.start(_Shape.default())
            except BaseException as exc:  # noqa: BLE001 (raised again below, in this thread)
                failed.append(exc)

        starting = threading.Thread(target=start, name=f"reprocess-start-{self.run_id[:8]}", daemon=True)
        starting.start()
        try:
            first = next(pages, None)
        finally:
            starting.join()
            if failed:
                raise failed[0]
        return first

    def _pages(self, pages: Iterator[_Page]) -> None:
        assert self.classify is not None
        report = self.report
        self.ahead = ahead = _Ahead(pages, self.classify)
        while (item := ahead.take()) is not None:
            page, decisions = item
            if self.stop.is_set():
                report.stopped = "stopped on request"
                return
            report.not_found += page.missing
            sending = [d for d in decisions if d.kind == "send"]
            if len(sending) < len(decisions):
                self._count_not_sent(decisions)
            if self.sender.shape != (shape := _Shape.for_limits(self.classify.limits())) and sending:
                self.sender.reshape(shape)
            batches = self._batches(sending, page)
            for i, batch in enumerate(batches):
                if self.stop.is_set():
                    report.stopped = "stopped on request"
                    return
                position = batches[i + 1][0].record.offset if i + 1 < len(batches) else page.position
                self._send(batch, page, position)
                if report.stopped is not None:
                    return
                self._progress()
            if not batches:
                self.position = page.position
                self._progress()

    def _count_not_sent(self, decisions: list[_Decision]) -> None:
        report = self.report
        for d in decisions:
            match d.kind:
                case "send":
                    pass
                case "done":
                    report.skipped_done += 1
                case "unmapped":
                    report.skipped_unmapped.append((d.key, d.reason))
                case "filtered":
                    report.skipped_filtered += 1
                case _:
                    self._fail(d.key, d.reason)

    def _batches(self, sending: list[_Decision], page: _Page) -> list[list[_Decision]]:
        limit = self.batch_size
        if self.rate_limit:
            limit = max(1, min(limit, int(self.rate_limit * RATE_LIMITED_TRANSACTION_S)))
        batches: list[list[_Decision]] = []
        current: list[_Decision] = []
        size = 0
        for d in sending:
            if current and (len(current) >= limit or size + d.size > BATCH_BYTES):
                batches.append(current)
                current, size = [], 0
            current.append(d)
            size += d.size
        if current:
            batches.append(current)
        return batches

    def _whole(self, batch: list[_Decision], page: _Page) -> dict[int, Record]:
        """The batch's records that were cut, read again whole, BATCH_BYTES at a time (by offset)."""
        whole: dict[int, Record] = {}
        need = [d.record.offset for d in batch if d.record.offset in page.cut] if page.cut else []
        if not need:
            return whole
        index = {r.offset: i for i, r in enumerate(page.read)}
        sums = [0, *accumulate(_size(r) for r in page.read)]
        runs: list[tuple[int, int]] = []
        for offset in need:
            i = index[offset]
            if runs and sums[i + 1] - sums[runs[-1][0]] <= BATCH_BYTES:
                runs[-1] = (runs[-1][0], i)
            else:
                runs.append((i, i))
        for first, last in runs:
            wanted = {page.read[i].offset for i in range(first, last + 1)} & set(need)
            for attempt in range(2):
                result = read_records(
                    self.config,
                    self.dlq_topic,
                    page.partition,
                    FromOffset(page.read[first].offset),
                    limit=last - first + 1,
                    max_value_bytes=None,
                    read_committed=True,
                    timeout_s=self.sender.timeout_s,
                )
                got = {r.offset: r for r in result.records if r.offset in wanted}
                whole.update(got)
                wanted -= set(got)
                if not wanted:
                    break
                if attempt == 1:
                    raise _Halt(
                        f"could not read {len(wanted)} records of {self.dlq_topic} partition {page.partition}"
                        f" whole (from offset {min(wanted)}): {result.error or 'not found'}"
                    )
        return whole

    def _send(self, batch: list[_Decision], page: _Page, position: int) -> None:
        """Send one batch in a transaction; after an abortable failure it is tried once more, without
        the records the broker refused as such (too large, invalid)."""
        whole = self._whole(batch, page)
        for attempt in range(2):
            try:
                self._transaction(batch, whole, page.partition, position)
                return
            except _Abortable as exc:
                for d in batch:
                    if d.key in exc.refused:
                        self._fail(d.key, exc.refused[d.key])
                batch = [d for d in batch if d.key not in exc.refused]
                if attempt == 0:
                    log.info("reprocess %s: transaction aborted (%s); trying once more", self.run_id, exc)
                    continue
                for d in batch:
                    self._fail(d.key, f"not sent: the transaction failed twice ({exc})")
                self.report.stopped = f"stopped: a transaction failed twice ({exc})"

    def _transaction(self, batch: list[_Decision], whole: dict[int, Record], partition: int, position: int) -> None:
        sender = self.sender
        acks: list[tuple[int, int] | None] = [None] * len(batch)
        failures: dict[int, KafkaError] = {}

        def on_delivery(i: int) -> Callable[[KafkaError | None, Message], None]:
            def done(err: KafkaError | None, msg: Message) -> None:
                if err is None:
                    acks[i] = (msg.partition(), msg.offset())
                else:
                    failures[i] = err

            return done

        headers_for = self.headers
        headers_for.start(partition, datetime.now(UTC))
        wait = self.pacer.wait
        paced = self.rate_limit is not None
        stop = self.stop
        produce = sender.produce
        sender.begin()
        queue = sender.producer.produce  # type: ignore[union-attr]  # begin() succeeded: there is one
        for i, d in enumerate(batch):
            # stop requested: commit what was produced, up to this record (checked every 100 records
            # unless paced: the pacer checks it on every one)
            if not wait() if paced else (i % 100 == 0 and stop.is_set()):
                self.report.stopped = "stopped on request"
                position = d.record.offset
                break
            record = whole.get(d.record.offset, d.record) if whole else d.record
            headers = headers_for(record.headers, record.offset)
            try:  # the plain call first; sender.produce (which waits while the queue is full) on trouble
                # Positional, in cimpl's order (topic, value, key, partition, callback, on_delivery,
                # timestamp, headers); -1: the partitioner decides, 0: no timestamp (now). Keywords cost
                # 0.6 µs more per call (confluent-kafka 2.16, pinned; the byte-exact tests hold it).
                queue(d.target, record.value, record.key, -1, on_delivery(i), None, 0, headers)
            except (BufferError, KafkaException):
                try:
                    produce(d.target, record, headers, on_delivery(i))
                except KafkaException as exc:  # refused locally (too large for the producer)
                    failures[i] = _kafka_error(exc) or KafkaError(KafkaError._FAIL)
        if self.ahead is not None and self.report.stopped is None:
            self.ahead.fetch()  # the next page, while these records are on their way
        remaining = sender.flush()
        if remaining or failures:
            self._abort([])
            why = f"{remaining} records not acknowledged in time" if remaining else self._describe(failures, batch)
            refused = {
                batch[i].key: f"refused: {err.str()}" for i, err in failures.items() if err.code() in _RECORD_ERRORS
            }
            raise _Abortable(why, refused)
        run_id = self.run_id
        entries = [  # PendingEntry(...) without its Python-level __new__: one per record
            _tuple_new(PendingEntry, (d.key, d.target, *ack, run_id))
            for d, ack in zip(batch, acks, strict=True)
            if ack is not None
        ]
        keys = [e.key for e in entries]
        if entries:
            try:
                self.ledger.record_pending(entries)
            except Exception as exc:
                self._abort([])
                raise _Halt(f"the ledger could not record the batch: {type(exc).__name__}: {exc}") from exc
            self.inflight = keys
        try:
            if self.group_consumer is not None:
                offsets = [TopicPartition(self.dlq_topic, partition, position)]
                sender.send_offsets(offsets, self.group_consumer.consumer_group_metadata())
            sender.commit()
        except _Abortable:
            self._abort(keys)
            raise
        self.inflight = []
        self._count_sent(batch, entries)
        if self.group_consumer is not None:
            self.position = self.committed_position = position
        try:
            self.ledger.confirm(keys, self.run_id)
        except Exception as exc:
            raise _Halt(
                f"the records were committed but the ledger could not confirm them ({type(exc).__name__}: {exc});"
                " the next run confirms them"
            ) from exc

    def _count_sent(self, batch: list[_Decision], entries: list[PendingEntry]) -> None:
        report = self.report
        report.sent += len(entries)
        per_target = Counter(e.target_topic for e in entries)
        for topic, count in per_target.items():
            report.per_target[topic] = report.per_target.get(topic, 0) + count
        forced = {d.key for d in batch if d.forced} if self.force else None
        if forced:
            report.forced_keys.extend(e.key for e in entries if e.key in forced)

    def _abort(self, keys: list[RecordKey]) -> None:
        """Abort the open transaction; once that succeeded, the ledger forgets the batch's pending entries."""
        self.sender.abort()
        self.inflight = []
        if keys:
            try:
                self.ledger.abandon(keys, self.run_id)
            except Exception as exc:
                raise _Halt(
                    f"the ledger could not forget an aborted batch ({type(exc).__name__}: {exc});"
                    " the next run settles it"
                ) from exc

    @staticmethod
    def _describe(failures: dict[int, KafkaError], batch: list[_Decision]) -> str:
        i, err = min(failures.items())
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        return f"delivery to {batch[i].target} failed: {err.str()}{more}"

    def _offsets_only(self) -> None:
        """Commit the group's offset past records that needed no sending (skipped at the end of the range)."""
        if self.group_consumer is None or self.position is None:
            return
        assert isinstance(self.selection, OffsetRange)
        self.sender.begin()
        try:
            tp = TopicPartition(self.dlq_topic, self.selection.partition, self.position)
            self.sender.send_offsets([tp], self.group_consumer.consumer_group_metadata())
            self.sender.commit()
        except _Abortable as exc:
            self.sender.abort()
            _note(self.report.errors, f"could not commit the offset of group {self.range_group}: {exc}")
            return
        self.committed_position = self.position
