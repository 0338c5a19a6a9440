"""The broker reads a reset needs, each with request_timeout and a message a person can read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from kafka_admin.clients import error_text, make_admin
from kafka_admin.config import ClusterConfig
from kafka_admin.offset_reset.spec import TP, ReadFailed
from kafka_admin.protocol.client import GroupProtocolClient
from kafka_admin.snapshot.groups.registry import reset_refused, state_name


class ResetMember(NamedTuple):
    member_id: str
    client_id: str
    host: str


class GroupReader:
    """The broker reads of a plan: the group, the topic metadata, offsets per partition."""

    def __init__(self, config: ClusterConfig, admin: AdminClient | None = None) -> None:
        self.config = config
        self.timeout = config.request_timeout_s
        self.admin = admin if admin is not None else make_admin(config)

    def _wait(self, future: Any) -> Any:
        return future.result(timeout=self.timeout + 5)

    def group(self, group_id: str) -> tuple[str, str | None, tuple[ResetMember, ...], dict[TP, int]]:
        """state, type, members, committed offsets (only partitions with a committed offset)."""
        try:
            desc_f = self.admin.describe_consumer_groups([group_id], request_timeout=self.timeout)[group_id]
            offs_f = self.admin.list_consumer_group_offsets(
                [ConsumerGroupTopicPartitions(group_id)], request_timeout=self.timeout
            )[group_id]
            desc = self._wait(desc_f)
            offsets = self._wait(offs_f)
        except Exception as exc:  # noqa: BLE001 - Kafka errors, timeouts, local errors: a clear message
            raise ReadFailed(f"consumer group {group_id!r} could not be read: {error_text(exc)}") from None
        members = tuple(ResetMember(m.member_id, m.client_id, m.host) for m in desc.members or [])
        gtype = getattr(getattr(desc, "type", None), "name", None)
        committed = {
            (tp.topic, tp.partition): tp.offset
            for tp in offsets.topic_partitions or []
            if tp.error is None and tp.offset >= 0
        }
        return state_name(desc.state), gtype.lower() if gtype else None, members, committed

    def metadata(self) -> dict[str, int]:
        """topic -> partition count, from one Metadata request for all topics (never auto-creates)."""
        try:
            md = self.admin.list_topics(timeout=self.timeout)
        except KafkaException as exc:
            raise ReadFailed(f"the topic list could not be read: {error_text(exc)}") from None
        return {name: len(t.partitions) for name, t in md.topics.items() if t.error is None or t.partitions}

    def _list_offsets(self, tps: Sequence[TP], spec: OffsetSpec, what: str, errors: list[str]) -> dict[TP, int]:
        out: dict[TP, int] = {}
        try:
            futures = self.admin.list_offsets(
                {TopicPartition(t, p): spec for t, p in tps}, request_timeout=self.timeout
            )
        except KafkaException as exc:
            errors.append(f"{what} offsets could not be read: {error_text(exc)}")
            return out
        failed: dict[str, list[str]] = {}
        for tp, fut in futures.items():
            try:
                out[(tp.topic, tp.partition)] = self._wait(fut).offset
            except Exception as exc:  # noqa: BLE001 - every partition's error is reported, whatever it is
                failed.setdefault(error_text(exc), []).append(f"{tp.topic}/{tp.partition}")
        for message, names in failed.items():
            shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
            errors.append(f"{what} offsets of {shown} could not be read: {message}")
        return out

    def watermarks(self, tps: Sequence[TP], errors: list[str]) -> tuple[dict[TP, int], dict[TP, int]]:
        starts = self._list_offsets(tps, OffsetSpec.earliest(), "log-start", errors)
        ends = self._list_offsets(tps, OffsetSpec.latest(), "log-end", errors)
        return starts, ends

    def offsets_at(self, tps: Sequence[TP], timestamp_ms: int, errors: list[str]) -> dict[TP, int]:
        return self._list_offsets(tps, OffsetSpec.for_timestamp(timestamp_ms), "timestamp", errors)


def type_refusal(config: ClusterConfig) -> Any:
    """A function group id -> why its type gets no offset reset ("" when it may), from one ListGroups
    of every broker: the CLI has no snapshot to ask, and a streams or share group's offsets must not
    be written through the consumer-group API. A group no broker lists is left to Kafka's rules."""
    client = GroupProtocolClient(config)
    try:
        listed = client.list_groups(config.request_timeout_s)
    except Exception as exc:  # noqa: BLE001 - unreachable, refused, timed out: a clear message
        raise ReadFailed(f"the groups could not be listed: {error_text(exc)}") from None
    finally:
        client.close()
    if listed.errors and not listed.groups:
        raise ReadFailed("the groups could not be listed: " + "; ".join(listed.errors))
    by_id = {g.group_id: g for g in listed.groups}

    def refusal(group_id: str) -> str:
        g = by_id.get(group_id)
        return reset_refused(g.type, g.protocol_type or None) if g is not None else ""

    return refusal
