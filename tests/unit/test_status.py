"""Lag status rules, walked through with sample windows polled every 5 s (docs/lag-status.md)."""

from collections import deque

import pytest

from kafka_admin.figures.status import (
    DEFAULT_MIN_STUCK_S,
    RANK,
    SEVERITY,
    GroupStatus,
    LagStatus,
    PartitionStatus,
    Sample,
    evaluate_group,
    evaluate_partition,
    push,
    severity,
    worst,
)
from tests.unit.status_windows import FULL, MIN, STEP, T0, window


def linear(n: int, *, c0: int = 0, dc: int = 0, e0: int = 0, de: int = 0) -> list[tuple[int, int]]:
    """n rows where committed and end move by a fixed amount every poll."""
    return [(c0 + i * dc, e0 + i * de) for i in range(n)]


def judge(samples: list[Sample], *, has_owner: bool = True, min_samples: int = MIN, **kw) -> PartitionStatus:
    return evaluate_partition(samples, min_samples=min_samples, now=samples[-1].t, has_owner=has_owner, **kw)


def status(samples: list[Sample], **kw) -> LagStatus:
    return judge(samples, **kw).status


# -- 1. NODATA ------------------------------------------------------------------------------------


class TestNoData:
    def test_window_filling(self):
        result = judge(window(*linear(MIN - 1, dc=10, de=12, e0=5)))
        assert result == PartitionStatus(LagStatus.NODATA, f"window filling: {MIN - 1} of {MIN} samples")

    def test_just_enough_samples_is_judged(self):
        assert status(window(*linear(MIN, dc=10, de=10, e0=5))) == LagStatus.OK

    def test_empty_window(self):
        assert evaluate_partition([], min_samples=MIN, now=T0, has_owner=True).status == LagStatus.NODATA

    def test_unreadable_offsets_do_not_count(self):
        rows = linear(MIN, dc=10, de=10, e0=5)
        rows[3] = (None, rows[3][1])
        rows[7] = (None, rows[7][1])
        assert status(window(*rows)) == LagStatus.NODATA

    def test_no_offset_minus_one_counts_as_unknown(self):
        rows = [(-1, 100)] * 3 + linear(MIN - 1, c0=100, dc=10, e0=105, de=10)
        assert judge(window(*rows)).reason == f"window filling: {MIN - 1} of {MIN} samples"

    def test_end_never_known(self):
        assert status(window(*[(100, None)] * FULL)) == LagStatus.NODATA

    def test_min_samples_below_two_is_refused(self):
        with pytest.raises(ValueError):
            judge(window((0, 0), (1, 1)), min_samples=1)


# -- 2. Current lag 0 -----------------------------------------------------------------------------


class TestCaughtUp:
    def test_lag_zero_now(self):
        assert judge(window(*linear(MIN, dc=10, de=10))) == PartitionStatus(LagStatus.OK, "caught up")

    def test_beats_everything_else(self):
        # Falling behind for most of the window, stuck, no owner: but the last sample has lag 0.
        rows = [*[(0, 100 * i) for i in range(FULL - 1)], (100 * FULL, 100 * FULL)]
        assert status(window(*rows), has_owner=False) == LagStatus.OK

    def test_committed_ahead_of_end_is_lag_zero(self):
        # The end offset was read a moment before the committed offset.
        rows = [*linear(MIN - 1, dc=10, e0=5, de=10), (200, 195)]
        assert status(window(*rows)) == LagStatus.OK

    def test_slow_healthy_topic_without_new_data(self):
        """Burrow false alarm: no commits for the whole window on a quiet topic is not STOP."""
        assert status(window(*[(500, 500)] * FULL), has_owner=False) == LagStatus.OK


# -- 3. REWIND ------------------------------------------------------------------------------------


