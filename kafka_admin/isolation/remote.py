"""A BrokerSession in a supervised child, called like the one in-process (sessions.BrokerSession).

Each call's timeout is the work's own bound plus HANG_GRACE_S: the child keeps its deadlines (the
cycle timeout, each read's timeout), so running past them by that much means it is stuck, and the
supervisor kills it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kafka_admin.config import ClusterConfig
from kafka_admin.isolation.crash import Health
from kafka_admin.isolation.supervisor import Supervisor

if TYPE_CHECKING:  # the parent never loads librdkafka's modules for the child's sake
    from kafka_admin.records.read import ReadResult, Seek
    from kafka_admin.snapshot.model import ClusterSnapshot
    from kafka_admin.snapshot.topic_configs import TopicConfigs

BROKER_SESSION = "kafka_admin.isolation.sessions:BrokerSession"
HANG_GRACE_S = 5.0


class RemoteBroker:
    """The poller's broker reads, each one a call to the child; WorkerFailed when the child dies or hangs."""

    def __init__(self, config: ClusterConfig, session_path: str = BROKER_SESSION) -> None:
        self.config = config
        self.supervisor = Supervisor(f"collector of cluster {config.name}", session_path, (config,))

    @property
    def health(self) -> Health:
        return self.supervisor.health

    def collect(self) -> ClusterSnapshot:
        timeout = self.config.cycle_timeout_s + self.config.request_timeout_s + HANG_GRACE_S
        return self.supervisor.call("collect", answer_within_s=timeout)

    def topic_configs(self, topics: list[str], timeout_s: float) -> tuple[TopicConfigs, list[str]]:
        return self.supervisor.call("topic_configs", topics, timeout_s, answer_within_s=timeout_s + 1 + HANG_GRACE_S)

    def read_records(self, topic: str, partition: int, position: Seek, **options: Any) -> ReadResult:
        budget = options.get("timeout_s") or self.config.request_timeout_s
        return self.supervisor.call(
            "read_records", topic, partition, position, answer_within_s=budget + HANG_GRACE_S, **options
        )

    def close(self) -> None:
        self.supervisor.close()
