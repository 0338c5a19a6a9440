"""Hand-built snapshots for tests that need no broker (pure logic, rendering, the API)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kafka_admin.snapshot.model import (
    Broker,
    ClusterSnapshot,
    Group,
    Member,
    PartitionInfo,
    PartitionOffsets,
    SnapshotError,
    Topic,
    TopicPartitionRef,
)

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def snapshot(
    at: datetime = T0,
    cluster: str = "local",
    ends: dict[str, list[int]] | None = None,
    groups: dict[str, dict[tuple[str, int], int]] | None = None,
    members: dict[str, list[tuple[str, str, list[tuple[str, int]]]]] | None = None,
    states: dict[str, str] | None = None,
) -> ClusterSnapshot:
    """A one-broker cluster. ends: topic -> end offset per partition; groups: id -> {(topic, p): committed}."""
    ends = ends if ends is not None else {"orders": [100, 100]}
    groups = groups if groups is not None else {"g1": {("orders", 0): 90, ("orders", 1): 100}}
    members = members or {}
    states = states or {}
    topics = tuple(
        Topic(name, name.startswith("__"), tuple(PartitionInfo(i, 1, (1,), (1,), 0, e) for i, e in enumerate(parts)))
        for name, parts in sorted(ends.items())
    )
    end_of = {(name, i): e for name, parts in ends.items() for i, e in enumerate(parts)}
    built = []
    for gid, commits in sorted(groups.items()):
        offsets = tuple(
            PartitionOffsets(t, p, c, end_of.get((t, p)), None if end_of.get((t, p)) is None else end_of[(t, p)] - c)
            for (t, p), c in sorted(commits.items())
        )
        ms = tuple(
            Member(mid, client, "/127.0.0.1", tuple(TopicPartitionRef(t, p) for t, p in assigned))
            for mid, client, assigned in members.get(gid, [])
        )
        built.append(Group(gid, states.get(gid, "Stable" if ms else "Empty"), "classic", 1, "range", ms, offsets))
    return ClusterSnapshot(
        cluster=cluster,
        collected_at=at,
        duration_ms=12.0,
        requests=9,
        cluster_id="test-cluster",
        controller_id=1,
        brokers=(Broker(1, "127.0.0.1", 9092, None),),
        topics=topics,
        groups=tuple(built),
    )


def unreachable(at: datetime = T0, cluster: str = "local", message: str = "cluster unreachable at x: refused"):
    return ClusterSnapshot(
        cluster=cluster,
        collected_at=at,
        duration_ms=2000.0,
        requests=1,
        reachable=False,
        errors=(SnapshotError("cluster", cluster, message),),
    )


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)