class TestRewind:
    def test_deliberate_reset_to_earliest_persists(self):
        # Consuming normally, then the (emptied) group's offsets are reset from 5100 to 0 and stay.
        rows = [*linear(12, c0=5000, dc=10, e0=5010, de=10), *[(0, 5130 + 10 * i) for i in range(12)]]
        result = judge(window(*rows), has_owner=False)
        assert result == PartitionStatus(LagStatus.REWIND, "committed offset moved back 5110 records (5110 -> 0)")

    def test_consumer_re_reading_after_a_reset(self):
        rows = [*linear(12, c0=5000, dc=100, e0=5050, de=100), *linear(12, c0=1000, dc=100, e0=6250, de=100)]
        assert status(window(*rows)) == LagStatus.REWIND

    def test_one_sample_dip_that_recovers_is_a_transient_read(self):
        rows = linear(FULL, c0=1000, dc=10, e0=1005, de=10)
        rows[10] = (900, rows[10][1])
        result = judge(window(*rows))
        assert result.status == LagStatus.OK

    def test_broker_restart_unreadable_offsets_then_same_position(self):
        # Offsets unreadable and the partition offline for three polls, then everything is back.
        rows = linear(FULL, c0=1000, dc=10, e0=1005, de=10)
        for i in (9, 10, 11):
            rows[i] = (None, None)
        assert status(window(*rows)) == LagStatus.OK

    def test_broker_restart_with_truncated_log(self):
        # Unclean leader election: the log end drops from 1100 to 1060 and the consumer follows it.
        rows = [
            *linear(10, c0=1000, dc=10, e0=1010, de=10),
            (None, None),
            (None, 1060),
            *linear(12, c0=1060, dc=10, e0=1065, de=10),
        ]
        assert status(window(*rows)) == LagStatus.OK

    def test_forced_reset_seen_polls_after_the_truncation(self):
        # The log end falls below the committed offset; two polls later the consumer's
        # auto.offset.reset moves the committed offset back to the new end.
        rows = [
            *linear(10, c0=1000, dc=10, e0=1005, de=10),
            (1090, 1040),
            (1090, 1045),
            (1090, 1050),
            *linear(11, c0=1050, dc=5, e0=1055, de=5),
        ]
        assert status(window(*rows)) == LagStatus.OK

    def test_log_divergence_after_unclean_election(self):
        # The new leader's log diverges at 1040 and ends at 1080 (was 1100); the consumer, validating
        # its position by leader epoch (KIP-320), goes back from 1050 to the divergence point.
        rows = [*linear(11, c0=950, dc=10, e0=1000, de=10), (1040, 1080), *linear(12, c0=1045, dc=10, e0=1090, de=10)]
        assert status(window(*rows)) == LagStatus.OK

    def test_drop_at_the_newest_sample_waits_for_confirmation(self):
        rows = [*linear(MIN, c0=1000, dc=10, e0=1005, de=10)]
        samples = window(*rows, (500, 1125))
        assert status(samples) != LagStatus.REWIND
        samples = window(*rows, (500, 1125), (510, 1135))
        assert status(samples) == LagStatus.REWIND

    def test_drop_across_unreadable_samples_is_compared_across_the_gap(self):
        rows = [
            *linear(10, c0=1000, dc=10, e0=1005, de=10),
            (None, 1105),
            (None, 1115),
            *linear(12, c0=200, dc=10, e0=1125, de=10),
        ]
        assert status(window(*rows)) == LagStatus.REWIND

    def test_rewind_that_came_back_to_its_old_position_is_over(self):
        # Reset from 5020 to 0, then re-read fast, 300 records a poll: 4800 at the 17th poll after it.
        rows = [*linear(3, c0=5000, dc=10, e0=5010, de=10), *linear(FULL - 3, c0=0, dc=300, e0=5030, de=100)]
        assert status(window(*rows[:-4])) == LagStatus.REWIND
        # Then 5100: past the old position, so the rewind is over while the drop is still in the window.
        assert judge(window(*rows[:-3])) == PartitionStatus(LagStatus.OK, "lag 1630, not growing")
        assert judge(window(*rows)) == PartitionStatus(LagStatus.OK, "lag 1030, not growing")

    def test_rewind_leaves_with_the_window(self):
        # A slow re-read that never gets back to 5020: REWIND until the drop leaves the window.
        rows = [*linear(3, c0=5000, dc=10, e0=5010, de=10), *linear(FULL, c0=0, dc=100, e0=5030, de=100)]
        assert status(window(*rows)) == LagStatus.REWIND
        assert judge(window(*rows[-FULL:])) == PartitionStatus(LagStatus.OK, "lag 5030, not growing")

    def test_caught_up_after_a_rewind_is_ok(self):
        rows = [*linear(12, c0=5000, dc=10, e0=5010, de=10), *linear(11, c0=0, dc=600, e0=5130, de=10), (5240, 5240)]
        assert status(window(*rows)) == LagStatus.OK

    def test_rewind_outranks_stop(self):
        # Reset while the group is empty: nobody consumes afterwards, but the rewind is the news.
        rows = [*linear(4, c0=5000, dc=10, e0=5010, de=10), *[(0, 5050 + 10 * i) for i in range(20)]]
        assert status(window(*rows), has_owner=False) == LagStatus.REWIND


