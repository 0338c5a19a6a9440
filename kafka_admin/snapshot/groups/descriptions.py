"""A group's description (state, coordinator, assignor, members) in one shape, whoever answered it:
the admin client's describe_consumer_groups, or the codec's batched DescribeGroups (classic) and
ConsumerGroupDescribe (KIP-848) answers. Pure: no broker here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kafka_admin.protocol.consumer_protocol import assigned_partitions
from kafka_admin.protocol.wire import DecodeError
from kafka_admin.snapshot.model import Member, TopicPartitionRef

if TYPE_CHECKING:
    from kafka_admin.snapshot.groups.registry import GroupTypes


@dataclass(frozen=True, slots=True)
class Description:
    state: str | None  # Kafka's spelling; None: not named
    type: str | None  # the registry's type name; None: not said
    coordinator: int | None
    assignor: str | None
    members: tuple[Member, ...] = ()


def _refs(pairs: list[tuple[str, int]]) -> tuple[TopicPartitionRef, ...]:
    return tuple(TopicPartitionRef(t, p) for t, p in sorted(set(pairs)))


def from_admin(desc: Any, names: GroupTypes) -> Description:
    """From a confluent_kafka ConsumerGroupDescription."""
    members = tuple(
        Member(
            member_id=m.member_id,
            client_id=m.client_id,
            host=m.host,
            group_instance_id=m.group_instance_id,
            assignments=_refs([(tp.topic, tp.partition) for tp in (m.assignment.topic_partitions or [])]),
        )
        for m in desc.members
    )
    return Description(
        state=names.state_name(desc.state),
        type=names.type_name(getattr(desc, "type", None)),
        coordinator=desc.coordinator.id if desc.coordinator is not None else None,
        assignor=desc.partition_assignor or None,
        members=members,
    )


def from_describe_groups(answer: dict[str, Any], node: int | None) -> Description:
    """From one group of a DescribeGroups answer (its error_code already checked).

    Members of the consumer protocol carry their partitions in the assignment bytes; other
    protocols' bytes are not the consumer protocol's and give no partitions.
    """
    consumer = answer["protocol_type"] in ("consumer", "")
    members = []
    for m in answer["members"]:
        pairs: list[tuple[str, int]] = []
        if consumer:
            try:
                pairs = assigned_partitions(m["member_assignment"])
            except DecodeError:
                pairs = []
        members.append(Member(m["member_id"], m["client_id"], m["client_host"], _refs(pairs), m["group_instance_id"]))
    return Description(
        state=answer["group_state"] or None,
        type="classic",
        coordinator=node,
        assignor=answer["protocol_data"] or None,
        members=tuple(members),
    )


def from_consumer_describe(answer: dict[str, Any], node: int | None) -> Description:
    """From one group of a ConsumerGroupDescribe answer (its error_code already checked)."""
    members = []
    for m in answer["members"]:
        parts = (m["assignment"] or {}).get("topic_partitions") or []
        pairs = [(tp["topic_name"], p) for tp in parts for p in tp["partitions"] or ()]
        members.append(Member(m["member_id"], m["client_id"], m["client_host"], _refs(pairs), m["instance_id"]))
    return Description(
        state=answer["group_state"] or None,
        type="consumer",
        coordinator=node,
        assignor=answer["assignor_name"] or None,
        members=tuple(members),
    )
