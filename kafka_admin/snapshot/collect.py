"""One poll cycle: read a whole cluster into a ClusterSnapshot with a few batched admin calls.

Request discipline (see docs/architecture.md): metadata and watermarks are batched (list_offsets
goes out once per leader broker), per-group calls run concurrently with at most
`config.max_in_flight` futures pending, every call carries `request_timeout`, and every future is
resolved with its error recorded, so one bad group or topic never blanks the rest.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from kafka_admin.clients import error_text, make_admin
from kafka_admin.config import ClusterConfig
from kafka_admin.protocol.client import GroupProtocolClient, ListResult
from kafka_admin.snapshot.groups.base import Ends, GroupCycle, GroupReads, ListedGroup
from kafka_admin.snapshot.groups.describe_cache import DescriptionCache
from kafka_admin.snapshot.groups.listing import broker_listing, listed_groups
from kafka_admin.snapshot.groups.registry import GROUP_TYPES, GroupTypes
from kafka_admin.snapshot.model import (
    Broker,
    ClusterSnapshot,
    Group,
    OffsetsSource,
    PartitionInfo,
    SnapshotError,
    Topic,
)
from kafka_admin.snapshot.offsets_topic import OFFSETS_TOPIC, OffsetsTopicReader
from kafka_admin.snapshot.record_times import RecordTimes
from kafka_admin.snapshot.request_stats import RequestStats

INTERNAL_TOPICS = frozenset({"__consumer_offsets", "__transaction_state", "__share_group_state"})
_OffsetFutures = dict[TopicPartition, Future]
PROBE_WAIT_S = 5.0  # auto source: how long a cycle waits to learn whether __consumer_offsets is readable
# librdkafka's codes for "no broker answered": end offsets lost to these mean the cluster went away.
_GONE = frozenset({KafkaError._TRANSPORT, KafkaError._TIMED_OUT, KafkaError._ALL_BROKERS_DOWN})
REPROBE_S = 600.0  # auto source: after a refusal, how long before the topic is tried again
# auto source, probe not answered yet: the admin source stands in up to this many listed groups.
# Beyond, a cycle reads group by group for minutes (~2 requests a group: 100,000 at 50,000 groups)
# where the reader, answering moments later, costs nothing: it waits for the reader instead.
ADMIN_STANDIN_MAX_GROUPS = 1_000


def is_internal_topic(name: str) -> bool:
    """Kafka's own topics; the Metadata API's internal flag is not exposed by confluent-kafka."""
    return name in INTERNAL_TOPICS or name.startswith("__")


def no_broker_answered(exc: BaseException) -> bool:
    """A librdkafka failure that says no broker answered (transport, time-out, all brokers down),
    not that one refused (an ACL, an unknown partition)."""
    err = exc.args[0] if isinstance(exc, KafkaException) and exc.args else None
    return isinstance(err, KafkaError) and err.code() in _GONE


class SnapshotCollector:
    """Holds one AdminClient for a cluster and collects snapshots with it, cycle after cycle."""

    def __init__(
        self,
        config: ClusterConfig,
        group_types: GroupTypes = GROUP_TYPES,
        *,
        count_requests: bool = False,
        catch_up_wait_s: float | None = None,
    ) -> None:
        """`count_requests`: librdkafka counts every request of the admin client and the offsets
        reader (requests_sent()), for benchmarks and tests. `catch_up_wait_s`: how long a cycle
        waits for the offsets reader's start-up catch-up before it returns a snapshot that shows
        the progress (None: the whole cycle budget, for one-shot commands that want full data)."""
        self.config = config
        self.catch_up_wait_s = catch_up_wait_s
        self.group_types = group_types
        self._last_transport_error: str | None = None
        self.admin_stats = RequestStats() if count_requests else None
        self.reader_stats = RequestStats() if count_requests else None
        self._admin = self._make_admin()
        self._replace_client = False
        self.protocol = GroupProtocolClient(config)
        self._offsets_reader: OffsetsTopicReader | None = None
        self.descriptions = DescriptionCache()
        self._refused: tuple[float, str] | None = None  # auto source: when and why the topic was refused
        self.probe_unanswered = False  # auto source: the last cycle's probe had no answer when it began
        self.record_times = RecordTimes(config)
        self.memo: dict[str, Any] = {}  # kept across cycles for the group types' reads (GroupCycle.memo)

    def _remember_error(self, err: Any) -> None:
        self._last_transport_error = err.str() if hasattr(err, "str") else str(err)

    def collect(self) -> ClusterSnapshot:
        if self._replace_client:
            self._admin = self._make_admin()
            self._replace_client = False
        snapshot = _Cycle(self.config, self._admin, self).run()
        # A new client after an unreachable cycle bootstraps afresh (the brokers may have moved):
        # librdkafka's own re-bootstrap is off (see ClusterConfig.client_config).
        self._replace_client = not snapshot.reachable
        return self.record_times.annotate(snapshot)  # exact time lag beyond the timeline

    def _make_admin(self) -> AdminClient:
        overrides = self.admin_stats.overrides() if self.admin_stats is not None else {}
        return make_admin(self.config, on_error=self._remember_error, **overrides)

    def offsets_reader(self) -> OffsetsTopicReader:
        """The __consumer_offsets reader of the offsets-topic source, created on first use."""
        if self._offsets_reader is None:
            overrides = self.reader_stats.overrides() if self.reader_stats is not None else None
            self._offsets_reader = OffsetsTopicReader(
                self.config, client_overrides=overrides, admin=lambda: self._admin
            )
        return self._offsets_reader

    def requests_sent(self, timeout: float = 5.0) -> dict[str, int]:
        """Requests sent so far, by client: librdkafka's counts as of now (count_requests=True), and
        the codec's own. The difference of two calls is what was sent in between."""
        if self.admin_stats is None or self.reader_stats is None:
            raise RuntimeError("the collector was made without count_requests")
        now = time.monotonic()
        out = {"admin": self.admin_stats.sent_after(now, timeout, self._admin.poll), "protocol": self.protocol.requests}
        out["reader"] = self.reader_stats.sent_after(now, timeout) if self._offsets_reader is not None else 0
        return out

    def requests_sent_by(self, timeout: float = 5.0) -> dict[str, int]:
        """requests_sent()'s admin and codec requests by "client:Type@node" (librdkafka's request
        types, the codec's message names): which of a cycle's requests go once per broker."""
        if self.admin_stats is None:
            raise RuntimeError("the collector was made without count_requests")
        _, by = self.admin_stats.counts_after(time.monotonic(), timeout, self._admin.poll)
        out = {f"admin:{kind}": n for kind, n in by.items()}
        out.update({f"protocol:{kind}": n for kind, n in self.protocol.sent.items()})
        return out

    def offsets_source(self, remaining: float) -> tuple[str, str | None]:
        """(the source this cycle uses, why the admin source stands in for the wanted one).

        auto: the offsets-topic source once its reader has read (a fetch answered); the admin
        source while the probe has no answer yet (standin_source may still pick the reader once
        the groups are listed; the reader keeps trying, later cycles look without waiting) and
        after a refusal (an ACL), which closes the reader: the topic is tried
        again after REPROBE_S. Only a new reader's first probe waits, PROBE_WAIT_S at most.
        """
        wanted = self.config.offsets_source
        if wanted != "auto":
            return wanted, None
        if self._refused is not None:
            at, why = self._refused
            if time.monotonic() - at < REPROBE_S:
                return "admin", why
            self._refused = None
        first = self._offsets_reader is None
        reader = self.offsets_reader()
        denied = reader.probe(min(PROBE_WAIT_S, remaining) if first else 0.0)
        self.probe_unanswered = denied is None and not reader.readable
        if denied is None:
            return ("offsets-topic", None) if reader.readable else ("admin", None)
        why = f"reading __consumer_offsets is not allowed ({denied}): committed offsets are read group by group"
        self._refused = (time.monotonic(), why)
        if self._offsets_reader is not None:
            self._offsets_reader.close()
            self._offsets_reader = None
        return "admin", why

    def standin_source(self, listed: int) -> str:
        """The source of a cycle whose probe had no answer when it began ("admin" stands in), now
        that `listed` groups are known: offsets-topic when the reader answered since or the cluster
        is too large for the admin source (ADMIN_STANDIN_MAX_GROUPS); else admin."""
        reader = self._offsets_reader
        if reader is None or reader.denied is not None:
            return "admin"
        if reader.readable or listed > ADMIN_STANDIN_MAX_GROUPS:
            return "offsets-topic"
        return "admin"

    def close(self) -> None:
        """Stop the offsets reader, if any, the time-lag reader and the codec's connections (the
        AdminClient needs no closing)."""
        self.record_times.close()
        self.protocol.close()
        if self._offsets_reader is not None:
            self._offsets_reader.close()
            self._offsets_reader = None

    @property
    def admin(self) -> AdminClient:
        """The shared client, for other batched reads of the same poller (topic configs)."""
        return self._admin


