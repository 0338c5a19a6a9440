"""Reading a DLQ topic for a run or plan: one long-lived read_committed consumer, page by page, and
the records that were cut read again whole to be sent."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from itertools import accumulate

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from kafka_admin.clients import FETCH_STOP_ERRORS, error_text
from kafka_admin.config import ClusterConfig
from kafka_admin.records.read import (
    FromOffset,
    ReadStop,
    Record,
    check_partition,
    make_consumer,
    read_records,
    to_record,
    watermarks,
)
from kafka_admin.reprocess.errors import Halt
from kafka_admin.reprocess.limits import BATCH_BYTES, PAGE_BYTES, VIEW_BYTES
from kafka_admin.reprocess.sizing import record_size
from kafka_admin.reprocess.transactional_id import TRANSACTIONAL_ID_PREFIX

log = logging.getLogger(__name__)


# At most this many records are taken from the reader's consumer in one call (only what it holds).
CONSUME_CHUNK = 1000


@dataclass
class Chunk:
    """What one DlqReader.read() got."""

    records: list[Record]
    cut: set[int]
    unreadable: dict[int, str]
    next_offset: int
    at_end: bool
    """The read reached the end of the log (the last stable offset) at next_offset."""
    error: str | None


class DlqReader:
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
                self.consumer = make_consumer(
                    self.config, self.prefetch, read_committed=True, client_id=TRANSACTIONAL_ID_PREFIX
                )
            except KafkaException as exc:
                raise ReadStop(f"could not create a consumer: {error_text(exc)}") from None
        return self.consumer

    def bounds(self, partition: int) -> tuple[int, int]:
        """The partition's log start and end (its last stable offset) now; ReadStop says why not."""
        consumer = self._client()
        timeout = self.config.request_timeout_s
        if partition not in self.known:
            check_partition(consumer, self.topic, partition, timeout)
            self.known.add(partition)
        return watermarks(consumer, self.topic, partition, timeout)

    def read(self, partition: int, pos: int, last: int, limit: int) -> Chunk:
        """Committed records at offsets pos..last: at most `limit` of them and about PAGE_BYTES of keys
        and values (cut to VIEW_BYTES). Ends early at the end of the log, on an error or after the
        request timeout; records read before a problem are returned with it."""
        try:
            consumer = self._client()
            if partition != self.partition or pos != self.position:
                consumer.assign([TopicPartition(self.topic, partition, pos)])
                self.partition, self.position, self.queued, self.index = partition, pos, [], 0
        except (ReadStop, KafkaException) as exc:
            self.position = -1
            return Chunk([], set(), {}, pos, False, str(exc) if isinstance(exc, ReadStop) else error_text(exc))
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
            record, headers_read = to_record(msg, VIEW_BYTES)
            if not headers_read:
                unreadable[offset] = "its header names are not UTF-8: it cannot be re-published byte-exact"
            key_size, value_size = record.key_size, record.value_size
            if key_size > VIEW_BYTES or value_size > VIEW_BYTES:
                cut.add(offset)  # read again whole if it is sent
                held += min(key_size, VIEW_BYTES) + min(value_size, VIEW_BYTES)
            else:
                held += key_size + value_size
            append(record)
            next_offset = offset + 1
        self.queued, self.index = queued, i
        self.position = next_offset if error is None else -1
        return Chunk(records, cut, unreadable, next_offset, at_end, error)


def read_whole(
    config: ClusterConfig, topic: str, partition: int, read: list[Record], need: list[int], timeout_s: float
) -> dict[int, Record]:
    """The records at offsets `need` (cut when read), read again whole, BATCH_BYTES at a time.

    `read` is every record of their page in offset order: a re-read spans the records between
    the ones needed, so their sizes bound how many are fetched in one read."""
    whole: dict[int, Record] = {}
    if not need:
        return whole
    index = {r.offset: i for i, r in enumerate(read)}
    sums = [0, *accumulate(record_size(r) for r in read)]
    runs: list[tuple[int, int]] = []
    for offset in need:
        i = index[offset]
        if runs and sums[i + 1] - sums[runs[-1][0]] <= BATCH_BYTES:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    for first, last in runs:
        wanted = {read[i].offset for i in range(first, last + 1)} & set(need)
        for attempt in range(2):
            result = read_records(
                config,
                topic,
                partition,
                FromOffset(read[first].offset),
                limit=last - first + 1,
                max_value_bytes=None,
                read_committed=True,
                timeout_s=timeout_s,
            )
            got = {r.offset: r for r in result.records if r.offset in wanted}
            whole.update(got)
            wanted -= set(got)
            if not wanted:
                break
            if attempt == 1:
                raise Halt(
                    f"could not read {len(wanted)} records of {topic} partition {partition}"
                    f" whole (from offset {min(wanted)}): {result.error or 'not found'}"
                )
    return whole
