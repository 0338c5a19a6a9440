"""Helpers of the tests on classic groups' members from their GroupMetadata records: live classic
consumers, what DescribeGroups says of a group and what a snapshot shows, in the same shape."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from confluent_kafka import Consumer

from kafka_admin.protocol.client import GroupProtocolClient
from kafka_admin.snapshot.collect import SnapshotCollector
from kafka_admin.snapshot.groups.descriptions import Description, from_describe_groups

CLASSIC = {"group.protocol": "classic", "partition.assignment.strategy": "range"}


def described(client: GroupProtocolClient, group: str) -> Description:
    """What DescribeGroups says of the group now, in the dashboard's shape."""
    found, failed = client.coordinators([group], 10)
    assert not failed, failed
    answers, failed = client.describe_groups([group], 10, (found, {}))
    assert not failed and not answers[0]["error_code"], (failed, answers)
    return from_describe_groups(answers[0], found[group])


def shown(snapshot, group: str) -> Description:
    """What the snapshot says of the group, in the same shape."""
    g = snapshot.group(group)
    assert g is not None, group
    return Description(g.state, g.type, g.coordinator, g.assignor, g.members)


def poll_until(consumers: Iterable[Consumer], done: Callable[[], bool], timeout: float = 60) -> None:
    """Serve the consumers' rebalances until `done()`."""
    consumers = list(consumers)
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "condition not reached"
        for c in consumers:
            c.poll(0.1)


def members_in_record(collector: SnapshotCollector, group: str) -> int | None:
    record = collector.offsets_reader().classic_members([group]).get(group)
    return None if record is None else len(record.members)


def cycle(collector: SnapshotCollector) -> tuple[object, int]:
    """One cycle: its snapshot and the DescribeGroups it sent."""
    before = collector.requests_sent_by()
    snapshot = collector.collect()
    after = collector.requests_sent_by()
    sent = sum(n - before.get(k, 0) for k, n in after.items() if k.startswith("protocol:DescribeGroups"))
    return snapshot, sent
