import bisect
import random

import pytest

from kafka_admin.figures.timelag import (
    DEFAULT_MAX_POINTS,
    OffsetPoint,
    OffsetTimeline,
    TimeEstimate,
    TimeLag,
    group_time_lag,
    time_lag,
)


def timeline(*points: tuple[int, float], max_points: int = DEFAULT_MAX_POINTS) -> OffsetTimeline:
    tl = OffsetTimeline(max_points)
    for offset, t in points:
        tl.add(offset, t)
    return tl


def steady_producer(rate: float, interval: float, polls: int, t0: float = 1_700_000_000.0) -> OffsetTimeline:
    """A timeline polled every `interval` s while producing `rate` msg/s."""
    return timeline(*((round(i * interval * rate), t0 + i * interval) for i in range(polls)))


class TestOffsetTimelineAdd:
    def test_empty(self):
        tl = OffsetTimeline()
        assert tl.points == ()
        assert len(tl) == 0
        assert tl.max_points == 60

    def test_appends_moving_points(self):
        tl = timeline((0, 0.0), (10, 5.0), (25, 10.0))
        assert tl.points == (OffsetPoint(0, 0.0), OffsetPoint(10, 5.0), OffsetPoint(25, 10.0))

    def test_points_is_an_immutable_copy(self):
        tl = timeline((0, 0.0))
        pts = tl.points
        tl.add(5, 1.0)
        assert pts == (OffsetPoint(0, 0.0),)
        assert isinstance(tl.points, tuple)

    def test_flat_stretch_keeps_first_and_latest(self):
        tl = timeline((0, 0.0), (100, 5.0), (100, 10.0), (100, 15.0), (100, 20.0))
        assert tl.points == (OffsetPoint(0, 0.0), OffsetPoint(100, 5.0), OffsetPoint(100, 20.0))

    def test_flat_from_the_start(self):
        tl = timeline((7, 0.0), (7, 5.0), (7, 10.0))
        assert tl.points == (OffsetPoint(7, 0.0), OffsetPoint(7, 10.0))

    def test_production_resumes_after_flat_stretch(self):
        tl = timeline((0, 0.0), (100, 5.0), (100, 10.0), (100, 500.0), (150, 505.0))
        assert tl.points == (
            OffsetPoint(0, 0.0),
            OffsetPoint(100, 5.0),
            OffsetPoint(100, 500.0),
            OffsetPoint(150, 505.0),
        )

    def test_long_idle_period_costs_two_points(self):
        tl = timeline((0, 0.0), *((50, float(t)) for t in range(5, 100_000, 5)))
        assert len(tl) == 3

    def test_bounded_drops_oldest(self):
        tl = timeline(*((i * 10, float(i)) for i in range(100)), max_points=5)
        assert len(tl) == 5
        assert tl.points[0] == OffsetPoint(950, 95.0)
        assert tl.points[-1] == OffsetPoint(990, 99.0)

    def test_default_bound_is_60(self):
        tl = steady_producer(rate=10, interval=5, polls=200)
        assert len(tl) == 60

    def test_end_offset_going_down_resets(self):
        tl = timeline((1000, 0.0), (2000, 5.0), (30, 10.0))
        assert tl.points == (OffsetPoint(30, 10.0),)

    def test_clock_going_backwards_resets(self):
        tl = timeline((0, 100.0), (10, 105.0), (20, 50.0))
        assert tl.points == (OffsetPoint(20, 50.0),)

    def test_same_time_is_accepted(self):
        tl = timeline((0, 5.0), (10, 5.0))
        assert len(tl) == 2

    def test_max_points_below_two_is_rejected(self):
        with pytest.raises(ValueError):
            OffsetTimeline(1)

    def test_huge_offsets(self):
        big = 2**62
        tl = timeline((big, 0.0), (big + 1000, 10.0))
        assert tl.time_of(big + 500) == TimeEstimate(5.0, "interpolated")


class TestTimeOf:
    def test_no_history(self):
        assert OffsetTimeline().time_of(5) == TimeEstimate(None, "unknown")

    def test_interpolates_between_bracketing_points(self):
        tl = timeline((0, 0.0), (100, 10.0), (300, 20.0))
        assert tl.time_of(50) == TimeEstimate(5.0, "interpolated")
        assert tl.time_of(200) == TimeEstimate(15.0, "interpolated")

    def test_exact_point_offset(self):
        tl = timeline((0, 0.0), (100, 10.0), (300, 20.0))
        assert tl.time_of(100) == TimeEstimate(10.0, "interpolated")
        assert tl.time_of(0) == TimeEstimate(0.0, "interpolated")

    def test_older_than_history(self):
        tl = timeline((1000, 50.0), (2000, 60.0))
        assert tl.time_of(10) == TimeEstimate(50.0, "at_or_before")

    def test_at_or_after_newest(self):
        tl = timeline((1000, 50.0), (2000, 60.0))
        assert tl.time_of(2000) == TimeEstimate(60.0, "at_or_after")
        assert tl.time_of(5000) == TimeEstimate(60.0, "at_or_after")

    def test_offset_at_end_of_flat_stretch_is_dated_after_the_pause(self):
        # The record at 100 cannot have existed before the end offset moved past 100 (after t=500).
        tl = timeline((0, 0.0), (100, 5.0), (100, 500.0), (200, 510.0))
        assert tl.time_of(100) == TimeEstimate(500.0, "interpolated")
        assert tl.time_of(150) == TimeEstimate(505.0, "interpolated")
        assert tl.time_of(99) == TimeEstimate(pytest.approx(4.95), "interpolated")


