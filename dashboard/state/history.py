"""Write, downsample, prune and read the lag/offset history (models GroupSample, TopicSample).

Tiers: every cycle for HISTORY_RAW_S (1 h), one per minute until HISTORY_MINUTE_S (24 h), one per
ten minutes until HISTORY_RETENTION_DAYS (30 d), then deleted. Downsampling keeps the LAST sample
of each bucket: offsets are counters, so the last value of a bucket is exact at its timestamp.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from dashboard.models import MINUTE, RAW, TEN_MINUTES, GroupSample, TopicSample
from kafka_admin.snapshot.model import ClusterSnapshot, Group, Topic

BATCH_ROWS = 500  # rows per INSERT: within SQLite's variable limit at 7 columns
RANGES = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}


def record(snapshot: ClusterSnapshot, time_lags: dict[str, float | None] | None = None) -> int:
    """Write one cycle's samples, every group and topic; returns the number of rows written.

    The poller writes through a HistoryWriter instead (history_writer.py: only what changed)."""
    if not snapshot.reachable:
        return 0
    return write(snapshot, snapshot.groups, [t for t in snapshot.topics if not t.internal], time_lags or {})


def write(
    snapshot: ClusterSnapshot, groups: Iterable[Group], topics: Iterable[Topic], time_lags: dict[str, float | None]
) -> int:
    """Insert the samples of these groups and topics at the snapshot's time, in batches, in one transaction."""
    ts = snapshot.collected_at
    group_rows = [
        GroupSample(
            cluster=snapshot.cluster,
            group_id=g.group_id,
            ts=ts,
            total_lag=g.total_lag,
            time_lag_s=time_lags.get(g.group_id),
            partitions=_pack_group(g),
        )
        for g in groups
    ]
    topic_rows = [
        TopicSample(
            cluster=snapshot.cluster,
            topic=t.name,
            ts=ts,
            end_offsets={str(p.partition): p.end_offset for p in t.partitions if p.end_offset is not None},
        )
        for t in topics
    ]
    with transaction.atomic():
        GroupSample.objects.bulk_create(group_rows, batch_size=BATCH_ROWS)
        TopicSample.objects.bulk_create(topic_rows, batch_size=BATCH_ROWS)
    return len(group_rows) + len(topic_rows)


def _pack_group(g: Group) -> dict[str, list[list[int | None]]]:
    """{topic: [[partition, committed, end], ...]}; a share group's rows are
    [partition, start offset, end, lag]: what the poller's status windows are refilled from."""
    packed: dict[str, list[list[int | None]]] = defaultdict(list)
    for o in g.offsets:
        packed[o.topic].append([o.partition, o.committed, o.end_offset])
    for p in g.share_partitions:
        packed[p.topic].append([p.partition, p.start_offset, p.end_offset, p.lag])
    return dict(packed)


@dataclass(frozen=True)
class CompactionResult:
    promoted: int
    deleted: int


def compact(now: datetime) -> CompactionResult:
    """Downsample aged rows into the next tier and delete what is past retention."""
    raw_age = timedelta(seconds=settings.HISTORY_RAW_S)
    minute_age = timedelta(seconds=settings.HISTORY_MINUTE_S)
    retention = timedelta(days=settings.HISTORY_RETENTION_DAYS)
    promoted = deleted = 0
    for model, key in ((GroupSample, "group_id"), (TopicSample, "topic")):
        for tier, next_tier, age, bucket_s in ((RAW, MINUTE, raw_age, 60), (MINUTE, TEN_MINUTES, minute_age, 600)):
            p, d = _downsample(model, key, tier, next_tier, now - age, bucket_s)
            promoted, deleted = promoted + p, deleted + d
        deleted += model.objects.filter(ts__lt=now - retention).delete()[0]
    return CompactionResult(promoted, deleted)


def _downsample(model, key: str, tier: int, next_tier: int, cutoff: datetime, bucket_s: int) -> tuple[int, int]:
    rows = model.objects.filter(tier=tier, ts__lt=cutoff).values_list("id", "cluster", key, "ts").order_by("ts", "id")
    keep: dict[tuple, int] = {}
    drop: list[int] = []
    for row_id, cluster, name, ts in rows.iterator(chunk_size=5000):
        bucket = (cluster, name, int(ts.timestamp()) // bucket_s)
        previous = keep.get(bucket)
        if previous is not None:
            drop.append(previous)
        keep[bucket] = row_id
    with transaction.atomic():
        kept = list(keep.values())
        for i in range(0, len(kept), 900):
            model.objects.filter(id__in=kept[i : i + 900]).update(tier=next_tier)
        deleted = 0
        for i in range(0, len(drop), 900):
            deleted += model.objects.filter(id__in=drop[i : i + 900]).delete()[0]
    return len(kept), deleted


def group_series(cluster: str, group_id: str, since: datetime) -> list[tuple[datetime, int, float | None]]:
    """(time, total lag, time lag) points for a group's lag chart, oldest first."""
    return list(
        GroupSample.objects.filter(cluster=cluster, group_id=group_id, ts__gte=since)
        .order_by("ts")
        .values_list("ts", "total_lag", "time_lag_s")
    )


def recent_group_samples(cluster: str, since: datetime) -> dict[str, list[tuple[float, int, dict]]]:
    """Per group (unix time, total lag, packed offsets) since a moment: seeds the poller's windows."""
    out: dict[str, list[tuple[float, int, dict]]] = defaultdict(list)
    rows = GroupSample.objects.filter(cluster=cluster, ts__gte=since).order_by("ts")
    for group_id, ts, lag, parts in rows.values_list("group_id", "ts", "total_lag", "partitions").iterator(
        chunk_size=5000
    ):
        out[group_id].append((ts.timestamp(), lag, parts))
    return dict(out)


def recent_topic_offsets(cluster: str, since: datetime) -> list[tuple[str, float, dict[str, int]]]:
    """(topic, unix time, {partition: end offset}) since a moment, oldest first: seeds the time-lag tables."""
    rows = TopicSample.objects.filter(cluster=cluster, ts__gte=since).order_by("ts")
    return [(topic, ts.timestamp(), ends) for topic, ts, ends in rows.values_list("topic", "ts", "end_offsets")]
