import math
import random

import pytest

from kafka_admin.figures.rates import (
    CatchUp,
    Trend,
    catch_up_eta,
    downsample,
    in_noise_band,
    rate,
    sparkline_points,
    trend,
)


class TestRate:
    def test_simple_rate(self):
        assert rate([(0.0, 0), (10.0, 500)], window_s=60) == 50.0

    def test_uses_oldest_in_window_and_newest(self):
        samples = [(0.0, 0), (50.0, 100), (60.0, 1000), (100.0, 5000)]
        # Window [40, 100]: (50, 100) .. (100, 5000) => 4900 / 50.
        assert rate(samples, window_s=60) == 98.0

    def test_window_boundary_is_inclusive(self):
        assert rate([(40.0, 0), (100.0, 600)], window_s=60) == 10.0

    def test_explicit_now(self):
        samples = [(0.0, 0), (10.0, 100), (20.0, 300), (30.0, 1000)]
        # now=20, window 10 s: samples at 10 and 20; the one at 30 is in the future.
        assert rate(samples, window_s=10, now=20.0) == 20.0

    def test_explicit_now_past_the_samples(self):
        samples = [(0.0, 0), (10.0, 100)]
        assert rate(samples, window_s=5, now=100.0) is None

    def test_empty(self):
        assert rate([], window_s=60) is None

    def test_single_sample(self):
        assert rate([(5.0, 100)], window_s=60) is None

    def test_only_one_sample_in_window(self):
        assert rate([(0.0, 0), (100.0, 500)], window_s=10) is None

    def test_zero_time_span(self):
        assert rate([(5.0, 100), (5.0, 200)], window_s=60) is None

    def test_flat_counter_is_zero(self):
        assert rate([(0.0, 42), (30.0, 42)], window_s=60) == 0.0

    def test_reset_uses_only_samples_after_it(self):
        samples = [(0.0, 1000), (10.0, 2000), (20.0, 10), (30.0, 110), (40.0, 310)]
        assert rate(samples, window_s=60) == 15.0  # (310 - 10) / 20

    def test_two_resets_use_the_last(self):
        samples = [(0.0, 500), (10.0, 5), (20.0, 100), (30.0, 3), (40.0, 23)]
        assert rate(samples, window_s=60) == 2.0

    def test_reset_on_newest_sample_leaves_nothing(self):
        assert rate([(0.0, 1000), (10.0, 2000), (20.0, 5)], window_s=60) is None

    def test_unsorted_samples(self):
        assert rate([(10.0, 500), (0.0, 0)], window_s=60) == 50.0

    def test_huge_counters(self):
        big = 2**62
        assert rate([(0.0, big), (10.0, big + 1_000_000)], window_s=60) == 100_000.0


