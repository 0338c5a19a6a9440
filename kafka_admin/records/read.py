"""Read records from one partition for the message browser and the DLQ pages, binary-safe.

Every read uses a short-lived Consumer with ``assign()``: it never joins a group and never
commits (librdkafka insists on a group.id, so it carries the fixed, harmless ``BROWSER_GROUP_ID``
that is never used for anything). Keys, values and header values come back as the exact bytes
that were written; turning them into something to show is ``kafka_admin.records.payload``'s job.

A read stops at whichever comes first: ``limit`` records, the end of the partition, or the
timeout. The end is the high watermark measured when the read starts (the last stable offset
with ``read_committed``); because transaction markers and compacted-away records occupy offsets,
the last record read may lie below ``end - 1``, so the read also stops on librdkafka's
partition-EOF event instead of waiting for the timeout.

Bad input (unknown topic or partition, offset outside the log, negative limit...) is reported
as a one-line message in ``ReadResult.error``, never raised.

``make_consumer``, ``check_partition``, ``watermarks`` and ``to_record`` are shared with the DLQ
reprocess reader (``kafka_admin.reprocess.reading``), which keeps one consumer for a whole run.
"""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

from confluent_kafka import (
    TIMESTAMP_CREATE_TIME,
    TIMESTAMP_LOG_APPEND_TIME,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from kafka_admin.clients import FETCH_STOP_ERRORS, error_text
from kafka_admin.config import ClusterConfig

BROWSER_GROUP_ID = "kafka-dashboard-browser"
_LEGAL_TOPIC = re.compile(r"[a-zA-Z0-9._-]{1,249}")
DEFAULT_LIMIT = 50
DEFAULT_MAX_VALUE_BYTES = 64 * 1024
# How long the broker may hold a fetch that has no new data. Reaching the end of a partition is
# signalled by one such empty fetch, so this is the delay added to a read that hits the end.
FETCH_WAIT_MAX_MS = 100
# Prefetch buffer: a page of large records must not pull tens of MB ahead of what it shows.
QUEUED_MAX_KBYTES = 8 * 1024
# Once the prefetch buffer is full (queued.min.messages is set to the page size), librdkafka waits
# fetch.queue.backoff.ms (default 1000) before fetching again: a page that ends right before a
# transaction marker would wait a whole second for the EOF event. Keep it short.
FETCH_QUEUE_BACKOFF_MS = 20

TimestampType = Literal["CreateTime", "LogAppendTime"]
TIMESTAMP_TYPES: dict[int, TimestampType] = {
    TIMESTAMP_CREATE_TIME: "CreateTime",
    TIMESTAMP_LOG_APPEND_TIME: "LogAppendTime",
}


class Record(NamedTuple):
    """One record as stored. key/value may be cut to ``max_value_bytes``; the sizes are the full lengths.

    A NamedTuple (immutable, compared by value) rather than a frozen dataclass: a DLQ reprocess builds
    one per record, and make_record() builds it cheaply, in less memory."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None
    timestamp_type: TimestampType | None
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]
    key_size: int
    value_size: int

    @property
    def key_truncated(self) -> bool:
        return self.key is not None and len(self.key) < self.key_size

    @property
    def value_truncated(self) -> bool:
        return self.value is not None and len(self.value) < self.value_size

    @property
    def timestamp(self) -> datetime | None:
        if self.timestamp_ms is None:
            return None
        return datetime.fromtimestamp(self.timestamp_ms / 1000, tz=UTC)

    def header_values(self, name: str) -> tuple[bytes | None, ...]:
        """Every value of header `name`, in record order (header names may repeat)."""
        return tuple(v for k, v in self.headers if k == name)


_tuple_new = tuple.__new__


def make_record(
    topic: str,
    partition: int,
    offset: int,
    timestamp_ms: int | None,
    timestamp_type: TimestampType | None,
    key: bytes | None,
    value: bytes | None,
    headers: tuple[tuple[str, bytes | None], ...],
    key_size: int,
    value_size: int,
) -> Record:
    """Record(...) without the NamedTuple's Python-level __new__: one is built per record read."""
    return _tuple_new(
        Record, (topic, partition, offset, timestamp_ms, timestamp_type, key, value, headers, key_size, value_size)
    )


# ----------------------------------------------------------------------------- where to start


@dataclass(frozen=True)
class FromOffset:
    """Records from this offset on."""

    offset: int


@dataclass(frozen=True)
class FromTimestamp:
    """Records from the first one whose timestamp is at or after this time (ms since the epoch)."""

    timestamp_ms: int


@dataclass(frozen=True)
class Newest:
    """The last `limit` offsets of the partition (the records among them, oldest first)."""


@dataclass(frozen=True)
class Oldest:
    """Records from the log start on."""


Seek = FromOffset | FromTimestamp | Newest | Oldest


@dataclass(frozen=True)
class ReadResult:
    """A page of records, the partition's bounds and where the next page starts.

    start_offset/end_offset: log start and log end (high watermark; last stable offset when
    reading committed) when the read began, None when they could not be read. next_offset:
    the offset to read from for the next page (equals end_offset when the page reached the
    end). error: a one-line message for a person, None when all went well; records read before
    a problem are still returned.
    """

    records: tuple[Record, ...] = ()
    start_offset: int | None = None
    end_offset: int | None = None
    next_offset: int | None = None
    error: str | None = None

    @property
    def at_end(self) -> bool:
        return self.next_offset is not None and self.end_offset is not None and self.next_offset >= self.end_offset


# ----------------------------------------------------------------------------------- reading


def read_records(
    config: ClusterConfig,
    topic: str,
    partition: int,
    seek: Seek,
    limit: int = DEFAULT_LIMIT,
    max_value_bytes: int | None = DEFAULT_MAX_VALUE_BYTES,
    timeout_s: float | None = None,
    read_committed: bool = False,
) -> ReadResult:
    """Read up to `limit` records of one partition, starting where `seek` says.

    `max_value_bytes` cuts each key and value to that many bytes (None: keep them whole).
    `timeout_s` bounds the whole call (default: the config's request timeout).
    """
    problem = _check_arguments(topic, partition, seek, limit, max_value_bytes, timeout_s)
    if problem:
        return ReadResult(error=problem)
    budget = config.request_timeout_s if timeout_s is None else timeout_s
    deadline = time.monotonic() + budget
    try:
        consumer = make_consumer(config, min(max(1, limit), 100_000), read_committed)
    except KafkaException as exc:
        return ReadResult(error=f"could not create a consumer: {error_text(exc)}")
    try:
        return _Read(config, consumer, topic, partition, limit, max_value_bytes, deadline, budget).run(seek)
    finally:
        consumer.close()


def read_one(
    config: ClusterConfig,
    topic: str,
    partition: int,
    offset: int,
    max_value_bytes: int | None = None,
) -> Record | None:
    """The record at exactly `offset` (whole key and value by default), or None.

    None when there is no record at that offset (never written, deleted, compacted away, a
    transaction marker) or it could not be read; read_records() says why.
    """
    result = read_records(config, topic, partition, FromOffset(offset), limit=1, max_value_bytes=max_value_bytes)
    if result.records and result.records[0].offset == offset:
        return result.records[0]
    return None


def _check_arguments(
    topic: str,
    partition: int,
    seek: Seek,
    limit: int,
    max_value_bytes: int | None,
    timeout_s: float | None,
) -> str | None:
    if not topic:
        return "no topic given"
    if not _LEGAL_TOPIC.fullmatch(topic) or topic in (".", ".."):
        # Kafka's own rule; librdkafka raises RuntimeError for some such names instead of answering.
        return f"{topic[:100]!r} is not a valid topic name (1 to 249 characters: letters, digits, '.', '_', '-')"
    if limit < 0:
        return f"limit must not be negative, got {limit}"
    if max_value_bytes is not None and max_value_bytes < 0:
        return f"max_value_bytes must not be negative, got {max_value_bytes}"
    if timeout_s is not None and timeout_s <= 0:
        return f"timeout must be positive, got {timeout_s}"
    if partition < 0:
        return f"partition {partition} does not exist; partitions are numbered from 0"
    if isinstance(seek, FromOffset) and seek.offset < 0:
        return f"offset {seek.offset} is negative; offsets start at 0"
    if isinstance(seek, FromTimestamp) and seek.timestamp_ms < 0:
        return f"timestamp {seek.timestamp_ms} is negative; timestamps are ms since 1970-01-01 UTC"
    if not isinstance(seek, FromOffset | FromTimestamp | Newest | Oldest):
        return f"unknown seek {seek!r}"
    return None


def make_consumer(
    config: ClusterConfig,
    prefetch: int,
    read_committed: bool,
    client_id: str = BROWSER_GROUP_ID,
    fetch_wait_max_ms: int = FETCH_WAIT_MAX_MS,
) -> Consumer:
    """A consumer for assigned partitions only: it never joins its group nor commits, reports a position
    outside the log instead of moving it, and fetches ahead until it holds `prefetch` records."""
    return Consumer(
        config.client_config(
            **{
                "group.id": BROWSER_GROUP_ID,
                "client.id": client_id,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "enable.partition.eof": True,
                # A position outside the log is reported, not silently moved to the start or end.
                "auto.offset.reset": "error",
                "isolation.level": "read_committed" if read_committed else "read_uncommitted",
                "fetch.wait.max.ms": fetch_wait_max_ms,
                "queued.min.messages": prefetch,
                "queued.max.messages.kbytes": QUEUED_MAX_KBYTES,
                "fetch.queue.backoff.ms": FETCH_QUEUE_BACKOFF_MS,
                "allow.auto.create.topics": False,
                "logger": logging.getLogger("kafka_admin.librdkafka"),
            }
        )
    )


class ReadStop(Exception):
    """Ends a read early; the message is for a person."""


def check_partition(consumer: Consumer, topic: str, partition: int, timeout: float) -> None:
    """Raise ReadStop saying why `partition` of `topic` cannot be read (one metadata request)."""
    try:
        metadata = consumer.list_topics(topic, timeout=timeout)
    except KafkaException as exc:
        raise ReadStop(f"could not read metadata of topic {topic}: {error_text(exc)}") from None
    info = metadata.topics.get(topic)
    if info is None or (info.error is not None and info.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART):
        raise ReadStop(f"topic {topic} does not exist")
    if info.error is not None:
        raise ReadStop(f"topic {topic}: {info.error.str()}")
    if partition not in info.partitions:
        raise ReadStop(f"partition {partition} does not exist; topic {topic} {_describe(info.partitions)}")


def watermarks(consumer: Consumer, topic: str, partition: int, timeout: float) -> tuple[int, int]:
    """The partition's log start and end now (the end is the last stable offset when reading committed)."""
    try:
        return consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout, cached=False)
    except KafkaException as exc:
        raise ReadStop(f"could not read the offsets of partition {partition}: {error_text(exc)}") from None


