"""/metrics: the latest snapshot in the Prometheus text format, served from the store.

Names and labels follow kafka_exporter (danielqsj/kafka_exporter), so Grafana dashboards built on
it keep working; every metric also carries a `cluster` label, because one dashboard watches several
clusters. The dashboard's own figures (time lag, status, DLQ backlog, the poller's health) are
prefixed `kafka_dashboard_`. docs/metrics.md lists every metric.

Nothing here talks to a broker: a scrape reads the store (and the DLQ index in the database), so
Prometheus adds no load on Kafka however often it scrapes. No secret reaches the output: no
bootstrap servers, no credentials, no broker host names.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.db import DatabaseError
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

from dashboard import metrics_gzip
from dashboard.clusters import cluster_names
from dashboard.dlq.service import summaries
from dashboard.metrics_lines import Chunks, kept, labels_text, status_name, value_text
from dashboard.state import store
from kafka_admin.figures.tracker import ClusterFigures
from kafka_admin.isolation.counts import WORKER_CRASHES
from kafka_admin.isolation.crash import Health
from kafka_admin.snapshot.model import Group, Topic

log = logging.getLogger(__name__)

LEGACY_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


@dataclass(frozen=True)
class ClusterMetrics:
    """Everything one cluster contributes to a scrape: its stored state and its DLQ backlog."""

    state: store.ClusterState
    dlq_waiting: dict[str, int] = field(default_factory=dict)
    collector: Health | None = None  # the poller's child restarts, when it ever crashed


# name -> (help, label names). The order here is the order of the output.
FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    # --- kafka_exporter compatible (plus the `cluster` label) --------------------------------------
    "kafka_brokers": ("Number of brokers in the Kafka cluster.", ()),
    "kafka_topic_partitions": ("Number of partitions of a topic.", ("topic",)),
    "kafka_topic_partition_current_offset": ("Log-end offset (high watermark) of a partition.", ("topic", "partition")),
    "kafka_topic_partition_oldest_offset": ("Log-start offset of a partition.", ("topic", "partition")),
    "kafka_topic_partition_leader": ("Leader broker id of a partition (-1 when offline).", ("topic", "partition")),
    "kafka_topic_partition_leader_is_preferred": (
        "1 when the partition's leader is its preferred (first) replica.",
        ("topic", "partition"),
    ),
    "kafka_topic_partition_replicas": ("Number of replicas of a partition.", ("topic", "partition")),
    "kafka_topic_partition_in_sync_replica": ("Number of in-sync replicas of a partition.", ("topic", "partition")),
    "kafka_topic_partition_under_replicated_partition": (
        "1 when a partition has fewer in-sync replicas than replicas.",
        ("topic", "partition"),
    ),
    "kafka_consumergroup_current_offset": (
        "Committed offset of a consumer group on a partition.",
        ("consumergroup", "topic", "partition"),
    ),
    "kafka_consumergroup_current_offset_sum": (
        "Sum of a consumer group's committed offsets over the partitions of a topic.",
        ("consumergroup", "topic"),
    ),
    "kafka_consumergroup_lag": (
        "Lag in records (log-end minus committed offset) of a group on a partition; absent when unknown.",
        ("consumergroup", "topic", "partition"),
    ),
    "kafka_consumergroup_lag_sum": (
        "Sum of the known lags of a group over the partitions of a topic.",
        ("consumergroup", "topic"),
    ),
    "kafka_consumergroup_members": ("Number of members of a consumer group.", ("consumergroup",)),
    "kafka_dashboard_consumergroup_partition_series": (
        "1 when the per-partition consumer group series are exported for the cluster, 0 when left out "
        "because it has more group-partitions than METRICS_PARTITION_SERIES_MAX.",
        (),
    ),
    # --- the dashboard's own ------------------------------------------------------------------------
    "kafka_dashboard_consumergroup_lag_seconds": (
        "Time lag: seconds between now and when the committed record was produced; absent when unknown.",
        ("consumergroup", "topic", "partition"),
    ),
    "kafka_dashboard_consumergroup_lag_seconds_max": (
        "Time lag of a consumer group: its worst partition's.",
        ("consumergroup",),
    ),
    "kafka_dashboard_consumergroup_commit_rate": (
        "Records per second committed by a consumer group.",
        ("consumergroup",),
    ),
    "kafka_dashboard_group_info": (
        "1 for every group the broker lists, of any type: its type, protocol type and state as labels.",
        ("consumergroup", "type", "protocol", "state"),
    ),
    "kafka_dashboard_consumergroup_status": (
        "Status of a consumer group's lag evaluation: 1 for its current status.",
        ("consumergroup", "status"),
    ),
    "kafka_dashboard_topic_produce_rate": ("Records per second produced to a topic.", ("topic",)),
    "kafka_dashboard_dlq_waiting": ("Records waiting in a dead letter topic.", ("topic",)),
    "kafka_dashboard_cluster_up": ("1 when the latest poll cycle reached the cluster, 0 otherwise.", ()),
    "kafka_dashboard_cluster_unreachable_seconds": (
        "Seconds since the cluster became unreachable (0 while reachable).",
        (),
    ),
    "kafka_dashboard_poll_failures": ("Poll cycles that could not reach the cluster (only ever grows).", ()),
    "kafka_dashboard_snapshot_age_seconds": ("Age of the exported snapshot in seconds.", ()),
    "kafka_dashboard_snapshot_timestamp_seconds": ("When the exported snapshot was collected (unix time).", ()),
    "kafka_dashboard_poll_duration_seconds": ("How long the poll cycle of the exported snapshot took.", ()),
    "kafka_dashboard_poll_requests": ("Kafka requests issued by the poll cycle of the exported snapshot.", ()),
    "kafka_dashboard_snapshot_errors": ("Items the poll cycle of the exported snapshot could not read.", ()),
}


RESTARTS = "kafka_dashboard_collector_restarts"  # a counter: exposed as RESTARTS + "_total"
RESTARTS_HELP = (
    "Restarts of the poller's collector child process, by cause (the signal, `exit N`, or `hung`), "
    "since its poller started."
)

CRASHES = "kafka_dashboard_worker_crashes"  # a counter of this process's broker-work children
CRASHES_HELP = (
    "Deaths of this server process's broker-work children by kind (collector, broker-action, "
    "record-reader, reprocess) and cause (the signal, `exit N`, or `hung`)."
)

Emit = Callable[[dict[str, str], float], None]


def _emitter(family: Metric) -> Emit:
    """Append a sample straight to a family: one Sample per value, none of add_metric's per-call zipping."""
    name, append = family.name, family.samples.append

    def emit(labels: dict[str, str], value: float) -> None:
        append(Sample(name, labels, value, None))

    return emit


