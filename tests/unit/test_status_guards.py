"""Issue 13: a status that catches stopped consumers, and the guards against Burrow's false alarms.

Each guard has a test that shows the alarm it prevents: the same window without what the guard
looks at (or with the guard's parameter off) does alarm. docs/lag-status.md, "Guards", names them.
"""

from collections import deque

import pytest

from kafka_admin.figures.status import (
    RESET_AUDIT_DELAY_S,
    LagStatus,
    PartitionStatus,
    Run,
    Sample,
    advance,
    duration_text,
    evaluate_group,
    evaluate_partition,
    push,
    run_of,
    steady_duration,
)
from tests.unit.status_windows import FULL, MIN, STEP, T0, window


def judge(samples, *, has_owner=False, now=None, **kw) -> PartitionStatus:
    now = samples[-1].t if now is None else now
    return evaluate_partition(samples, min_samples=MIN, now=now, has_owner=has_owner, **kw)


class Polled:
    """A partition polled every 5 s the way the tracker keeps it: a bounded window and a run."""

    def __init__(self) -> None:
        self.window: deque[Sample] = deque()
        self.run: Run | None = None
        self.t = T0

    def poll(self, committed: int | None, end: int | None) -> None:
        sample = Sample(self.t, committed, end)
        push(self.window, sample, FULL)
        self.run = advance(self.run, sample)
        self.t += STEP

    def judge(self, *, has_owner: bool = False, **kw) -> PartitionStatus:
        return evaluate_partition(
            self.window, min_samples=MIN, now=self.t - STEP, has_owner=has_owner, run=self.run, **kw
        )


# -- the consumer that stops with a backlog while producers are quiet -----------------------------


class TestStoppedOnAQuietTopic:
    @pytest.mark.parametrize("backlog", [100, 3000])
    @pytest.mark.parametrize(("has_owner", "expected"), [(False, LagStatus.STOP), (True, LagStatus.STALL)])
    def test_stops_mid_backlog_and_stays_red(self, backlog, has_owner, expected):
        # A nightly batch: 3,000 records written at once, the consumer works them off at 50 a poll,
        # then dies (or hangs on a poison record) with `backlog` left. Nothing new is written.
        p = Polled()
        end = 10_000
        committed = end - backlog - 50 * 30
        for _ in range(30):
            p.poll(committed, end)
            committed += 50
        seen = []
        for _ in range(12 * 30):  # 30 minutes stopped
            p.poll(committed, end)
            seen.append(p.judge(has_owner=has_owner).status)
        # OK while it may still be a pause (records waited less than 60 s), then red and red it stays.
        assert set(seen[:11]) == {LagStatus.OK}
        assert set(seen[12:]) == {expected}
        reason = p.judge(has_owner=has_owner).reason
        assert f"while {backlog} records wait" in reason
        # The clock runs from the first sample after the last commit, not from the window's two minutes.
        assert "for 29m 55s" in reason

    def test_stopped_nine_minutes_says_nine_minutes(self):
        p = Polled()
        for i in range(20):
            p.poll(1000 + 10 * i, 1500 + 10 * i)
        for _ in range(9 * 12):
            p.poll(1190, 1690)
        assert p.judge().reason == "no consumer and no commit for 9m 00s while 500 records wait"
        assert p.judge(has_owner=True).reason == "committed offset stuck at 1190 for 9m 00s while 500 records wait"

    def test_lists_get_a_reason_that_holds_still_between_steps(self):
        # The group's reason (the groups list, the overview) rounds the duration down to a step, so a
        # stopped group's row is not re-sent to every open page on every cycle.
        p = Polled()
        for i in range(20):
            p.poll(1000 + 10 * i, 1500 + 10 * i)
        steady = []
        for _ in range(12 * 31):
            p.poll(1190, 1690)
            result = p.judge()
            if result.status == LagStatus.STOP and result.steady not in steady:
                steady.append(result.steady)
        assert [s.split(" for ")[1].split(" while")[0] for s in steady] == [
            "at least 60 s",
            "at least 2m 00s",
            "at least 5m 00s",
            "at least 10m 00s",
            "at least 15m 00s",
            "at least 30m 00s",
        ]
        assert evaluate_group({("t", 0): p.judge()}).reason == (
            "1 of 1 partitions STOP; t[0]: no consumer and no commit for at least 30m 00s while 500 records wait"
        )

    def test_stopped_before_the_first_sample_held_says_more_than(self):
        # The dashboard started (or its history begins) while the consumer was already stuck.
        p = Polled()
        for _ in range(40):
            p.poll(1190, 1690)
        assert p.judge().reason == "no consumer and no commit for more than 3m 15s while 500 records wait"

    def test_records_arriving_later_start_the_clock_when_they_arrive(self):
        # Caught up and idle since the first sample, then 300 records arrive and nobody reads them.
        p = Polled()
        for _ in range(40):
            p.poll(1000, 1000)
        for _ in range(30):
            p.poll(1000, 1300)
        assert p.judge().reason == "no consumer and no commit for 2m 25s while 300 records wait"

    def test_warn_then_stop_when_producers_keep_writing(self):
        p = Polled()
        committed, end = 1000, 1100
        seen = []
        for i in range(60):
            if i < 30:
                committed += 40
            end += 50
            p.poll(committed, end)
            seen.append(p.judge().status)
        assert LagStatus.WARN in seen[MIN:30]
        assert seen[-1] == LagStatus.STOP