# -- 4. STOP and 5. STALL ---------------------------------------------------------------------------


def stopped(n: int = FULL, *, moving: int = 0) -> list[Sample]:
    """`moving` polls of a healthy consumer (lag 5), then the committed offset freezes while 10
    records arrive every poll."""
    rows = linear(moving, c0=1000, dc=10, e0=1005, de=10)
    frozen = rows[-1][0] if rows else 1000
    rows += [(frozen, frozen + 5 + 10 * (i + 1)) for i in range(n - moving)]
    return window(*rows)


class TestStopAndStall:
    def test_no_owner_no_commit_new_data_is_stop(self):
        result = judge(stopped(), has_owner=False)
        # Stuck since the first sample held: the window cannot say since when, so "more than".
        assert result == PartitionStatus(
            LagStatus.STOP, "no consumer and no commit for more than 115 s while 245 records wait"
        )

    def test_owner_present_is_stall(self):
        result = judge(stopped(), has_owner=True)
        assert result == PartitionStatus(
            LagStatus.STALL, "committed offset stuck at 1000 for more than 115 s while 245 records wait"
        )

    def test_stop_seen_to_begin_says_since_when(self):
        # Commits every poll for 15 s, then none: the last move is in the window, so the time is known.
        result = judge(stopped(FULL, moving=4), has_owner=False)
        assert result == PartitionStatus(LagStatus.STOP, "no consumer and no commit for 100 s while 205 records wait")

    def test_not_before_min_stuck_s(self):
        # 12 samples stuck from the start: records have waited 55 s < 60 s.
        assert status(stopped(MIN), has_owner=False) == LagStatus.OK
        assert status(stopped(MIN + 1), has_owner=False) == LagStatus.STOP
        assert DEFAULT_MIN_STUCK_S == 60.0

    def test_not_before_two_poll_intervals(self):
        # Idle and caught up, then records arrive: waiting for one poll is not stuck, two polls is.
        rows = [(1000, 1000)] * 10 + [(1000, 1010), (1000, 1020)]
        assert status(window(*rows), has_owner=False, min_stuck_s=0) == LagStatus.OK
        rows.append((1000, 1030))
        assert status(window(*rows), has_owner=False, min_stuck_s=0) == LagStatus.STOP

    def test_freshly_stopped_consumer_warns_first(self):
        # Commits every poll, then none for one poll while the lag grows: not stuck yet (the
        # commit span is 40 s), but lag never fell while offsets advanced.
        assert status(stopped(MIN, moving=MIN - 1), has_owner=False) == LagStatus.WARN

    def test_burrow_span_rule_waits_longer_than_the_commit_span(self):
        # Commits every poll for 75 s, then none for 40 s: not longer than the commit span yet,
        # but the lag grows without a dip, so it warns.
        assert status(stopped(FULL, moving=16), has_owner=False, min_stuck_s=10) == LagStatus.WARN
        # Commits for 15 s, then none for 100 s.
        assert status(stopped(FULL, moving=4), has_owner=False, min_stuck_s=10) == LagStatus.STOP

    def test_static_backlog_on_a_quiet_topic_is_stop_or_stall(self):
        """Issue 13: a consumer that dies (or hangs) with a backlog while producers are quiet."""
        for lag in (100, 3000):
            assert status(window(*[(900, 900 + lag)] * FULL), has_owner=False) == LagStatus.STOP
            assert status(window(*[(900, 900 + lag)] * FULL), has_owner=True) == LagStatus.STALL

    def test_transaction_marker_is_not_a_backlog(self):
        """A caught-up consumer of a transactional topic commits the offset of the commit marker's
        record, not the marker's: a lag of 1 that stays while nothing new arrives is idle."""
        assert status(window(*[(999, 1000)] * FULL), has_owner=True) == LagStatus.OK
        assert status(window(*[(999, 1000)] * FULL), has_owner=False) == LagStatus.OK
        # The same lag of 1 from a record that arrived and waits is stuck (no marker explains it).
        rows = [(999, 999)] * 4 + [(999, 1000)] * (FULL - 4)
        assert status(window(*rows), has_owner=False) == LagStatus.STOP

    def test_one_record_after_long_silence_is_not_stop(self):
        """Burrow false alarm on slow topics: the clock starts when a record is waiting, not at the
        last commit hours ago."""
        rows = [(500, 500)] * (FULL - 1) + [(500, 501)]
        assert judge(window(*rows), has_owner=False).status == LagStatus.OK
        # ... but a record left waiting for longer than min_stuck_s is.
        rows = [(500, 500)] * (FULL - 14) + [(500, 501)] * 14
        assert judge(window(*rows), has_owner=False).status == LagStatus.STOP

    def test_slow_topic_with_30_s_committer_never_alarms(self):
        # Kafka Streams' default 30 s commit interval; one record every 50 s, committed at the next
        # 30 s tick. Judge every cycle once the window is full.
        samples: deque[Sample] = deque()
        committed = end = 0
        seen = set()
        for i in range(200):
            t = T0 + i * STEP
            if i % 10 == 3:
                end += 1
            if i % 6 == 0:
                committed = end
            push(samples, Sample(t, committed, end), FULL)
            seen.add(status(list(samples), has_owner=True))
        assert seen <= {LagStatus.NODATA, LagStatus.OK}

    def test_busy_topic_with_30_s_committer_never_alarms(self):
        samples: deque[Sample] = deque()
        committed = end = 0
        seen = set()
        for i in range(200):
            end += 100
            if i % 6 == 0:
                committed = end - 20
            push(samples, Sample(T0 + i * STEP, committed, end), FULL)
            seen.add(status(list(samples), has_owner=False))
        assert seen <= {LagStatus.NODATA, LagStatus.OK}

    def test_stall_uses_now(self):
        samples = stopped(MIN)  # 55 s waited at the last sample
        assert evaluate_partition(samples, min_samples=MIN, now=samples[-1].t, has_owner=True).status == LagStatus.OK
        later = samples[-1].t + 10
        assert evaluate_partition(samples, min_samples=MIN, now=later, has_owner=True).status == LagStatus.STALL


