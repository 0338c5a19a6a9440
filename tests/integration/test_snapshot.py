"""collect_snapshot against the real broker, checked against Kafka's own kafka-consumer-groups."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import TopicPartition

from kafka_admin.config import ClusterConfig
from kafka_admin.snapshot.collect import collect_snapshot
from tests.kafka_support import commit_and_confirm, commit_consumed, free_port

pytestmark = pytest.mark.broker


def parse_describe_all(output: str, groups: set[str]) -> set[tuple]:
    """Rows of `kafka-consumer-groups --describe --all-groups` for the given groups, committed only."""
    rows = set()
    for line in output.splitlines():
        cols = line.split()
        if len(cols) != 9 or cols[0] not in groups or cols[3] == "-":
            continue
        group, topic, partition, current, end, lag = cols[:6]
        rows.add(
            (
                group,
                topic,
                int(partition),
                int(current),
                None if end == "-" else int(end),
                None if lag == "-" else int(lag),
            )
        )
    return rows


def snapshot_rows(snapshot, groups: set[str]) -> set[tuple]:
    return {
        (g.group_id, o.topic, o.partition, o.committed, o.end_offset, o.lag)
        for g in snapshot.groups
        if g.group_id in groups
        for o in g.offsets
    }


class TestTopicsAndWatermarks:
    def test_partition_metadata(self, kafka, broker):
        topic = kafka.create_topic(partitions=4)
        snap = collect_snapshot(broker.config())
        assert snap.reachable and snap.cluster_id
        [b] = snap.brokers
        assert (b.host, b.port) == ("127.0.0.1", broker.port)
        assert snap.controller_id == b.id
        t = snap.topic(topic)
        assert t is not None and not t.internal
        assert [p.partition for p in t.partitions] == [0, 1, 2, 3]
        assert all(p.leader == b.id and p.replicas == (b.id,) and p.isr == (b.id,) for p in t.partitions)

    def test_watermarks_after_producing_known_counts(self, kafka, broker):
        topic = kafka.create_topic(partitions=3)
        kafka.produce(topic, 5, partition=0)
        kafka.produce(topic, 12, partition=1)
        # Advance the log start of partition 1 past its first 4 records.
        futures = kafka.admin.delete_records([TopicPartition(topic, 1, 4)], request_timeout=20)
        for f in futures.values():
            f.result(timeout=20)
        t = collect_snapshot(broker.config()).topic(topic)
        assert [(p.start_offset, p.end_offset) for p in t.partitions] == [(0, 5), (4, 12), (0, 0)]
        assert [p.records for p in t.partitions] == [5, 8, 0]

    def test_internal_topics_are_flagged(self, kafka, broker):
        topic = kafka.create_topic(partitions=1)
        kafka.commit(kafka.unique("g-internal"), [(topic, 0, 0)])  # creates __consumer_offsets
        snap = collect_snapshot(broker.config())
        offsets_topic = snap.topic("__consumer_offsets")
        assert offsets_topic is not None and offsets_topic.internal


class TestGroupsMatchKafkaTool:
    def test_lag_equals_kafka_consumer_groups(self, kafka, broker):
        topic = kafka.create_topic(partitions=3)
        kafka.produce(topic, 10, partition=0)
        kafka.produce(topic, 20, partition=1)
        kafka.produce(topic, 5, partition=2)
        empty, partial, active = (kafka.unique(n) for n in ("empty", "partial", "active"))
        kafka.commit(empty, [(topic, 0, 4), (topic, 1, 20), (topic, 2, 0)])
        kafka.commit(partial, [(topic, 0, 7)])
        with kafka.live_consumer(active, [topic], **{"client.id": "active-client"}) as consumer:
            commit_and_confirm(consumer, [TopicPartition(topic, 0, 10), TopicPartition(topic, 1, 15)])
            snap = collect_snapshot(broker.config())
            tool_out = broker.tool("kafka-consumer-groups", "--describe", "--all-groups")

            groups = {empty, partial, active}
            ours = snapshot_rows(snap, groups)
            theirs = parse_describe_all(tool_out, groups)
            assert ours == theirs
            assert (empty, topic, 0, 4, 10, 6) in ours
            assert (partial, topic, 0, 7, 10, 3) in ours
            assert not any(r[0] == partial and r[2] != 0 for r in ours)  # uncommitted partitions have no lag row

            by_id = {g.group_id: g for g in snap.groups}
            assert by_id[empty].state == "Empty" and by_id[empty].members == ()
            assert by_id[empty].total_lag == 6 + 0 + 5
            assert by_id[active].state == "Stable"
            assert by_id[active].total_lag == 5
            [member] = by_id[active].members
            assert member.client_id == "active-client"
            assert {(a.topic, a.partition) for a in member.assignments} == {(topic, 0), (topic, 1), (topic, 2)}
            # the tool agrees on who owns the partition without a commit
            owner_rows = [ln.split() for ln in tool_out.splitlines() if ln.startswith(active)]
            assert {cols[6] for cols in owner_rows} == {member.member_id}

    def test_members_and_assignments_of_a_two_member_group(self, kafka, broker):
        topic = kafka.create_topic(partitions=4)
        group = kafka.unique("pair")
        with kafka.live_consumer(group, [topic], **{"client.id": "first"}):
            c2 = kafka.consumer(group, **{"client.id": "second"})
            c2.subscribe([topic])
            try:
                deadline = time.monotonic() + 30
                snap = None
                while time.monotonic() < deadline:
                    c2.poll(0.3)
                    snap = collect_snapshot(broker.config())
                    g = snap.group(group)
                    if g and g.state == "Stable" and len(g.members) == 2 and all(m.assignments for m in g.members):
                        break
                g = snap.group(group)
                assert len(g.members) == 2
                assert {m.client_id for m in g.members} == {"first", "second"}
                assigned = [(a.topic, a.partition) for m in g.members for a in m.assignments]
                assert sorted(assigned) == [(topic, p) for p in range(4)]
                assert g.type == "classic" and g.coordinator == snap.brokers[0].id
            finally:
                c2.close()

    def test_kip848_consumer_protocol_group(self, kafka, broker):
        topic = kafka.create_topic(partitions=2)
        kafka.produce(topic, 6, partition=0)
        group = kafka.unique("kip848")
        conf = {"group.protocol": "consumer", "session.timeout.ms": None, "heartbeat.interval.ms": None}
        c = kafka.consumer(group, **conf)
        c.subscribe([topic])
        try:
            consumed = kafka.consume(c, 6)
            assert len(consumed) == 6
            commit_consumed(c, consumed)
            g = collect_snapshot(broker.config()).group(group)
            assert g.type == "consumer"
            assert len(g.members) == 1
            assert {(o.partition, o.lag) for o in g.offsets} == {(0, 0)}
        finally:
            c.close()

    def test_deleted_topic_leaves_no_stale_lag(self, kafka, broker):
        """Kafka drops a deleted topic's committed offsets; the snapshot must not keep lag for it."""
        topic = kafka.create_topic(partitions=1)
        keep = kafka.create_topic(partitions=1)
        kafka.produce(topic, 3, partition=0)
        kafka.produce(keep, 4, partition=0)
        group = kafka.unique("orphan")
        kafka.commit(group, [(topic, 0, 1), (keep, 0, 1)])
        kafka.admin.delete_topics([topic], request_timeout=20)[topic].result(timeout=20)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            snap = collect_snapshot(broker.config())
            g = snap.group(group)
            if snap.topic(topic) is None and g is not None and all(o.topic != topic for o in g.offsets):
                break
            time.sleep(0.3)
        assert snap.reachable and snap.topic(topic) is None
        assert [(o.topic, o.committed, o.lag) for o in g.offsets] == [(keep, 1, 3)]
        assert g.total_lag == 3


class TestUnreachable:
    def test_unreachable_cluster_answers_within_timeout(self):
        config = ClusterConfig(
            name="nowhere", bootstrap_servers=f"127.0.0.1:{free_port()}", request_timeout_s=2, cycle_timeout_s=2
        )
        started = time.monotonic()
        snap = collect_snapshot(config)
        elapsed = time.monotonic() - started
        assert elapsed < 4
        assert not snap.reachable
        assert snap.brokers == () and snap.groups == ()
        [err] = snap.errors
        assert err.scope == "cluster"
        assert "unreachable" in err.message and config.bootstrap_servers in err.message

    def test_unresolvable_host(self):
        config = ClusterConfig(bootstrap_servers="no-such-host.invalid:9092", request_timeout_s=2, cycle_timeout_s=2)
        started = time.monotonic()
        snap = collect_snapshot(config)
        assert time.monotonic() - started < 4
        assert not snap.reachable
