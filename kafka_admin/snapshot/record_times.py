"""Exact time lag beyond the timeline: read the timestamp of the record a group will consume next.

The figures estimate time lag from the end offsets the poller has seen (kafka_admin/figures/
timelag.py), which only reaches back as far as its timeline: a group hours behind gets "at least
5 minutes". For those committed offsets this step, run by the collector right after each cycle,
reads the first record at or after the committed offset and puts its timestamp into the snapshot
(`ClusterSnapshot.record_times`); the figures turn it into a plain duration.

What it costs, and why it stays cheap (docs/time-lag.md has the numbers):

* Only committed offsets older than the oldest point of a timeline like the tracker's are read;
  consumers inside it keep the interpolation, which costs nothing.
* Answers are cached by (topic, partition, offset read): a stuck consumer costs one read, a
  steady state none. A group far behind that commits every cycle costs one read per cycle.
* At most `config.time_lag_reads` reads per cycle, the partitions with the largest lag first;
  the rest keep the estimate (a lower bound, which says so) and are read in later cycles.
* One long-lived consumer: `assign()` with every offset at once (one fetch per leader), a fetch
  size of one batch, partition-EOF events, and a short time budget; it never joins a group.

What real topics hold at a committed offset: a read_committed consumer skips transaction markers
and aborted records, and compaction leaves gaps, so the record found may lie past the offset
(`record_offset`); only markers up to the end means nothing is waiting. A committed offset below
the log start (records deleted by retention or delete_records) is read from the log start and
flagged. CreateTime and LogAppendTime are both "when it was written"; a topic's records may
carry no timestamp at all (very old formats): then the estimate stays.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

from confluent_kafka import (
    TIMESTAMP_CREATE_TIME,
    TIMESTAMP_LOG_APPEND_TIME,
    Consumer,
    KafkaError,
    Message,
    TopicPartition,
)

from kafka_admin.clients import FETCH_STOP_ERRORS
from kafka_admin.config import ClusterConfig
from kafka_admin.figures.timelag import DEFAULT_MAX_POINTS, OffsetTimeline
from kafka_admin.snapshot.model import ClusterSnapshot, RecordTime

log = logging.getLogger(__name__)

READER_GROUP_ID = "kafka-dashboard-time-lag"  # never joined, never committed: librdkafka wants one
READ_BUDGET_S = 3.0  # per cycle, at most; partitions not answered by then are asked again next cycle
TIMESTAMP_TYPES = {TIMESTAMP_CREATE_TIME: "CreateTime", TIMESTAMP_LOG_APPEND_TIME: "LogAppendTime"}
TP = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Wanted:
    """A committed offset the timeline cannot date, and where its read starts."""

    topic: str
    partition: int
    committed: int
    read_from: int  # max(committed, log start)
    lag: int

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.topic, self.partition, self.read_from)


@dataclass(frozen=True, slots=True)
class Found:
    """What the read at `read_from` found; `end` is the end offset when it found nothing."""

    record_offset: int | None
    timestamp_ms: int | None
    timestamp_type: str | None
    end: int | None = None


def wanted_reads(snapshot: ClusterSnapshot, timelines: dict[TP, OffsetTimeline]) -> list[Wanted]:
    """The committed offsets (and share-partition start offsets) older than their partition's
    timeline, largest lag first (pure)."""
    starts = {(t.name, p.partition): p.start_offset for t in snapshot.topics for p in t.partitions}
    # Many groups share an offset (or the timeline's answer for it): each is judged once per cycle.
    lags: dict[tuple[str, int, int], int] = {}
    for topic, partition, offset, lag in positions(snapshot):
        if lag is None or lag <= 0 or offset < 0:
            continue
        key = (topic, partition, offset)
        if key not in lags:
            timeline = timelines.get((topic, partition))
            older = timeline is None or timeline.time_of(offset).precision in ("at_or_before", "unknown")
            lags[key] = lag if older else -1
    out = [Wanted(t, p, c, max(c, starts.get((t, p)) or 0), lag) for (t, p, c), lag in lags.items() if lag > 0]
    return sorted(out, key=lambda w: (-w.lag, w.topic, w.partition))


def positions(snapshot: ClusterSnapshot) -> Iterator[tuple[str, int, int, int | None]]:
    """(topic, partition, the next offset to consume, lag) of every group: a consumer group's
    committed offsets, a share group's share-partition start offsets (the oldest record not yet
    acknowledged, with Kafka's share-partition lag)."""
    for g in snapshot.groups:
        for o in g.offsets:
            yield o.topic, o.partition, o.committed, o.lag
        for p in g.share_partitions:
            if p.start_offset is not None:
                yield p.topic, p.partition, p.start_offset, p.waiting