# -- 6. Caught up within the window ---------------------------------------------------------------


class TestCaughtUpInWindow:
    def test_lag_zero_once_is_ok(self):
        falling = linear(FULL, c0=1000, dc=50, e0=1000, de=100)  # lag 0, 50, 100, ...
        result = judge(window(*falling))
        assert result == PartitionStatus(LagStatus.OK, "lag 1150, caught up within the window")

    def test_without_the_zero_it_would_warn(self):
        falling = linear(FULL, c0=1000, dc=50, e0=1010, de=100)
        assert status(window(*falling)) == LagStatus.WARN


# -- 7. WARN --------------------------------------------------------------------------------------


class TestWarn:
    def test_falling_behind_steadily(self):
        result = judge(window(*linear(FULL, c0=1000, dc=50, e0=1100, de=100)))
        assert result == PartitionStatus(LagStatus.WARN, "falling behind: lag grew from 100 to 1250")

    def test_any_decrease_is_not_warn(self):
        rows = linear(FULL, c0=1000, dc=50, e0=1100, de=100)
        rows[12] = (rows[12][0] + 80, rows[12][1])
        assert status(window(*rows)) == LagStatus.OK

    def test_growth_within_one_record_is_noise(self):
        rows = [(1000 + 10 * i, 1010 + 10 * i + (1 if i > 10 else 0)) for i in range(FULL)]
        assert status(window(*rows)) == LagStatus.OK

    def test_growth_within_one_percent_is_noise(self):
        # Lag 100000 -> 100920 (0.92 %), never falling.
        rows = [(1000 + 1000 * i, 101000 + 1040 * i) for i in range(FULL)]
        assert status(window(*rows)) == LagStatus.OK
        rows = [(1000 + 1000 * i, 101000 + 1050 * i) for i in range(FULL)]  # 1.15 %
        assert status(window(*rows)) == LagStatus.WARN

    def test_committed_must_advance(self):
        # Frozen for less than min_stuck_s: not WARN (no progress at all), not STOP yet.
        assert status(stopped(MIN), has_owner=False) == LagStatus.OK