class DashboardCollector(Collector):
    """A custom collector over stored cluster states: each family once, the samples of every cluster in it."""

    def __init__(self, clusters: Sequence[ClusterMetrics], now: datetime | None = None) -> None:
        self.clusters = clusters
        self.now = now

    def collect(self) -> Iterator[Metric]:
        families = {
            name: GaugeMetricFamily(name, text, labels=("cluster", *labels))
            for name, (text, labels) in FAMILIES.items()
        }
        emit = {name: _emitter(family) for name, family in families.items()}
        now = self.now or datetime.now(UTC)
        restarts = CounterMetricFamily(RESTARTS, RESTARTS_HELP, labels=("cluster", "cause"))
        for cluster in self.clusters:
            _cluster_samples(cluster, now, emit)
            if cluster.collector is not None:
                for cause, n in sorted(cluster.collector.restarts.items()):
                    restarts.samples.append(
                        Sample(RESTARTS + "_total", {"cluster": cluster.state.cluster, "cause": cause}, n, None)
                    )
        yield from families.values()
        yield restarts
        crashes = CounterMetricFamily(CRASHES, CRASHES_HELP, labels=("kind", "cause"))
        for (kind, cause), n in sorted(WORKER_CRASHES.counts().items()):
            crashes.samples.append(Sample(CRASHES + "_total", {"kind": kind, "cause": cause}, n, None))
        yield crashes


