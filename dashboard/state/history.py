"""Write, downsample, prune and read the lag/offset history (models GroupSample, TopicSample).

Tiers: every cycle for HISTORY_RAW_S (1 h), one per minute until HISTORY_MINUTE_S (24 h), one per
ten minutes until HISTORY_RETENTION_DAYS (30 d), then deleted. Downsampling keeps the LAST sample
of each bucket: offsets are counters, so the last value of a bucket is exact at its timestamp.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

from dashboard.models import MINUTE, RAW, TEN_MINUTES, GroupSample, TopicSample
from kafka_admin.snapshot.model import ClusterSnapshot, Group, Topic

RANGES = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}


def record(snapshot: ClusterSnapshot, time_lags: dict[str, float | None] | None = None) -> int:
    """Write one cycle's samples, every group and topic; returns the number of rows written.

    The poller writes through a HistoryWriter instead (history_writer.py: only what changed)."""
    if not snapshot.reachable:
        return 0
    return write(snapshot, snapshot.groups, [t for t in snapshot.topics if not t.internal], time_lags or {})


def write(
    snapshot: ClusterSnapshot, groups: Iterable[Group], topics: Iterable[Topic], time_lags: Mapping[str, float | None]
) -> int:
    """Insert the samples of these groups and topics at the snapshot's time, in one transaction.

    The rows the ORM's bulk_create wrote (tests/unit/test_history_rows.py holds them equal), as
    tuples the driver takes in bulk (_insert): bulk_create built a model object and prepared every
    field of every row in Python, most of a cycle's cost at W4. Only the partitions differ per row
    in kind: JSON, adapted as the backend adapts a JSONField."""
    cluster = snapshot.cluster
    ts = _TS.get_db_prep_save(snapshot.collected_at, connection)  # one time for every row
    json_value = connection.ops.adapt_json_value
    get_lag = time_lags.get
    group_rows = [
        (cluster, g.group_id, ts, RAW, g.total_lag, get_lag(g.group_id), json_value(_pack_group(g), _PACKED.encoder))
        for g in groups
    ]
    topic_rows = [(cluster, t.name, ts, RAW, json_value(_end_offsets(t), _ENDS.encoder)) for t in topics]
    with transaction.atomic(), connection.cursor() as cursor:
        _insert(cursor, GroupSample, _GROUP_COLUMNS, group_rows)
        _insert(cursor, TopicSample, _TOPIC_COLUMNS, topic_rows)
    return len(group_rows) + len(topic_rows)


_GROUP_COLUMNS = ("cluster", "group_id", "ts", "tier", "total_lag", "time_lag_s", "partitions")
_TOPIC_COLUMNS = ("cluster", "topic", "ts", "tier", "end_offsets")
_TS, _PACKED, _ENDS = (
    GroupSample._meta.get_field("ts"),
    GroupSample._meta.get_field("partitions"),
    TopicSample._meta.get_field("end_offsets"),
)


def _insert(
    cursor: CursorWrapper, model: type[GroupSample] | type[TopicSample], names: tuple[str, ...], rows: list[tuple]
) -> None:
    """PostgreSQL: one COPY (a pipeline of single-row INSERTs cost the server a statement each);
    SQLite: one prepared INSERT run per row by the driver."""
    if not rows:
        return
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    columns = ", ".join(qn(model._meta.get_field(name).column) for name in names)
    if connection.vendor == "postgresql":
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(names))})", rows)


def _end_offsets(t: Topic) -> dict[str, int]:
    return {str(p.partition): p.end_offset for p in t.partitions if p.end_offset is not None}


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