NOW = 1_700_000_000.0


class TestTimeLagRules:
    # a) caught up
    def test_caught_up_is_zero(self):
        tl = timeline((0, NOW - 10), (100, NOW))
        assert time_lag(tl, 100, 100, NOW) == TimeLag(0.0, False, "caught up")

    def test_committed_past_end_is_zero(self):
        tl = timeline((0, NOW - 10), (100, NOW))
        assert time_lag(tl, 105, 100, NOW) == TimeLag(0.0, False, "caught up")

    def test_idle_fully_consumed_topic_stays_zero_forever(self):
        # kafka-lag-exporter's failure: an idle topic read to the end showed an ever-growing lag.
        tl = OffsetTimeline()
        for i in range(1000):
            tl.add(500, NOW + i * 5)
            assert time_lag(tl, 500, 500, NOW + i * 5).seconds == 0.0

    def test_caught_up_without_history(self):
        assert time_lag(OffsetTimeline(), 10, 10, NOW) == TimeLag(0.0, False, "caught up")

    # b) interpolation
    def test_interpolated(self):
        tl = timeline((0, NOW - 20), (100, NOW - 10), (300, NOW))
        # Record 200 was produced at NOW - 5.
        assert time_lag(tl, 200, 300, NOW) == TimeLag(5.0, False, "interpolated")

    def test_interpolated_formula(self):
        tl = timeline((1000, 100.0), (1400, 108.0), (1500, 110.0))
        # p_i = (1000, 100), p_i+1 = (1400, 108): t = 100 + 300/400 * 8 = 106.
        lag = time_lag(tl, 1300, 1500, 112.0)
        assert lag.seconds == pytest.approx(6.0)
        assert not lag.lower_bound

    def test_never_negative(self):
        tl = timeline((0, NOW), (100, NOW + 10))
        assert time_lag(tl, 50, 100, NOW).seconds == 0.0

    def test_burst_gives_no_spike(self):
        # 10 msg/s, then a burst of 100k records within one 5 s poll, then 10 msg/s again.
        tl = timeline((0, 0.0), (50, 5.0), (100, 10.0), (100_100, 15.0), (100_150, 20.0))
        for committed in range(100, 100_100, 997):
            lag = time_lag(tl, committed, 100_150, 20.0)
            assert lag.reason == "interpolated"
            assert 5.0 <= lag.seconds <= 10.0

    def test_burst_start_dated_after_idle(self):
        # Idle for 1000 s at offset 1000, then a burst. Record 1000 was produced after t=1000, not at t=0.
        tl = timeline((1000, 0.0), (1000, 500.0), (1000, 1000.0), (5000, 1005.0))
        lag = time_lag(tl, 1000, 5000, 1005.0)
        assert lag.seconds == pytest.approx(5.0)

    def test_no_flapping_when_a_few_records_behind(self):
        # Points every 5 s at 100 msg/s; committed 10 behind => produced 0.1 s ago, not 5 s.
        tl = steady_producer(rate=100, interval=5, polls=20, t0=NOW)
        newest = tl.points[-1]
        lag = time_lag(tl, newest.offset - 10, newest.offset, newest.t)
        assert lag.seconds == pytest.approx(0.1)
        assert lag.reason == "interpolated"

    # c) older than history
    def test_older_than_history_is_a_lower_bound(self):
        tl = steady_producer(rate=100, interval=5, polls=60, t0=NOW)  # 295 s of history from offset 0
        tl.add(1_000_000, NOW + 300)
        tl.add(2_000_000, NOW + 305)  # the two oldest fell off: oldest is (1000, NOW + 10)
        oldest = tl.points[0]
        lag = time_lag(tl, 0, 2_000_000, NOW + 305)
        assert lag == TimeLag(NOW + 305 - oldest.t, True, "older than history")
        assert lag.seconds == pytest.approx(295.0)

    def test_rereading_from_start_is_bounded_by_history(self):
        tl = timeline((10**12, NOW - 300), (10**12 + 1000, NOW))
        lag = time_lag(tl, 0, 10**12 + 1000, NOW)
        assert lag.seconds == 300.0
        assert lag.lower_bound

    # d) fewer than 2 points
    def test_no_history(self):
        assert time_lag(OffsetTimeline(), 0, 10, NOW) == TimeLag(None, False, "no history")

    def test_single_point_is_a_lower_bound(self):
        tl = timeline((100, NOW - 7))
        assert time_lag(tl, 40, 100, NOW) == TimeLag(7.0, True, "older than history")

    def test_first_poll_says_at_least_zero(self):
        tl = timeline((100, NOW))
        assert time_lag(tl, 40, 100, NOW) == TimeLag(0.0, True, "older than history")

    def test_single_point_with_end_moved_past_it(self):
        tl = timeline((100, NOW - 7))
        assert time_lag(tl, 100, 150, NOW) == TimeLag(7.0, False, "since last point")

    # e) committed at or beyond the newest point while lag > 0
    def test_since_newest_point(self):
        tl = timeline((0, NOW - 20), (100, NOW - 10))
        assert time_lag(tl, 120, 150, NOW) == TimeLag(10.0, False, "since last point")

    def test_since_newest_point_never_negative(self):
        tl = timeline((0, NOW), (100, NOW + 10))
        assert time_lag(tl, 100, 150, NOW).seconds == 0.0

    # unknown inputs
    @pytest.mark.parametrize(("committed", "end"), [(None, 10), (-1, 10), (5, None), (5, -1)])
    def test_unknown_offsets(self, committed, end):
        tl = timeline((0, NOW - 10), (100, NOW))
        assert time_lag(tl, committed, end, NOW) == TimeLag(None, False, "no offset")

    def test_after_truncation_reset(self):
        tl = timeline((5000, NOW - 20), (6000, NOW - 10), (100, NOW))
        # History was reset: committed 50 is older than the only point.
        assert time_lag(tl, 50, 100, NOW) == TimeLag(0.0, True, "older than history")


