"""What the poller's child does with the broker: whatever SnapshotCollector does, plus the cycle's other reads.

One BrokerSession lives in the child for as long as the child does, so its collector keeps its
AdminClient (and the offsets-topic reader) across cycles exactly as it did in the server. In-process
(one-shot CLI cycles) the poller uses a BrokerSession directly; supervised, a RemoteBroker
(remote.py) forwards the same calls to one in the child.
"""

from __future__ import annotations

from typing import Any

from kafka_admin.config import ClusterConfig
from kafka_admin.isolation import delta, gc_schedule
from kafka_admin.isolation.delta import Held, SnapshotMessage, SnapshotSender
from kafka_admin.isolation.handoff import register_dataclasses
from kafka_admin.isolation.memory import release_free_memory
from kafka_admin.records import read as records_read
from kafka_admin.records.read import ReadResult, Seek, read_records
from kafka_admin.snapshot import model
from kafka_admin.snapshot.collect import SnapshotCollector
from kafka_admin.snapshot.model import ClusterSnapshot
from kafka_admin.snapshot.topic_configs import TopicConfigs, describe_topic_configs

# The poller's cycles wait this long for the offsets reader's start-up catch-up, then publish a
# snapshot that shows its progress (a one-shot CLI cycle waits its whole budget instead).
CATCH_UP_WAIT_S = 5.0


class BrokerSession:
    """The broker reads of one poller: the snapshot, topic configs, DLQ records."""

    def __init__(self, config: ClusterConfig) -> None:
        register_dataclasses(model, records_read, delta)  # a compact, fast hand-off (handoff.py)
        self.config = config
        self.collector = SnapshotCollector(config, catch_up_wait_s=CATCH_UP_WAIT_S)
        self.sender = SnapshotSender()

    def collect(self) -> ClusterSnapshot:
        return self.collector.collect()

    def collect_delta(self, held: Held | None) -> SnapshotMessage:
        """A cycle's snapshot for the parent: a delta against `held` when that is the last one we sent (delta.py)."""
        snapshot = self.collector.collect()
        message = self.sender.message(snapshot, held)
        release_free_memory()  # the cycle's garbage is freed: give its pages back before the next one
        gc_schedule.settle_after_cycle(self.config.name, snapshot.group_partition_rows)
        return message

    def last_snapshot(self) -> SnapshotMessage:
        """The last snapshot sent, whole: for a parent that could not apply a delta."""
        return self.sender.last()

    def topic_configs(self, topics: list[str], timeout_s: float) -> tuple[TopicConfigs, list[str]]:
        return describe_topic_configs(self.collector.admin, topics, timeout_s)

    def read_records(self, topic: str, partition: int, position: Seek, **options: Any) -> ReadResult:
        return read_records(self.config, topic, partition, position, **options)

    def close(self) -> None:
        self.collector.close()
