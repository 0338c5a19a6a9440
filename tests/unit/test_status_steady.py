"""The compact window (figures/window.py) and the steady fast path (status.evaluate_steady) give
exactly what the deque of Samples and evaluate_partition give."""

from __future__ import annotations

import random
from collections import deque

import pytest

from kafka_admin.figures.status import (
    Sample,
    advance,
    evaluate_partition,
    evaluate_steady,
    poll_interval,
    push,
)
from kafka_admin.figures.tracker import FigureTracker
from kafka_admin.figures.window import SampleWindow
from tests.factories import later, snapshot
from tests.unit.status_windows import FULL, MIN, STEP, T0


def random_samples(rng: random.Random, n: int) -> list[Sample]:
    t, committed, end = T0, 100, 120
    out = []
    for _ in range(n):
        t += rng.choice((0.0, STEP, STEP, STEP, 2 * STEP, -3 * STEP if rng.random() < 0.03 else STEP))
        end += rng.choice((0, 0, 0, 1, 5))
        committed = max(0, committed + rng.choice((0, 0, 0, 0, 3, -2)))
        c = None if rng.random() < 0.05 else committed
        e = None if rng.random() < 0.03 else end
        out.append(Sample(t, c, e))
    return out


class TestSampleWindow:
    @pytest.mark.parametrize("seed", range(40))
    def test_same_samples_as_the_deque(self, seed):
        rng = random.Random(seed)
        reference: deque[Sample] = deque()
        window = SampleWindow()
        for sample in random_samples(rng, 80):
            push(reference, sample, FULL)
            window.push(sample, FULL)
            assert list(window) == list(reference)
            assert len(window) == len(reference)
            assert window[-1] == reference[-1] and window[0] == reference[0]

    def test_steady_while_the_committed_offset_stands_still(self):
        window = SampleWindow()
        for i, end in enumerate((9, 12, 11)):
            window.push(Sample(T0 + i * STEP, 5, end), FULL)
        assert window.steady() == (5, 11, 9)
        window.push(Sample(T0 + 3 * STEP, 6, 12), FULL)
        assert window.steady() is None
        for i in range(4, 4 + FULL):
            window.push(Sample(T0 + i * STEP, 6, 12), FULL)
        assert window.steady() == (6, 12, 12)  # the old offset left the window
        window.push(Sample(T0 + 99 * STEP, None, 12), FULL)
        assert window.steady() is None
        window = SampleWindow()
        window.push(Sample(T0, 6, None), FULL)
        window.push(Sample(T0 + STEP, 6, 7), FULL)
        assert window.steady() is None  # an unknown end: the full rules carry the last one forward

    def test_replacing_the_newest_sample(self):
        window = SampleWindow()
        window.push(Sample(T0, 5, 9), FULL)
        window.push(Sample(T0 + STEP, 6, 9), FULL)
        window.push(Sample(T0 + STEP, 5, 9), FULL)  # the same snapshot again, now equal to the first
        assert window.steady() == (5, 9, 9)

    def test_rejects_an_empty_window_size(self):
        with pytest.raises(ValueError):
            SampleWindow().push(Sample(T0, 1, 1), 0)


class TestEvaluateSteady:
    @pytest.mark.parametrize("n", [2, MIN - 1, MIN, FULL])
    @pytest.mark.parametrize("ends", ["flat", "growing", "from caught up", "truncated"])
    @pytest.mark.parametrize("lag", [0, 1, 7])
    @pytest.mark.parametrize("has_owner", [True, False])
    @pytest.mark.parametrize("history", ["fresh", "moved", "waited"])
    @pytest.mark.parametrize("later_s", [0.0, 30.0, 61.0, 3600.0])
    def test_equal_to_evaluate_partition(self, n, ends, lag, has_owner, history, later_s):
        committed, last_end = 500, 500 + lag
        shape = {
            "flat": lambda i: last_end,
            "growing": lambda i: last_end - (n - 1 - i),
            "from caught up": lambda i: committed if i < n // 2 else last_end,
            "truncated": lambda i: last_end + 5 if i < n // 2 else last_end,
        }[ends]
        samples = [Sample(T0 + i * STEP, committed, shape(i)) for i in range(n)]
        before = {
            "fresh": [],
            "moved": [Sample(T0 - STEP, committed - 3, last_end)],
            "waited": [Sample(T0 - 100 * STEP, committed, committed), Sample(T0 - 50 * STEP, committed, last_end)],
        }[history]
        run = None
        for s in before + samples:
            run = advance(run, s)
        now = samples[-1].t + later_s
        expected = evaluate_partition(samples, min_samples=MIN, now=now, has_owner=has_owner, run=run)
        window = SampleWindow()
        for s in samples:
            window.push(s, FULL)
        steady = window.steady()
        assert steady is not None
        got = evaluate_steady(
            n,
            *steady,
            min_samples=MIN,
            now=now,
            has_owner=has_owner,
            run=run,
            poll_interval=lambda: poll_interval(window.times),
        )
        assert got == expected
        assert got.steady == expected.steady


class TestTrackerFastPath:
    def test_statuses_equal_with_and_without_the_fast_path(self, monkeypatch):
        """A tracker fed a cluster with moving and idle groups judges every partition as the slow path does."""
        rng = random.Random(7)
        ends = {"orders": [1000, 1000, 1000]}
        commits = {f"g{i}": {("orders", p): 990 - i for p in range(3)} for i in range(6)}
        fast, slow = FigureTracker(), FigureTracker()
        from kafka_admin.figures.group_windows import GroupWindows

        for cycle in range(40):
            if rng.random() < 0.3:
                ends["orders"] = [e + rng.randint(0, 3) for e in ends["orders"]]
            for gid in rng.sample(sorted(commits), 2):
                commits[gid] = {tp: min(ends["orders"][tp[1]], c + rng.randint(0, 2)) for tp, c in commits[gid].items()}
            snap = snapshot(later(STEP * cycle), ends=ends, groups=commits)
            got = fast.update(snap)
            with monkeypatch.context() as m:
                m.setattr(GroupWindows, "steady", lambda self, k: None)
                expected = slow.update(snap)
            seen = {str(got.groups[gid].status.status) for gid in commits}
            for gid in commits:
                assert got.groups[gid].partition_statuses == expected.groups[gid].partition_statuses
                assert got.groups[gid].status == expected.groups[gid].status
        assert "STOP" in seen  # the idle groups' verdict came from the fast path
