"""The cluster snapshot: immutable plain data, the one shape every reader of broker state sees.

`to_dict()` is the stable JSON contract documented in docs/snapshot.md; `from_dict()` reads it back,
so a snapshot can travel through any cache or file as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kafka_admin.snapshot.connect_model import ConnectInfo, connect_from_dict, connect_to_dict
from kafka_admin.snapshot.streams_model import StreamsInfo, streams_from_dict, streams_to_dict


@dataclass(frozen=True, slots=True)
class Broker:
    id: int
    host: str
    port: int
    rack: str | None = None


@dataclass(frozen=True, slots=True)
class PartitionInfo:
    """One partition's placement and watermarks. Offsets are None when the broker did not say."""

    partition: int
    leader: int | None
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    start_offset: int | None = None
    end_offset: int | None = None

    @property
    def offline(self) -> bool:
        return self.leader is None

    @property
    def under_replicated(self) -> bool:
        return len(self.isr) < len(self.replicas)

    @property
    def records(self) -> int | None:
        if self.start_offset is None or self.end_offset is None:
            return None
        return max(0, self.end_offset - self.start_offset)


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    internal: bool
    partitions: tuple[PartitionInfo, ...]

    @property
    def replication_factor(self) -> int:
        return max((len(p.replicas) for p in self.partitions), default=0)

    @property
    def records(self) -> int:
        return sum(p.records or 0 for p in self.partitions)

    @property
    def end_offset_sum(self) -> int:
        return sum(p.end_offset or 0 for p in self.partitions)


@dataclass(frozen=True, slots=True)
class TopicPartitionRef:
    topic: str
    partition: int


@dataclass(frozen=True, slots=True)
class Member:
    member_id: str
    client_id: str
    host: str
    assignments: tuple[TopicPartitionRef, ...] = ()
    group_instance_id: str | None = None


def partition_lag(committed: int | None, end_offset: int | None) -> int | None:
    """Lag as Kafka's kafka-consumer-groups reports it: log-end minus committed.

    None when either side is unknown (no commit yet, or the end offset could not be read):
    an unknown lag is not a zero lag. A committed offset of -1 means "no offset" in Kafka.
    """
    if committed is None or committed < 0 or end_offset is None or end_offset < 0:
        return None
    return end_offset - committed


@dataclass(frozen=True, slots=True)
class PartitionOffsets:
    """A committed partition of a group. lag is partition_lag(committed, end_offset)."""

    topic: str
    partition: int
    committed: int
    end_offset: int | None
    lag: int | None


@dataclass(frozen=True, slots=True)
class SharePartition:
    """A share group's state of one partition (DescribeShareGroupOffsets): there is no committed offset.

    start_offset: the share-partition start offset, below which every record is acknowledged
    (accepted, rejected, or archived past the delivery count limit); None before the group has
    state for the partition. lag: what Kafka reports (KIP-1226: the records from the start offset
    on not yet acknowledged), None when the broker does not say (before Kafka 4.2) or has no state.
    """

    topic: str
    partition: int
    start_offset: int | None
    end_offset: int | None
    lag: int | None

    @property
    def waiting(self) -> int | None:
        """Records not yet acknowledged: Kafka's lag (unacknowledged_records)."""
        return unacknowledged_records(self.start_offset, self.end_offset, self.lag)


def unacknowledged_records(start: int | None, end: int | None, lag: int | None) -> int | None:
    """Kafka's share-partition lag; without it (before Kafka 4.2) end minus start, which counts
    acknowledged records above the start offset too: an upper bound. None without a start offset."""
    if lag is not None:
        return lag
    if start is not None and end is not None:
        return max(0, end - start)
    return None


@dataclass(frozen=True, slots=True)
class Group:
    group_id: str
    state: str
    type: str | None = None
    coordinator: int | None = None
    assignor: str | None = None
    members: tuple[Member, ...] = ()
    offsets: tuple[PartitionOffsets, ...] = ()
    # The group's protocol type as ListGroups names it: "consumer" (classic consumers), "connect"
    # (Kafka Connect workers), "share", "streams", "" (a group that only commits offsets).
    protocol: str | None = None
    share_partitions: tuple[SharePartition, ...] = ()  # share groups only
    delivery_count_limit: int | None = None  # share groups: share.delivery.count.limit in force
    streams: StreamsInfo | None = None  # streams groups: topology and tasks (streams_model.py)
    connect: ConnectInfo | None = None  # Connect worker groups: connectors and tasks (connect_model.py)

    @property
    def total_lag(self) -> int:
        """Sum of the known positive lags (committed offsets', or share partitions'); unknown adds nothing."""
        committed = sum(o.lag for o in self.offsets if o.lag is not None and o.lag > 0)
        return committed + sum(p.lag for p in self.share_partitions if p.lag is not None and p.lag > 0)

    @property
    def topics(self) -> tuple[str, ...]:
        names = {o.topic for o in self.offsets}
        names.update(p.topic for p in self.share_partitions)
        names.update(a.topic for m in self.members for a in m.assignments)
        return tuple(sorted(names))

    def owner_of(self, topic: str, partition: int) -> Member | None:
        for member in self.members:
            for a in member.assignments:
                if a.topic == topic and a.partition == partition:
                    return member
        return None


