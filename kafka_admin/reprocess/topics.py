"""The target topics of a run: whether each exists and the largest record it takes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from confluent_kafka import KafkaError, KafkaException, TopicCollection
from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType

from kafka_admin.clients import error_text, make_admin
from kafka_admin.config import ClusterConfig
from kafka_admin.reprocess.errors import kafka_error

# The broker's default max.message.bytes, assumed until the target topics are known.
DEFAULT_MAX_MESSAGE_BYTES = 1_048_588


@dataclass(frozen=True)
class TopicInfo:
    exists: bool
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    error: str | None = None
    partitions: int = 0
    """How many partitions it has (0: unknown; records then go by key)."""


class TargetTopics:
    """Existence and max.message.bytes of target topics, asked once per run (describe_configs:
    unlike a metadata request, it never auto-creates a topic)."""

    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self.cache: dict[str, TopicInfo] = {}
        self._admin: AdminClient | None = None

    def lookup(self, names: Iterable[str]) -> dict[str, TopicInfo]:
        unknown = sorted({n for n in names if n not in self.cache})
        if unknown:
            if self._admin is None:
                self._admin = make_admin(self.config)
            futures = self._admin.describe_configs(
                [ConfigResource(ResourceType.TOPIC, n) for n in unknown], request_timeout=self.config.request_timeout_s
            )
            for resource, future in futures.items():
                self.cache[resource.name] = self._info(resource.name, future)
            self._count_partitions([n for n in unknown if self.cache[n].exists])
        return self.cache

    def _count_partitions(self, names: list[str]) -> None:
        """Partition counts by DescribeTopicPartitions (never auto-creates a topic); unknown (0) on
        any error: the records then go by key, as they would without an original partition."""
        if not names or self._admin is None:
            return
        try:
            futures = self._admin.describe_topics(TopicCollection(names), request_timeout=self.config.request_timeout_s)
            for name, future in futures.items():
                described = future.result(timeout=self.config.request_timeout_s * 2)
                self.cache[name] = replace(self.cache[name], partitions=len(described.partitions))
        except (KafkaException, TimeoutError, ValueError, TypeError):
            return

    def _info(self, name: str, future) -> TopicInfo:
        try:
            configs = future.result(timeout=self.config.request_timeout_s * 2)
        except KafkaException as exc:
            err = kafka_error(exc)
            if err is not None and err.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                return TopicInfo(exists=False)
            return TopicInfo(exists=False, error=f"could not describe target topic {name}: {error_text(exc)}")
        except TimeoutError as exc:  # the records to this topic fail, with the reason
            return TopicInfo(exists=False, error=f"could not describe target topic {name}: {error_text(exc)}")
        entry = configs.get("max.message.bytes")
        try:
            limit = int(entry.value) if entry is not None and entry.value is not None else DEFAULT_MAX_MESSAGE_BYTES
        except ValueError:
            limit = DEFAULT_MAX_MESSAGE_BYTES
        return TopicInfo(exists=True, max_message_bytes=limit)