# The families that change between two cycles (time passes, the DLQ index moves): written per scrape.
PER_SCRAPE = (
    "kafka_dashboard_cluster_up",
    "kafka_dashboard_cluster_unreachable_seconds",
    "kafka_dashboard_poll_failures",
    "kafka_dashboard_snapshot_age_seconds",
    "kafka_dashboard_dlq_waiting",
)
PER_PARTITION = (
    "kafka_consumergroup_current_offset",
    "kafka_consumergroup_lag",
    "kafka_dashboard_consumergroup_lag_seconds",
)


def _cluster_samples(cm: ClusterMetrics, now: datetime, emit: dict[str, Emit]) -> None:
    _scrape_samples(cm, now, emit)
    if cm.state.snapshot is not None:
        _cycle_samples(cm.state, emit, partition_series_max())


def _scrape_samples(cm: ClusterMetrics, now: datetime, emit: dict[str, Emit]) -> None:
    state, snap = cm.state, cm.state.snapshot
    cl = {"cluster": state.cluster}
    emit["kafka_dashboard_cluster_up"](cl, 0 if state.stale or snap is None else 1)
    failure = state.failure
    emit["kafka_dashboard_cluster_unreachable_seconds"](cl, (now - failure.since).total_seconds() if failure else 0)
    emit["kafka_dashboard_poll_failures"](cl, store.failure_count(state.cluster))
    if snap is None:
        return
    emit["kafka_dashboard_snapshot_age_seconds"](cl, max(0.0, (now - snap.collected_at).total_seconds()))
    waiting = emit["kafka_dashboard_dlq_waiting"]
    for topic, n in sorted(cm.dlq_waiting.items()):
        waiting({"cluster": state.cluster, "topic": topic}, n)


def _cycle_samples(state: store.ClusterState, emit: dict[str, Emit], limit: int) -> None:
    """Everything taken from the snapshot and its figures alone: the same until the next cycle."""
    snap = state.snapshot
    assert snap is not None
    cl = {"cluster": state.cluster}
    emit["kafka_dashboard_snapshot_timestamp_seconds"](cl, snap.collected_at.timestamp())
    emit["kafka_dashboard_poll_duration_seconds"](cl, snap.duration_ms / 1000.0)
    emit["kafka_dashboard_poll_requests"](cl, snap.requests)
    emit["kafka_dashboard_snapshot_errors"](cl, len(snap.errors))
    emit["kafka_brokers"](cl, len(snap.brokers))
    rows = sum(len(g.offsets) for g in snap.groups)
    partitions = limit <= 0 or rows <= limit
    emit["kafka_dashboard_consumergroup_partition_series"](cl, 1 if partitions else 0)
    _topic_samples(state.cluster, snap.topics, state.figures, emit)
    if not partitions:
        emit = {**emit, **dict.fromkeys(PER_PARTITION, _drop)}
    _group_samples(state.cluster, snap.groups, state.figures, emit)


def _drop(labels: dict[str, str], value: float) -> None:
    """A per-partition sample left out (METRICS_PARTITION_SERIES_MAX)."""


def partition_series_max() -> int:
    """Group-partitions above which a cluster's per-partition group series are left out (0: never)."""
    return int(getattr(settings, "METRICS_PARTITION_SERIES_MAX", 0))


