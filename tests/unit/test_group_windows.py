"""A group's compact windows and runs (figures/group_windows.py) hold exactly what one SampleWindow
and one Run per partition, fed the same samples by status.push's rules and status.advance, hold."""

from __future__ import annotations

import random

import pytest

from kafka_admin.figures.group_windows import GroupWindows
from kafka_admin.figures.run import Run, Sample, advance
from kafka_admin.figures.window import SampleWindow, extend_same
from kafka_admin.snapshot.model import PartitionOffsets
from tests.unit.status_windows import STEP, T0

TPS = [("a", 0), ("a", 1), ("b", 0), ("c", 7)]


class Reference:
    """One SampleWindow and one Run per partition: what the tracker kept before."""

    def __init__(self, max_len: int) -> None:
        self.max_len = max_len
        self.windows: dict[tuple[str, int], SampleWindow] = {}
        self.runs: dict[tuple[str, int], Run | None] = {}

    def push(self, tp: tuple[str, int], sample: Sample) -> None:
        self.windows.setdefault(tp, SampleWindow()).push(sample, self.max_len)
        self.runs[tp] = advance(self.runs.get(tp), sample)

    def forget_all_but(self, tps: list[tuple[str, int]]) -> None:
        for tp in [tp for tp in self.windows if tp not in tps]:
            del self.windows[tp]
            self.runs.pop(tp, None)


def offsets(rows: list[tuple[str, int, int | None, int | None]]) -> tuple[PartitionOffsets, ...]:
    return tuple(PartitionOffsets(t, p, c, e, None if c is None or e is None else e - c) for t, p, c, e in rows)  # type: ignore[arg-type]


def assert_same(gw: GroupWindows, ref: Reference) -> None:
    assert sorted(gw.tps()) == sorted(ref.windows)
    for k, tp in enumerate(gw.tps()):
        want = ref.windows[tp]
        assert list(gw.window(k)) == list(want), tp
        assert gw.length(k) == len(want)
        assert gw.window_times(k) == want.times
        assert gw.ends(k) == want.ends()
        assert gw.steady(k) == want.steady()
        assert gw.run(k) == ref.runs.get(tp)
        run = ref.runs.get(tp)
        assert gw.run_committed(k) == (run.committed if run is not None else None)


def random_value(rng: random.Random, base: int) -> int | None:
    return None if rng.random() < 0.05 else (-1 if rng.random() < 0.02 else base)


@pytest.mark.parametrize("seed", range(60))
def test_random_cycles_seeds_and_wakes_match_one_window_per_partition(seed):
    rng = random.Random(seed)
    max_len = rng.choice((1, 3, 6, 24))
    scale = rng.choice((1, 1, 3000, 10**8, 10**15))  # offsets far apart: the block's type widens
    gw, ref = GroupWindows(max_len), Reference(max_len)
    t = T0
    committed = {tp: 100 for tp in TPS}
    end = {tp: 120 for tp in TPS}
    for _ in range(120):
        t += rng.choice((0.0, STEP, STEP, STEP, 2 * STEP, -3 * STEP if rng.random() < 0.05 else STEP))
        for tp in TPS:
            end[tp] += scale * rng.choice((0, 0, 1, 5))
            committed[tp] = min(end[tp], max(0, committed[tp] + scale * rng.choice((0, 0, 0, 3, -2))))
        op = rng.random()
        if op < 0.6:  # a cycle: the group's partitions now, in some order; the others are forgotten
            tps = [tp for tp in TPS if rng.random() < 0.9] if rng.random() < 0.2 else list(TPS)
            if rng.random() < 0.1:
                rng.shuffle(tps)
            rows = [(*tp, random_value(rng, committed[tp]), random_value(rng, end[tp])) for tp in tps]
            gw.push_offsets(t, offsets(rows))
            ref.forget_all_but(tps)
            for topic, p, c, e in rows:
                ref.push((topic, p), Sample(t, c, e))
        elif op < 0.85:  # a stored sample of some partitions (seeding): the others keep theirs
            tps = [tp for tp in TPS if rng.random() < 0.7]
            rows = [(*tp, random_value(rng, committed[tp]), random_value(rng, end[tp])) for tp in tps]
            gw.push_rows(t, rows)
            for topic, p, c, e in rows:
                ref.push((topic, p), Sample(t, c, e))
        elif gw.tps():  # a quiet group waking: copies of each newest sample, the runs left alone
            times = sorted({t + STEP * rng.randint(-2, 40) for _ in range(rng.randint(1, 30))})
            if rng.random() < 0.2:
                rng.shuffle(times)
            gw.extend_same(times)
            for topic, p in gw.tps():
                window = ref.windows[(topic, p)]
                newest = window[-1]
                extend_same(window, times, Sample(times[-1], newest.committed, newest.end), max_len)
            t = max(t, *times)
        assert_same(gw, ref)


