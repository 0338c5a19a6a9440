"""A group's description (state, coordinator, assignor, members) in one shape, whoever answered it:
the admin client's describe_consumer_groups, or the codec's batched DescribeGroups (classic) and
ConsumerGroupDescribe (KIP-848) answers. Pure: no broker here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kafka_admin.protocol.consumer_protocol import assigned_partitions
from kafka_admin.protocol.wire import DecodeError
from kafka_admin.snapshot.model import Member, TopicPartitionRef
from kafka_admin.snapshot.offsets_codec import ClassicMembers

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
    """From one group of a DescribeGroups answer (its error_code already checked)."""
    members = [
        (m["member_id"], m["client_id"], m["client_host"], m["group_instance_id"], m["member_assignment"])
        for m in answer["members"]
    ]
    return classic_description(answer["group_state"], answer["protocol_type"], answer["protocol_data"], members, node)


def classic_description(
    state: str | None,
    protocol_type: str,
    protocol: str | None,
    members: Iterable[tuple[str, str, str, str | None, bytes | None]],
    node: int | None,
) -> Description:
    """A classic group's description from what DescribeGroups names, or a GroupMetadata record holds:
    members as (member id, client id, client host, group instance id, assignment bytes).

    Members of the consumer protocol carry their partitions in the assignment bytes; other
    protocols' bytes are not the consumer protocol's and give no partitions.
    """
    consumer = protocol_type in ("consumer", "")
    out = []
    for member_id, client_id, host, instance_id, assignment in members:
        pairs: list[tuple[str, int]] = []
        if consumer:
            try:
                pairs = assigned_partitions(assignment)
            except DecodeError:
                pairs = []
        out.append(Member(member_id, client_id, host, _refs(pairs), instance_id))
    return Description(
        state=state or None,
        type="classic",
        coordinator=node,
        assignor=protocol or None,
        members=tuple(out),
    )


def from_group_record(state: str, record: ClassicMembers | None, leaders: Mapping[int, int]) -> Description | None:
    """What DescribeGroups says of a classic group the listing names Stable or Empty, from the
    group's latest GroupMetadata record (written when a rebalance completes, with every member's
    assignment) and the leader of the record's __consumer_offsets partition (the coordinator).

    None where the record cannot say it: no record, no known leader, another state, or a record
    that does not fit the state (a Stable group without members or protocol, an Empty one with
    members: the reader is behind the listing).
    """
    if record is None or (node := leaders.get(record.partition)) is None:
        return None
    if state == "Empty" and not record.members:
        return Description("Empty", "classic", node, None)
    if state == "Stable" and record.members and record.protocol:
        return classic_description(state, record.protocol_type, record.protocol, record.members, node)
    return None


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