def record_time(w: Wanted, found: Found) -> RecordTime:
    return RecordTime(
        w.topic,
        w.partition,
        w.committed,
        found.record_offset,
        found.timestamp_ms,
        found.timestamp_type,
        below_start=w.read_from > w.committed,
    )


class RecordTimes:
    """The collector's step after each cycle: timelines, a cache and one consumer, per cluster."""

    def __init__(self, config: ClusterConfig, timeline_points: int = DEFAULT_MAX_POINTS) -> None:
        self.config = config
        self.max_reads = config.time_lag_reads
        self.timeline_points = timeline_points
        self._timelines: dict[TP, OffsetTimeline] = {}
        self._cache: dict[tuple[str, int, int], Found] = {}
        self._consumer: Consumer | None = None
        self.reads = 0  # records read since start (the bench counts them)
        self.deferred = 0  # offsets left for a later cycle by the last annotate()
        self.last_read: tuple[tuple[str, int, int], ...] = ()  # (topic, partition, offset) read by it

    def annotate(self, snapshot: ClusterSnapshot) -> ClusterSnapshot:
        """The snapshot with `record_times` for every committed offset beyond the timeline that is known."""
        if not snapshot.reachable or self.max_reads <= 0:
            return snapshot
        ends = self._note_ends(snapshot)
        wanted = wanted_reads(snapshot, self._timelines)
        missing = [w for w in wanted if not self._fresh(w, ends)]
        self.deferred = max(0, len(missing) - self.max_reads)
        read = self._read(missing[: self.max_reads], ends) if missing else {}
        self._cache.update(read)
        self.last_read = tuple(read)
        keep = {w.key for w in wanted}
        self._cache = {k: v for k, v in self._cache.items() if k in keep}
        times = tuple(record_time(w, self._cache[w.key]) for w in wanted if w.key in self._cache)
        return replace(snapshot, record_times=times) if times else snapshot

    def _note_ends(self, snapshot: ClusterSnapshot) -> dict[TP, int]:
        """Feed this cycle's end offsets to the timelines, as the tracker does with the same snapshot."""
        now = snapshot.collected_at.timestamp()
        ends: dict[TP, int] = {}
        for topic in snapshot.topics:
            for p in topic.partitions:
                if p.end_offset is None:
                    continue
                tp = (topic.name, p.partition)
                ends[tp] = p.end_offset
                timeline = self._timelines.get(tp)
                if timeline is None:
                    timeline = self._timelines[tp] = OffsetTimeline(self.timeline_points)
                elif len(timeline) and p.end_offset < timeline.points[-1].offset:
                    # A shrinking log (recreated topic, truncation): the same offsets hold other records now.
                    self._cache = {k: v for k, v in self._cache.items() if (k[0], k[1]) != tp}
                timeline.add(p.end_offset, now)
        for tp in [tp for tp in self._timelines if tp not in ends]:
            del self._timelines[tp]
        return ends

    def _fresh(self, w: Wanted, ends: dict[TP, int]) -> bool:
        """A cached answer still holds; "nothing there" only until new records arrive."""
        found = self._cache.get(w.key)
        if found is None:
            return False
        return found.record_offset is not None or found.end == ends.get((w.topic, w.partition))

    def _read(self, batch: list[Wanted], ends: dict[TP, int]) -> dict[tuple[str, int, int], Found]:
        """The first record of each partition in `batch` at its offset; what is not answered in time is left out."""
        consumer = self._reader()
        by_tp = {(w.topic, w.partition): w for w in batch}
        out: dict[tuple[str, int, int], Found] = {}
        deadline = time.monotonic() + min(READ_BUDGET_S, self.config.request_timeout_s)
        try:
            consumer.incremental_assign([TopicPartition(t, p, w.read_from) for (t, p), w in by_tp.items()])
            while by_tp and time.monotonic() < deadline:
                msgs = consumer.consume(num_messages=max(10, len(by_tp)), timeout=min(0.2, deadline - time.monotonic()))
                done: list[TopicPartition] = []
                for msg in msgs:
                    tp = (msg.topic(), msg.partition())
                    w = by_tp.get(tp)
                    if w is None:
                        continue
                    err = msg.error()
                    if err is not None and err.code() in FETCH_STOP_ERRORS:
                        del by_tp[tp]  # e.g. retention moved past the offset since the snapshot: next cycle
                    elif err is not None and err.code() != KafkaError._PARTITION_EOF:
                        continue  # a transient error: the partition is read again until the deadline
                    else:
                        self.reads += 1
                        out[w.key] = _found(msg, ends.get(tp))
                        del by_tp[tp]
                    done.append(TopicPartition(tp[0], tp[1]))
                if done and by_tp:
                    consumer.incremental_unassign(done)  # stop fetching what is answered
        except Exception:  # one failed read leaves the estimate; the cycle goes on
            log.warning("time lag: reading record timestamps failed", exc_info=True)
            self._close_consumer()
            return out
        try:
            consumer.incremental_unassign(consumer.assignment())
        except Exception:  # noqa: BLE001 - a reader that cannot be reset is replaced
            self._close_consumer()
        if by_tp:
            log.debug("time lag: %d record timestamps not read in time, left for the next cycle", len(by_tp))
        return out

    def _reader(self) -> Consumer:
        if self._consumer is None:
            self._consumer = Consumer(
                self.config.client_config(
                    **{
                        "group.id": READER_GROUP_ID,
                        "client.id": READER_GROUP_ID,
                        "enable.auto.commit": False,
                        "enable.auto.offset.store": False,
                        "enable.partition.eof": True,
                        "auto.offset.reset": "error",
                        # What a transactional consumer sees: markers and aborted records skipped.
                        "isolation.level": "read_committed",
                        "fetch.wait.max.ms": 100,
                        # One batch per partition is all a timestamp needs. The broker returns a batch
                        # larger than this limit only for the first partition of a response, so a small
                        # limit (1 KiB) served one partition per fetch round: 50 reads took 1.4 s.
                        # 256 KiB holds the batches producers write by default (Java: 16 KiB).
                        "max.partition.fetch.bytes": 256 * 1024,
                        "fetch.max.bytes": 16 * 1024 * 1024,
                        "queued.min.messages": 1,
                        "queued.max.messages.kbytes": 16 * 1024,
                        "fetch.queue.backoff.ms": 20,
                        "allow.auto.create.topics": False,
                        "logger": logging.getLogger("kafka_admin.librdkafka"),
                    }
                )
            )
        return self._consumer

    def _close_consumer(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            try:
                consumer.close()
            except Exception:  # closing a broken client must not end the collector
                log.debug("time lag: closing the reader failed", exc_info=True)

    def close(self) -> None:
        self._close_consumer()


def _found(msg: Message, end: int | None) -> Found:
    """The answer a record (or the partition-EOF event) gives."""
    if msg.error() is not None:
        return Found(None, None, None, end)  # EOF: only markers or aborted records up to the end
    kind, ts = msg.timestamp()
    name = TIMESTAMP_TYPES.get(kind)
    return Found(msg.offset(), ts if name is not None and ts >= 0 else None, name)
