"""Exact time lag from record timestamps: which offsets are read, and what their answers mean (no broker)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from kafka_admin.figures.timelag import OffsetTimeline, exact_time_lag
from kafka_admin.figures.tracker import FigureTracker
from kafka_admin.snapshot.model import (
    ClusterSnapshot,
    Group,
    PartitionInfo,
    PartitionOffsets,
    RecordTime,
    SharePartition,
    Topic,
    snapshot_from_dict,
)
from kafka_admin.snapshot.record_times import wanted_reads

NOW = 1_800_000_000.0


def snapshot(*offsets: tuple[str, int, int], start: int = 0, end: int = 1000, times=()) -> ClusterSnapshot:
    groups = tuple(Group(gid, "Empty", offsets=(PartitionOffsets("t", p, c, end, end - c),)) for gid, p, c in offsets)
    topic = Topic("t", False, tuple(PartitionInfo(p, 1, (1,), (1,), start, end) for p in range(3)))
    return ClusterSnapshot(
        "c", datetime.fromtimestamp(NOW, UTC), 1.0, 1, topics=(topic,), groups=groups, record_times=times
    )


class TestWantedReads:
    def test_only_offsets_older_than_the_timeline_largest_lag_first(self):
        timeline = OffsetTimeline()
        timeline.add(900, NOW - 60)
        timeline.add(1000, NOW)
        snap = snapshot(("inside", 0, 950), ("far", 0, 10), ("farther", 1, 5), ("caught-up", 2, 1000))
        wanted = wanted_reads(snap, {("t", 0): timeline})
        assert [(w.partition, w.committed) for w in wanted] == [(1, 5), (0, 10)]

    def test_below_the_log_start_reads_from_the_start(self):
        (w,) = wanted_reads(snapshot(("g", 0, 3), start=40), {})
        assert (w.committed, w.read_from) == (3, 40)

    def test_two_groups_at_one_offset_are_one_read(self):
        assert len(wanted_reads(snapshot(("a", 0, 3), ("b", 0, 3)), {})) == 1


class TestExactTimeLag:
    def test_the_record_timestamp_is_the_answer(self):
        tl = exact_time_lag(RecordTime("t", 0, 5, 5, int((NOW - 7200) * 1000), "CreateTime"), NOW)
        assert (tl.seconds, tl.lower_bound, tl.reason) == (7200.0, False, "record timestamp (CreateTime)")

    def test_only_markers_up_to_the_end_is_nothing_waiting(self):
        tl = exact_time_lag(RecordTime("t", 0, 5, None, None), NOW)
        assert (tl.seconds, tl.lower_bound) == (0.0, False)

    def test_below_the_start_is_a_lower_bound(self):
        tl = exact_time_lag(RecordTime("t", 0, 5, 40, int((NOW - 60) * 1000), "CreateTime", below_start=True), NOW)
        assert tl.lower_bound and tl.seconds == 60.0

    def test_no_timestamp_keeps_the_estimate_and_a_clock_ahead_is_no_negative_lag(self):
        assert exact_time_lag(RecordTime("t", 0, 5, 5, None), NOW) is None
        assert exact_time_lag(RecordTime("t", 0, 5, 5, int((NOW + 30) * 1000), "CreateTime"), NOW).seconds == 0.0


def test_tracker_uses_the_record_time_instead_of_the_lower_bound():
    times = (RecordTime("t", 0, 10, 10, int((NOW - 3 * 3600) * 1000), "CreateTime"),)
    figures = FigureTracker().update(snapshot(("g", 0, 10), ("h", 1, 10), times=times))
    exact, estimated = figures.groups["g"].time_lag, figures.groups["h"].time_lag
    assert (exact.seconds, exact.lower_bound) == (3 * 3600.0, False)
    assert estimated.lower_bound  # not read (yet): keeps the estimate, and says it is one


def test_record_times_survive_the_json_contract():
    snap = snapshot(("g", 0, 10), times=(RecordTime("t", 0, 10, 12, 1, "LogAppendTime", True),))
    assert snapshot_from_dict(json.loads(json.dumps(snap.to_dict()))) == snap


def share_snapshot(*partitions: SharePartition, times=()) -> ClusterSnapshot:
    topic = Topic("t", False, tuple(PartitionInfo(p, 1, (1,), (1,), 0, 1000) for p in range(3)))
    group = Group("jobs", "Stable", type="share", share_partitions=partitions)
    return ClusterSnapshot(
        "c", datetime.fromtimestamp(NOW, UTC), 1.0, 1, topics=(topic,), groups=(group,), record_times=times
    )


class TestShareGroupsOldestUnacknowledgedRecord:
    def test_the_start_offset_is_read_when_records_wait(self):
        snap = share_snapshot(
            SharePartition("t", 0, 40, 1000, 12),  # waiting: read at its start offset
            SharePartition("t", 1, 1000, 1000, 0),  # nothing waiting
            SharePartition("t", 2, None, 1000, None),  # no share-partition state yet
        )
        assert [(w.partition, w.committed, w.lag) for w in wanted_reads(snap, {})] == [(0, 40, 12)]

    def test_without_kafkas_lag_end_minus_start_is_the_lag(self):
        (w,) = wanted_reads(share_snapshot(SharePartition("t", 0, 900, 1000, None)), {})
        assert (w.committed, w.lag) == (900, 100)

    def test_the_figures_date_the_record_at_the_start_offset(self):
        record = RecordTime("t", 0, 40, 40, int((NOW - 5400) * 1000), "CreateTime")
        snap = share_snapshot(SharePartition("t", 0, 40, 1000, 12), SharePartition("t", 1, 7, 1000, 0), times=(record,))
        figures = FigureTracker().update(snap).groups["jobs"]
        assert figures.partition_time_lags[("t", 0)].seconds == 5400.0
        assert figures.partition_time_lags[("t", 1)].seconds == 0.0  # start 7, lag 0: all acknowledged
        assert (figures.time_lag.seconds, figures.time_lag.lower_bound) == (5400.0, False)
