"""Classic groups' members from their GroupMetadata records (offsets-topic source), against the broker.

Real classic consumers join, get assignments and leave; a cycle after a completed rebalance takes
the group's members from its latest GroupMetadata record instead of describing it, and what it
shows is what DescribeGroups answers. A group caught mid-rebalance is still described.
"""

from __future__ import annotations

import time

import pytest

from kafka_admin.protocol.client import GroupProtocolClient
from kafka_admin.snapshot.collect import SnapshotCollector
from tests.group_support import CLASSIC, cycle, described, members_in_record, poll_until, shown

pytestmark = pytest.mark.broker


@pytest.fixture
def collector(broker):
    c = SnapshotCollector(broker.config(offsets_source="offsets-topic", time_lag_reads=0), count_requests=True)
    yield c
    c.close()


@pytest.fixture
def describer(broker):
    """A codec client of its own: DescribeGroups for the comparison, not counted as the collector's."""
    client = GroupProtocolClient(broker.config())
    yield client
    client.close()


def test_members_after_a_rebalance_come_from_the_record(kafka, collector, describer):
    topic = kafka.create_topic(partitions=4)
    group = kafka.unique("records")
    consumers = [kafka.consumer(group, **CLASSIC, **{"client.id": f"member-{n}"}) for n in "abc"]
    try:
        for c in consumers:
            c.subscribe([topic])
        poll_until(
            consumers,
            lambda: sum(len(c.assignment()) for c in consumers) == 4 and members_in_record(collector, group) == 3,
        )
        first = collector.collect()  # new to the cache: described
        assert shown(first, group).state == "Stable" and len(shown(first, group).members) == 3

        consumers.pop().close()  # leaves: a rebalance, then a record with two members
        poll_until(
            consumers,
            lambda: sum(len(c.assignment()) for c in consumers) == 4 and members_in_record(collector, group) == 2,
        )
        snapshot, sent = cycle(collector)
        assert sent == 0  # the stale group was taken from its record
        assert collector.descriptions.from_records >= 1
        mine = shown(snapshot, group)
        assert mine == described(describer, group)
        assert mine.state == "Stable" and mine.assignor == "range"
        assert sorted(m.client_id for m in mine.members) == ["member-a", "member-b"]
        assert sorted(r.partition for m in mine.members for r in m.assignments) == [0, 1, 2, 3]

        for c in consumers:  # the last members leave: an Empty group's record
            c.close()
        consumers = []
        deadline = time.monotonic() + 30
        while members_in_record(collector, group) != 0:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        snapshot, sent = cycle(collector)
        assert sent == 0
        assert shown(snapshot, group) == described(describer, group)
        assert shown(snapshot, group).state == "Empty" and not shown(snapshot, group).members
    finally:
        for c in consumers:
            c.close()


def test_a_group_mid_rebalance_is_described(kafka, collector, describer):
    topic = kafka.create_topic(partitions=2)
    group = kafka.unique("rebalancing")
    kafka.commit(group, [(topic, 0, 1)])
    collector.collect()  # an Empty group with offsets only, in the cache
    # The first member stops polling once it has its partitions: with rebalance callbacks librdkafka
    # rejoins only once poll() has served them, so a second member's join waits for it and the group
    # stays in PreparingRebalance (the first member's session kept by its heartbeats).
    slow = kafka.consumer(group, **CLASSIC, **{"session.timeout.ms": 30000, "max.poll.interval.ms": 60000})
    joining = kafka.consumer(group, **CLASSIC)
    try:
        slow.subscribe([topic], on_assign=lambda *_: None, on_revoke=lambda *_: None)
        poll_until([slow], lambda: len(slow.assignment()) == 2 and members_in_record(collector, group) == 1)
        joining.subscribe([topic])
        poll_until(
            [joining],
            lambda: kafka.admin.describe_consumer_groups([group])[group].result().state.name == "PREPARING_REBALANCING",
        )
        snapshot, sent = cycle(collector)  # its record came since, but the group is moving
        assert sent >= 1
        assert shown(snapshot, group).state == "PreparingRebalance"
        poll_until([slow, joining], lambda: members_in_record(collector, group) == 2)
    finally:
        joining.close()
        slow.close()