# -- the guards: each prevents one of Burrow's reported false alarms ------------------------------


class TestGuardSlowTopicClock:
    """STOP on slow topics: the first record after hours of silence made Burrow's hours-old last
    commit look like a stop. The clock starts when records began waiting."""

    def test_one_record_after_hours_of_silence(self):
        p = Polled()
        for _ in range(3 * 720):  # three hours caught up and idle
            p.poll(500, 500)
        for _ in range(3):  # one record, waiting 10 s
            p.poll(500, 501)
        assert p.judge().status == LagStatus.OK
        # What the guard prevents: a clock from the last commit says three hours without a commit.
        stale = Run(500, T0, True, T0, 500, 501, p.t - STEP)
        now = p.t - STEP
        assert evaluate_partition(p.window, min_samples=MIN, now=now, has_owner=False, run=stale).status == "STOP"

    def test_the_record_left_waiting_is_caught(self):
        p = Polled()
        for _ in range(100):
            p.poll(500, 500)
        for _ in range(14):
            p.poll(500, 501)
        assert p.judge() == PartitionStatus(LagStatus.STOP, "no consumer and no commit for 65 s while 1 record waits")


class TestGuardStreamsCommitInterval:
    """Kafka Streams commits every 30 s: on a slow topic a record waits up to 30 s for its commit,
    with no commit span in the window to compare with. Records must wait min_stuck_s (60 s)."""

    def test_a_record_waiting_for_the_next_30_s_commit(self):
        rows = [(500, 500)] * 20 + [(500, 501)] * 6  # 25 s waiting, the commit comes at 30 s
        assert judge(window(*rows)).status == LagStatus.OK
        assert judge(window(*rows), min_stuck_s=0).status == LagStatus.STOP

    def test_two_polls_at_least_whatever_min_stuck_s(self):
        rows = [(500, 500)] * 20 + [(500, 501)] * 2
        assert judge(window(*rows), min_stuck_s=0).status == LagStatus.OK
        assert judge(window(*rows, (500, 501)), min_stuck_s=0).status == LagStatus.STOP


class TestGuardTransactionMarker:
    """A caught-up consumer of a transactional topic sits one record short of the log end (the
    commit marker) for as long as nothing new is written: not a backlog."""

    def test_lag_one_with_nothing_new_is_idle(self):
        p = Polled()
        for i in range(10):
            p.poll(100 + 3 * i, 102 + 3 * i)  # a transaction of 2 records + marker a poll
        for _ in range(200):
            p.poll(128, 129)
        assert p.judge().status == LagStatus.OK
        assert p.judge(has_owner=True).status == LagStatus.OK

    def test_without_the_guard_it_would_alarm(self):
        # The same lag and age, but the record arrived after the last commit: waiting, not a marker.
        rows = [(128, 128)] * 4 + [(128, 129)] * 20
        assert judge(window(*rows)).status == LagStatus.STOP
        assert judge(window(*[(128, 129)] * FULL)).status == LagStatus.OK


