"""FigureTracker over hand-built snapshots: rates, time lag, trends, memory bounds."""

from kafka_admin.figures.tracker import LAG_POINTS, FigureTracker
from tests.factories import later, snapshot, unreachable


def feed(tracker, steps):
    figures = None
    for t, ends, commits in steps:
        figures = tracker.update(snapshot(later(t), ends={"orders": ends}, groups={"g1": commits}))
    return figures


class TestFigureTracker:
    def test_produce_rate_from_end_offsets(self):
        # 2 partitions, 50 records/s each, polled every 5 s.
        figures = feed(
            FigureTracker(rate_window_s=60),
            [(t, [50 * t, 50 * t], {("orders", 0): 0}) for t in range(0, 30, 5)],
        )
        topic = figures.topics["orders"]
        assert topic.partition_rates == {0: 50.0, 1: 50.0}
        assert topic.produce_rate == 100.0
        assert figures.produce_rate == 100.0

    def test_commit_rate_and_catch_up(self):
        # Producer 10/s on one partition; consumer commits 30/s from 1000 behind.
        steps = [(t, [1000 + 10 * t], {("orders", 0): 30 * t}) for t in range(0, 25, 5)]
        g = feed(FigureTracker(), steps).groups["g1"]
        assert g.commit_rate == 30.0
        assert g.produce_rate == 10.0
        lag = 1000 + 10 * 20 - 30 * 20
        assert g.catch_up.seconds == lag / 20.0

    def test_time_lag_interpolates_into_end_offset_history(self):
        # 100 records/s; the consumer is 600 records (6 s) behind.
        steps = [(t, [100 * t], {("orders", 0): max(0, 100 * t - 600)}) for t in range(0, 60, 5)]
        g = feed(FigureTracker(), steps).groups["g1"]
        assert abs(g.time_lag.seconds - 6.0) < 0.01
        assert not g.time_lag.lower_bound
        assert abs(g.partition_time_lags[("orders", 0)].seconds - 6.0) < 0.01

    def test_idle_caught_up_topic_has_zero_time_lag(self):
        steps = [(t, [500], {("orders", 0): 500}) for t in range(0, 600, 5)]
        g = feed(FigureTracker(), steps).groups["g1"]
        assert g.time_lag.seconds == 0

    def test_trend_growing_and_history_bounded(self):
        tracker = FigureTracker(trend_window_s=900)
        steps = [(t, [20 * t], {("orders", 0): 10 * t}) for t in range(0, 3000, 5)]
        g = feed(tracker, steps).groups["g1"]
        assert g.trend.direction == "growing"
        assert len(g.lag_history) <= LAG_POINTS + 2
        assert g.lag_history[-1][1] == 10 * 2995

    def test_unreachable_snapshot_gives_empty_figures_and_keeps_windows(self):
        tracker = FigureTracker()
        feed(tracker, [(t, [100 * t], {("orders", 0): 100 * t}) for t in range(0, 20, 5)])
        assert tracker.update(unreachable(later(25))).groups == {}
        g = feed(tracker, [(30, [3000], {("orders", 0): 3000})]).groups["g1"]
        assert g.commit_rate is not None

    def test_deleted_groups_and_topics_are_forgotten(self):
        tracker = FigureTracker()
        tracker.update(snapshot(later(0), ends={"a": [1], "b": [1]}, groups={"g1": {}, "g2": {}}))
        tracker.update(snapshot(later(5), ends={"a": [2]}, groups={"g1": {}}))
        assert set(tracker._timelines) == {("a", 0)}
        assert set(tracker._lags) == {"g1"}


class TestStatus:
    def test_stopped_consumer_becomes_stop_and_a_healthy_one_ok(self):
        tracker = FigureTracker(status_samples=24, status_min_samples=12)
        figures = None
        for t in range(0, 200, 5):
            snap = snapshot(
                later(t),
                ends={"orders": [10 * t + 100]},
                groups={"stopped": {("orders", 0): 100}, "healthy": {("orders", 0): 10 * t + 100}},
            )
            figures = tracker.update(snap)
        assert figures.groups["stopped"].status.status == "STOP"
        assert figures.groups["stopped"].status.severity == "err"
        assert figures.groups["healthy"].status.status == "OK"
        assert figures.groups["healthy"].partition_statuses[("orders", 0)].status == "OK"

    def test_window_filling_is_nodata_and_windows_are_forgotten(self):
        tracker = FigureTracker(status_min_samples=12)
        figures = tracker.update(snapshot(later(0)))
        assert figures.groups["g1"].status.status == "NODATA"
        tracker.update(snapshot(later(5), groups={}))
        assert tracker._groups == {}

    def test_stopped_nine_minutes_says_so_though_the_window_holds_two(self):
        # Seeded from the stored history (the poller restarted), then polled: the time since the
        # last commit comes from every sample the tracker saw, not from its 24-sample window (115 s).
        tracker = FigureTracker(status_samples=24, status_min_samples=12)
        t0 = later(0).timestamp()
        for i in range(60):  # ten minutes of history: commits for the first minute, then none
            committed = 100 + 10 * min(i, 6)  # the last commit shows at t=60
            tracker.seed_group_offsets("g1", t0 + 10 * i, {"orders": [[0, committed, 900]]})
        figures = tracker.update(snapshot(later(600), ends={"orders": [900]}, groups={"g1": {("orders", 0): 160}}))
        status = figures.groups["g1"].partition_statuses[("orders", 0)]
        assert status.reason == "no consumer and no commit for 9m 00s while 740 records wait"

    def test_stopped_before_the_history_begins_says_more_than(self):
        tracker = FigureTracker(status_samples=24, status_min_samples=12)
        t0 = later(0).timestamp()
        for i in range(60):
            tracker.seed_group_offsets("g1", t0 + 10 * i, {"orders": [[0, 210, 900]]})
        figures = tracker.update(snapshot(later(600), ends={"orders": [900]}, groups={"g1": {("orders", 0): 210}}))
        g1 = figures.groups["g1"]
        assert g1.partition_statuses[("orders", 0)].reason == (
            "no consumer and no commit for more than 10m 00s while 690 records wait"
        )
        # Lists show the group's reason, its duration rounded down to a step: it holds still for minutes.
        assert g1.status.reason == (
            "1 of 1 partitions STOP; orders[0]: no consumer and no commit for at least 10m 00s while 690 records wait"
        )

    def test_resets_the_dashboard_made_are_not_rewinds(self):
        def run(resets):
            tracker = FigureTracker(status_samples=24, status_min_samples=12)
            figures = None
            for i in range(20):
                committed = 1000 + 10 * i if i < 14 else 0
                tracker.note_resets(resets)
                snap = snapshot(
                    later(5 * i), ends={"orders": [1010 + 10 * i]}, groups={"g1": {("orders", 0): committed}}
                )
                figures = tracker.update(snap)
            return figures.groups["g1"].status.status

        assert run([]) == "REWIND"
        assert run([("g1", later(68).timestamp())]) == "OK"
        assert run([("other-group", later(68).timestamp())]) == "REWIND"

    def test_runs_are_forgotten_with_their_windows(self):
        tracker = FigureTracker()
        tracker.update(snapshot(later(0)))
        assert tracker._groups["g1"].tps() == [("orders", 0), ("orders", 1)]
        assert all(tracker._groups["g1"].run(k) is not None for k in range(2))
        tracker.update(snapshot(later(5), groups={}))
        assert tracker._groups == {}
