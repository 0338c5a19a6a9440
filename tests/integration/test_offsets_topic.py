"""The offsets-topic source against the real broker: the same offsets and lags as the admin path.

Each test seeds its own groups, then collects one snapshot per source and compares the rows of
those groups (other tests' groups on the shared broker are left out of the comparison).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from kafka_admin.clients import make_admin
from kafka_admin.snapshot.collect import SnapshotCollector, collect_snapshot
from kafka_admin.snapshot.groups.consumer_reads import CONSUMER_GROUP_READS
from kafka_admin.snapshot.groups.registry import GROUP_TYPES
from kafka_admin.snapshot.groups.streams_reads import STREAMS_GROUP_READS
from kafka_admin.snapshot.offsets_topic import OffsetsTopicReader
from kafka_admin.snapshot.request_stats import RequestStats
from tests.kafka_support import commit_and_confirm

pytestmark = pytest.mark.broker

KIP848 = {"group.protocol": "consumer", "session.timeout.ms": None, "heartbeat.interval.ms": None}


def rows(snapshot, groups: set[str]) -> set[tuple]:
    return {
        (g.group_id, o.topic, o.partition, o.committed, o.end_offset, o.lag)
        for g in snapshot.groups
        if g.group_id in groups
        for o in g.offsets
    }


def java_partition(group: str, partitions: int) -> int:
    """The __consumer_offsets partition of a group: abs(String.hashCode()) % partitions, as Kafka computes it."""
    h = 0
    for ch in group:  # ASCII names: one UTF-16 unit per character
        h = (31 * h + ord(ch)) & 0xFFFFFFFF
    h = h - (1 << 32) if h >= 1 << 31 else h
    return (0 if h == -(1 << 31) else abs(h)) % partitions


@pytest.fixture(scope="module", autouse=True)
def coordinators_loaded(kafka) -> None:
    """On a fresh broker the first commit creates __consumer_offsets and each partition's coordinator
    loads on its own: commit once per partition, retrying while it loads, before the tests commit."""
    topic = kafka.create_topic(partitions=1)
    ready: set[int] = set()
    count = None
    deadline = time.monotonic() + 60
    i = 0
    while count is None or len(ready) < count:
        assert time.monotonic() < deadline, f"group coordinators not loaded: {sorted(ready)} of {count}"
        group = f"warm-up-{i}"
        i += 1
        if count is not None and java_partition(group, count) in ready:
            continue
        try:
            kafka.commit(group, [(topic, 0, 0)])
        except KafkaException as exc:
            if exc.args[0].code() not in (KafkaError.COORDINATOR_LOAD_IN_PROGRESS, KafkaError.NOT_COORDINATOR):
                raise
            time.sleep(0.2)
            continue
        if count is None:
            count = len(
                kafka.admin.list_topics("__consumer_offsets", timeout=10).topics["__consumer_offsets"].partitions
            )
        ready.add(java_partition(group, count))


@pytest.fixture(scope="module")
def topic_collector(broker) -> Iterator[SnapshotCollector]:
    collector = SnapshotCollector(broker.config(offsets_source="offsets-topic"))
    yield collector
    collector.close()


def both(broker, topic_collector):
    """(admin snapshot, offsets-topic snapshot), collected back to back."""
    admin = collect_snapshot(broker.config(offsets_source="admin"))
    topic = topic_collector.collect()
    assert not [e for e in topic.errors if e.scope == "offsets"], topic.errors
    return admin, topic


def transactional_commit(kafka, group: str, topic: str, out: str, offset: int, *, commit: bool) -> None:
    """Consume-transform-produce: offsets sent inside a transaction, then committed or aborted."""
    consumer = kafka.consumer(group, **{"isolation.level": "read_committed"})
    producer = kafka.producer(**{"transactional.id": kafka.unique("tx")})
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        producer.init_transactions(30)
        producer.begin_transaction()
        producer.produce(out, b"transformed")
        producer.send_offsets_to_transaction([TopicPartition(topic, 0, offset)], consumer.consumer_group_metadata(), 30)
        if commit:
            producer.commit_transaction(30)
        else:
            producer.abort_transaction(30)
    finally:
        consumer.close()


class TestSameAsAdmin:
    def test_seeded_workloads(self, kafka, broker, topic_collector):
        topic = kafka.create_topic(partitions=3)
        out = kafka.create_topic(partitions=1)
        for p, n in enumerate((10, 20, 5)):
            kafka.produce(topic, n, partition=p)
        simple, live, txn, kip848, migrated = (kafka.unique(n) for n in ("simple", "live", "txn", "kip848", "migrated"))
        groups = {simple, live, txn, kip848, migrated}

        kafka.commit(simple, [(topic, 0, 4), (topic, 1, 20), (topic, 2, 0)])
        kafka.commit(simple, [(topic, 0, 6)])  # a later commit replaces the earlier one
        transactional_commit(kafka, txn, topic, out, 5, commit=True)
        transactional_commit(kafka, txn, topic, out, 9, commit=False)  # aborted: must not count
        # A classic group that later moves to the consumer protocol: the coordinator writes a group
        # metadata tombstone for the classic group and keeps its offsets.
        with kafka.live_consumer(migrated, [topic]) as c:
            commit_and_confirm(c, [TopicPartition(topic, 1, 11)])
        with kafka.live_consumer(migrated, [topic], **KIP848):
            pass

        with kafka.live_consumer(live, [topic]) as c1, kafka.live_consumer(kip848, [topic], **KIP848) as c2:
            commit_and_confirm(c1, [TopicPartition(topic, 0, 10), TopicPartition(topic, 1, 15)])
            commit_and_confirm(c2, [TopicPartition(topic, 2, 3)])
            admin, ours = both(broker, topic_collector)
            assert rows(ours, groups) == rows(admin, groups)
            by_id = {g.group_id: g for g in ours.groups}
            assert by_id[live].state == "Stable" and len(by_id[live].members) == 1
            assert by_id[kip848].type == "consumer" and len(by_id[kip848].members) == 1

        got = rows(ours, groups)
        assert {(t, p, c) for g, t, p, c, _, _ in got if g == simple} == {(topic, 0, 6), (topic, 1, 20), (topic, 2, 0)}
        assert {(p, c, lag) for g, _, p, c, _, lag in got if g == txn} == {(0, 5, 5)}
        assert {(p, c) for g, _, p, c, _, _ in got if g == migrated} == {(1, 11)}
        assert {(p, c, lag) for g, _, p, c, _, lag in got if g == live} == {(0, 10, 0), (1, 15, 5)}
        assert {(p, c, lag) for g, _, p, c, _, lag in got if g == kip848} == {(2, 3, 2)}
        # Every group of the cluster, not only the seeded ones, reads the same both ways.
        assert rows(ours, {g.group_id for g in admin.groups}) == rows(admin, {g.group_id for g in admin.groups})

    def test_requests_drop_by_more_than_one_per_group(self, kafka, broker, topic_collector):
        topic = kafka.create_topic(partitions=1)
        for i in range(5):
            kafka.commit(kafka.unique(f"req{i}"), [(topic, 0, 0)])
        admin, ours = both(broker, topic_collector)
        assert len(admin.groups) == len(ours.groups) >= 5
        # Consumer and streams groups' offsets come from one OffsetFetch each, which the offsets topic
        # answers instead, and their describes go many groups a request (only those that changed);
        # share and Connect groups that other tests left on the broker are read another way.
        by_offset_fetch = (CONSUMER_GROUP_READS, STREAMS_GROUP_READS)
        fetched = [g for g in admin.groups if GROUP_TYPES.group_type(g.type, g.protocol).reads in by_offset_fetch]
        assert len(fetched) >= 5
        assert admin.requests - ours.requests >= len(fetched)


class TestDeletion:
    def test_deleted_group_disappears(self, kafka, broker, topic_collector):
        topic = kafka.create_topic(partitions=2)
        kafka.produce(topic, 4, partition=0)
        group = kafka.unique("doomed")
        with kafka.live_consumer(group, [topic]) as c:  # a classic group: group metadata records too
            commit_and_confirm(c, [TopicPartition(topic, 0, 2), TopicPartition(topic, 1, 0)])
        _, ours = both(broker, topic_collector)
        reader = topic_collector.offsets_reader()
        assert reader.committed(group) == {(topic, 0): 2, (topic, 1): 0}
        assert group in reader.groups()

        kafka.admin.delete_consumer_groups([group], request_timeout=20)[group].result(timeout=20)
        admin, ours = both(broker, topic_collector)
        assert admin.group(group) is None and ours.group(group) is None
        assert reader.committed(group) == {}
        assert group not in reader.groups()

    def test_deleted_offsets_disappear(self, kafka, broker, topic_collector):
        """kafka-consumer-groups --delete-offsets writes offset tombstones, as offset expiry does."""
        gone, kept = kafka.create_topic(partitions=2), kafka.create_topic(partitions=1)
        kafka.produce(kept, 3, partition=0)
        group = kafka.unique("pruned")
        kafka.commit(group, [(gone, 0, 0), (gone, 1, 0), (kept, 0, 1)])
        both(broker, topic_collector)
        reader = topic_collector.offsets_reader()
        assert set(reader.committed(group)) == {(gone, 0), (gone, 1), (kept, 0)}

        broker.tool("kafka-consumer-groups", "--delete-offsets", "--group", group, "--topic", gone)
        admin, ours = both(broker, topic_collector)
        assert rows(ours, {group}) == rows(admin, {group}) == {(group, kept, 0, 1, 3, 2)}
        assert reader.committed(group) == {(kept, 0): 1}


class TestReader:
    def test_commits_arrive_as_they_happen(self, kafka, broker, topic_collector):
        topic = kafka.create_topic(partitions=1)
        group = kafka.unique("fresh")
        topic_collector.collect()
        reader = topic_collector.offsets_reader()
        kafka.commit(group, [(topic, 0, 0)])
        deadline = time.monotonic() + 10
        while reader.committed(group) != {(topic, 0): 0} and time.monotonic() < deadline:
            time.sleep(0.02)
        assert reader.committed(group) == {(topic, 0): 0}
        assert reader.commits(group)[(topic, 0)][1] > 0  # the commit timestamp
        stats = reader.stats
        assert stats["caught_up"] and stats["assigned"] and stats["records"] > 0 and stats["malformed"] == 0

    def test_start_up_end_offsets_are_read_per_leader_not_per_partition(self, kafka, broker):
        """Both ends of every partition in one ListOffsets per leader each (librdkafka counts them),
        the same catch-up target as reading them a partition at a time."""
        name = kafka.create_topic(kafka.unique("fake-offsets"), partitions=8)
        for p in range(8):
            kafka.produce(name, p, partition=p)  # 0+1+...+7 = 28 records to catch up on
        stats = RequestStats()
        admin = make_admin(broker.config(), **stats.overrides())
        admin.list_topics(timeout=20)  # connected: what follows is the reader's reads only
        before = stats.sent_after(time.monotonic(), 20, admin.poll)
        with (
            OffsetsTopicReader(broker.config(), topic=name, admin=lambda: admin) as batched,
            OffsetsTopicReader(broker.config(), topic=name) as single,
        ):
            assert batched.wait_caught_up(30) and single.wait_caught_up(30)
            sent = stats.sent_after(time.monotonic(), 20, admin.poll) - before
            assert (batched.watermark_reads, single.watermark_reads) == ("batched", "per partition")
            assert batched.progress() == single.progress() == (28, 28)
        assert 2 <= sent <= 4, sent  # 2 ListOffsets (+ a metadata lookup), against 16 a partition at a time

    def test_missing_topic_then_malformed_records(self, kafka, broker):
        """A topic that does not exist yet is an empty state (retried); garbage is counted, not fatal."""
        name = kafka.unique("fake-offsets")
        with OffsetsTopicReader(broker.config(), topic=name, retry_interval_s=0.3) as reader:
            assert reader.wait_caught_up(20)
            assert reader.stats["topic_absent"] and reader.groups() == set()
            kafka.create_topic(name, partitions=1)
            p = kafka.producer()
            good_key = b"\x00\x01" + b"\x00\x01g" + b"\x00\x01t" + b"\x00\x00\x00\x00"
            good_value = b"\x00\x00" + (7).to_bytes(8, "big") + b"\x00\x00" + (99).to_bytes(8, "big")
            p.produce(name, key=b"\x00", value=b"junk", partition=0)
            p.produce(name, key=good_key, value=b"\x00\x03\x01", partition=0)
            p.produce(name, key=good_key, value=good_value, partition=0)
            p.produce(name, key=b"\x00\x07" + b"\x00\x01g", value=b"x", partition=0)  # another record type
            assert p.flush(20) == 0
            assert reader.wait_for({0: 4}, 20)
            stats = reader.stats
            assert not stats["topic_absent"] and stats["assigned"]
            assert (stats["records"], stats["malformed"], stats["skipped"]) == (4, 2, 1)
            assert reader.committed("g") == {("t", 0): 7}

    def test_still_loading_is_an_offsets_error(self, kafka, broker, monkeypatch):
        topic = kafka.create_topic(partitions=1)
        group = kafka.unique("loading")
        kafka.commit(group, [(topic, 0, 0)])
        collector = SnapshotCollector(broker.config(offsets_source="offsets-topic"))
        try:
            reader = collector.offsets_reader()
            monkeypatch.setattr(reader, "wait_caught_up", lambda timeout: False)
            monkeypatch.setattr(reader, "progress", lambda: (250, 1000))
            snap = collector.collect()
        finally:
            collector.close()
        [err] = [e for e in snap.errors if e.scope == "offsets"]  # once, though two group types met it
        assert "still loading" in err.message and "250 of 1000" in err.message and "25%" in err.message
        g = snap.group(group)
        assert g is not None and g.offsets == ()  # no partial offsets, no wrong lags
        progress = snap.offsets_source  # what the status bar shows
        assert (progress.source, progress.read, progress.total) == ("offsets-topic", 250, 1000)