@dataclass(frozen=True, slots=True)
class RecordTime:
    """When the record a committed offset points at was written: the exact base of a time lag.

    Read from the broker for committed offsets older than the poller's end-offset timeline
    (kafka_admin/snapshot/record_times.py). `record_offset` is the first record at or after
    `offset` that a read_committed consumer gets (markers, aborted and compacted records are
    skipped); None when there is none (only markers follow: the group has read everything).
    `below_start`: the committed offset lies below the log start, the records in between were
    deleted (retention, delete_records) and `timestamp_ms` is the oldest record still there.
    """

    topic: str
    partition: int
    offset: int
    record_offset: int | None
    timestamp_ms: int | None
    timestamp_type: str | None = None
    below_start: bool = False


@dataclass(frozen=True, slots=True)
class SnapshotError:
    """Something the collector could not read. scope: cluster, brokers, topic, partition, group."""

    scope: str
    name: str
    message: str


@dataclass(frozen=True, slots=True)
class OffsetsSource:
    """Where this snapshot's committed offsets came from, and how far the start-up read has got.

    `read`/`total`: records of __consumer_offsets read of those there were when the reader started
    (the start-up catch-up), so a page can show progress instead of a blank; `note` says why the
    admin source is used when the offsets-topic source was wanted.
    """

    source: str  # "admin" or "offsets-topic"
    caught_up: bool = True
    read: int = 0
    total: int = 0
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ClusterSnapshot:
    cluster: str
    collected_at: datetime
    duration_ms: float
    requests: int
    reachable: bool = True
    cluster_id: str | None = None
    controller_id: int | None = None
    brokers: tuple[Broker, ...] = ()
    topics: tuple[Topic, ...] = ()
    groups: tuple[Group, ...] = ()
    errors: tuple[SnapshotError, ...] = field(default=())
    record_times: tuple[RecordTime, ...] = ()
    offsets_source: OffsetsSource | None = None

    def topic(self, name: str) -> Topic | None:
        return next((t for t in self.topics if t.name == name), None)

    def group(self, group_id: str) -> Group | None:
        return next((g for g in self.groups if g.group_id == group_id), None)

    @property
    def partition_count(self) -> int:
        return sum(len(t.partitions) for t in self.topics)

    @property
    def group_partition_rows(self) -> int:
        """Committed partitions of every group (a share group's partitions): what the state scales with."""
        return sum(len(g.offsets) + len(g.share_partitions) for g in self.groups)

    @property
    def under_replicated_partitions(self) -> int:
        return sum(1 for t in self.topics for p in t.partitions if p.under_replicated)

    @property
    def offline_partitions(self) -> int:
        return sum(1 for t in self.topics for p in t.partitions if p.offline)

    def to_dict(self) -> dict[str, Any]:
        return snapshot_to_dict(self)


def broker_to_dict(b: Broker) -> dict[str, Any]:
    return {"id": b.id, "host": b.host, "port": b.port, "rack": b.rack}


def partition_to_dict(p: PartitionInfo) -> dict[str, Any]:
    return {
        "partition": p.partition,
        "leader": p.leader,
        "replicas": list(p.replicas),
        "isr": list(p.isr),
        "start_offset": p.start_offset,
        "end_offset": p.end_offset,
    }


def topic_to_dict(t: Topic) -> dict[str, Any]:
    return {"name": t.name, "internal": t.internal, "partitions": [partition_to_dict(p) for p in t.partitions]}


def member_to_dict(m: Member) -> dict[str, Any]:
    return {
        "member_id": m.member_id,
        "client_id": m.client_id,
        "host": m.host,
        "group_instance_id": m.group_instance_id,
        "assignments": [{"topic": a.topic, "partition": a.partition} for a in m.assignments],
    }


def offsets_to_dict(o: PartitionOffsets) -> dict[str, Any]:
    return {
        "topic": o.topic,
        "partition": o.partition,
        "committed": o.committed,
        "end_offset": o.end_offset,
        "lag": o.lag,
    }


def group_to_dict(g: Group) -> dict[str, Any]:
    return {
        "group_id": g.group_id,
        "state": g.state,
        "type": g.type,
        "protocol": g.protocol,
        "coordinator": g.coordinator,
        "assignor": g.assignor,
        "members": [member_to_dict(m) for m in g.members],
        "offsets": [offsets_to_dict(o) for o in g.offsets],
        "share_partitions": [share_partition_to_dict(p) for p in g.share_partitions],
        "delivery_count_limit": g.delivery_count_limit,
        "streams": streams_to_dict(g.streams),
        "connect": connect_to_dict(g.connect),
        "total_lag": g.total_lag,
    }