def test_a_partition_joining_later_has_its_own_shorter_window():
    gw = GroupWindows(4)
    for i in range(3):
        gw.push_offsets(T0 + i * STEP, offsets([("a", 0, 5, 9)]))
    gw.push_offsets(T0 + 3 * STEP, offsets([("a", 0, 5, 9), ("a", 1, 1, 2)]))
    assert [gw.length(k) for k in range(2)] == [4, 1]
    assert list(gw.window(1)) == [Sample(T0 + 3 * STEP, 1, 2)]
    for i in range(4, 10):
        gw.push_offsets(T0 + i * STEP, offsets([("a", 0, 5, 9), ("a", 1, 1, 2)]))
    assert [gw.length(k) for k in range(2)] == [4, 4]
    assert gw.steady(0) == (5, 9, 9) and gw.steady(1) == (1, 2, 2)


def test_a_partition_leaving_is_forgotten_and_the_others_keep_their_state():
    gw = GroupWindows(4)
    for i in range(3):
        gw.push_offsets(T0 + i * STEP, offsets([("a", 0, 5, 9), ("a", 1, 7, 7)]))
    gw.push_offsets(T0 + 3 * STEP, offsets([("a", 1, 7, 8)]))
    assert gw.tps() == [("a", 1)]
    assert [s.end for s in gw.window(0)] == [7, 7, 7, 8]
    run = gw.run(0)
    assert run is not None and run.samples == 4 and run.waiting_t == T0 + 3 * STEP


def test_a_clock_stepping_back_starts_every_window_and_run_afresh():
    gw = GroupWindows(4)
    for i in range(4):
        gw.push_offsets(T0 + i * STEP, offsets([("a", 0, 5 + i, 9), ("b", 0, 3, 3)]))
    gw.push_offsets(T0, offsets([("a", 0, 8, 9), ("b", 0, 3, 3)]))
    assert [list(gw.window(k)) for k in range(2)] == [[Sample(T0, 8, 9)], [Sample(T0, 3, 3)]]
    run = gw.run(0)
    assert run is not None and (run.t, run.samples, run.moved) == (T0, 1, False)


def test_the_same_time_again_replaces_the_newest_sample():
    gw = GroupWindows(4)
    gw.push_offsets(T0, offsets([("a", 0, 5, 9)]))
    gw.push_offsets(T0 + STEP, offsets([("a", 0, 5, 9)]))
    gw.push_offsets(T0 + STEP, offsets([("a", 0, 6, 10)]))
    assert list(gw.window(0)) == [Sample(T0, 5, 9), Sample(T0 + STEP, 6, 10)]


def test_a_gap_in_stored_history_gives_the_slot_its_own_times_until_they_meet_again():
    gw = GroupWindows(3)
    gw.push_rows(T0, [("a", 0, 5, 9), ("a", 1, 5, 9)])
    gw.push_rows(T0 + STEP, [("a", 0, 5, 9)])  # a[1] missing from this stored sample
    gw.push_rows(T0 + 2 * STEP, [("a", 0, 5, 9), ("a", 1, 6, 9)])
    assert gw.has_odd()
    assert gw.window_times(1).tolist() == [T0, T0 + 2 * STEP]
    for i in range(3, 5):
        gw.push_offsets(T0 + i * STEP, offsets([("a", 0, 5, 9), ("a", 1, 6, 9)]))
    assert not gw.has_odd()  # its 3 newest samples are at the group's times again
    assert gw.window_times(1).tolist() == [T0 + 2 * STEP, T0 + 3 * STEP, T0 + 4 * STEP]
    assert gw.steady(1) == (6, 9, 9)


def test_run_after_counts_the_held_samples():
    gw = GroupWindows(4)
    for i in range(2):
        gw.push_offsets(T0 + i * STEP, offsets([("a", 0, 5, 9)]))
    gw.extend_same([T0 + 2 * STEP, T0 + 3 * STEP, T0 + 4 * STEP])
    gw.run_after(3, T0 + 4 * STEP)
    run = gw.run(0)
    assert run is not None and (run.samples, run.last_t, run.waiting_t) == (5, T0 + 4 * STEP, T0)
    assert gw.length(0) == 4 and gw.window_times(0).tolist() == [T0 + i * STEP for i in range(1, 5)]


def test_offsets_far_apart_widen_the_block_and_read_back_the_same():
    gw = GroupWindows(4)
    values = [(5, 9), (5, 40_000), (2**40, 2**40 + 3), (2**40, 2**62)]
    for i, (c, e) in enumerate(values):
        gw.push_offsets(T0 + i * STEP, offsets([("a", 0, c, e), ("a", 1, 7, None)]))
    assert [(s.committed, s.end) for s in gw.window(0)] == values
    assert [(s.committed, s.end) for s in gw.window(1)] == [(7, None)] * 4
    assert gw.steady(1) is None and gw.newest(0) == (2**40, 2**62)