# -- 8. OK ----------------------------------------------------------------------------------------


class TestOk:
    def test_keeping_up_with_small_steady_lag(self):
        # Sawtooth: lag between 5 and 25 records, never 0, consumer as fast as the producers.
        rows = [(1000 + 100 * i, 1000 + 100 * i + (5, 15, 25)[i % 3]) for i in range(FULL)]
        assert judge(window(*rows)) == PartitionStatus(LagStatus.OK, "lag 25, not growing")

    def test_constant_lag(self):
        assert status(window(*linear(FULL, c0=1000, dc=100, e0=1010, de=100))) == LagStatus.OK


# -- Edges ----------------------------------------------------------------------------------------


class TestEdges:
    def test_unknown_end_keeps_the_last_known(self):
        rows = linear(FULL, c0=1000, dc=50, e0=1100, de=100)
        # Offline for the last two polls: nobody can fetch, the lag is judged against the last known end.
        rows[-2:] = [(rows[-3][0], None)] * 2
        result = judge(window(*rows))
        assert result.status == LagStatus.WARN
        assert result.reason == "falling behind: lag grew from 100 to 1150"

    def test_offline_partition_is_not_a_rewind(self):
        rows = linear(FULL, c0=1000, dc=10, e0=1005, de=10)
        for i in range(8, 14):
            rows[i] = (rows[i][0], None)
        assert status(window(*rows)) == LagStatus.OK

    def test_order_of_the_window_does_not_matter(self):
        samples = window(*linear(FULL, c0=1000, dc=50, e0=1100, de=100))
        assert judge(list(reversed(samples))) == judge(samples)

    def test_severity_of_a_partition(self):
        assert PartitionStatus(LagStatus.STALL, "").severity == "err"


# -- Group ----------------------------------------------------------------------------------------


def ps(status: LagStatus, reason: str = "r") -> PartitionStatus:
    return PartitionStatus(status, reason)