def record_time_to_dict(r: RecordTime) -> dict[str, Any]:
    return {
        "topic": r.topic,
        "partition": r.partition,
        "offset": r.offset,
        "record_offset": r.record_offset,
        "timestamp_ms": r.timestamp_ms,
        "timestamp_type": r.timestamp_type,
        "below_start": r.below_start,
    }


def share_partition_to_dict(p: SharePartition) -> dict[str, Any]:
    return {
        "topic": p.topic,
        "partition": p.partition,
        "start_offset": p.start_offset,
        "end_offset": p.end_offset,
        "lag": p.lag,
    }


def error_to_dict(e: SnapshotError) -> dict[str, Any]:
    return {"scope": e.scope, "name": e.name, "message": e.message}


def snapshot_to_dict(s: ClusterSnapshot) -> dict[str, Any]:
    """The JSON contract of `manage.py kafka_snapshot --json` (docs/snapshot.md).

    The per-object functions above are the same contract for one object (the JSON API uses them).
    """
    return {
        "cluster": s.cluster,
        "cluster_id": s.cluster_id,
        "reachable": s.reachable,
        "collected_at": s.collected_at.isoformat(),
        "duration_ms": round(s.duration_ms, 1),
        "requests": s.requests,
        "controller_id": s.controller_id,
        "brokers": [broker_to_dict(b) for b in s.brokers],
        "topics": [topic_to_dict(t) for t in s.topics],
        "groups": [group_to_dict(g) for g in s.groups],
        "errors": [error_to_dict(e) for e in s.errors],
        "record_times": [record_time_to_dict(r) for r in s.record_times],
        "offsets_source": offsets_source_to_dict(s.offsets_source),
    }


def offsets_source_to_dict(o: OffsetsSource | None) -> dict[str, Any] | None:
    if o is None:
        return None
    return {"source": o.source, "caught_up": o.caught_up, "read": o.read, "total": o.total, "note": o.note}


def snapshot_from_dict(d: dict[str, Any]) -> ClusterSnapshot:
    """Inverse of snapshot_to_dict: derived fields (total_lag) are recomputed, not trusted."""
    return ClusterSnapshot(
        cluster=d["cluster"],
        cluster_id=d.get("cluster_id"),
        reachable=d.get("reachable", True),
        collected_at=datetime.fromisoformat(d["collected_at"]),
        duration_ms=float(d["duration_ms"]),
        requests=int(d["requests"]),
        controller_id=d.get("controller_id"),
        brokers=tuple(Broker(b["id"], b["host"], b["port"], b.get("rack")) for b in d.get("brokers", [])),
        topics=tuple(
            Topic(
                name=t["name"],
                internal=t["internal"],
                partitions=tuple(
                    PartitionInfo(
                        partition=p["partition"],
                        leader=p["leader"],
                        replicas=tuple(p["replicas"]),
                        isr=tuple(p["isr"]),
                        start_offset=p["start_offset"],
                        end_offset=p["end_offset"],
                    )
                    for p in t["partitions"]
                ),
            )
            for t in d.get("topics", [])
        ),
        groups=tuple(
            Group(
                group_id=g["group_id"],
                state=g["state"],
                type=g.get("type"),
                protocol=g.get("protocol"),
                coordinator=g.get("coordinator"),
                assignor=g.get("assignor"),
                members=tuple(
                    Member(
                        member_id=m["member_id"],
                        client_id=m["client_id"],
                        host=m["host"],
                        group_instance_id=m.get("group_instance_id"),
                        assignments=tuple(TopicPartitionRef(a["topic"], a["partition"]) for a in m["assignments"]),
                    )
                    for m in g.get("members", [])
                ),
                offsets=tuple(
                    PartitionOffsets(o["topic"], o["partition"], o["committed"], o["end_offset"], o["lag"])
                    for o in g.get("offsets", [])
                ),
                share_partitions=tuple(
                    SharePartition(p["topic"], p["partition"], p["start_offset"], p["end_offset"], p["lag"])
                    for p in g.get("share_partitions", [])
                ),
                delivery_count_limit=g.get("delivery_count_limit"),
                streams=streams_from_dict(g.get("streams")),
                connect=connect_from_dict(g.get("connect")),
            )
            for g in d.get("groups", [])
        ),
        errors=tuple(SnapshotError(e["scope"], e["name"], e["message"]) for e in d.get("errors", [])),
        record_times=tuple(
            RecordTime(
                r["topic"],
                r["partition"],
                r["offset"],
                r.get("record_offset"),
                r.get("timestamp_ms"),
                r.get("timestamp_type"),
                bool(r.get("below_start", False)),
            )
            for r in d.get("record_times", [])
        ),
        offsets_source=OffsetsSource(**d["offsets_source"]) if d.get("offsets_source") else None,
    )