def _topic_samples(c: str, topics: Iterable[Topic], figures: ClusterFigures, emit: dict[str, Emit]) -> None:
    n_partitions = emit["kafka_topic_partitions"]
    produce_rate = emit["kafka_dashboard_topic_produce_rate"]
    current = emit["kafka_topic_partition_current_offset"]
    oldest = emit["kafka_topic_partition_oldest_offset"]
    leader = emit["kafka_topic_partition_leader"]
    preferred = emit["kafka_topic_partition_leader_is_preferred"]
    replicas = emit["kafka_topic_partition_replicas"]
    isr = emit["kafka_topic_partition_in_sync_replica"]
    under = emit["kafka_topic_partition_under_replicated_partition"]
    for t in topics:
        tl = {"cluster": c, "topic": t.name}
        n_partitions(tl, len(t.partitions))
        tf = figures.topics.get(t.name)
        if tf is not None and tf.produce_rate is not None:
            produce_rate(tl, tf.produce_rate)
        for p in t.partitions:
            # One labels dict per partition, shared by its samples (the exposition only reads it).
            pl = {"cluster": c, "topic": t.name, "partition": str(p.partition)}
            if p.end_offset is not None:
                current(pl, p.end_offset)
            if p.start_offset is not None:
                oldest(pl, p.start_offset)
            leader(pl, -1 if p.leader is None else p.leader)
            preferred(pl, 1 if p.leader is not None and p.replicas and p.replicas[0] == p.leader else 0)
            replicas(pl, len(p.replicas))
            isr(pl, len(p.isr))
            under(pl, 1 if p.under_replicated else 0)


def _group_samples(c: str, groups: Iterable[Group], figures: ClusterFigures, emit: dict[str, Emit]) -> None:
    members = emit["kafka_consumergroup_members"]
    current = emit["kafka_consumergroup_current_offset"]
    current_sum = emit["kafka_consumergroup_current_offset_sum"]
    lag = emit["kafka_consumergroup_lag"]
    lag_sum = emit["kafka_consumergroup_lag_sum"]
    lag_seconds = emit["kafka_dashboard_consumergroup_lag_seconds"]
    lag_seconds_max = emit["kafka_dashboard_consumergroup_lag_seconds_max"]
    commit_rate = emit["kafka_dashboard_consumergroup_commit_rate"]
    status_of = emit["kafka_dashboard_consumergroup_status"]
    info = emit["kafka_dashboard_group_info"]
    for g in groups:
        gid = g.group_id
        gl = {"cluster": c, "consumergroup": gid}
        # "unknown": no type named (a broker before 3.7); "" protocol: a group that only commits offsets
        info({**gl, "type": g.type or "unknown", "protocol": g.protocol or "", "state": g.state}, 1)
        members(gl, len(g.members))
        gf = figures.groups.get(gid)
        time_lags = gf.partition_time_lags if gf is not None else {}
        offset_sums: dict[str, int] = {}
        lag_sums: dict[str, int] = {}
        for o in g.offsets:
            pl = {"cluster": c, "consumergroup": gid, "topic": o.topic, "partition": str(o.partition)}
            current(pl, o.committed)
            offset_sums[o.topic] = offset_sums.get(o.topic, 0) + o.committed
            if o.lag is not None:
                # A negative lag (end offset read just before a newer commit) is a race, not a lead.
                value = max(0, o.lag)
                lag(pl, value)
                lag_sums[o.topic] = lag_sums.get(o.topic, 0) + value
            tl = time_lags.get((o.topic, o.partition))
            if tl is not None and tl.seconds is not None:
                lag_seconds(pl, tl.seconds)
        for topic, total in offset_sums.items():
            current_sum({"cluster": c, "consumergroup": gid, "topic": topic}, total)
        for topic, total in lag_sums.items():
            lag_sum({"cluster": c, "consumergroup": gid, "topic": topic}, total)
        if gf is None:
            continue
        if gf.time_lag.seconds is not None:
            lag_seconds_max(gl, gf.time_lag.seconds)
        if gf.commit_rate is not None:
            commit_rate(gl, gf.commit_rate)
        status = status_name(getattr(gf, "status", None))
        if status:
            status_of({**gl, "status": status}, 1)


def dlq_waiting(cluster: str) -> dict[str, int]:
    """Records waiting per DLQ topic, from the DLQ index; empty (and logged) when the database fails."""
    try:
        return {s.topic: s.waiting_total for s in summaries(cluster)}
    except DatabaseError:
        log.exception("metrics: DLQ summaries for %s unavailable", cluster)
        return {}


