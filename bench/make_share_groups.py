"""Make share groups one after another with real share consumers, in a process of its own
(confluent-kafka's preview ShareConsumer can crash its process: REFERENCE.md).

    python bench/make_share_groups.py BOOTSTRAP TOPIC PREFIX COUNT

Each group gets share.auto.offset.reset=earliest, then one ShareConsumer joins it, acknowledges
the first batch it is given, commits and leaves: the group stays, Empty, with share-partition state.
Prints "made N" at the end and exits 0.
"""

from __future__ import annotations

import sys
import time

from confluent_kafka import AcknowledgeType, ShareConsumer
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, ResourceType


def configure(bootstrap: str, groups: list[str]) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    entry = ConfigEntry("share.auto.offset.reset", "earliest", incremental_operation=AlterConfigOpType.SET)
    resources = [ConfigResource(ResourceType.GROUP, g, incremental_configs=[entry]) for g in groups]
    for future in admin.incremental_alter_configs(resources).values():
        future.result(timeout=60)


def make(bootstrap: str, topic: str, group: str) -> None:
    consumer = ShareConsumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "share.acknowledgement.mode": "explicit",
            "log_level": 3,
        }
    )
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            records = [m for m in consumer.poll(0.5) if m.error() is None]
            if records:
                for msg in records:
                    consumer.acknowledge(msg, AcknowledgeType.ACCEPT)
                consumer.commit_sync()
                return
        raise RuntimeError(f"share group {group}: no records in 60 s")
    finally:
        consumer.close()


def main(argv: list[str]) -> int:
    bootstrap, topic, prefix, count = argv[0], argv[1], argv[2], int(argv[3])
    groups = [f"{prefix}{i:03d}" for i in range(count)]
    configure(bootstrap, groups)
    for group in groups:
        make(bootstrap, topic, group)
    print(f"made {len(groups)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