@dataclass
class _Read:
    config: ClusterConfig
    consumer: Consumer
    topic: str
    partition: int
    limit: int
    max_value_bytes: int | None
    deadline: float
    budget: float
    start: int | None = None
    end: int | None = None

    def run(self, seek: Seek) -> ReadResult:
        try:
            check_partition(self.consumer, self.topic, self.partition, self._wait())
            self.start, self.end = watermarks(self.consumer, self.topic, self.partition, self._wait())
            if isinstance(seek, Newest):
                return self._newest()
            first = self._first_offset(seek)
        except ReadStop as stop:
            return ReadResult(start_offset=self.start, end_offset=self.end, error=str(stop))
        if first >= self.end or self.limit == 0:
            return ReadResult(start_offset=self.start, end_offset=self.end, next_offset=first)
        batch = self._fetch(first, self.end, self.limit)
        return ReadResult(tuple(batch.records), self.start, self.end, batch.next_offset, batch.error)

    def _newest(self) -> ReadResult:
        """The last `limit` records: read back from the end in growing windows until there are enough.

        The last `limit` offsets hold fewer than `limit` records when transaction markers, aborted
        records (read_committed) or compaction occupy some of them; then the window before is read too.
        """
        assert self.start is not None and self.end is not None
        if self.limit == 0 or self.start >= self.end:
            return ReadResult(start_offset=self.start, end_offset=self.end, next_offset=self.end)
        records: list[Record] = []
        next_offset: int | None = None
        error: str | None = None
        stop, step = self.end, self.limit
        while len(records) < self.limit and stop > self.start:
            first = max(self.start, stop - step)
            batch = self._fetch(first, stop, self.limit - len(records), keep_last=True)
            records[:0] = batch.records
            if next_offset is None:
                next_offset = batch.next_offset  # the newest window tells where the next page begins
            if batch.error:
                error = batch.error
                break
            stop, step = first, step * 2
        return ReadResult(tuple(records), self.start, self.end, next_offset, error)

    # -- metadata and bounds

    def _wait(self) -> float:
        """Timeout for the next broker call: what is left of the budget, at most the request timeout."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise ReadStop(f"timed out after {self.budget:g} s")
        return min(remaining, self.config.request_timeout_s)

    def _first_offset(self, seek: FromOffset | FromTimestamp | Oldest) -> int:
        start, end = self.start, self.end
        assert start is not None and end is not None
        bounds = f"(log start {start}, end {end})"
        if isinstance(seek, Oldest):
            return start
        if isinstance(seek, FromOffset):
            if seek.offset < start:
                raise ReadStop(f"offset {seek.offset} is below the log start of partition {self.partition} {bounds}")
            if seek.offset > end:
                raise ReadStop(f"offset {seek.offset} is beyond the end of partition {self.partition} {bounds}")
            return seek.offset
        return self._offset_for_time(seek.timestamp_ms)

    def _offset_for_time(self, timestamp_ms: int) -> int:
        try:
            [found] = self.consumer.offsets_for_times(
                [TopicPartition(self.topic, self.partition, timestamp_ms)], timeout=self._wait()
            )
        except KafkaException as exc:
            raise ReadStop(f"could not look up offsets by time: {error_text(exc)}") from None
        if found.error is not None:
            raise ReadStop(f"could not look up offsets by time: {found.error.str()}")
        if found.offset < 0:
            when = _format_ms(timestamp_ms)
            raise ReadStop(f"no record in partition {self.partition} has a timestamp at or after {when}")
        return found.offset

    # -- records

    def _fetch(self, first: int, stop: int, count: int, keep_last: bool = False) -> _Batch:
        """Records in offsets [first, stop): the first `count` of them, or the last `count` with keep_last."""
        records: deque[Record] | list[Record] = deque(maxlen=count) if keep_last else []
        next_offset = first
        error: str | None = None
        pending_error: str | None = None
        self.consumer.assign([TopicPartition(self.topic, self.partition, first)])
        while next_offset < stop and (keep_last or len(records) < count):
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                error = f"timed out after {self.budget:g} s with {len(records)} of {self.limit} records read"
                if pending_error:
                    error += f" ({pending_error})"
                break
            msg = self.consumer.poll(min(remaining, self.config.request_timeout_s))
            if msg is None:
                continue
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    # Only transaction markers (or nothing) lie between the last record and the end.
                    next_offset = max(next_offset, min(stop, msg.offset() or 0))
                    break
                if err.code() in FETCH_STOP_ERRORS or err.fatal():
                    error = f"reading partition {self.partition} at offset {next_offset} failed: {err.str()}"
                    break
                pending_error = err.str()  # transient (a broker reconnecting): keep trying until the deadline
                continue
            offset = msg.offset()
            if msg.topic() != self.topic or msg.partition() != self.partition or offset < next_offset:
                continue
            if offset >= stop:  # markers or compacted records filled the rest of the window
                next_offset = stop
                break
            record, headers_read = to_record(msg, self.max_value_bytes)
            if not headers_read and error is None:
                error = f"the headers of the record at offset {offset} have names that are not UTF-8; not shown"
            records.append(record)
            next_offset = offset + 1
        return _Batch(list(records), next_offset, error)


@dataclass
class _Batch:
    records: list[Record]
    next_offset: int
    error: str | None


def to_record(msg: Message, max_value_bytes: int | None) -> tuple[Record, bool]:
    """The Record of a consumed message, key and value cut to `max_value_bytes` (None: whole), and
    whether its headers could be read: Kafka's header names are strings, and a record whose names
    are not UTF-8 comes back without headers, for the caller to say so."""
    key, value = msg.key(), msg.value()
    key_size = 0 if key is None else len(key)
    value_size = 0 if value is None else len(value)
    if max_value_bytes is not None:
        if key_size > max_value_bytes:
            key = key[:max_value_bytes]
        if value_size > max_value_bytes:
            value = value[:max_value_bytes]
    try:
        headers = msg.headers()
        headers_read = True
    except (UnicodeDecodeError, ValueError):
        headers, headers_read = None, False
    ts_type, ts = msg.timestamp()
    kind = TIMESTAMP_TYPES.get(ts_type)
    record = make_record(
        msg.topic(),
        msg.partition(),
        msg.offset(),
        ts if kind is not None else None,
        kind,
        key,
        value,
        tuple(headers) if headers else (),
        key_size,
        value_size,
    )
    return record, headers_read


def _describe(partitions: Any) -> str:
    ids = sorted(partitions)
    if not ids:
        return "has no partitions"
    if len(ids) == 1:
        return f"has partition {ids[0]}"
    if ids == list(range(ids[0], ids[-1] + 1)):
        return f"has partitions {ids[0]}-{ids[-1]}"
    return "has partitions " + ", ".join(map(str, ids))


def _format_ms(timestamp_ms: int) -> str:
    try:
        when = datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC).isoformat(timespec="milliseconds")
    except (OverflowError, ValueError, OSError):
        return f"{timestamp_ms} ms"
    return f"{when.replace('+00:00', 'Z')} ({timestamp_ms} ms)"
