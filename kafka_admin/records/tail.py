"""A live tail of one topic, for a supervised child (kafka_admin.isolation): the session behind the
message browser's shared tail reader (dashboard.monitor.tail).

The consumer is assigned every partition at its end when the tail starts (no group, no commit) and
then only follows. Each poll returns at most `max_records`; when a poll fills up, the topic is
producing faster than a person can read, so the tail jumps to the newest records of every partition
and says how many it left out: what it holds stays bounded however busy the topic is.
"""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka import OFFSET_END, KafkaError, KafkaException, TopicPartition

from kafka_admin.clients import FETCH_STOP_ERRORS, error_text
from kafka_admin.config import ClusterConfig
from kafka_admin.records.read import ReadStop, Record, check_partition, make_consumer, to_record, watermarks

TAIL_CLIENT_ID = "kafka-dashboard-tail"
PREVIEW_BYTES = 16 * 1024
PREFETCH = 200  # records librdkafka holds ahead per partition


@dataclass(frozen=True)
class TailBatch:
    """New records in arrival order; skipped: records left out by a jump to the end; error: for a person."""

    records: tuple[Record, ...] = ()
    skipped: int = 0
    error: str | None = None


class TailSession:
    """Follows `topic` from its end; built in the child, one per shared tail."""

    def __init__(self, config: ClusterConfig, topic: str) -> None:
        self.config, self.topic = config, topic
        self.consumer = make_consumer(config, PREFETCH, False, client_id=TAIL_CLIENT_ID)
        self.partitions: list[int] = []

    def poll(self, max_records: int, wait_s: float) -> TailBatch:
        """Records that arrived since the last poll (waits up to `wait_s` for the first one)."""
        try:
            if not self.partitions:
                self._start()
        except (ReadStop, KafkaException) as exc:
            return TailBatch(error=str(exc) if isinstance(exc, ReadStop) else error_text(exc))
        records: list[Record] = []
        msg = self.consumer.poll(wait_s)
        messages = [] if msg is None else [msg, *self.consumer.consume(max_records, timeout=0)]
        for m in messages:
            err = m.error()
            if err is not None:
                if err.code() != KafkaError._PARTITION_EOF and (err.code() in FETCH_STOP_ERRORS or err.fatal()):
                    self.partitions = []  # start again at the end next time
                    return TailBatch(tuple(records), error=f"the live tail stopped: {err.str()}")
                continue
            if m.topic() == self.topic and len(records) < max_records:
                records.append(to_record(m, PREVIEW_BYTES)[0])
        skipped = self._catch_up() if len(records) >= max_records else 0
        return TailBatch(tuple(records), skipped)

    def _start(self) -> None:
        check_partition(self.consumer, self.topic, 0, self.config.request_timeout_s)
        metadata = self.consumer.list_topics(self.topic, timeout=self.config.request_timeout_s)
        self.partitions = sorted(metadata.topics[self.topic].partitions)
        ends = [watermarks(self.consumer, self.topic, p, self.config.request_timeout_s)[1] for p in self.partitions]
        self.consumer.assign([TopicPartition(self.topic, p, end) for p, end in zip(self.partitions, ends, strict=True)])

    def _catch_up(self) -> int:
        """Jump every partition to its end; the records in between are counted, not read."""
        skipped = 0
        positions = {tp.partition: tp.offset for tp in self.consumer.position(self._assigned())}
        ends = []
        for p in self.partitions:
            try:
                _, end = watermarks(self.consumer, self.topic, p, self.config.request_timeout_s)
            except ReadStop:
                ends.append(TopicPartition(self.topic, p, positions.get(p, OFFSET_END)))
                continue
            if positions.get(p, -1) >= 0:
                skipped += max(0, end - positions[p])
            ends.append(TopicPartition(self.topic, p, end))
        self.consumer.assign(ends)
        return skipped

    def _assigned(self) -> list[TopicPartition]:
        return [TopicPartition(self.topic, p) for p in self.partitions]

    def close(self) -> None:
        self.consumer.close()
