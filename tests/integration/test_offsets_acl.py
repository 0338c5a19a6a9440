"""offsets_source "auto" against a broker that enforces ACLs (KRaft's StandardAuthorizer).

The dashboard's SASL user gets what a read-only monitoring user gets: Describe on the cluster,
Describe, Read and DescribeConfigs on the topics it monitors, Describe and Read on its groups (all
by the prefix `mon-`), and no Read on `__consumer_offsets`. The ACLs are set with kafka-acls over the
PLAINTEXT listener (ANONYMOUS is a super user); each change is waited for by what the dashboard's
user can then do, since ACLs reach the authorizer through the metadata log.

One broker for the module; every test states the `__consumer_offsets` ACLs it needs (OffsetsAcls),
so the tests hold in any order.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition
from confluent_kafka.admin import AdminClient
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils.html import escape

import kafka_admin.snapshot.collect as collect_module
from dashboard.clusters import configured_clusters
from dashboard.poller.loop import Poller
from kafka_admin.config import ClusterConfig
from kafka_admin.snapshot.collect import SnapshotCollector, collect_snapshot
from kafka_admin.snapshot.model import ClusterSnapshot
from kafka_admin.snapshot.offsets_topic import OFFSETS_TOPIC, READER_GROUP_ID
from tests.kafka_support import Kafka
from tests.sasl_support import AUTHORIZER_PROPERTIES, SaslBroker, set_sasl_cluster_env, start_sasl_broker
from tests.waiting import wait_until

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

USER, PASSWORD = "dash", "dash-acl-pw-27"
TIMEOUT_S = 3.0
# The first cycle probes (PROBE_WAIT_S at most), then reads the cluster: a few requests.
FIRST_CYCLE_MAX_S = collect_module.PROBE_WAIT_S + 5.0
LATER_CYCLE_MAX_S = 3.0  # no probe: a refused topic is not tried again before REPROBE_S
REFUSED = "Topic authorization failed"


@dataclass(frozen=True)
class Seeded:
    topic: str
    group: str
    offsets: frozenset[tuple[str, int, int, int, int]]  # (topic, partition, committed, end, lag)


class OffsetsAcls:
    """The dashboard user's ACLs on __consumer_offsets, changed only when a test needs another
    state, each change waited for by what the user can then do. The reader's group
    (READER_GROUP_ID) is never granted: reading does not need it."""

    def __init__(self, sasl: SaslBroker) -> None:
        self.sasl = sasl
        self.describe = self.read = False

    def ensure(self, *, describe: bool, read: bool) -> None:
        if describe != self.describe:
            self._acl(describe, "--topic", OFFSETS_TOPIC, "--operation", "Describe")
            wait_until(lambda: self.can_describe() == describe, 30, f"Describe on {OFFSETS_TOPIC} is {describe}")
            self.describe = describe
        if read != self.read:
            self._acl(read, "--topic", OFFSETS_TOPIC, "--operation", "Read")
            wait_until(lambda: self.can_read() == read, 30, f"Read on {OFFSETS_TOPIC} is {read}")
            self.read = read

    def _acl(self, add: bool, *what: str) -> None:
        action = ("--add",) if add else ("--remove", "--force")
        self.sasl.broker.tool("kafka-acls", *action, "--allow-principal", f"User:{USER}", *what)

    def can_describe(self) -> bool:
        admin = AdminClient(self.sasl.config(USER, PASSWORD).client_config())
        meta = admin.list_topics(OFFSETS_TOPIC, timeout=TIMEOUT_S).topics[OFFSETS_TOPIC]
        return meta.error is None

    def can_read(self) -> bool:
        """A fetch of partition 0 as the user: a record or the end means readable, a refusal not."""
        conf = self.sasl.config(USER, PASSWORD).client_config(
            **{"group.id": READER_GROUP_ID, "enable.partition.eof": True, "enable.auto.commit": False}
        )
        consumer = Consumer(conf)
        try:
            consumer.assign([TopicPartition(OFFSETS_TOPIC, 0, OFFSET_BEGINNING)])
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                msg = consumer.poll(0.2)
                if msg is None:
                    continue
                err = msg.error()
                if err is None or err.code() == KafkaError._PARTITION_EOF:
                    return True
                if err.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED:
                    return False
            raise TimeoutError(f"no fetch answer from {OFFSETS_TOPIC}")
        finally:
            consumer.close()


@pytest.fixture(scope="module")
def sasl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SaslBroker]:
    broker = start_sasl_broker(
        tmp_path_factory.mktemp("kafka-acl"), {"admin": "admin-acl-pw-18", USER: PASSWORD}, AUTHORIZER_PROPERTIES
    )
    try:
        grant = ("kafka-acls", "--add", "--allow-principal", f"User:{USER}")
        broker.broker.tool(*grant, "--cluster", "--operation", "Describe")
        prefixed = ("--resource-pattern-type", "prefixed")
        broker.broker.tool(
            *grant, "--topic", "mon-", *prefixed, "--operation", "Describe", "--operation", "Read",
            "--operation", "DescribeConfigs",
        )  # fmt: skip
        broker.broker.tool(*grant, "--group", "mon-", *prefixed, "--operation", "Describe", "--operation", "Read")
        yield broker
    finally:
        broker.down()


@pytest.fixture(scope="module")
def seeded(sasl: SaslBroker) -> Seeded:
    """A monitored topic with records and a group committed behind them, written over PLAINTEXT;
    returned once the dashboard's user reads that group's offsets (the grants have arrived)."""
    kafka = Kafka(sasl.broker)
    topic = kafka.create_topic(Kafka.unique("mon-orders"), partitions=2)
    kafka.produce(topic, 10, partition=0)
    kafka.produce(topic, 4, partition=1)
    group = Kafka.unique("mon-billing")
    kafka.commit(group, [(topic, 0, 7), (topic, 1, 4)])
    expected = frozenset({(topic, 0, 7, 10, 3), (topic, 1, 4, 4, 0)})
    admin_config = sasl.config(USER, PASSWORD, offsets_source="admin")
    wait_until(lambda: rows(collect_snapshot(admin_config), group) == expected, 60, "the user reads the group")
    return Seeded(topic, group, expected)


@pytest.fixture(scope="module")
def offsets_acls(sasl: SaslBroker, seeded: Seeded) -> Iterator[OffsetsAcls]:
    acls = OffsetsAcls(sasl)
    yield acls
    acls.ensure(describe=False, read=False)


def rows(snapshot: ClusterSnapshot, group: str) -> frozenset[tuple[str, int, int, int, int]] | None:
    g = snapshot.group(group)
    return None if g is None else frozenset((o.topic, o.partition, o.committed, o.end_offset, o.lag) for o in g.offsets)


def auto_config(sasl: SaslBroker) -> ClusterConfig:
    config = sasl.config(USER, PASSWORD, timeout_s=TIMEOUT_S)
    assert config.offsets_source == "auto"  # the default
    return config


def timed(collector: SnapshotCollector) -> tuple[ClusterSnapshot, float]:
    started = time.monotonic()
    snapshot = collector.collect()
    return snapshot, time.monotonic() - started


def assert_admin_fallback(snapshot: ClusterSnapshot, seeded: Seeded, how: str) -> str:
    """The snapshot used the admin source, says why, and has the seeded offsets; returns the note."""
    assert snapshot.reachable, snapshot.errors
    source = snapshot.offsets_source
    assert source is not None and source.source == "admin", source
    assert source.note is not None and source.note.startswith("reading __consumer_offsets is not allowed ("), source
    assert REFUSED in source.note and how in source.note, source.note
    assert source.note.endswith("committed offsets are read group by group"), source.note
    offsets_errors = [e for e in snapshot.errors if e.scope == "offsets"]
    assert [(e.name, e.message) for e in offsets_errors] == [(OFFSETS_TOPIC, source.note)], snapshot.errors
    assert rows(snapshot, seeded.group) == seeded.offsets
    assert snapshot.group(seeded.group).total_lag == 3
    return source.note


@pytest.mark.parametrize(
    "describe, how",
    [(False, "Broker: Topic authorization failed"), (True, "Fetch from broker 1 failed")],
    ids=["no-describe", "describe-without-read"],
)
def test_refused_offsets_topic_falls_back_to_admin(sasl, seeded, offsets_acls, describe, how):
    """No Describe: the metadata refuses the topic. Describe without Read: the first fetch does."""
    offsets_acls.ensure(describe=describe, read=False)
    collector = SnapshotCollector(auto_config(sasl))
    try:
        first, first_s = timed(collector)
        note = assert_admin_fallback(first, seeded, how)
        assert first_s < FIRST_CYCLE_MAX_S
        for _ in range(2):  # the refusal is remembered: no reader, no probe, the same note
            later, later_s = timed(collector)
            assert assert_admin_fallback(later, seeded, how) == note
            assert later_s < LATER_CYCLE_MAX_S
    finally:
        started = time.monotonic()
        collector.close()
        assert time.monotonic() - started < 5.0


def test_an_unanswered_probe_holds_no_cycle(sasl, seeded, offsets_acls, monkeypatch):
    """A probe that has no answer yet (PROBE_WAIT_S of 0: no fetch has come back) uses the admin
    source for that cycle instead of waiting for a reader that may be refused; the refusal, once
    the fetch brings it, is said as before."""
    offsets_acls.ensure(describe=True, read=False)
    monkeypatch.setattr(collect_module, "PROBE_WAIT_S", 0.0)
    collector = SnapshotCollector(auto_config(sasl))
    try:
        deadline = time.monotonic() + 30
        while True:
            snapshot, took = timed(collector)
            assert took < LATER_CYCLE_MAX_S
            assert rows(snapshot, seeded.group) == seeded.offsets
            assert snapshot.offsets_source is not None and snapshot.offsets_source.source == "admin"
            if snapshot.offsets_source.note is not None:
                break
            assert not [e for e in snapshot.errors if e.scope == "offsets"], snapshot.errors
            assert time.monotonic() < deadline, "the refusal never arrived"
        assert_admin_fallback(snapshot, seeded, "Fetch from broker 1 failed")
    finally:
        collector.close()


def test_the_fallback_reaches_the_pages_and_the_api(sasl, seeded, offsets_acls, monkeypatch, client):
    offsets_acls.ensure(describe=True, read=False)
    monkeypatch.delenv("KAFKA_CLUSTERS_FILE", raising=False)
    monkeypatch.setenv("KAFKA_CLUSTERS", "secure")
    set_sasl_cluster_env(monkeypatch, "secure", sasl.sasl_bootstrap, USER, PASSWORD, TIMEOUT_S)
    configured_clusters.cache_clear()
    cache.clear()
    poller = Poller(configured_clusters()["secure"], 1.0, isolated=False)
    try:
        snapshot = poller.cycle()
        assert snapshot is not None
        note = assert_admin_fallback(snapshot, seeded, "Fetch from broker 1 failed")
        client.force_login(get_user_model().objects.create_user("acl-viewer", password="pw-viewer-123"))

        page = client.get("/c/secure/").content.decode()
        assert 'data-testid="offsets-source-note"' in page
        assert f'title="{escape(note)}"' in page
        assert "committed offsets read group by group (__consumer_offsets not readable)" in page
        group_page = client.get(f"/c/secure/groups/{seeded.group}/").content.decode()
        assert 'data-testid="group-lag">3<' in group_page

        answer = client.get("/api/v1/clusters/secure/").json()
        assert {"scope": "offsets", "name": OFFSETS_TOPIC, "message": note} in answer["errors"]
        partitions = client.get(f"/api/v1/clusters/secure/groups/{seeded.group}/").json()["partitions"]
        assert {(p["partition"], p["committed"], p["end_offset"], p["lag"]) for p in partitions} == {
            (partition, committed, end, lag) for _, partition, committed, end, lag in seeded.offsets
        }
    finally:
        if poller.broker is not None:
            poller.broker.close()
        configured_clusters.cache_clear()
        cache.clear()


def test_granted_read_switches_to_the_offsets_topic_after_reprobe(sasl, seeded, offsets_acls, monkeypatch, caplog):
    offsets_acls.ensure(describe=True, read=False)
    collector = SnapshotCollector(auto_config(sasl))
    try:
        assert_admin_fallback(collector.collect(), seeded, "Fetch from broker 1 failed")
        offsets_acls.ensure(describe=True, read=True)  # not Describe on the reader's group: not needed
        # Not tried again before REPROBE_S has passed.
        assert_admin_fallback(collector.collect(), seeded, "Fetch from broker 1 failed")

        monkeypatch.setattr(collect_module, "REPROBE_S", 0.0)
        caplog.clear()
        switched, took = timed(collector)
        assert took < FIRST_CYCLE_MAX_S
        assert switched.reachable, switched.errors
        source = switched.offsets_source
        assert (source.source, source.caught_up, source.note) == ("offsets-topic", True, None), source
        assert source.total >= 1 and source.read == source.total
        assert not [e for e in switched.errors if e.scope == "offsets"], switched.errors
        assert rows(switched, seeded.group) == seeded.offsets
        reader = collector.offsets_reader()
        assert reader.committed(seeded.group) == {(seeded.topic, 0): 7, (seeded.topic, 1): 4}
        stats = reader.stats
        assert stats["errors"] == 0, stats["last_error"]
        # librdkafka's lookup of the reader's own group is refused (no ACL): one warning naming the
        # ACL to grant, and no reader error
        wait_until(lambda: reader.stats["group_denied"], 10, "the reader's group lookup is refused")
        hint = f"no Describe on the group {READER_GROUP_ID}"
        hints = [r.getMessage() for r in caplog.records if hint in r.getMessage()]
        assert len(hints) == 1 and "grant Describe on it" in hints[0], hints

        later, later_s = timed(collector)
        assert later.offsets_source.source == "offsets-topic" and later_s < LATER_CYCLE_MAX_S
        assert rows(later, seeded.group) == seeded.offsets

        # Read revoked while the reader runs: its next fetch is refused and the collector falls back.
        monkeypatch.setattr(collect_module, "REPROBE_S", 600.0)
        caplog.clear()
        offsets_acls.ensure(describe=True, read=False)
        deadline = time.monotonic() + 30
        while (back := collector.collect()).offsets_source.source != "admin":
            assert rows(back, seeded.group) == seeded.offsets  # the reader's last state, still right
            assert time.monotonic() < deadline, "the revoked Read was never noticed"
        assert_admin_fallback(back, seeded, "Fetch from broker 1 failed")
        reader_log = "kafka_admin.snapshot.offsets_topic"
        refusals = [r for r in caplog.records if r.name == reader_log and REFUSED in r.getMessage()]
        assert len(refusals) == 1, [r.getMessage() for r in refusals]  # one line, not one per partition and fetch
    finally:
        collector.close()


def test_offsets_topic_forced_on_a_refused_topic_says_so_at_once(sasl, seeded, offsets_acls):
    """offsets_source "offsets-topic" has no fallback: the groups have no offsets, the snapshot says
    why, and the cycle does not wait out its budget for a catch-up that cannot happen."""
    offsets_acls.ensure(describe=True, read=False)
    collector = SnapshotCollector(sasl.config(USER, PASSWORD, timeout_s=TIMEOUT_S, offsets_source="offsets-topic"))
    try:
        for _ in range(2):
            snapshot, took = timed(collector)
            assert took < FIRST_CYCLE_MAX_S
            [error] = [e for e in snapshot.errors if e.scope == "offsets"]
            assert error.message.startswith("reading __consumer_offsets is not allowed (Fetch from broker 1 failed")
            assert REFUSED in error.message
            assert rows(snapshot, seeded.group) == frozenset()
    finally:
        collector.close()