class TestGuardTruncation:
    """REWIND during broker deploys: the log was cut beneath the consumer (unclean leader election,
    a diverged log under KIP-320, a recreated topic) and its reset was forced on it."""

    def test_end_falls_with_the_committed_offset(self):
        # Log end 1100 -> 1060 during a restart; the consumer follows; re-reads slowly after it.
        rows = [*[(1000 + 10 * i, 1010 + 10 * i) for i in range(10)], (None, None), (None, 1060)]
        rows += [(1040 + i, 1065 + 5 * i) for i in range(12)]
        assert judge(window(*rows)).status != LagStatus.REWIND
        # Control: the same drop with the log intact is a rewind.
        intact = [*rows[:10], (None, None), (None, 1110), *[(1040 + i, 1115 + 5 * i) for i in range(12)]]
        assert judge(window(*intact)).status == LagStatus.REWIND

    def test_old_position_beyond_the_new_log_end(self):
        # The end is read before the committed offset: the fall shows in the same sample as the drop.
        rows = [*[(1000 + 10 * i, 1005 + 10 * i) for i in range(10)], (1040, 1045)]
        rows += [(1041 + i, 1050 + 5 * i) for i in range(12)]
        assert judge(window(*rows)).status != LagStatus.REWIND

    def test_end_falls_one_poll_after_the_drop(self):
        # The end offsets were read a moment before the truncation, the committed offsets after it.
        rows = [*[(1000 + 10 * i, 1100 + 10 * i) for i in range(10)], (1050, 1200), (1051, 1060)]
        rows += [(1052 + i, 1065 + 5 * i) for i in range(11)]
        assert judge(window(*rows)).status != LagStatus.REWIND
        rows[11] = (1051, 1205)
        rows[12:] = [(1052 + i, 1210 + 5 * i) for i in range(11)]
        assert judge(window(*rows)).status == LagStatus.REWIND


class TestGuardOneSampleDip:
    """REWIND during broker deploys: a coordinator that is just taking over answers with an older
    committed offset once. A drop must still be there at the next sample."""

    def test_dip_at_the_newest_sample_is_not_yet_a_rewind(self):
        rows = [(1000 + 10 * i, 1005 + 10 * i) for i in range(MIN)]
        assert judge(window(*rows, (500, 1125))).status != LagStatus.REWIND
        assert judge(window(*rows, (500, 1125), (510, 1135))).status == LagStatus.REWIND

    def test_dip_in_the_window_that_came_back(self):
        rows = [(1000 + 10 * i, 1005 + 10 * i) for i in range(FULL)]
        rows[10] = (900, rows[10][1])
        assert judge(window(*rows)).status == LagStatus.OK

    def test_dip_does_not_restart_the_stop_clock(self):
        p = Polled()
        for i in range(10):
            p.poll(1000 + 10 * i, 1500 + 10 * i)
        for _ in range(60):
            p.poll(1090, 1590)
        p.poll(1000, 1590)  # one stale answer
        for _ in range(5):
            p.poll(1090, 1590)
        assert p.judge().reason == "no consumer and no commit for 5m 30s while 500 records wait"


class TestGuardUnreadableOffsets:
    """REWIND during broker deploys: while a group's coordinator moves, its committed offsets cannot
    be read (None, or Kafka's -1); they are skipped, not taken for a drop."""

    def test_unreadable_at_the_end_of_the_window(self):
        rows = [*[(1000 + 10 * i, 1005 + 10 * i) for i in range(20)], (None, 1205), (-1, 1215), (None, 1225)]
        assert judge(window(*rows)).status == LagStatus.OK

    def test_back_at_the_same_place_after_the_gap(self):
        rows = [(1000 + 10 * i, 1005 + 10 * i) for i in range(FULL)]
        rows[9:12] = [(None, None)] * 3
        assert judge(window(*rows)).status == LagStatus.OK


