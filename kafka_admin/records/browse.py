"""The message browser's read: one partition or all of them merged by time, newest first by default,
seeking by offset or time, filtered by a substring, bounded by a cap on records scanned.

One short-lived consumer per call, assigned (never subscribed: no group, no commit), as in
kafka_admin.records.read whose helpers it uses. The merge is kafka_admin.records.merge; this module
finds each partition's bounds and start, and reads windows of offsets of many partitions in one go.

Runs in the pool of reader children (kafka_admin.isolation.reads.browse), never in the server.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from kafka_admin.clients import FETCH_STOP_ERRORS, error_text
from kafka_admin.config import ClusterConfig
from kafka_admin.records.match import Match
from kafka_admin.records.merge import MAX_WINDOW, Direction, Span, scan
from kafka_admin.records.read import (
    BROWSER_GROUP_ID,
    FromOffset,
    FromTimestamp,
    Newest,
    Oldest,
    ReadStop,
    Record,
    Seek,
    check_partition,
    make_consumer,
    to_record,
    watermarks,
)

DEFAULT_SCAN_CAP = 10_000
MAX_SCAN_CAP = 100_000
MAX_LIMIT = 200
PREVIEW_BYTES = 16 * 1024  # a row shows a preview; the whole value is one download away
CONSUME_BATCH = 500
# A window that reaches a partition's end leaves a fetch waiting there for new data; the next window of
# that partition waits for it to come back. Short, since this consumer lives for one request.
FETCH_WAIT_MS = 10


@dataclass(frozen=True)
class Bounds:
    partition: int
    start: int
    end: int

    @property
    def count(self) -> int:
        return max(0, self.end - self.start)


@dataclass(frozen=True)
class BrowseResult:
    """A page of records in display order, how many records were looked at, and where to go on.

    cursor: per partition where the next page (or "scan further") continues, for the same direction;
    None after an error that left no sound position. exhausted: nothing left in that direction.
    """

    records: tuple[Record, ...] = ()
    direction: Direction = "newest"
    scanned: int = 0
    cursor: dict[int, int] | None = None
    exhausted: bool = True
    bounds: tuple[Bounds, ...] = ()
    error: str | None = None

    @property
    def total(self) -> int:
        return sum(b.count for b in self.bounds)


def browse(
    config: ClusterConfig,
    topic: str,
    partition: int | None,
    seek: Seek,
    limit: int = 20,
    match: Match | None = None,
    scan_cap: int = DEFAULT_SCAN_CAP,
    cursor: dict[int, int] | None = None,
    max_value_bytes: int | None = PREVIEW_BYTES,
    timeout_s: float | None = None,
) -> BrowseResult:
    """Up to `limit` records of `partition` (None: every partition, merged by timestamp).

    `seek` Newest lists newest first; Oldest, FromOffset and FromTimestamp list forward from there.
    `cursor` (a previous result's) continues where that page ended. At most `scan_cap` records are
    looked at when `match` filters them."""
    direction: Direction = "newest" if isinstance(seek, Newest) else "oldest"
    if not 1 <= limit <= MAX_LIMIT:
        return BrowseResult(direction=direction, error=f"show 1 to {MAX_LIMIT} records, not {limit}")
    if not 1 <= scan_cap <= MAX_SCAN_CAP:
        return BrowseResult(direction=direction, error=f"scan 1 to {MAX_SCAN_CAP:,} records, not {scan_cap}")
    budget = config.request_timeout_s if timeout_s is None else timeout_s
    try:
        consumer = make_consumer(config, MAX_WINDOW, False, client_id=BROWSER_GROUP_ID, fetch_wait_max_ms=FETCH_WAIT_MS)
    except KafkaException as exc:
        return BrowseResult(direction=direction, error=f"could not create a consumer: {error_text(exc)}")
    try:
        reader = _Reader(config, consumer, topic, time.monotonic() + budget, budget, max_value_bytes)
        return reader.run(partition, seek, direction, limit, match, scan_cap, cursor)
    finally:
        consumer.close()


@dataclass
class _Reader:
    config: ClusterConfig
    consumer: Consumer
    topic: str
    deadline: float
    budget: float
    max_value_bytes: int | None

    def run(
        self,
        partition: int | None,
        seek: Seek,
        direction: Direction,
        limit: int,
        match: Match | None,
        cap: int,
        cursor: dict[int, int] | None,
    ) -> BrowseResult:
        bounds: tuple[Bounds, ...] = ()
        try:
            ids = self._partitions(partition)
            bounds = tuple(Bounds(p, *watermarks(self.consumer, self.topic, p, self._wait())) for p in ids)
            starts = self._starts(bounds, seek, cursor)
        except ReadStop as stop:
            return BrowseResult(direction=direction, bounds=bounds, error=str(stop))
        spans = {b.partition: Span(b.start, b.end, starts[b.partition]) for b in bounds}
        found = scan(spans, direction, limit, cap, self._fetch, match)
        return BrowseResult(
            tuple(found.records),
            direction,
            found.scanned,
            None if found.error else found.positions,
            found.exhausted,
            bounds,
            found.error,
        )

    def _wait(self) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise ReadStop(f"timed out after {self.budget:g} s")
        return min(remaining, self.config.request_timeout_s)

    def _partitions(self, partition: int | None) -> list[int]:
        if partition is not None:
            check_partition(self.consumer, self.topic, partition, self._wait())
            return [partition]
        check_partition(self.consumer, self.topic, 0, self._wait())
        metadata = self.consumer.list_topics(self.topic, timeout=self._wait())
        return sorted(metadata.topics[self.topic].partitions)

    def _starts(self, bounds: tuple[Bounds, ...], seek: Seek, cursor: dict[int, int] | None) -> dict[int, int]:
        """Where each partition's scan begins: the cursor's position, else the seek's (clamped to the log)."""
        if cursor:
            return {b.partition: min(max(cursor.get(b.partition, b.end), b.start), b.end) for b in bounds}
        if isinstance(seek, Newest):
            return {b.partition: b.end for b in bounds}
        if isinstance(seek, Oldest):
            return {b.partition: b.start for b in bounds}
        if isinstance(seek, FromOffset):
            if len(bounds) == 1:
                _check_offset(bounds[0], seek.offset)
            return {b.partition: min(max(seek.offset, b.start), b.end) for b in bounds}
        assert isinstance(seek, FromTimestamp)
        return self._offsets_for_time(bounds, seek.timestamp_ms)

    def _offsets_for_time(self, bounds: tuple[Bounds, ...], timestamp_ms: int) -> dict[int, int]:
        wanted = [TopicPartition(self.topic, b.partition, timestamp_ms) for b in bounds]
        try:
            found = self.consumer.offsets_for_times(wanted, timeout=self._wait())
        except KafkaException as exc:
            raise ReadStop(f"could not look up offsets by time: {error_text(exc)}") from None
        ends = {b.partition: b.end for b in bounds}
        starts: dict[int, int] = {}
        for tp in found:
            if tp.error is not None:
                raise ReadStop(f"could not look up offsets by time: {tp.error.str()}")
            starts[tp.partition] = ends[tp.partition] if tp.offset < 0 else tp.offset  # -1: none at or after
        return starts

    def _fetch(self, windows: dict[int, tuple[int, int]]) -> tuple[dict[int, list[Record]], str | None]:
        """The records in offsets [first, stop) of every partition of `windows`, read together."""
        todo = {p: w for p, w in windows.items() if w[0] < w[1]}
        got: dict[int, list[Record]] = {p: [] for p in windows}
        if not todo:
            return got, None
        following = {p: first for p, (first, _) in todo.items()}
        self.consumer.assign([TopicPartition(self.topic, p, first) for p, (first, _) in todo.items()])
        pending = set(todo)
        while pending:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                return got, f"timed out after {self.budget:g} s"
            for msg in self._next_messages(min(remaining, self.config.request_timeout_s)):
                p = msg.partition()
                if p not in pending or msg.topic() != self.topic:
                    continue
                err = msg.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        pending.discard(p)
                    elif err.code() in FETCH_STOP_ERRORS or err.fatal():
                        return got, f"reading partition {p} at offset {following[p]} failed: {err.str()}"
                    continue
                offset = msg.offset()
                if offset < following[p]:
                    continue
                if offset < todo[p][1]:
                    got[p].append(to_record(msg, self.max_value_bytes)[0])
                    following[p] = offset + 1
                if offset + 1 >= todo[p][1]:
                    pending.discard(p)
        return got, None

    def _next_messages(self, timeout: float) -> list:
        """What is ready now, or the first message to arrive (consume() would wait for a whole batch)."""
        ready = self.consumer.consume(CONSUME_BATCH, timeout=0)
        if ready:
            return ready
        msg = self.consumer.poll(timeout)
        return [] if msg is None else [msg]


def _check_offset(b: Bounds, offset: int) -> None:
    """A seek of one partition outside its log is a mistake to name (for all partitions it is clamped)."""
    where = f"(log start {b.start}, end {b.end})"
    if offset < b.start:
        raise ReadStop(f"offset {offset} is below the log start of partition {b.partition} {where}")
    if offset > b.end:
        raise ReadStop(f"offset {offset} is beyond the end of partition {b.partition} {where}")
