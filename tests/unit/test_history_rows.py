"""What the history writer stores, read back from the database: the same rows the ORM's bulk_create
wrote, and the rows after a change, after no change and at the heartbeat."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection, transaction

from dashboard.models import GroupSample, TopicSample
from dashboard.state import history
from dashboard.state.history_writer import HistoryWriter, time_lags_of
from kafka_admin.figures.tracker import FigureTracker
from kafka_admin.snapshot.model import ClusterSnapshot, Group, PartitionInfo, SharePartition, Topic
from tests.factories import snapshot

pytestmark = pytest.mark.django_db

T = datetime(2026, 3, 1, 9, 30, 15, 250_000, tzinfo=UTC)
GROUPS = {"g1": {("orders", 0): 90, ("orders", 1): 100}, "g2": {("orders", 0): 70, ("gone", 0): 5}}


def orm_write(snap: ClusterSnapshot, time_lags: dict[str, float | None]) -> None:
    """The writer before executemany: model objects through bulk_create (what the rows must equal)."""
    ts = snap.collected_at
    with transaction.atomic():
        GroupSample.objects.bulk_create(
            GroupSample(
                cluster=snap.cluster,
                group_id=g.group_id,
                ts=ts,
                total_lag=g.total_lag,
                time_lag_s=time_lags.get(g.group_id),
                partitions=packed(g),
            )
            for g in snap.groups
        )
        TopicSample.objects.bulk_create(
            TopicSample(
                cluster=snap.cluster,
                topic=t.name,
                ts=ts,
                end_offsets={str(p.partition): p.end_offset for p in t.partitions if p.end_offset is not None},
            )
            for t in snap.topics
            if not t.internal
        )


def packed(g: Group) -> dict[str, list[list[int | None]]]:
    """The packing the rows hold (models.GroupSample), built here on its own."""
    out: dict[str, list[list[int | None]]] = {}
    for o in g.offsets:
        out.setdefault(o.topic, []).append([o.partition, o.committed, o.end_offset])
    for p in g.share_partitions:
        out.setdefault(p.topic, []).append([p.partition, p.start_offset, p.end_offset, p.lag])
    return out


def stored(model: type[GroupSample] | type[TopicSample], cluster: str) -> list[tuple]:
    """Every column but the id and the cluster, as the database holds it (times and JSON as text on SQLite)."""
    columns = [f.column for f in model._meta.concrete_fields if f.column not in ("id", "cluster")]
    qn = connection.ops.quote_name
    sql = f"SELECT {', '.join(map(qn, columns))} FROM {qn(model._meta.db_table)} WHERE {qn('cluster')} = %s"
    with connection.cursor() as cursor:
        cursor.execute(sql + f" ORDER BY {qn(columns[0])}, {qn('ts')}", [cluster])
        return cursor.fetchall()


def rows(cluster: str = "local") -> list[tuple[str, datetime, int, float | None, dict]]:
    return list(
        GroupSample.objects.filter(cluster=cluster)
        .order_by("ts", "group_id")
        .values_list("group_id", "ts", "total_lag", "time_lag_s", "partitions")
    )


def cycle(seconds: float, g1: int = 90, ends: list[int] | None = None, **kwargs) -> ClusterSnapshot:
    """A cycle whose objects are all built anew (as after a full hand-off): equal values, new objects."""
    groups = {**GROUPS, "g1": {("orders", 0): g1, ("orders", 1): 100}}
    return snapshot(T + timedelta(seconds=seconds), ends={"orders": ends or [100, 100]}, groups=groups, **kwargs)


class TestSameRowsAsTheOrm:
    def test_groups_share_groups_and_topics_store_what_bulk_create_stored(self):
        jobs = Group("jobs", "Stable", "share", share_partitions=(SharePartition("orders", 1, None, 100, None),))
        half = Topic("half", False, (PartitionInfo(0, 1, (1,), (1,), 0, 7), PartitionInfo(1, -1, (), (), 0, None)))
        base = snapshot(T, ends={"orders": [100, 100], "__consumer_offsets": [3]}, groups=GROUPS)
        snap = replace(base, groups=(*base.groups, jobs), topics=(*base.topics, half))
        lags = {"g1": 12.25, "g2": None, "jobs": 3}  # a float, none, an int
        for at in (T, T.astimezone(timezone(timedelta(hours=-5))).replace(microsecond=0)):
            history.write(replace(snap, collected_at=at, cluster="new"), snap.groups, snap.topics[1:], lags)
            orm_write(replace(snap, collected_at=at, cluster="orm"), lags)
        assert len(stored(GroupSample, "new")) == 6 and len(stored(TopicSample, "new")) == 4
        assert stored(GroupSample, "new") == stored(GroupSample, "orm")
        assert stored(TopicSample, "new") == stored(TopicSample, "orm")
        jobs_row = GroupSample.objects.get(cluster="new", group_id="jobs", ts=T)
        assert (jobs_row.partitions, jobs_row.time_lag_s, jobs_row.tier) == ({"orders": [[1, None, 100, None]]}, 3.0, 0)

    def test_nothing_to_write_writes_nothing(self):
        assert history.write(snapshot(T), [], [], {}) == 0
        assert GroupSample.objects.count() == 0 and TopicSample.objects.count() == 0


class TestWhatTheWriterStores:
    def test_a_change_writes_that_group_with_its_new_values_at_the_cycles_time(self):
        writer = HistoryWriter(heartbeat_s=300)
        writer.record(cycle(0), {"g1": 1.0, "g2": 2.0})
        assert rows() == [
            ("g1", T, 10, 1.0, {"orders": [[0, 90, 100], [1, 100, 100]]}),
            ("g2", T, 30, 2.0, {"gone": [[0, 5, None]], "orders": [[0, 70, 100]]}),
        ]
        writer.record(cycle(5, g1=96), {"g1": 0.5, "g2": 7.0})
        assert rows()[2:] == [("g1", T + timedelta(seconds=5), 4, 0.5, {"orders": [[0, 96, 100], [1, 100, 100]]})]
        writer.record(cycle(10, g1=96, ends=[101, 100]), {})  # a new end offset: every group's lag moved
        assert [(r[0], r[2]) for r in rows()[3:]] == [("g1", 5), ("g2", 31)]
        assert TopicSample.objects.order_by("ts").last().end_offsets == {"0": 101, "1": 100}
        assert TopicSample.objects.count() == 2

    def test_no_change_writes_nothing_whether_the_objects_are_the_same_or_built_anew(self):
        writer = HistoryWriter(heartbeat_s=300)
        first = cycle(0)
        writer.record(first, {})
        handed_on = replace(first, collected_at=T + timedelta(seconds=5))  # the very same group objects
        assert writer.record(handed_on, {"g1": 5.0}).rows == 0
        assert writer.record(cycle(10), {"g1": 10.0}).rows == 0  # equal values, new objects
        rebalanced = cycle(15, members={"g1": [("m", "c", [("orders", 0)])]})  # members moved, offsets did not
        assert writer.record(rebalanced, {}).rows == 0
        assert GroupSample.objects.count() == 2 and TopicSample.objects.count() == 1

    def test_the_heartbeat_writes_every_quiet_group_and_topic_with_its_current_time_lag(self):
        writer = HistoryWriter(heartbeat_s=60)
        writer.record(cycle(0), {"g1": 0.0, "g2": 0.0})
        writer.record(cycle(30, g1=95), {"g1": 1.0, "g2": 30.0})  # g1 changed: its heartbeat counts from here
        assert writer.record(cycle(55, g1=95), {"g1": 26.0, "g2": 55.0}).rows == 0
        written = writer.record(cycle(60, g1=95), {"g1": 31.0, "g2": 60.0})
        assert (written.groups, written.topics) == (1, 1)
        g2 = ("g2", T + timedelta(seconds=60), 30, 60.0, {"gone": [[0, 5, None]], "orders": [[0, 70, 100]]})
        assert rows()[-1] == g2
        assert writer.record(cycle(85, g1=95), {}).rows == 0
        assert [r[0] for r in rows()[3:]] == ["g2"]
        assert writer.record(cycle(90, g1=95), {"g1": 61.0}).groups == 1  # g1's heartbeat, 60 s after its row
        assert rows()[-1][:4] == ("g1", T + timedelta(seconds=90), 5, 61.0)
        assert list(TopicSample.objects.order_by("ts").values_list("ts", flat=True)) == [T, T + timedelta(seconds=60)]

    def test_a_group_deleted_as_another_appears_is_written_when_it_comes_back(self):
        writer = HistoryWriter(heartbeat_s=300)
        writer.record(cycle(0), {})
        swapped = snapshot(T + timedelta(seconds=5), groups={"g1": GROUPS["g1"], "g3": {("orders", 0): 1}})
        assert writer.record(swapped, {}).groups == 1  # g3; g2 went away in the same cycle
        assert writer.record(cycle(10), {}).groups == 1  # g2 back (and g3 gone)
        assert [r[0] for r in rows()] == ["g1", "g2", "g3", "g2"]

    def test_the_time_lag_is_the_figures_for_the_groups_written(self):
        tracker, writer = FigureTracker(), HistoryWriter(heartbeat_s=300)
        for i, g1 in enumerate((90, 90, 95)):
            snap = cycle(5 * i, g1=g1, ends=[100 + i, 100])
            figures = tracker.update(snap)
            writer.record(snap, time_lags_of(figures))
        last = GroupSample.objects.filter(group_id="g1").order_by("ts").last()
        assert last.ts == T + timedelta(seconds=10) and figures.groups["g1"].time_lag.seconds is not None
        assert last.time_lag_s == figures.groups["g1"].time_lag.seconds
        assert dict(time_lags_of(figures)) == {gid: f.time_lag.seconds for gid, f in figures.groups.items()}