class TestGuardDashboardResets:
    """A reset the dashboard made itself is in its audit log: the operator knows, so no REWIND."""

    ROWS = [*[(5000 + 10 * i, 5010 + 10 * i) for i in range(12)], *[(0, 5130 + 10 * i) for i in range(12)]]

    def test_a_known_reset_explains_the_drop(self):
        samples = window(*self.ROWS)
        drop_seen_at = samples[12].t
        assert judge(samples).status == LagStatus.REWIND
        for reset_at in (drop_seen_at - STEP + 0.1, drop_seen_at, drop_seen_at + RESET_AUDIT_DELAY_S):
            assert judge(samples, resets={reset_at}).status != LagStatus.REWIND

    def test_a_reset_at_another_time_does_not(self):
        samples = window(*self.ROWS)
        drop_seen_at = samples[12].t
        for reset_at in (drop_seen_at - STEP, drop_seen_at + RESET_AUDIT_DELAY_S + 0.1, T0 - 3600):
            assert judge(samples, resets={reset_at}).status == LagStatus.REWIND

    def test_after_the_known_reset_the_other_rules_judge(self):
        # Reset an empty group to 0: nobody consumes afterwards, and records wait. STOP once they waited
        # longer than the 60 s of commits before the reset (Burrow's span rule).
        rows = [*self.ROWS, (0, 5250)]
        assert judge(window(*rows), resets={T0 + 12 * STEP}).status == LagStatus.OK
        result = judge(window(*rows, (0, 5260)), resets={T0 + 12 * STEP})
        assert result == PartitionStatus(LagStatus.STOP, "no consumer and no commit for 65 s while 5260 records wait")


# -- the run ----------------------------------------------------------------------------------------


class TestRun:
    def test_follows_the_committed_offset(self):
        run = run_of(window((10, 10), (10, 12), (10, 15), (20, 20), (20, 25)))
        assert run == Run(20, T0 + 15, True, T0 + 20, 20, 25, T0 + 20, 2, None)
        assert run.arrived == 5

    def test_first_sample_held_is_not_a_seen_move(self):
        run = run_of(window((10, 12), (10, 12)))
        assert (run.t, run.moved, run.waiting_t) == (T0, False, T0)

    def test_unreadable_offsets_are_skipped_and_unknown_ends_carried(self):
        run = run_of(window((10, 10), (None, 30), (10, None), (-1, 40)))
        assert (run.committed, run.t, run.end, run.waiting_t, run.samples) == (10, T0, 40, T0 + 10, 2)

    def test_caught_up_again_clears_the_wait(self):
        run = run_of(window((10, 20), (10, 9), (10, 25)))
        assert run.waiting_t == T0 + 10

    def test_clock_backwards_starts_afresh(self):
        run = advance(run_of(window((10, 10), (20, 20))), Sample(T0 - 100, 20, 30))
        assert (run.t, run.moved, run.samples) == (T0 - 100, False, 1)

    def test_same_time_twice_is_one_sample(self):
        run = run_of(window((10, 12)))
        assert advance(run, Sample(T0, 10, 12)) is run

    def test_nothing_known_yet(self):
        assert run_of([]) is None
        assert run_of(window((None, 10), (10, None))) is None

    def test_a_dip_up_is_a_move(self):
        run = run_of(window((10, 10), (20, 20), (10, 20)))
        assert (run.committed, run.t, run.moved) == (10, T0 + 10, True)

    def test_a_run_for_another_offset_is_not_used(self):
        # The caller's run is stale (another offset): the window's own run is judged instead.
        stale = Run(7, T0 - 9999, True, T0 - 9999, 7, 8, T0 - 9999)
        rows = [(500, 500)] * 20 + [(500, 501)] * 3
        assert judge(window(*rows), run=stale).status == LagStatus.OK


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (59.6, "60 s"), (115, "115 s"), (120, "2m 00s"), (545, "9m 05s"), (7800, "2h 10m"), (273600, "3d 4h")],
)
def test_duration_text(seconds, text):
    assert duration_text(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(4.6, "5 s"), (10, "at least 10 s"), (59, "at least 30 s"), (545, "at least 5m 00s"), (90000, "at least 24h 00m")],
)
def test_steady_duration(seconds, text):
    assert steady_duration(seconds) == text
