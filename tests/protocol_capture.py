"""Capture the codec's unit-test fixtures from a real broker (tests/unit/protocol_fixtures/).

    python -m tests.protocol_capture BOOTSTRAP SHARE_GROUP [STREAMS_GROUP [CONNECT_GROUP]]
    python -m tests.protocol_capture BOOTSTRAP --only NAME ...  (one group kind: keep the other files)

Writes one JSON file per response: the API, the version asked, the response body in hex (the
bytes after the response header), what it was captured from. The groups must exist (the share
group with a member, the streams group running) when it runs; tests/unit/test_protocol.py
decodes the files and checks what the broker said then.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from kafka_admin.config import ClusterConfig
from kafka_admin.protocol import messages as m
from kafka_admin.protocol.client import split_hostport
from kafka_admin.protocol.connection import Connection
from kafka_admin.protocol.schema import Message

OUT = Path(__file__).resolve().parent / "unit" / "protocol_fixtures"
SOURCE = "Apache Kafka 4.3.1, single-node KRaft broker started by scripts/kafka.sh"


def save(name: str, message: Message, version: int, body: bytes) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    record = {"api": message.name, "version": version, "source": SOURCE, "response_hex": body.hex()}
    (OUT / f"{name}.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"{name}: {message.name} v{version}, {len(body)} bytes")


def main(argv: list[str]) -> int:
    bootstrap, share = argv[0], argv[1]
    streams = argv[2] if len(argv) > 2 else None
    connect = argv[3] if len(argv) > 3 else None
    host, port = split_hostport(bootstrap)
    conn = Connection(ClusterConfig(bootstrap_servers=bootstrap), host, port, 10.0)
    calls: list[tuple[str, Message, int, dict]] = [
        ("api_versions_v3", m.API_VERSIONS, 3, {"client_software_name": "capture", "client_software_version": "1"}),
        ("api_versions_v0", m.API_VERSIONS, 0, {}),
        ("describe_cluster_v1", m.DESCRIBE_CLUSTER, 1, {}),
        ("list_groups_v5", m.LIST_GROUPS, 5, {}),
        ("list_groups_v3", m.LIST_GROUPS, 3, {}),
        ("find_coordinator_v6", m.FIND_COORDINATOR, 6, {"key_type": 0, "coordinator_keys": [share]}),
        ("share_group_describe_v1", m.SHARE_GROUP_DESCRIBE, 1, {"group_ids": [share, "no-such-group"]}),
        (
            "describe_share_group_offsets_v1",
            m.DESCRIBE_SHARE_GROUP_OFFSETS,
            1,
            {"groups": [{"group_id": share, "topics": None}]},
        ),
        (
            "describe_share_group_offsets_v0",
            m.DESCRIBE_SHARE_GROUP_OFFSETS,
            0,
            {"groups": [{"group_id": share, "topics": None}]},
        ),
        ("streams_group_describe_not_streams_v0", m.STREAMS_GROUP_DESCRIBE, 0, {"group_ids": [share]}),
    ]
    if streams:
        calls.append(("streams_group_describe_v0", m.STREAMS_GROUP_DESCRIBE, 0, {"group_ids": [streams]}))
    if connect:
        calls.append(("describe_groups_connect_v5", m.DESCRIBE_GROUPS, 5, {"groups": [connect]}))
    only = set(argv[argv.index("--only") + 1 :]) if "--only" in argv else None
    for name, message, version, values in calls:
        if only is not None and name not in only:
            continue
        save(name, message, version, conn.roundtrip(message, version, values))
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
