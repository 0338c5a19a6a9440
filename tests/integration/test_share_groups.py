"""Share groups read from the real 4.3.1 broker with a real share consumer, compared with Kafka's
own `kafka-share-groups --describe --offsets` and `--members` (issue 16 §2)."""

from __future__ import annotations

import pytest

from kafka_admin.snapshot.collect import SnapshotCollector
from kafka_admin.snapshot.groups.share_limits import delivery_limits
from tests.share_support import set_group_configs, share_worker
from tests.waiting import wait_until

pytestmark = pytest.mark.broker


def tool_offsets(broker, group: str) -> dict[tuple[str, int], tuple[int | None, int | None]]:
    """(topic, partition) -> (start offset, lag) as kafka-share-groups prints them ("-": None)."""
    out = {}
    for line in broker.tool("kafka-share-groups", "--describe", "--group", group, "--offsets").splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[0] == group:
            start, lag = (None if v == "-" else int(v) for v in parts[3:5])
            out[(parts[1], int(parts[2]))] = (start, lag)
    return out


def tool_members(broker, group: str) -> dict[str, tuple[str, int]]:
    """member id -> (client id, number of partitions)."""
    out = {}
    for line in broker.tool("kafka-share-groups", "--describe", "--group", group, "--members").splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[0] == group:
            out[parts[1]] = (parts[3], int(parts[4]))
    return out


def ours(snap, group: str) -> dict[tuple[str, int], tuple[int | None, int | None]]:
    g = snap.group(group)
    return {(p.topic, p.partition): (p.start_offset, p.lag) for p in g.share_partitions} if g else {}


class TestShareGroupsMatchKafkasTools:
    def test_offsets_members_limit_and_status(self, kafka, broker):
        topic = kafka.create_topic(partitions=2)
        group = kafka.unique("share")
        set_group_configs(broker.bootstrap, group, share_auto_offset_reset="earliest", share_delivery_count_limit="3")
        kafka.produce(topic, 40)
        collector = SnapshotCollector(broker.config())
        try:
            # acknowledges 12 records, rejecting every 4th offset; then holds on, taking no more
            with share_worker(broker.bootstrap, group, topic, 12, reject_every=4):

                def agreed():
                    before = tool_offsets(broker, group)
                    snap = collector.collect()
                    after = tool_offsets(broker, group)
                    mine = ours(snap, group)
                    has_state = any(start is not None for start, _ in mine.values())
                    return (snap, mine) if has_state and before == mine == after else None

                snap, mine = wait_until(agreed, 90, "the snapshot and kafka-share-groups agree")
                members = tool_members(broker, group)
        finally:
            collector.close()
        g = snap.group(group)
        assert (g.type, g.protocol, g.state, g.delivery_count_limit) == ("share", "share", "Stable", 3)
        assert {m.member_id: (m.client_id, len(m.assignments)) for m in g.members} == members
        assert set(mine) == {(topic, 0), (topic, 1)}
        assert g.total_lag == sum(lag for _, lag in mine.values() if lag)
        ends = {(p.topic, p.partition): p.end_offset for p in g.share_partitions}
        assert ends == {(topic, 0): 20, (topic, 1): 20} or sum(ends.values()) == 40
        assert not [e for e in snap.errors if e.scope in ("group", "groups")], snap.errors


class TestDeliveryCountLimitIsReadOnceAMinute:
    def test_config_reads_are_counted(self, kafka, broker):
        topic = kafka.create_topic(partitions=1)
        first, second = kafka.unique("share-limit"), kafka.unique("share-limit")
        set_group_configs(broker.bootstrap, first, share_auto_offset_reset="earliest", share_delivery_count_limit="3")
        kafka.produce(topic, 4)
        with share_worker(broker.bootstrap, first, topic, 1):
            pass  # the group stays, Empty, once its member has left
        collector = SnapshotCollector(broker.config())
        try:
            snap = wait_until(lambda: (s := collector.collect()).group(first) and s, 30, "the share group listed")
            limits = delivery_limits(collector)
            assert snap.group(first).delivery_count_limit == 3 and limits.reads == 1
            set_group_configs(broker.bootstrap, first, share_delivery_count_limit="4")
            for _ in range(3):  # the next cycles within the minute ask nothing, and show the limit read
                assert collector.collect().group(first).delivery_count_limit == 3
            assert limits.reads == 1

            set_group_configs(broker.bootstrap, second, share_auto_offset_reset="earliest")
            with share_worker(broker.bootstrap, second, topic, 1):
                pass
            snap = wait_until(lambda: (s := collector.collect()).group(second) and s, 30, "the second share group")
            assert limits.reads == 2  # a group met for the first time is read at once: the broker's default
            assert snap.group(second).delivery_count_limit == 5 and snap.group(first).delivery_count_limit == 3

            real = limits.clock
            limits.clock = lambda: real() + 61  # a minute on
            assert collector.collect().group(first).delivery_count_limit == 4
            assert limits.reads == 3  # both groups in one DescribeConfigs
            assert collector.collect().group(first).delivery_count_limit == 4 and limits.reads == 3
        finally:
            collector.close()
