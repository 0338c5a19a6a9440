"""The classic consumer protocol's member assignment (clients' ConsumerProtocolAssignment v0-v3):
a version (int16), then the assigned partitions per topic and the assignor's user data.

DescribeGroups returns it as opaque bytes; librdkafka decodes it the same way for its describe.
"""

from __future__ import annotations

from kafka_admin.protocol.schema import Field as F
from kafka_admin.protocol.schema import decode
from kafka_admin.protocol.wire import DecodeError, Reader

ASSIGNMENT = (
    F("AssignedPartitions", "[]", fields=(F("Topic", "string"), F("Partitions", "[]int32"))),
    F("UserData", "bytes", nullable="0+"),
)


def assigned_partitions(data: bytes | None) -> list[tuple[str, int]]:
    """(topic, partition) of a member's assignment; empty between rebalances (no bytes yet)."""
    if not data:
        return []
    version = Reader(data).int("int16")
    if version < 0:
        raise DecodeError(f"consumer protocol version {version}")
    value = decode(ASSIGNMENT, data[2:], version, flexible=False)
    return [(t["topic"], p) for t in value["assigned_partitions"] or () for p in t["partitions"] or ()]