class TestSimulatedProducer:
    def test_known_rate_300_behind_is_six_seconds(self):
        # 50 msg/s, points every 5 s, consumer 300 records behind => 6 s.
        tl = steady_producer(rate=50, interval=5, polls=60, t0=NOW)
        newest = tl.points[-1]
        lag = time_lag(tl, newest.offset - 300, newest.offset, newest.t)
        assert lag.seconds == pytest.approx(6.0, abs=0.2)

    def test_jittered_polls_and_random_production(self):
        # Random gaps averaging 50 msg/s, polls every 4-6 s: the estimate tracks the true production time.
        rng = random.Random(42)
        rate = 50.0
        produced_at = [NOW]  # produced_at[k]: when record k was produced
        while produced_at[-1] < NOW + 1200:
            produced_at.append(produced_at[-1] + 0.5 / rate + rng.expovariate(rate / 0.5))
        tl = OffsetTimeline()
        t = NOW
        for poll in range(200):
            t += rng.uniform(4.0, 6.0)
            end = bisect.bisect_right(produced_at, t)  # records produced by t
            tl.add(end, t)
            if poll < 10:
                continue  # let some history build up first
            for behind in (50, 300, 1000):
                committed = end - behind
                lag = time_lag(tl, committed, end, t)
                assert lag.reason == "interpolated"
                assert lag.seconds == pytest.approx(t - produced_at[committed], abs=0.5)

    def test_steady_production_with_consumer_at_fixed_distance_is_stable(self):
        # Same distance behind at every poll => the same time lag, no flapping.
        tl = OffsetTimeline()
        seen = []
        for i in range(100):
            t, end = NOW + 5 * i, 500 * i
            tl.add(end, t)
            if i > 2:
                seen.append(time_lag(tl, end - 250, end, t).seconds)
        assert all(s == pytest.approx(2.5) for s in seen)


class TestGroupTimeLag:
    def test_worst_partition_wins(self):
        values = [TimeLag(1.0, False, "interpolated"), TimeLag(9.5, False, "interpolated"), TimeLag(0.0, False, "x")]
        assert group_time_lag(values) == TimeLag(9.5, False, "interpolated")

    def test_lower_bound_carried_from_the_max(self):
        values = [TimeLag(3.0, False, "interpolated"), TimeLag(120.0, True, "older than history")]
        assert group_time_lag(values) == TimeLag(120.0, True, "older than history")

    def test_lower_bound_not_carried_when_not_the_max(self):
        values = [TimeLag(300.0, False, "interpolated"), TimeLag(120.0, True, "older than history")]
        assert group_time_lag(values).lower_bound is False

    def test_tie_prefers_lower_bound(self):
        values = [TimeLag(10.0, False, "interpolated"), TimeLag(10.0, True, "older than history")]
        assert group_time_lag(values).lower_bound is True

    def test_unknown_partitions_are_skipped(self):
        values = [TimeLag(None, False, "no history"), TimeLag(4.0, False, "interpolated")]
        assert group_time_lag(values).seconds == 4.0

    def test_all_unknown(self):
        values = [TimeLag(None, False, "no history"), TimeLag(None, False, "no offset")]
        assert group_time_lag(values) == TimeLag(None, False, "no history")

    def test_empty(self):
        assert group_time_lag([]).seconds is None

    def test_accepts_a_generator(self):
        assert group_time_lag(TimeLag(float(s), False, "interpolated") for s in range(5)).seconds == 4.0
