"""A steady-state cycle's requests follow the brokers and the groups that changed, not the groups.

Counted by librdkafka (statistics: every request of the admin client) plus the codec's own count;
the offsets reader's fetches are counted apart (they follow time, not cycles). On two brokers
(a cluster of the test's own) by request type and broker too.
"""

from __future__ import annotations

import time

import pytest

import kafka_admin.snapshot.collect as collect_module
from kafka_admin.protocol.client import GroupProtocolClient
from kafka_admin.snapshot.collect import SnapshotCollector
from tests.group_support import CLASSIC, cycle, described, members_in_record, poll_until, shown
from tests.kafka_support import BrokerPair, Kafka, seed_commits

N = 30
# A steady cycle without changed groups: ListOffsets (to each partition leader) and ListGroups (to
# each broker) go once per broker, Metadata once per cluster, plus a metadata refresh of
# librdkafka's own that may fall in the cycle.
PER_BROKER, PER_CLUSTER = 3, 3


def steady_cycle(collector: SnapshotCollector) -> tuple[dict[str, int], object]:
    """The requests one cycle sent, by client, after a cycle that took in whatever changed."""
    collector.collect()
    before = collector.requests_sent()
    snapshot = collector.collect()
    after = collector.requests_sent()
    return {k: after[k] - before[k] for k in ("admin", "protocol")}, snapshot


def seed(broker, kafka, topic: str, prefix: str, count: int) -> list[str]:
    groups = [f"{prefix}-{i}" for i in range(count)]
    seed_commits(broker.config(), {g: {topic: {0: i, 1: 2 * i}} for i, g in enumerate(groups)})
    kafka.commit(groups[-1], [(topic, 0, count - 1), (topic, 1, 2 * (count - 1))])  # read back: stored
    return groups


@pytest.fixture
def collector(broker):
    c = SnapshotCollector(broker.config(offsets_source="offsets-topic", time_lag_reads=0), count_requests=True)
    yield c
    c.close()


def test_unchanged_groups_cost_no_requests(kafka, broker, collector):
    topic = kafka.create_topic(partitions=2)
    prefix = kafka.unique("scale")
    seed(broker, kafka, topic, f"{prefix}-a", N)
    at_n, snap_n = steady_cycle(collector)
    assert {g.group_id for g in snap_n.groups} >= {f"{prefix}-a-{i}" for i in range(N)}
    assert collector.descriptions.described == 0  # nothing changed: nothing described again

    seed(broker, kafka, topic, f"{prefix}-b", 4 * N)  # 5N groups, all unchanged once taken in
    at_5n, snap_5n = steady_cycle(collector)
    ours = {g.group_id: g for g in snap_5n.groups if g.group_id.startswith(prefix)}
    assert len(ours) == 5 * N
    assert [(o.partition, o.committed) for o in ours[f"{prefix}-b-7"].offsets] == [(0, 7), (1, 14)]
    assert at_5n["protocol"] == at_n["protocol"]  # ListGroups, one per broker
    # librdkafka's own count: DescribeCluster, Metadata, ListOffsets, ListGroups (a metadata
    # refresh of its own may fall in either cycle).
    assert at_5n["admin"] <= at_n["admin"] + 1, (at_n, at_5n)


def test_a_changed_group_is_described_again(kafka, broker, collector):
    topic = kafka.create_topic(partitions=2)
    prefix = kafka.unique("changed")
    groups = seed(broker, kafka, topic, prefix, N)
    quiet, _ = steady_cycle(collector)
    with kafka.live_consumer(groups[3], [topic]):
        deadline = time.monotonic() + 30
        while True:  # until the group is seen stable with its member (records written, read, described)
            snapshot = collector.collect()
            group = snapshot.group(groups[3])
            if group is not None and group.state == "Stable" and group.members:
                break
            assert time.monotonic() < deadline, group
        assert group.members[0].assignments  # the partitions from the member's assignment bytes
        steady, _ = steady_cycle(collector)
        assert steady["protocol"] == quiet["protocol"]  # a stable group with a live member: no describe


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    brokers = BrokerPair.start(tmp_path_factory.mktemp("pair"))
    yield brokers
    brokers.down()


def steady_cycle_by_kind(collector: SnapshotCollector) -> tuple[dict[str, int], object]:
    """steady_cycle()'s requests by "client:Type@node"."""
    collector.collect()
    before = collector.requests_sent_by()
    snapshot = collector.collect()
    after = collector.requests_sent_by()
    return {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)}, snapshot