class TestTrend:
    def test_growing(self):
        samples = [(float(t), 1000.0 + 10 * t) for t in range(0, 60, 5)]
        result = trend(samples, window_s=300)
        assert result.slope == pytest.approx(10.0)
        assert result.direction == "growing"
        assert result.samples == 12

    def test_shrinking(self):
        samples = [(float(t), 5000.0 - 20 * t) for t in range(0, 60, 5)]
        result = trend(samples, window_s=300)
        assert result.slope == pytest.approx(-20.0)
        assert result.direction == "shrinking"

    def test_constant_is_steady(self):
        result = trend([(float(t), 700.0) for t in range(0, 60, 5)], window_s=300)
        assert result == Trend(0.0, "steady", 12)

    def test_all_zero_is_steady(self):
        assert trend([(0.0, 0.0), (5.0, 0.0), (10.0, 0.0)], window_s=60).direction == "steady"

    def test_small_drift_relative_to_level_is_steady(self):
        # +1 % over the window on a lag of 100k: steady.
        samples = [(float(t), 100_000.0 + t * (1000 / 55)) for t in range(0, 60, 5)]
        assert trend(samples, window_s=300).direction == "steady"

    def test_drift_above_five_percent_is_growing(self):
        # +10 % over the window on a lag of 100k.
        samples = [(float(t), 100_000.0 + t * (10_000 / 55)) for t in range(0, 60, 5)]
        assert trend(samples, window_s=300).direction == "growing"

    def test_one_record_over_the_window_is_steady(self):
        assert trend([(0.0, 0.0), (5.0, 0.0), (10.0, 1.0)], window_s=60).direction == "steady"

    def test_commit_sawtooth_is_steady(self):
        # Consumer caught up, committing every 5 s while 20 msg/s arrive: lag jumps 0..100 at random phases.
        rng = random.Random(7)
        samples = [(float(t), float(rng.randint(0, 100))) for t in range(0, 300, 10)]
        result = trend(samples, window_s=600)
        assert result.direction == "steady"
        assert result.slope is not None

    def test_only_window_counts(self):
        # Old samples grew fast; the last 60 s are flat.
        samples = [(float(t), 10.0 * t) for t in range(0, 100, 10)] + [(float(t), 900.0) for t in range(100, 170, 10)]
        result = trend(samples, window_s=60)
        assert result.samples == 7
        assert result.direction == "steady"

    def test_fewer_than_three_samples(self):
        assert trend([], window_s=60) == Trend(None, "unknown", 0)
        assert trend([(0.0, 1.0)], window_s=60) == Trend(None, "unknown", 1)
        assert trend([(0.0, 1.0), (5.0, 1000.0)], window_s=60) == Trend(None, "unknown", 2)

    def test_fewer_than_three_in_window(self):
        assert trend([(0.0, 1.0), (5.0, 2.0), (100.0, 3.0)], window_s=10).slope is None

    def test_zero_time_span(self):
        assert trend([(5.0, 1.0), (5.0, 2.0), (5.0, 3.0)], window_s=60) == Trend(None, "unknown", 3)

    def test_unsorted_samples(self):
        samples = [(10.0, 200.0), (0.0, 0.0), (5.0, 100.0)]
        assert trend(samples, window_s=60).slope == pytest.approx(20.0)

    def test_huge_values(self):
        samples = [(float(t), 1e15 + 1e13 * t) for t in range(10)]
        result = trend(samples, window_s=60)
        assert result.slope == pytest.approx(1e13)
        assert result.direction == "growing"


class TestCatchUpEta:
    def test_eta(self):
        assert catch_up_eta(6000, consume_rate=150.0, produce_rate=100.0) == CatchUp(120.0, "at current rates")

    def test_zero_lag(self):
        assert catch_up_eta(0, None, None) == CatchUp(0.0, "caught up")

    def test_negative_lag_is_caught_up(self):
        assert catch_up_eta(-3, 10.0, 10.0) == CatchUp(0.0, "caught up")

    def test_not_catching_up(self):
        assert catch_up_eta(10_000, consume_rate=50.0, produce_rate=80.0) == CatchUp(None, "not catching up")

    def test_equal_rates_are_not_catching_up(self):
        assert catch_up_eta(100, consume_rate=50.0, produce_rate=50.0).seconds is None

    def test_stopped_consumer(self):
        assert catch_up_eta(100, consume_rate=0.0, produce_rate=0.0).reason == "not catching up"

    @pytest.mark.parametrize(("consume", "produce"), [(None, 10.0), (10.0, None), (None, None)])
    def test_no_rate_yet(self, consume, produce):
        assert catch_up_eta(1000, consume, produce) == CatchUp(None, "no rate yet")

    def test_idle_producer(self):
        assert catch_up_eta(1000, consume_rate=250.0, produce_rate=0.0).seconds == 4.0

    def test_a_few_records_under_production_are_keeping_up_not_not_catching_up(self):
        assert catch_up_eta(1, consume_rate=90.0, produce_rate=100.0) == CatchUp(None, "keeping up")
        assert catch_up_eta(10, consume_rate=0.0, produce_rate=0.0) == CatchUp(None, "keeping up")
        nine_seconds_of_production = 900
        assert catch_up_eta(nine_seconds_of_production, 90.0, 100.0) == CatchUp(None, "keeping up")

    def test_a_net_rate_near_zero_gives_no_absurd_time(self):
        # lag / (consume - produce) at a net 1e-9/s: 26062497843d 13h before the horizon
        assert catch_up_eta(2252, consume_rate=100.000000001, produce_rate=100.0) == CatchUp(None, "more than 30 days")
        assert catch_up_eta(2_591_000, consume_rate=1.0, produce_rate=0.0).seconds == 2_591_000.0

    def test_noise_band(self):
        assert in_noise_band(10, None) and not in_noise_band(11, None)
        assert in_noise_band(500, 50.0) and not in_noise_band(501, 50.0)

    def test_huge_lag(self):
        assert catch_up_eta(10**12, 1_000_000.0, 0.0).seconds == 1_000_000.0


