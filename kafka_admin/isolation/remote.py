"""A BrokerSession in a supervised child, called like the one in-process (sessions.BrokerSession).

Snapshots come over as deltas against the one this side holds (delta.py): collect() rebuilds the
full snapshot, which shares every unchanged group and topic with the last one. Each call's timeout
is the work's own bound plus HANG_GRACE_S: the child keeps its deadlines (the cycle timeout, each
read's timeout), so running past them by that much means it is stuck, and the supervisor kills it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from kafka_admin.config import ClusterConfig
from kafka_admin.isolation.crash import Health
from kafka_admin.isolation.delta import BaseMismatch, SnapshotReceiver
from kafka_admin.isolation.supervisor import Supervisor, WorkerFailed

if TYPE_CHECKING:  # the parent never loads librdkafka's modules for the child's sake
    from kafka_admin.records.read import ReadResult, Seek
    from kafka_admin.snapshot.model import ClusterSnapshot
    from kafka_admin.snapshot.topic_configs import TopicConfigs

BROKER_SESSION = "kafka_admin.isolation.sessions:BrokerSession"
HANG_GRACE_S = 5.0
RESEND_S = 30.0  # the child pickles the snapshot it holds: no broker work

log = logging.getLogger(__name__)


class RemoteBroker:
    """The poller's broker reads, each one a call to the child; WorkerFailed when the child dies or hangs."""

    def __init__(self, config: ClusterConfig, session_path: str = BROKER_SESSION) -> None:
        self.config = config
        self.supervisor = Supervisor(f"collector of cluster {config.name}", session_path, (config,))
        self.receiver = SnapshotReceiver()

    @property
    def health(self) -> Health:
        return self.supervisor.health

    def collect(self) -> ClusterSnapshot:
        timeout = self.config.cycle_timeout_s + self.config.request_timeout_s + HANG_GRACE_S
        try:
            message = self.supervisor.call("collect_delta", self.receiver.held(), answer_within_s=timeout)
        except WorkerFailed:
            self.receiver.forget()  # a new child starts a new generation anyway: no doubt left
            raise
        try:
            return self.receiver.take(message)
        except BaseMismatch as exc:  # not expected (the child checked the base): the same snapshot whole
            log.warning("%s: %s; asking for the whole snapshot", self.supervisor.role, exc)
            return self.receiver.take(self.supervisor.call("last_snapshot", answer_within_s=RESEND_S))

    def topic_configs(self, topics: list[str], timeout_s: float) -> tuple[TopicConfigs, list[str]]:
        return self.supervisor.call("topic_configs", topics, timeout_s, answer_within_s=timeout_s + 1 + HANG_GRACE_S)

    def read_records(self, topic: str, partition: int, position: Seek, **options: Any) -> ReadResult:
        budget = options.get("timeout_s") or self.config.request_timeout_s
        return self.supervisor.call(
            "read_records", topic, partition, position, answer_within_s=budget + HANG_GRACE_S, **options
        )

    def close(self) -> None:
        self.supervisor.close()
