"""A real share consumer in a process of its own (confluent-kafka's preview ShareConsumer can crash
its process: REFERENCE.md), driven by the tests in test_share_groups.py and test_group_types.py.

    python -m tests.integration.share_worker BOOTSTRAP GROUP TOPIC COUNT [REJECT_EVERY] [RELEASE_EVERY]

Acknowledges explicitly: every REJECT_EVERY-th offset rejected, every RELEASE_EVERY-th released
(back to the group, to be delivered again), the rest accepted; prints "acked N" once COUNT records
were acknowledged and committed, then stays in the group, polling, until stdin closes.
"""

from __future__ import annotations

import select
import sys
import time

from confluent_kafka import AcknowledgeType, ShareConsumer


def main(argv: list[str]) -> int:
    bootstrap, group, topic, count = argv[0], argv[1], argv[2], int(argv[3])
    reject_every = int(argv[4]) if len(argv) > 4 else 0
    release_every = int(argv[5]) if len(argv) > 5 else 0
    consumer = ShareConsumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "client.id": f"share-worker-{group}",
            "share.acknowledgement.mode": "explicit",
            "log_level": 3,
        }
    )
    consumer.subscribe([topic])
    acked = 0
    released: set[tuple[int, int]] = set()
    deadline = time.monotonic() + 120
    while acked < count and time.monotonic() < deadline:
        records = list(consumer.poll(0.5))  # a batch: every record of it is acknowledged before the next poll
        for msg in records:
            if msg.error() is not None:
                continue
            key = (msg.partition(), msg.offset())
            if reject_every and msg.offset() % reject_every == 0:
                consumer.acknowledge(msg, AcknowledgeType.REJECT)
            elif release_every and msg.offset() % release_every == 0 and key not in released:
                released.add(key)  # once: the next delivery of it is accepted
                consumer.acknowledge(msg, AcknowledgeType.RELEASE)
                continue
            else:
                consumer.acknowledge(msg, AcknowledgeType.ACCEPT)
            acked += 1
        if records:
            consumer.commit_sync()
    print(f"acked {acked}", flush=True)
    # Stay a member (heartbeats ride on poll) without taking more records than asked for: a
    # record polled here would be acquired and change the figures the test compares.
    while not select.select([sys.stdin], [], [], 1.0)[0]:
        pass
    consumer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