def test_on_two_brokers_requests_follow_the_brokers_not_the_groups(pair):
    kafka = Kafka(pair)
    topic = kafka.create_topic(partitions=2)
    leaders = {p.leader for p in kafka.admin.list_topics(topic, timeout=10).topics[topic].partitions.values()}
    assert leaders == {1, 2}  # replication factor 1, one partition on each broker
    prefix = kafka.unique("pair")
    small = seed(pair, kafka, topic, f"{prefix}-a", 10 * N)
    client = GroupProtocolClient(pair.config())
    try:
        found, _ = client.coordinators(small, 10)
    finally:
        client.close()
    assert set(found.values()) == {1, 2}  # __consumer_offsets on both: two group coordinators
    collector = SnapshotCollector(pair.config(offsets_source="offsets-topic", time_lag_reads=0), count_requests=True)
    try:
        at_n, _ = steady_cycle_by_kind(collector)
        seed(pair, kafka, topic, f"{prefix}-b", 90 * N)  # ten times the groups
        at_10n, snapshot = steady_cycle_by_kind(collector)
    finally:
        collector.close()
    assert len([g for g in snapshot.groups if g.group_id.startswith(prefix)]) == 100 * N
    for kinds in (at_n, at_10n):
        assert kinds["protocol:ListGroups@1"] == kinds["protocol:ListGroups@2"] == 1, kinds
        assert kinds["admin:ListOffsets@1"] and kinds["admin:ListOffsets@2"], kinds
        assert not any("Describe" in k and "Cluster" not in k for k in kinds), kinds  # nothing changed
        assert sum(kinds.values()) <= 2 * PER_BROKER + PER_CLUSTER, kinds
    assert sum(at_10n.values()) <= sum(at_n.values()) + 1, (at_n, at_10n)


def test_on_two_brokers_a_rebalanced_group_is_taken_from_its_record(pair):
    """Each group's coordinator is the leader of its record's partition: on either broker, the
    cycle after a rebalance describes nothing and shows what DescribeGroups says."""
    kafka = Kafka(pair)
    topic = kafka.create_topic(partitions=2)
    client = GroupProtocolClient(pair.config())
    collector = SnapshotCollector(pair.config(offsets_source="offsets-topic", time_lag_reads=0), count_requests=True)
    consumers: dict[str, list] = {}
    try:
        by_node: dict[int, list[str]] = {1: [], 2: []}
        deadline = time.monotonic() + 60
        while min(len(ids) for ids in by_node.values()) < 2:  # two groups at each coordinator
            assert time.monotonic() < deadline, by_node
            candidates = [kafka.unique("pair-rec") for _ in range(8)]
            found, _ = client.coordinators(candidates, 10)  # the first lookup creates the topic
            for gid, node in found.items():
                by_node[node].append(gid)
        groups = by_node[1][:2] + by_node[2][:2]
        for gid in groups:
            consumers[gid] = [kafka.consumer(gid, **CLASSIC, **{"client.id": f"{gid}-{n}"}) for n in range(2)]
            for c in consumers[gid]:
                c.subscribe([topic])
        every = [c for cs in consumers.values() for c in cs]
        poll_until(every, lambda: all(members_in_record(collector, g) == 2 for g in groups))
        collector.collect()  # new groups: described
        for gid in groups:
            consumers[gid].pop().close()
        every = [c for cs in consumers.values() for c in cs]
        poll_until(every, lambda: all(members_in_record(collector, g) == 1 for g in groups))
        snapshot, sent = cycle(collector)
        assert sent == 0
        assert collector.descriptions.from_records >= len(groups)
        for gid in groups:
            assert shown(snapshot, gid) == described(client, gid)
        assert {shown(snapshot, gid).coordinator for gid in groups} == {1, 2}
    finally:
        for cs in consumers.values():
            for c in cs:
                c.close()
        collector.close()
        client.close()


def test_an_unanswered_probe_on_a_large_cluster_waits_for_the_reader(kafka, broker, monkeypatch):
    """auto source, first cycle, no fetch answered yet: beyond ADMIN_STANDIN_MAX_GROUPS listed groups
    the admin source does not stand in (about two requests a group); the cycle waits for the reader,
    which gives the same offsets, with no OffsetFetch sent."""
    topic = kafka.create_topic(partitions=2)
    groups = seed(broker, kafka, topic, kafka.unique("standin"), 5)
    monkeypatch.setattr(collect_module, "PROBE_WAIT_S", 0.0)  # the probe cannot have an answer
    monkeypatch.setattr(collect_module, "ADMIN_STANDIN_MAX_GROUPS", 2)  # "large": more than 2 groups
    c = SnapshotCollector(broker.config(offsets_source="auto", time_lag_reads=0), count_requests=True)
    try:
        snapshot = c.collect()
        assert c.probe_unanswered, "the reader answered before the cycle began: nothing was exercised"
        assert snapshot.offsets_source is not None and snapshot.offsets_source.source == "offsets-topic"
        shown_groups = {g.group_id: g for g in snapshot.groups}
        assert [(o.partition, o.committed) for o in shown_groups[groups[3]].offsets] == [(0, 3), (1, 6)]
        fetches = {k: n for k, n in c.requests_sent_by().items() if "OffsetFetch" in k}
        assert not fetches, fetches
    finally:
        c.close()
