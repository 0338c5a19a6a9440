"""History tiers: written per cycle, downsampled as they age, pruned after retention."""

from datetime import timedelta

import pytest

from dashboard.models import MINUTE, RAW, TEN_MINUTES, GroupSample, TopicSample
from dashboard.state import history
from tests.factories import T0, later, snapshot, unreachable

pytestmark = pytest.mark.django_db


def write_every(seconds: int, count: int, start=T0) -> None:
    for i in range(count):
        at = start + timedelta(seconds=i * seconds)
        history.record(snapshot(at, ends={"orders": [100 + i, 50]}, groups={"g1": {("orders", 0): 90}}))


class TestRecord:
    def test_one_row_per_group_and_topic_with_packed_partitions(self):
        assert history.record(snapshot()) == 2
        g = GroupSample.objects.get()
        assert (g.group_id, g.total_lag, g.tier) == ("g1", 10, RAW)
        assert g.partitions == {"orders": [[0, 90, 100], [1, 100, 100]]}
        assert TopicSample.objects.get().end_offsets == {"0": 100, "1": 100}

    def test_unreachable_cycle_writes_nothing(self):
        assert history.record(unreachable()) == 0
        assert GroupSample.objects.count() == 0


class TestCompact:
    def test_raw_older_than_an_hour_becomes_one_per_minute_keeping_the_last(self, settings):
        settings.HISTORY_RAW_S = 3600
        write_every(5, 24)  # two minutes of 5 s samples, long ago
        now = T0 + timedelta(hours=2)
        result = history.compact(now)
        rows = list(GroupSample.objects.order_by("ts"))
        assert [r.tier for r in rows] == [MINUTE, MINUTE]
        assert [r.ts for r in rows] == [later(55), later(115)]  # last sample of each minute
        assert result.deleted == 2 * 22  # 22 group + 22 topic rows dropped
        assert TopicSample.objects.filter(tier=MINUTE).count() == 2

    def test_recent_rows_stay_raw(self):
        write_every(5, 12)
        history.compact(T0 + timedelta(minutes=10))
        assert set(GroupSample.objects.values_list("tier", flat=True)) == {RAW}
        assert GroupSample.objects.count() == 12

    def test_minute_rows_older_than_a_day_become_ten_minute_rows(self):
        write_every(60, 30)
        history.compact(T0 + timedelta(hours=2))  # raw -> minute
        history.compact(T0 + timedelta(days=2))  # minute -> 10 minutes
        assert set(GroupSample.objects.values_list("tier", flat=True)) == {TEN_MINUTES}
        assert GroupSample.objects.count() == 3

    def test_rows_past_retention_are_deleted(self, settings):
        settings.HISTORY_RETENTION_DAYS = 30
        write_every(5, 3)
        history.compact(T0 + timedelta(days=31))
        assert GroupSample.objects.count() == 0 and TopicSample.objects.count() == 0

    def test_series_reads_oldest_first(self):
        write_every(5, 4)
        series = history.group_series("local", "g1", T0)
        assert [s[0] for s in series] == [later(i * 5) for i in range(4)]
        assert [lag for _, lag, _ in series] == [10, 11, 12, 13]


class TestShareGroupsHistory:
    def test_share_partitions_are_stored_and_refill_the_status_windows(self):
        from dataclasses import replace

        from kafka_admin.figures.status import LagStatus
        from kafka_admin.figures.tracker import FigureTracker
        from kafka_admin.snapshot.model import Group, Member, SharePartition, TopicPartitionRef

        owner = Member("m", "c", "/h", (TopicPartitionRef("orders", 0),))
        jobs = Group(
            "jobs", "Stable", "share", members=(owner,), share_partitions=(SharePartition("orders", 0, 40, 100, 60),)
        )
        for i in range(12):  # a start offset stuck at 40 for a minute
            history.record(replace(snapshot(later(5 * i), groups={}), groups=(jobs,)))
        assert GroupSample.objects.filter(group_id="jobs").first().partitions == {"orders": [[0, 40, 100, 60]]}
        tracker = FigureTracker(status_min_samples=12)
        for _, points in history.recent_group_samples("local", T0 - timedelta(seconds=1)).items():
            for t, _, rows in points:
                tracker.seed_group_offsets("jobs", t, rows)
        figures = tracker.update(replace(snapshot(later(60), groups={}), groups=(jobs,)))
        assert figures.groups["jobs"].partition_statuses[("orders", 0)].status == LagStatus.STALL