class _Cycle:
    """The state of one collection; thrown away afterwards."""

    def __init__(self, config: ClusterConfig, admin: AdminClient, owner: SnapshotCollector) -> None:
        self.config = config
        self.admin = admin
        self.owner = owner
        self.descriptions = owner.descriptions
        self.catch_up_wait_s = owner.catch_up_wait_s if owner.catch_up_wait_s is not None else config.cycle_timeout_s
        self.source_note: str | None = None
        self.standing_in = False  # auto source: "admin" only because the probe had no answer yet
        self.protocol = owner.protocol
        self.group_types = owner.group_types
        self.memo = owner.memo
        self.timeout = config.request_timeout_s
        self.started_at = datetime.now(UTC)
        self.t0 = time.monotonic()
        self.deadline = self.t0 + config.cycle_timeout_s
        self.requests = 0
        self.offsets_leaders: dict[int, int] = {}
        self.errors: list[SnapshotError] = []
        self.lost_to: BaseException | None = None  # the metadata or an end offset: no broker answered

    def error(self, scope: str, name: str, exc: BaseException | str) -> None:
        message = exc if isinstance(exc, str) else error_text(exc)
        error = SnapshotError(scope, name, message)
        if error not in self.errors:  # one cause met by two group types' reads is one problem
            self.errors.append(error)

    def remaining(self) -> float:
        return max(0.1, min(self.timeout, self.deadline - time.monotonic()))

    def offsets_reader(self) -> OffsetsTopicReader:
        return self.owner.offsets_reader()

    def finish(self, **fields: Any) -> ClusterSnapshot:
        return ClusterSnapshot(
            cluster=self.config.name,
            collected_at=self.started_at,
            duration_ms=(time.monotonic() - self.t0) * 1000,
            requests=self.requests,
            errors=tuple(self.errors),
            offsets_source=self.source_status() if fields.get("reachable") else None,
            **fields,
        )

    def source_status(self) -> OffsetsSource:
        if self.config.offsets_source != "offsets-topic":
            return OffsetsSource("admin", note=self.source_note)
        reader = self.offsets_reader()
        done, total = reader.progress()
        return OffsetsSource("offsets-topic", reader.caught_up, done, total)

    def resolve_source(self) -> None:
        """auto: this cycle reads committed offsets from the source the collector picks (probed)."""
        source, note = self.owner.offsets_source(self.remaining())
        self.standing_in = source == "admin" and self.owner.probe_unanswered
        if source != self.config.offsets_source:
            self.config = dataclasses.replace(self.config, offsets_source=source)
        if note is not None:
            self.source_note = note
            self.error("offsets", "__consumer_offsets", note)

    def run(self) -> ClusterSnapshot:
        self.requests += 1
        try:
            cluster = self.admin.describe_cluster(request_timeout=self.timeout).result()
        except Exception as exc:  # noqa: BLE001 - any failure here means "unreachable", said plainly
            return self.unreachable(exc)
        brokers = tuple(sorted((Broker(n.id, n.host, n.port, n.rack) for n in cluster.nodes), key=lambda b: b.id))
        controller_id = cluster.controller.id if cluster.controller is not None else None
        self.resolve_source()  # the reader starts (once) before the metadata reads: it catches up meanwhile
        if self.config.offsets_source == "offsets-topic":
            self.offsets_reader()

        topics = self.read_topics()
        offsets_topic = next((t for t in topics if t.name == OFFSETS_TOPIC), None)
        if offsets_topic is not None:
            self.offsets_leaders = {p.partition: p.leader for p in offsets_topic.partitions if p.leader is not None}
        watermarks_start, watermarks_end = self.read_watermarks(topics)
        if not watermarks_end and self.lost_to is not None:
            # The brokers went away after DescribeCluster: a snapshot without topics or without one
            # end offset would show every lag as unknown (0 in sums) over the last good data.
            return self.unreachable(self.lost_to)
        topics = tuple(
            Topic(
                name=t.name,
                internal=t.internal,
                partitions=tuple(
                    PartitionInfo(
                        p.partition,
                        p.leader,
                        p.replicas,
                        p.isr,
                        watermarks_start.get((t.name, p.partition)),
                        watermarks_end.get((t.name, p.partition)),
                    )
                    for p in t.partitions
                ),
            )
            for t in topics
        )
        groups = self.read_groups(watermarks_end, {b.id: (b.host, b.port) for b in brokers})
        return self.finish(
            reachable=True,
            cluster_id=cluster.cluster_id,
            controller_id=controller_id,
            brokers=brokers,
            topics=topics,
            groups=groups,
        )

    def unreachable(self, exc: BaseException) -> ClusterSnapshot:
        self.admin.poll(0)  # serve error_cb so the transport error (e.g. connection refused) is known
        reason = error_text(exc)
        transport = self.owner._last_transport_error
        if transport and transport not in reason:
            reason = f"{reason} ({transport})"
        self.error("cluster", self.config.name, f"cluster unreachable at {self.config.bootstrap_servers}: {reason}")
        return self.finish(reachable=False)

    def read_topics(self) -> tuple[Topic, ...]:
        self.requests += 1
        try:
            metadata = self.admin.list_topics(timeout=self.remaining())
        except KafkaException as exc:
            self.note_gone(exc, "topics")
            self.error("topics", "*", exc)
            return ()
        topics = []
        for name, tmeta in metadata.topics.items():
            if tmeta.error is not None:
                self.error("topic", name, tmeta.error.str())
            parts = []
            for pid, pmeta in sorted(tmeta.partitions.items()):
                if pmeta.error is not None and pmeta.leader < 0:
                    self.error("partition", f"{name}/{pid}", pmeta.error.str())
                leader = pmeta.leader if pmeta.leader >= 0 else None
                parts.append(PartitionInfo(pid, leader, tuple(pmeta.replicas), tuple(pmeta.isrs)))
            topics.append(Topic(name, is_internal_topic(name), tuple(parts)))
        return tuple(sorted(topics, key=lambda t: t.name))

    def read_watermarks(self, topics: Sequence[Topic]) -> tuple[dict[tuple[str, int], int], dict[tuple[str, int], int]]:
        """Earliest and latest offsets of every led partition: two batched list_offsets calls."""
        led = [(t.name, p.partition, p.leader) for t in topics for p in t.partitions if p.leader is not None]
        if not led:
            return {}, {}
        leaders = len({leader for _, _, leader in led})
        starts_f = self.list_offsets(led, OffsetSpec.earliest())
        ends_f = self.list_offsets(led, OffsetSpec.latest())
        self.requests += 2 * (leaders + 1)  # a metadata lookup, then one ListOffsets per leader
        return self.resolve_offsets(starts_f, "start"), self.resolve_offsets(ends_f, "end")

    def list_offsets(self, led: list[tuple[str, int, int]], spec: OffsetSpec) -> _OffsetFutures | Exception:
        try:
            return self.admin.list_offsets(
                {TopicPartition(topic, partition): spec for topic, partition, _ in led},
                request_timeout=self.remaining(),
            )
        except KafkaException as exc:
            return exc

    def resolve_offsets(self, futures: _OffsetFutures | Exception, which: str) -> dict[tuple[str, int], int]:
        if isinstance(futures, Exception):
            self.note_gone(futures, which)
            self.error("watermarks", which, futures)
            return {}
        out: dict[tuple[str, int], int] = {}
        failed: dict[str, list[str]] = {}
        for tp, fut in futures.items():
            try:
                out[(tp.topic, tp.partition)] = fut.result(timeout=self.remaining()).offset
            except Exception as exc:  # noqa: BLE001 - recorded per partition
                self.note_gone(exc, which)
                failed.setdefault(error_text(exc), []).append(f"{tp.topic}/{tp.partition}")
        for message, names in failed.items():
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            self.error("partition", shown, f"{which} offset unavailable: {message}")
        return out

    def note_gone(self, exc: BaseException, which: str) -> None:
        if which in ("end", "topics") and no_broker_answered(exc):
            self.lost_to = exc

    def read_groups(self, ends: Ends, brokers: dict[int, tuple[str, int]]) -> tuple[Group, ...]:
        """The codec's ListGroups v5 names every group of every type with the broker's spelling; the
        admin listing is asked only when the codec's is incomplete (an old broker, one that failed)."""
        broker = broker_listing(self, brokers)
        if broker is not None and not broker.errors and broker.version is not None and broker.version >= 5:
            self.settle_source(len(broker.groups))
            return read_listed(self, (), ends, broker)
        self.requests += len(brokers) or 1
        try:
            listing = self.admin.list_consumer_groups(request_timeout=self.timeout).result(timeout=self.remaining())
        except Exception as exc:  # noqa: BLE001 - recorded, the rest of the snapshot stands
            self.error("groups", "*", exc)
            if broker is None:
                return ()
            return read_listed(self, (), ends, broker)
        for exc in listing.errors:
            self.error("groups", "list", exc)
        self.settle_source(max(len(listing.valid), len(broker.groups) if broker is not None else 0))
        return read_listed(self, listing.valid, ends, broker)

    def settle_source(self, listed: int) -> None:
        """auto, probe unanswered at the start: the source for the committed offsets, now that the
        size is known (SnapshotCollector.standin_source)."""
        if not self.standing_in:
            return
        source = self.owner.standin_source(listed)
        if source != self.config.offsets_source:
            self.config = dataclasses.replace(self.config, offsets_source=source)


def read_listed(
    cycle: GroupCycle, listings: Iterable[Any], ends: Ends, broker: ListResult | None = None
) -> tuple[Group, ...]:
    """Every listed group (the admin listing joined with the codec's, groups/listing.py) read by its
    type's reads, sorted by id.

    One call per distinct reads (GroupType.reads) with all of its groups: types read alike share
    batches and the in-flight bound. The registry (cycle.group_types) knows the types; this does not.
    """
    batches: dict[GroupReads, list[ListedGroup]] = {}
    for group, gtype in listed_groups(cycle.group_types, listings, broker):
        batches.setdefault(gtype.reads, []).append(group)
    groups = [g for reads, batch in batches.items() for g in reads.read(cycle, batch, ends)]
    return tuple(sorted(groups, key=lambda g: g.group_id))


def collect_snapshot(config: ClusterConfig) -> ClusterSnapshot:
    """Collect one snapshot with a client of its own (the poller keeps a SnapshotCollector instead)."""
    collector = SnapshotCollector(config)
    try:
        return collector.collect()
    finally:
        collector.close()