class TestDownsample:
    def test_keeps_last_point_per_bucket(self):
        points = [(0.0, 0), (10.0, 10), (59.0, 59), (60.0, 60), (61.0, 61), (125.0, 125)]
        assert downsample(points, 60) == [(59.0, 59), (61.0, 61), (125.0, 125)]

    def test_empty(self):
        assert downsample([], 60) == []

    def test_single(self):
        assert downsample([(5.0, "x")], 60) == [(5.0, "x")]

    def test_generic_payload(self):
        points = [(0.0, {"a": 1}), (1.0, {"a": 2})]
        assert downsample(points, 10) == [(1.0, {"a": 2})]

    def test_gaps_leave_no_empty_buckets(self):
        assert downsample([(0.0, 1), (1000.0, 2)], 10) == [(0.0, 1), (1000.0, 2)]

    def test_unsorted_input(self):
        assert downsample([(9.0, 9), (1.0, 1), (12.0, 12)], 10) == [(9.0, 9), (12.0, 12)]

    def test_unix_times(self):
        t0 = 1_699_999_980.0  # a multiple of 60
        points = [(t0 + s, s) for s in range(0, 300, 7)]
        result = downsample(points, 60)
        assert [v for _, v in result] == [56, 119, 175, 238, 294]

    def test_idempotent(self):
        points = [(float(t), t) for t in range(0, 1000, 3)]
        once = downsample(points, 50)
        assert downsample(once, 50) == once

    @pytest.mark.parametrize("bucket", [0, -5])
    def test_bucket_must_be_positive(self, bucket):
        with pytest.raises(ValueError):
            downsample([(0.0, 1)], bucket)


def parse(points: str) -> list[tuple[float, float]]:
    return [tuple(float(c) for c in pair.split(",")) for pair in points.split()]


class TestSparklinePoints:
    def test_scaled_to_box(self):
        assert sparkline_points([0, 5, 10], 100, 20) == "0,20 50,10 100,0"

    def test_max_at_top_min_at_bottom(self):
        pts = parse(sparkline_points([3, 1, 2], 10, 10))
        assert pts == [(0, 0), (5, 10), (10, 5)]

    def test_constant_is_flat_in_the_middle(self):
        assert sparkline_points([7, 7, 7], 60, 16) == "0,8 30,8 60,8"

    def test_fewer_than_two_values(self):
        assert sparkline_points([], 100, 20) == ""
        assert sparkline_points([5], 100, 20) == ""

    def test_two_values(self):
        assert sparkline_points([1, 2], 80, 20) == "0,20 80,0"

    def test_fractions_rounded(self):
        assert sparkline_points([0, 1, 2, 3], 100, 30) == "0,30 33.33,20 66.67,10 100,0"

    def test_negative_values(self):
        assert sparkline_points([-10, 0, 10], 10, 10) == "0,10 5,5 10,0"

    def test_huge_values(self):
        pts = parse(sparkline_points([1e15, 2e15, 1e15 + 1], 100, 10))
        assert pts[1] == (50, 0)
        assert all(0 <= y <= 10 for _, y in pts)

    def test_all_points_inside_the_box(self):
        rng = random.Random(3)
        values = [rng.uniform(-1000, 1000) for _ in range(200)]
        pts = parse(sparkline_points(values, 120, 24))
        assert len(pts) == 200
        assert all(0 <= x <= 120 and 0 <= y <= 24 for x, y in pts)
        assert pts[0][0] == 0 and pts[-1][0] == 120

    def test_padding(self):
        assert sparkline_points([0, 10], 100, 20, pad=2) == "0,18 100,2"

    def test_no_negative_zero(self):
        assert "-0" not in sparkline_points([0.0, -0.0, 1e-9], 10, 10)

    def test_no_nan(self):
        assert not any(math.isnan(c) for pair in parse(sparkline_points([1, 1, 1], 10, 10)) for c in pair)
