"""One poll cycle: read a whole cluster into a ClusterSnapshot with a few batched admin calls.

Request discipline (see docs/architecture.md): metadata and watermarks are batched (list_offsets
goes out once per leader broker), per-group calls run concurrently with at most
`config.max_in_flight` futures pending, every call carries `request_timeout`, and every future is
resolved with its error recorded, so one bad group or topic never blanks the rest.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from kafka_admin.clients import error_text, make_admin
from kafka_admin.config import ClusterConfig
from kafka_admin.protocol.client import GroupProtocolClient, ListResult
from kafka_admin.snapshot.groups.base import Ends, GroupCycle, GroupReads, ListedGroup
from kafka_admin.snapshot.groups.listing import broker_listing, listed_groups
from kafka_admin.snapshot.groups.registry import GROUP_TYPES, GroupTypes
from kafka_admin.snapshot.model import Broker, ClusterSnapshot, Group, PartitionInfo, SnapshotError, Topic
from kafka_admin.snapshot.offsets_topic import OffsetsTopicReader
from kafka_admin.snapshot.record_times import RecordTimes

INTERNAL_TOPICS = frozenset({"__consumer_offsets", "__transaction_state", "__share_group_state"})
_OffsetFutures = dict[TopicPartition, Future]


def is_internal_topic(name: str) -> bool:
    """Kafka's own topics; the Metadata API's internal flag is not exposed by confluent-kafka."""
    return name in INTERNAL_TOPICS or name.startswith("__")


class SnapshotCollector:
    """Holds one AdminClient for a cluster and collects snapshots with it, cycle after cycle."""

    def __init__(self, config: ClusterConfig, group_types: GroupTypes = GROUP_TYPES) -> None:
        self.config = config
        self.group_types = group_types
        self._last_transport_error: str | None = None
        self._admin = make_admin(config, on_error=self._remember_error)
        self._replace_client = False
        self.protocol = GroupProtocolClient(config)
        self._offsets_reader: OffsetsTopicReader | None = None
        self.record_times = RecordTimes(config)
        self.memo: dict[str, Any] = {}  # kept across cycles for the group types' reads (GroupCycle.memo)

    def _remember_error(self, err: Any) -> None:
        self._last_transport_error = err.str() if hasattr(err, "str") else str(err)

    def collect(self) -> ClusterSnapshot:
        if self._replace_client:
            self._admin = make_admin(self.config, on_error=self._remember_error)
            self._replace_client = False
        snapshot = _Cycle(self.config, self._admin, self).run()
        # A new client after an unreachable cycle bootstraps afresh (the brokers may have moved):
        # librdkafka's own re-bootstrap is off (see ClusterConfig.client_config).
        self._replace_client = not snapshot.reachable
        return self.record_times.annotate(snapshot)  # exact time lag beyond the timeline

    def offsets_reader(self) -> OffsetsTopicReader:
        """The __consumer_offsets reader of the offsets-topic source, created on first use."""
        if self._offsets_reader is None:
            self._offsets_reader = OffsetsTopicReader(self.config)
        return self._offsets_reader

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
        self.protocol = owner.protocol
        self.group_types = owner.group_types
        self.memo = owner.memo
        self.timeout = config.request_timeout_s
        self.started_at = datetime.now(UTC)
        self.t0 = time.monotonic()
        self.deadline = self.t0 + config.cycle_timeout_s
        self.requests = 0
        self.errors: list[SnapshotError] = []

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
            **fields,
        )

    def run(self) -> ClusterSnapshot:
        self.requests += 1
        try:
            cluster = self.admin.describe_cluster(request_timeout=self.timeout).result()
        except Exception as exc:  # noqa: BLE001 - any failure here means "unreachable", said plainly
            return self.unreachable(exc)
        brokers = tuple(sorted((Broker(n.id, n.host, n.port, n.rack) for n in cluster.nodes), key=lambda b: b.id))
        controller_id = cluster.controller.id if cluster.controller is not None else None
        if self.config.offsets_source == "offsets-topic":
            self.offsets_reader()  # started (once) before the metadata reads: it catches up meanwhile

        self.requests += len(brokers) or 1
        groups_future = self.admin.list_consumer_groups(request_timeout=self.timeout)
        topics = self.read_topics()
        watermarks_start, watermarks_end = self.read_watermarks(topics)
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
        groups = self.read_groups(groups_future, watermarks_end, {b.id: (b.host, b.port) for b in brokers})
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
            self.error("watermarks", which, futures)
            return {}
        out: dict[tuple[str, int], int] = {}
        failed: dict[str, list[str]] = {}
        for tp, fut in futures.items():
            try:
                out[(tp.topic, tp.partition)] = fut.result(timeout=self.remaining()).offset
            except Exception as exc:  # noqa: BLE001 - recorded per partition
                failed.setdefault(error_text(exc), []).append(f"{tp.topic}/{tp.partition}")
        for message, names in failed.items():
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            self.error("partition", shown, f"{which} offset unavailable: {message}")
        return out

    def read_groups(self, listing_future: Future, ends: Ends, brokers: dict[int, tuple[str, int]]) -> tuple[Group, ...]:
        broker = broker_listing(self, brokers)
        try:
            listing = listing_future.result(timeout=self.remaining())
        except Exception as exc:  # noqa: BLE001 - recorded, the rest of the snapshot stands
            self.error("groups", "*", exc)
            if broker is None:
                return ()
            return read_listed(self, (), ends, broker)
        for exc in listing.errors:
            self.error("groups", "list", exc)
        return read_listed(self, listing.valid, ends, broker)


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