def gather(names: Iterable[str] | None = None) -> list[ClusterMetrics]:
    """The stored state of every configured cluster (never a broker call)."""
    chosen = cluster_names() if names is None else names
    return [ClusterMetrics(store.state(name), dlq_waiting(name), store.collector_health(name)) for name in chosen]


def registry_for(clusters: Sequence[ClusterMetrics], now: datetime | None = None) -> CollectorRegistry:
    """A fresh registry holding only our collector (never the global one: no double registration)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DashboardCollector(clusters, now))
    return registry


CycleFamily = tuple[store.ClusterState, str]  # one cluster's per-cycle lines of one family


def render(clusters: Sequence[ClusterMetrics], now: datetime | None = None) -> bytes:
    """The Prometheus text exposition of the given clusters' states, as generate_latest would write it.

    Per scrape only what changes between cycles is written (PER_SCRAPE, the counters); the rest of
    each cluster's text is rendered once per stored cycle and process (cycle_text) and reused, so a
    scrape costs a join, however many groups (docs/metrics.md; bench/RESULTS.md has the figures).
    """
    out: list[bytes] = []
    for part in segments(clusters, now):
        if isinstance(part, bytes):
            out.append(part)
        else:
            out.extend(cycle_text(part[0]).get(part[1], ()))
    return b"".join(out)


def segments(clusters: Sequence[ClusterMetrics], now: datetime | None = None) -> list[bytes | CycleFamily]:
    """render()'s text in order: the bytes written for this scrape, and where a cluster's per-cycle
    lines of a family go (metrics_gzip.py sends those compressed once per cycle)."""
    now = now or datetime.now(UTC)
    scrape: dict[str, list[tuple[dict[str, str], float]]] = {name: [] for name in PER_SCRAPE}
    emit = {name: samples.append for name, samples in scrape.items()}
    for cm in clusters:
        _scrape_samples(cm, now, _Appender(emit))
    with_cycle = [cm.state for cm in clusters if cm.state.snapshot is not None]
    out: list[bytes | CycleFamily] = []
    for name, (text, _) in FAMILIES.items():
        out.append(_header(name, text, "gauge"))
        if name in scrape:
            out.append(_lines(name, scrape[name]))
        else:
            out.extend((state, name) for state in with_cycle)
    restarts = [
        ({"cluster": cm.state.cluster, "cause": cause}, n)
        for cm in clusters
        if cm.collector is not None
        for cause, n in sorted(cm.collector.restarts.items())
    ]
    out.append(_header(RESTARTS + "_total", RESTARTS_HELP, "counter"))
    out.append(_lines(RESTARTS + "_total", restarts))
    crashes = [({"kind": kind, "cause": cause}, n) for (kind, cause), n in sorted(WORKER_CRASHES.counts().items())]
    out.append(_header(CRASHES + "_total", CRASHES_HELP, "counter"))
    out.append(_lines(CRASHES + "_total", crashes))
    return out


def cycle_text(state: store.ClusterState) -> dict[str, Chunks]:
    """A cluster's sample lines per family (byte chunks to join) for everything but PER_SCRAPE: once
    per stored cycle and process."""
    if state.snapshot is None:
        return {}
    limit = partition_series_max()
    return store.derived(state, ("metrics-text", limit), lambda s: _render_cycle(s, limit))


def prerender(state: store.ClusterState) -> None:
    """Render the cycle's text now (the poller, right after storing), when /metrics is scraped here."""
    if _scraped_at is not None and time.monotonic() - _scraped_at < PRERENDER_WHILE_SCRAPED_S:
        cycle_text(state)
        if metrics_gzip.asked_recently():
            metrics_gzip.cycle_members(state, cycle_text, partition_series_max())


PRERENDER_WHILE_SCRAPED_S = 600.0
_scraped_at: float | None = None  # when this process last served /metrics (time.monotonic())


