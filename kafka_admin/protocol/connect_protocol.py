"""Kafka Connect's group protocol: what a worker puts in its member metadata and what the leader
assigns it (connect-runtime's ConnectProtocol v0 and IncrementalCooperativeConnectProtocol v1/v2).

Both are a version (int16) and then a classic (non-flexible) struct, declared here as schema
fields like the broker messages. In a worker's assignment a connector's own instance is task -1.
"""

from __future__ import annotations

from typing import Any

from kafka_admin.protocol.schema import Field as F
from kafka_admin.protocol.schema import decode
from kafka_admin.protocol.wire import DecodeError, Reader

CONNECTOR_TASK = -1  # the connector instance itself, in a task list

_CONNECTOR_ASSIGNMENT = (F("Connector", "string"), F("Tasks", "[]int32"))

WORKER_STATE = (
    F("Url", "string"),
    F("ConfigOffset", "int64"),
    F("Allocation", "bytes", "1+", nullable="1+"),  # v1+: the previous assignment, not read here
)

ASSIGNMENT = (
    F("Error", "int16"),
    F("Leader", "string"),
    F("LeaderUrl", "string"),
    F("ConfigOffset", "int64"),
    F("Assignment", "[]", nullable="1+", fields=_CONNECTOR_ASSIGNMENT),
    F("Revoked", "[]", "1+", nullable="1+", fields=_CONNECTOR_ASSIGNMENT),
    F("ScheduledDelay", "int32", "1+", default=0),
)


def _versioned(fields: tuple[F, ...], data: bytes | None) -> dict[str, Any] | None:
    if not data:
        return None  # a member between rebalances has no assignment yet
    reader = Reader(data)
    version = reader.int("int16")
    if version < 0:
        raise DecodeError(f"Connect protocol version {version}")
    value = decode(fields, data[2:], version, flexible=False)
    value["version"] = version
    return value


def worker_state(metadata: bytes | None) -> dict[str, Any] | None:
    """url, config_offset of a worker's member metadata."""
    return _versioned(WORKER_STATE, metadata)


def assignment(data: bytes | None) -> dict[str, Any] | None:
    """leader, leader_url, config_offset, assignment [{connector, tasks}], revoked."""
    return _versioned(ASSIGNMENT, data)
