"""The poller's history writes: on change or as a heartbeat, and the chart still drawing the flat line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.models import GroupSample, TopicSample
from dashboard.monitor.fragments import chart_context
from dashboard.state import store
from dashboard.state.history_writer import HistoryWriter, held
from tests.factories import snapshot, unreachable

pytestmark = pytest.mark.django_db

ENDS = {"orders": [100, 100]}


def at(seconds: float) -> datetime:
    """Times near now: the chart reads the last hour."""
    return datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30) + timedelta(seconds=seconds)


def cycle(seconds: float, g1: int = 90, g2: int = 80, ends=None, cluster: str = "local"):
    return snapshot(
        at(seconds),
        cluster=cluster,
        ends=ends or ENDS,
        groups={"g1": {("orders", 0): g1, ("orders", 1): 100}, "g2": {("orders", 0): g2}},
    )


class TestOnChange:
    def test_first_cycle_writes_every_group_and_topic(self):
        written = HistoryWriter(heartbeat_s=300).record(cycle(0), {})
        assert (written.groups, written.topics) == (2, 1)
        assert GroupSample.objects.count() == 2 and TopicSample.objects.count() == 1

    def test_values_equal_to_the_previous_are_not_written_again(self):
        writer = HistoryWriter(heartbeat_s=300)
        writer.record(cycle(0), {})
        for i in range(1, 10):
            written = writer.record(cycle(5 * i), {"g1": 5.0 * i})
            assert written.rows == 0 and written.groups_unchanged == 2
        assert GroupSample.objects.count() == 2
        assert TopicSample.objects.count() == 1

    def test_a_changed_group_or_topic_is_written_alone(self):
        writer = HistoryWriter(heartbeat_s=300)
        writer.record(cycle(0), {})
        written = writer.record(cycle(5, g1=95), {})
        assert (written.groups, written.topics) == (1, 0)
        assert list(GroupSample.objects.filter(group_id="g1").order_by("ts").values_list("total_lag", flat=True)) == [
            10,
            5,
        ]
        written = writer.record(cycle(10, g1=95, ends={"orders": [101, 100]}), {})
        assert (written.groups, written.topics) == (2, 1)  # a new end offset changes every group's lag too

    def test_unchanged_values_get_a_heartbeat_row(self):
        writer = HistoryWriter(heartbeat_s=60)
        writer.record(cycle(0), {})
        assert writer.record(cycle(55), {}).rows == 0
        assert writer.record(cycle(60), {}).rows == 3
        assert GroupSample.objects.filter(group_id="g1").count() == 2

    def test_a_group_that_went_away_and_came_back_is_written(self):
        writer = HistoryWriter(heartbeat_s=300)
        writer.record(cycle(0), {})
        gone = snapshot(at(5), ends=ENDS, groups={"g1": {("orders", 0): 90, ("orders", 1): 100}})
        writer.record(gone, {})
        assert writer.record(cycle(10), {}).groups == 1  # g2 again

    def test_unreachable_writes_nothing_and_forget_writes_everything_again(self):
        writer = HistoryWriter(heartbeat_s=300)
        assert writer.record(unreachable(), {}).rows == 0
        writer.record(cycle(0), {})
        writer.forget()
        assert writer.record(cycle(5), {}).rows == 3


class TestChartAfterOnChangeWrites:
    def test_the_chart_still_shows_a_flat_line_to_the_latest_snapshot(self):
        writer = HistoryWriter(heartbeat_s=300)
        for i in range(12):  # one minute of cycles, values never change: one row
            snap = cycle(5 * i, cluster="chart")
            writer.record(snap, {})
        store.save(snap)
        try:
            assert GroupSample.objects.filter(cluster="chart", group_id="g1").count() == 1
            chart = chart_context("chart", "g1", "1h")["chart"]
            assert chart["lag"] == [10, 10]  # the row and the latest snapshot: a flat line
            assert chart["t"][-1] - chart["t"][0] == pytest.approx(55.0)
            assert None not in chart["lag"]  # no gap: nothing was down
        finally:
            store.clear("chart")

    def test_a_step_is_drawn_flat_until_the_cycle_before_the_change(self, settings):
        settings.POLL_INTERVAL_S = 5.0
        writer = HistoryWriter(heartbeat_s=300)
        for i in range(12):
            writer.record(cycle(5 * i, g1=90 if i < 11 else 95, cluster="step"), {})
        chart = chart_context("step", "g1", "1h")["chart"]
        assert chart["lag"] == [10, 10, 5]
        assert chart["t"][1] == pytest.approx(chart["t"][2] - 5.0)


class TestHeldRows:
    """A restart refills the status windows from rows written on change: each held until the next."""

    def test_a_quiet_group_fills_its_window_up_to_now(self):
        # One row 60 s ago, nothing since (unchanged), 5 s cycles: twelve cycles saw that value.
        cycles = held([(1000.0, "a")], interval_s=5, heartbeat_s=300, until=1060.0, keep=12)
        assert [v for _, v in cycles] == ["a"] * 12
        assert [t for t, _ in cycles] == [1000.0 + 5 * k for k in range(12)]

    def test_values_step_at_each_row_and_none_is_counted_twice(self):
        cycles = held([(0.0, "a"), (10.0, "b"), (12.0, "c")], interval_s=5, heartbeat_s=300, until=20.0, keep=99)
        assert cycles == [(0.0, "a"), (5.0, "a"), (10.0, "b"), (12.0, "c"), (17.0, "c")]

    def test_an_outage_longer_than_a_heartbeat_stays_empty(self):
        cycles = held([(0.0, "a"), (1000.0, "b")], interval_s=5, heartbeat_s=300, until=1003.0, keep=99)
        assert cycles == [(0.0, "a"), (1000.0, "b")]
        stale = held([(0.0, "a")], interval_s=5, heartbeat_s=300, until=900.0, keep=99)
        assert stale == [(0.0, "a")], "the server was down: no copies up to now"

    def test_keep_bounds_the_work_and_the_result(self):
        cycles = held([(0.0, "a")], interval_s=1, heartbeat_s=10**9, until=10**6, keep=3)
        assert [t for t, _ in cycles] == [999997.0, 999998.0, 999999.0]