def note_scraped() -> None:
    """This process serves /metrics: the poller renders each cycle's text ahead (prerender)."""
    global _scraped_at
    _scraped_at = time.monotonic()


def _render_cycle(state: store.ClusterState, limit: int) -> dict[str, Chunks]:
    """_cycle_samples's lines: the cycle's own few here, the groups' and topics' kept from the last
    cycle where they still hold (dashboard/metrics_lines.py)."""
    snap = state.snapshot
    assert snap is not None
    cl = {"cluster": state.cluster}
    partitions = limit <= 0 or sum(len(g.offsets) for g in snap.groups) <= limit
    own = {
        "kafka_dashboard_snapshot_timestamp_seconds": snap.collected_at.timestamp(),
        "kafka_dashboard_poll_duration_seconds": snap.duration_ms / 1000.0,
        "kafka_dashboard_poll_requests": snap.requests,
        "kafka_dashboard_snapshot_errors": len(snap.errors),
        "kafka_brokers": len(snap.brokers),
        "kafka_dashboard_consumergroup_partition_series": 1 if partitions else 0,
    }
    out = {name: (_lines(name, [(cl, value)]),) for name, value in own.items()}
    out.update(kept(state.cluster).render(snap, state.figures, partitions))
    return out


class _Appender(dict):
    """emit[name](labels, value) appending (labels, value) to that family's list."""

    def __init__(self, appends: dict[str, Callable[[tuple[dict[str, str], float]], None]]) -> None:
        super().__init__(
            {name: (lambda labels, value, a=append: a((labels, value))) for name, append in appends.items()}
        )


def _header(name: str, text: str, kind: str) -> bytes:
    doc = text.replace("\\", r"\\").replace("\n", r"\n")
    return f"# HELP {name} {doc}\n# TYPE {name} {kind}\n".encode()


def _lines(name: str, samples: Iterable[tuple[dict[str, str], float]]) -> bytes:
    """Sample lines; each labels dict's text is built once (partitions share one dict per partition)."""
    label_text: dict[int, tuple[dict[str, str], str]] = {}
    out = []
    for labels, value in samples:
        cached = label_text.get(id(labels))
        if cached is None or cached[0] is not labels:
            cached = label_text[id(labels)] = (labels, labels_text(labels) or "")
        out.append(f"{name}{cached[1]} {value_text(value)}\n")
    return "".join(out).encode("utf-8")


def exposition(registry: CollectorRegistry) -> bytes:
    """generate_latest(registry), byte for byte, with each shared labels dict rendered once.

    Our samples share one labels dict per partition, so its label text is built once and reused
    (docs/metrics.md has the timings). Anything this does not know (other metric types, timestamps,
    non-legacy names) goes to generate_latest itself; a unit test holds the two equal.
    """
    families = list(registry.collect())
    out: list[str] = []
    label_text: dict[int, tuple[dict[str, str], str | None]] = {}
    for family in families:
        name = family.name + ("_total" if family.type == "counter" else "")
        if family.type not in ("gauge", "counter") or not LEGACY_METRIC_NAME.fullmatch(name):
            return generate_latest(registry)
        doc = family.documentation.replace("\\", r"\\").replace("\n", r"\n")
        out.append(f"# HELP {name} {doc}\n# TYPE {name} {family.type}\n")
        for sample in family.samples:
            if sample.name != name or sample.timestamp is not None:
                return generate_latest(registry)
            labels = sample.labels
            cached = label_text.get(id(labels))
            if cached is None or cached[0] is not labels:
                cached = label_text[id(labels)] = (labels, labels_text(labels))
                if cached[1] is None:
                    return generate_latest(registry)
            value = sample.value  # a small int is written as repr(float(value)) would be, without the float
            text = (
                str(value) + ".0" if type(value) is int and -1_000_000 < value < 1_000_000 else floatToGoString(value)
            )
            out.append(f"{name}{cached[1]} {text}\n")
    return "".join(out).encode("utf-8")