class TestGroup:
    def test_worst_partition_wins(self):
        result = evaluate_group(
            {
                ("orders", 0): ps(LagStatus.OK),
                ("orders", 1): ps(LagStatus.WARN),
                ("orders", 2): ps(LagStatus.STALL, "stuck"),
                ("audit", 0): ps(LagStatus.STALL, "stuck too"),
            }
        )
        assert result.status == LagStatus.STALL
        assert result.severity == "err"
        assert result.worst_partitions == (("audit", 0), ("orders", 2))
        assert result.reason == "2 of 4 partitions STALL; audit[0]: stuck too"

    def test_counts_every_status(self):
        result = evaluate_group({("t", i): ps(s) for i, s in enumerate([LagStatus.OK] * 3 + [LagStatus.NODATA])})
        assert result.counts == {"NODATA": 1, "OK": 3, "WARN": 0, "REWIND": 0, "STALL": 0, "STOP": 0}

    @pytest.mark.parametrize(
        ("statuses", "expected"),
        [
            ([LagStatus.REWIND, LagStatus.STALL], LagStatus.STALL),
            ([LagStatus.STALL, LagStatus.STOP], LagStatus.STOP),
            ([LagStatus.WARN, LagStatus.REWIND], LagStatus.REWIND),
            ([LagStatus.OK, LagStatus.WARN], LagStatus.WARN),
            ([LagStatus.NODATA, LagStatus.OK], LagStatus.OK),
            ([LagStatus.NODATA, LagStatus.NODATA], LagStatus.NODATA),
        ],
    )
    def test_rank(self, statuses, expected):
        assert evaluate_group({("t", i): ps(s) for i, s in enumerate(statuses)}).status == expected
        assert worst(statuses) == expected

    def test_all_nodata(self):
        result = evaluate_group({("t", 0): ps(LagStatus.NODATA, "window filling: 3 of 12 samples")})
        assert (result.status, result.severity) == (LagStatus.NODATA, "unknown")

    def test_no_partitions(self):
        result = evaluate_group({})
        assert result == GroupStatus(LagStatus.NODATA, "unknown", (), {s.value: 0 for s in LagStatus}, "no partitions")
        assert worst([]) == LagStatus.NODATA

    def test_severity_rollup(self):
        assert {s.value: severity(s) for s in LagStatus} == {
            "NODATA": "unknown",
            "OK": "ok",
            "WARN": "warn",
            "REWIND": "err",
            "STALL": "err",
            "STOP": "err",
        }
        assert severity("STOP") == "err"
        assert set(RANK) == set(SEVERITY) == set(LagStatus)

    def test_end_to_end_from_windows(self):
        partitions = {
            ("orders", 0): judge(window(*linear(FULL, c0=1000, dc=100, e0=1010, de=100))),
            ("orders", 1): judge(window(*linear(FULL, c0=1000, dc=50, e0=1100, de=100))),
            ("orders", 2): judge(window(*linear(3, dc=1, de=1))),
        }
        result = evaluate_group(partitions)
        assert result.status == LagStatus.WARN
        assert result.severity == "warn"
        assert result.worst_partitions == (("orders", 1),)
        assert result.counts["OK"] == result.counts["WARN"] == result.counts["NODATA"] == 1


# -- push -----------------------------------------------------------------------------------------


class TestPush:
    def test_bounded(self):
        w: deque[Sample] = deque()
        for i in range(30):
            push(w, Sample(T0 + i, i, i), 10)
        assert [s.committed for s in w] == list(range(20, 30))

    def test_max_age(self):
        w: deque[Sample] = deque()
        for i in range(10):
            push(w, Sample(T0 + 5 * i, i, i), 100, max_age_s=20)
        assert [s.t - T0 for s in w] == [25, 30, 35, 40, 45]

    def test_same_time_replaces(self):
        w: deque[Sample] = deque()
        push(w, Sample(T0, 1, 1), 10)
        push(w, Sample(T0, 2, 2), 10)
        assert list(w) == [Sample(T0, 2, 2)]

    def test_clock_backwards_clears(self):
        w: deque[Sample] = deque()
        push(w, Sample(T0, 1, 1), 10)
        push(w, Sample(T0 + 5, 2, 2), 10)
        assert push(w, Sample(T0 - 100, 3, 3), 10) is w
        assert list(w) == [Sample(T0 - 100, 3, 3)]

    def test_max_len_at_least_one(self):
        with pytest.raises(ValueError):
            push(deque(), Sample(T0, 1, 1), 0)
