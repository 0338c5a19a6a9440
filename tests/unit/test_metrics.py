"""/metrics over hand-built snapshots in the store (no broker), read back with prometheus_client's parser."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from enum import Enum

import pytest
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.parser import text_string_to_metric_families

from dashboard import metrics
from dashboard.clusters import default_cluster
from dashboard.state import store
from dashboard.state.store import ClusterState
from kafka_admin.figures.status import LagStatus
from kafka_admin.figures.timelag import TimeLag
from kafka_admin.figures.tracker import ClusterFigures, FigureTracker
from kafka_admin.snapshot.model import Group
from tests.factories import later, snapshot, unreachable

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]

EXPORTER = {
    "kafka_brokers",
    "kafka_topic_partitions",
    "kafka_topic_partition_current_offset",
    "kafka_topic_partition_oldest_offset",
    "kafka_topic_partition_leader",
    "kafka_topic_partition_leader_is_preferred",
    "kafka_topic_partition_replicas",
    "kafka_topic_partition_in_sync_replica",
    "kafka_topic_partition_under_replicated_partition",
    "kafka_consumergroup_current_offset",
    "kafka_consumergroup_current_offset_sum",
    "kafka_consumergroup_lag",
    "kafka_consumergroup_lag_sum",
    "kafka_consumergroup_members",
}


def name() -> str:
    return default_cluster().name


Key = tuple[str, tuple[tuple[str, str], ...]]


def key(metric: str, **labels: str) -> Key:
    return metric, tuple(sorted(labels.items()))


def parse(body: str) -> dict[Key, float]:
    found: dict[Key, float] = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            k = key(s.name, **s.labels)
            assert k not in found, f"duplicate sample {k}"
            found[k] = s.value
    return found


def scrape(client, **headers) -> dict[Key, float]:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    return parse(response.content.decode())


def of(found: dict[Key, float], *names: str) -> dict[Key, float]:
    return {k: v for k, v in found.items() if k[0] in names}


def exporter_view(snap) -> dict[Key, float]:
    """What kafka_exporter would say about this snapshot, derived here independently of the code under test."""
    c = snap.cluster
    out: dict[Key, float] = {key("kafka_brokers", cluster=c): len(snap.brokers)}
    for t in snap.topics:
        out[key("kafka_topic_partitions", cluster=c, topic=t.name)] = len(t.partitions)
        for p in t.partitions:
            tp = {"cluster": c, "topic": t.name, "partition": str(p.partition)}
            if p.end_offset is not None:
                out[key("kafka_topic_partition_current_offset", **tp)] = p.end_offset
            if p.start_offset is not None:
                out[key("kafka_topic_partition_oldest_offset", **tp)] = p.start_offset
            out[key("kafka_topic_partition_leader", **tp)] = -1 if p.leader is None else p.leader
            out[key("kafka_topic_partition_leader_is_preferred", **tp)] = int(p.leader == p.replicas[0])
            out[key("kafka_topic_partition_replicas", **tp)] = len(p.replicas)
            out[key("kafka_topic_partition_in_sync_replica", **tp)] = len(p.isr)
            out[key("kafka_topic_partition_under_replicated_partition", **tp)] = int(len(p.isr) < len(p.replicas))
    for g in snap.groups:
        out[key("kafka_consumergroup_members", cluster=c, consumergroup=g.group_id)] = len(g.members)
        offsets, lags = defaultdict(int), {}
        for o in g.offsets:
            gp = {"cluster": c, "consumergroup": g.group_id, "topic": o.topic, "partition": str(o.partition)}
            out[key("kafka_consumergroup_current_offset", **gp)] = o.committed
            offsets[o.topic] += o.committed
            if o.lag is not None:
                out[key("kafka_consumergroup_lag", **gp)] = max(0, o.lag)
                lags[o.topic] = lags.get(o.topic, 0) + max(0, o.lag)
        for topic, total in offsets.items():
            out[key("kafka_consumergroup_current_offset_sum", cluster=c, consumergroup=g.group_id, topic=topic)] = total
        for topic, total in lags.items():
            out[key("kafka_consumergroup_lag_sum", cluster=c, consumergroup=g.group_id, topic=topic)] = total
    return out


def busy_cluster(cluster: str):
    """Three cycles 5 s apart: orders grows 20/s per partition, g1 follows 10 records behind on orders/0,
    g2 commits on a topic that does not exist (unknown lag) and ahead of the end offset (negative lag)."""
    tracker = FigureTracker()
    snap = figures = None
    for step in range(3):
        t = 5 * step
        snap = snapshot(
            at=later(t),
            cluster=cluster,
            ends={"orders": [100 + 100 * step, 100 + 100 * step, 50], "payments": [10], "orders-dlq": [3, 2]},
            groups={
                "g1": {("orders", 0): 90 + 100 * step, ("orders", 1): 100 + 100 * step, ("payments", 0): 5},
                "g2": {("orders", 2): 55, ("gone", 0): 3},
            },
            members={"g1": [("m-1", "client-a", [("orders", 0)]), ("m-2", "client-b", [("orders", 1)])]},
        )
        figures = tracker.update(snap)
    return snap, figures


class TestExporterCompatibility:
    def test_every_value_equals_the_snapshot(self, client):
        snap, figures = busy_cluster(name())
        store.save(snap, figures)
        found = scrape(client)
        assert of(found, *EXPORTER) == exporter_view(snap)

    def test_known_values_by_hand(self, client):
        snap, figures = busy_cluster(name())
        store.save(snap, figures)
        found = scrape(client)
        c = name()
        assert found[key("kafka_brokers", cluster=c)] == 1
        assert found[key("kafka_consumergroup_lag", cluster=c, consumergroup="g1", topic="orders", partition="0")] == 10
        assert found[key("kafka_consumergroup_lag", cluster=c, consumergroup="g1", topic="orders", partition="1")] == 0
        assert found[key("kafka_consumergroup_lag_sum", cluster=c, consumergroup="g1", topic="orders")] == 10
        assert found[key("kafka_consumergroup_lag_sum", cluster=c, consumergroup="g1", topic="payments")] == 5
        assert found[key("kafka_consumergroup_current_offset_sum", cluster=c, consumergroup="g1", topic="orders")] == (
            290 + 300
        )
        assert found[key("kafka_consumergroup_members", cluster=c, consumergroup="g1")] == 2
        assert found[key("kafka_consumergroup_members", cluster=c, consumergroup="g2")] == 0
        assert found[key("kafka_topic_partition_current_offset", cluster=c, topic="orders", partition="0")] == 300
        assert found[key("kafka_topic_partition_oldest_offset", cluster=c, topic="orders", partition="0")] == 0
        assert found[key("kafka_topic_partitions", cluster=c, topic="orders")] == 3

    def test_unknown_lag_is_absent_not_zero(self, client):
        snap, figures = busy_cluster(name())
        store.save(snap, figures)
        found = scrape(client)
        gone = {"cluster": name(), "consumergroup": "g2", "topic": "gone", "partition": "0"}
        assert found[key("kafka_consumergroup_current_offset", **gone)] == 3
        assert key("kafka_consumergroup_lag", **gone) not in found
        assert key("kafka_dashboard_consumergroup_lag_seconds", **gone) not in found
        assert key("kafka_consumergroup_lag_sum", cluster=name(), consumergroup="g2", topic="gone") not in found

    def test_negative_lag_is_reported_as_zero(self, client):
        snap, figures = busy_cluster(name())
        store.save(snap, figures)
        found = scrape(client)
        ahead = {"cluster": name(), "consumergroup": "g2", "topic": "orders", "partition": "2"}
        assert found[key("kafka_consumergroup_lag", **ahead)] == 0

    def test_each_family_once_with_help_and_type(self, client):
        store.save(snapshot(cluster=name()))
        body = client.get("/metrics").content.decode()
        types = [line.split()[2] for line in body.splitlines() if line.startswith("# TYPE ")]
        # + the collector restarts and the worker crashes counters
        assert len(types) == len(set(types)) == len(metrics.FAMILIES) + 2
        assert set(types) >= EXPORTER

    def test_collector_restarts_are_a_counter_by_cause(self, client):
        from datetime import UTC, datetime

        from kafka_admin.isolation.crash import Crash, Health

        cluster = name()
        store.save(snapshot(cluster=cluster))
        at = datetime.now(UTC)
        store.save_collector_health(cluster, Health().with_crash(Crash(at, "SIGABRT")).with_crash(Crash(at, "SIGABRT")))
        body = client.get("/metrics").content.decode()
        assert "# TYPE kafka_dashboard_collector_restarts_total counter" in body
        assert f'kafka_dashboard_collector_restarts_total{{cause="SIGABRT",cluster="{cluster}"}} 2.0' in body

    def test_worker_crashes_are_a_counter_by_kind_and_cause(self, client):
        from kafka_admin.isolation.counts import REPROCESS, WORKER_CRASHES

        store.save(snapshot(cluster=name()))
        before = WORKER_CRASHES.counts().get((REPROCESS, "SIGSEGV"), 0)
        WORKER_CRASHES.note(REPROCESS, "SIGSEGV")
        body = client.get("/metrics").content.decode()
        assert "# TYPE kafka_dashboard_worker_crashes_total counter" in body
        assert f'kafka_dashboard_worker_crashes_total{{cause="SIGSEGV",kind="reprocess"}} {before + 1}.0' in body

    def test_content_type_and_no_cache(self, client):
        store.save(snapshot(cluster=name()))
        response = client.get("/metrics")
        assert response["Content-Type"] == CONTENT_TYPE_LATEST
        assert response["Cache-Control"] == "no-store"


class TestDashboardFigures:
    def test_time_lag_rates_and_poller_figures(self, client):
        snap, figures = busy_cluster(name())
        store.save(snap, figures)
        found = scrape(client)
        c = name()
        g1 = figures.groups["g1"]
        seconds = of(found, "kafka_dashboard_consumergroup_lag_seconds")
        assert seconds == {
            key("kafka_dashboard_consumergroup_lag_seconds", cluster=c, consumergroup=gid, topic=t, partition=str(p)): (
                tl.seconds
            )
            for gid, gf in figures.groups.items()
            for (t, p), tl in gf.partition_time_lags.items()
            if tl.seconds is not None
        }
        behind = key(
            "kafka_dashboard_consumergroup_lag_seconds", cluster=c, consumergroup="g1", topic="orders", partition="0"
        )
        assert seconds[behind] == pytest.approx(0.5)  # 10 records at 20 records/s
        assert found[key("kafka_dashboard_consumergroup_lag_seconds_max", cluster=c, consumergroup="g1")] == (
            g1.time_lag.seconds
        )
        assert found[key("kafka_dashboard_consumergroup_commit_rate", cluster=c, consumergroup="g1")] == g1.commit_rate
        assert found[key("kafka_dashboard_topic_produce_rate", cluster=c, topic="orders")] == pytest.approx(40.0)
        assert found[key("kafka_dashboard_cluster_up", cluster=c)] == 1
        assert found[key("kafka_dashboard_cluster_unreachable_seconds", cluster=c)] == 0
        assert found[key("kafka_dashboard_snapshot_timestamp_seconds", cluster=c)] == snap.collected_at.timestamp()
        assert found[key("kafka_dashboard_snapshot_age_seconds", cluster=c)] > 0
        assert found[key("kafka_dashboard_poll_duration_seconds", cluster=c)] == snap.duration_ms / 1000
        assert found[key("kafka_dashboard_poll_requests", cluster=c)] == snap.requests
        assert found[key("kafka_dashboard_snapshot_errors", cluster=c)] == 0

    def test_dlq_waiting_from_the_index(self, client):
        # Nothing indexed yet: every record in the DLQ topic is waiting.
        snap, figures = busy_cluster(name())
        store.save(snap, figures)
        found = scrape(client)
        assert of(found, "kafka_dashboard_dlq_waiting") == {
            key("kafka_dashboard_dlq_waiting", cluster=name(), topic="orders-dlq"): 5
        }

    def test_stale_cluster_keeps_the_last_good_data(self, client):
        snap, figures = busy_cluster(name())
        store.save(snap, figures)
        store.save(unreachable(at=later(20), cluster=name()))
        store.save(unreachable(at=later(25), cluster=name()))
        found = scrape(client)
        assert found[key("kafka_dashboard_cluster_up", cluster=name())] == 0
        # Unreachable since the first failed cycle (T0 + 20 s), which is long ago.
        state = store.state(name())
        assert state.failure.since == later(20)
        assert found[key("kafka_dashboard_cluster_unreachable_seconds", cluster=name())] > 1000
        assert of(found, *EXPORTER) == exporter_view(snap)
        assert found[key("kafka_dashboard_snapshot_timestamp_seconds", cluster=name())] == snap.collected_at.timestamp()

    def test_before_the_first_snapshot(self, client):
        # the process-wide worker crash counter holds what other tests' children did: not this cluster's
        found = {k: v for k, v in scrape(client).items() if not k[0].startswith("kafka_dashboard_worker_crashes")}
        assert found == {
            key("kafka_dashboard_cluster_up", cluster=name()): 0,
            key("kafka_dashboard_cluster_unreachable_seconds", cluster=name()): 0,
            key("kafka_dashboard_poll_failures", cluster=name()): 0,
        }

    def test_snapshot_errors_counted(self):
        snap = replace(snapshot(), errors=unreachable().errors * 3)
        found = parse(metrics.render([metrics.ClusterMetrics(ClusterState("local", snap, None))]).decode())
        assert found[key("kafka_dashboard_snapshot_errors", cluster="local")] == 3


@dataclass
class StatusFigures:
    """A GroupFigures with the `status` the lag evaluation adds."""

    status: object
    time_lag: TimeLag = field(default_factory=lambda: TimeLag(None, False, "no history"))
    commit_rate: float | None = None
    partition_time_lags: dict = field(default_factory=dict)


class Level(Enum):
    STALL = "STALL"


@dataclass(frozen=True)
class GroupVerdict:
    """Like kafka_admin.figures.status.GroupStatus: the status in a `.status` field."""

    status: LagStatus
    reason: str = "no commit for 90 s"


class TestStatus:
    def render_with(self, **groups) -> dict[Key, float]:
        snap = snapshot(groups={gid: {("orders", 0): 1} for gid in groups})
        figures = ClusterFigures(0.0, {}, groups)
        return parse(metrics.render([metrics.ClusterMetrics(ClusterState("local", snap, None, figures))]).decode())

    def test_current_status_is_one(self):
        found = self.render_with(
            a=StatusFigures("WARN"),
            b=StatusFigures(Level.STALL),
            c=StatusFigures(None),
            d=StatusFigures(LagStatus.REWIND),
            e=StatusFigures(GroupVerdict(LagStatus.STOP)),
        )
        assert of(found, "kafka_dashboard_consumergroup_status") == {
            key("kafka_dashboard_consumergroup_status", cluster="local", consumergroup="a", status="WARN"): 1,
            key("kafka_dashboard_consumergroup_status", cluster="local", consumergroup="b", status="STALL"): 1,
            key("kafka_dashboard_consumergroup_status", cluster="local", consumergroup="d", status="REWIND"): 1,
            key("kafka_dashboard_consumergroup_status", cluster="local", consumergroup="e", status="STOP"): 1,
        }

    def test_tracker_status_is_exported_for_every_group(self, client):
        snap, figures = busy_cluster(name())
        store.save(snap, figures)
        exported = of(scrape(client), "kafka_dashboard_consumergroup_status")
        expected = {gid: str(f.status.status) for gid, f in figures.groups.items()}
        assert {dict(labels)["consumergroup"]: dict(labels)["status"] for _, labels in exported} == expected


class TestAccess:
    def test_open_without_token_and_without_login(self, client, settings):
        settings.METRICS_TOKEN = ""
        store.save(snapshot(cluster=name()))
        assert client.get("/metrics").status_code == 200

    def test_token_required_when_set(self, client, settings):
        settings.METRICS_TOKEN = "s3cret-token"
        store.save(snapshot(cluster=name()))
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer s3cret-tokenX"}).status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Basic s3cret-token"}).status_code == 401
        denied = client.get("/metrics")
        assert denied["WWW-Authenticate"].startswith("Bearer")
        assert b"kafka_" not in denied.content
        ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200 and b"kafka_brokers" in ok.content

    def test_get_only(self, client):
        assert client.post("/metrics").status_code == 405
        assert client.put("/metrics").status_code == 405

    def test_served_from_the_store_even_when_the_broker_is_gone(self, client):
        # The configured cluster has no broker (nothing listens on it in unit tests): a scrape that
        # talked to it would wait for the request timeout; one served from the store answers at once.
        store.save(snapshot(cluster=name()))
        started = time.monotonic()
        response = client.get("/metrics")
        assert response.status_code == 200 and b"kafka_brokers" in response.content
        assert time.monotonic() - started < default_cluster().request_timeout_s / 2

    def test_no_broker_addresses_or_secrets(self, client):
        store.save(snapshot(cluster=name()))
        body = client.get("/metrics").content
        config = default_cluster()
        assert b"127.0.0.1" not in body and b"9092" not in body
        assert config.bootstrap_servers.encode() not in body


HOSTILE = ['quote"d', "back\\slash", "new\nline", "grüße 🚀", '} x="1" {', "trailing\\", "a,b=c"]


class TestEscaping:
    def test_hostile_group_ids_round_trip(self, client):
        store.save(snapshot(cluster=name(), groups={gid: {("orders", 0): 7} for gid in HOSTILE}))
        found = scrape(client)
        lags = of(found, "kafka_consumergroup_lag")
        assert lags == {
            key("kafka_consumergroup_lag", cluster=name(), consumergroup=gid, topic="orders", partition="0"): 93
            for gid in HOSTILE
        }

    def test_fast_exposition_equals_generate_latest(self):
        snap = snapshot(
            ends={"orders": [100, 12_345_678_901], "payments": [999_999, 1_000_000]},
            groups={
                **{gid: {("orders", 0): 7, ("orders", 1): 5} for gid in HOSTILE},
                "big": {("payments", 0): 999_998, ("payments", 1): 1},
            },
        )
        tracker = FigureTracker()
        tracker.update(snapshot(at=later(-5), ends={"orders": [50, 12_345_678_000]}, groups={}))
        cm = [metrics.ClusterMetrics(ClusterState("local", snap, None, tracker.update(snap)), {"x-dlq": 4})]
        now = later(30)
        assert metrics.render(cm, now) == generate_latest(metrics.registry_for(cm, now))

    def test_fast_exposition_falls_back_for_other_types(self):
        class Other:
            def collect(self):
                counter = CounterMetricFamily("things", "Things.", labels=["a"])
                counter.add_metric(["x"], 3, created=1.5)
                yield counter
                yield HistogramMetricFamily("sizes", "Sizes.", buckets=[("1", 1), ("+Inf", 2)], sum_value=3)
                gauge = GaugeMetricFamily("g", "G.", labels=["b"])
                gauge.add_metric(["y"], 1.25, timestamp=10)
                yield gauge

        registry = CollectorRegistry(auto_describe=False)
        registry.register(Other())
        assert metrics.exposition(registry) == generate_latest(registry)


class TestScale:
    def test_thousand_groups_of_ten_partitions(self):
        groups, partitions = 1000, 10
        ends = {f"topic-{t}": [10_000] * partitions for t in range(100)}
        tracker = FigureTracker()
        for step in range(2):
            snap = snapshot(
                at=later(5 * step),
                ends={t: [e + 500 * step for e in parts] for t, parts in ends.items()},
                groups={
                    f"group-{g}": {(f"topic-{g % 100}", p): 9_000 + 400 * step for p in range(partitions)}
                    for g in range(groups)
                },
            )
            figures = tracker.update(snap)
        cm = [metrics.ClusterMetrics(ClusterState("local", snap, None, figures))]
        started = time.perf_counter()
        body = metrics.render(cm)
        elapsed = time.perf_counter() - started
        found = parse(body.decode())
        assert len(of(found, "kafka_consumergroup_lag")) == groups * partitions
        assert len(of(found, "kafka_dashboard_consumergroup_lag_seconds")) == groups * partitions
        assert elapsed < 5.0, f"rendering took {elapsed:.2f} s"


class TestPollFailures:
    def test_failed_cycles_are_counted(self, client):
        from tests.factories import unreachable

        store.save(snapshot(cluster=name()))
        store.save(unreachable(cluster=name()))
        store.save(unreachable(cluster=name()))
        found = scrape(client)
        assert found[key("kafka_dashboard_poll_failures", cluster=name())] == 2
        assert found[key("kafka_dashboard_cluster_up", cluster=name())] == 0


class TestEveryGroupType:
    def test_every_listed_group_has_an_info_sample_with_its_type_and_protocol(self, client):
        snap, figures = busy_cluster(name())
        snap = replace(
            snap,
            groups=(
                *snap.groups,
                Group("q", "Empty", "share", protocol="share"),
                Group("s", "NotReady", "streams", protocol="streams"),
                Group("odd", "Brewing", "cauldron", protocol="odd"),
                Group("old", "Stable", None),
            ),
        )
        store.save(snap, figures)
        info = of(scrape(client), "kafka_dashboard_group_info")
        c = name()

        def labels(g: str, t: str, p: str, s: str) -> Key:
            return key("kafka_dashboard_group_info", cluster=c, consumergroup=g, type=t, protocol=p, state=s)

        assert info[labels("q", "share", "share", "Empty")] == 1
        assert info[labels("s", "streams", "streams", "NotReady")] == 1
        assert info[labels("odd", "cauldron", "odd", "Brewing")] == 1
        assert info[labels("old", "unknown", "", "Stable")] == 1
        assert len(info) == len(snap.groups)
