"""The compact series keep exactly what the deques of tuples they replaced kept."""

from __future__ import annotations

import pickle
import random
from collections import deque

from kafka_admin.figures.rates import rate
from kafka_admin.figures.series import LagHistory, LagWindow, PointWindow


def reference_add(lags: deque, t: float, lag: int, spacing: float, window_s: float) -> None:
    """The tracker's former _add_lag, verbatim in behaviour."""
    if len(lags) >= 2 and lags[-1][0] - lags[-2][0] < spacing:
        lags[-1] = (t, lag)
    else:
        lags.append((t, lag))
    while lags and lags[0][0] < t - window_s:
        lags.popleft()


def test_same_points_as_the_deque_over_irregular_cycles_and_a_gap():
    rng = random.Random(7)
    window, reference, t = LagWindow(), deque(), 1_000.0
    for n in range(2_000):
        t += rng.choice([0.0, 1.0, 4.9, 5.0, 5.1, 30.0]) if n != 900 else 5_000.0  # one long gap
        lag = rng.choice([0, 3, 255, 256, 10**12, 2**62])
        window.add(t, lag, 15.0, 900.0)
        reference_add(reference, t, lag, 15.0, 900.0)
        frozen = window.frozen()
        assert list(frozen) == list(reference) and len(window) == len(reference)
        assert frozen == tuple(reference) and frozen[-1] == reference[-1] and frozen[0] == reference[0]


def test_a_frozen_copy_does_not_move_with_the_window():
    window = LagWindow()
    window.add(1.0, 5, 15.0, 900.0)
    window.add(2.0, 6, 15.0, 900.0)
    before = window.frozen()
    window.add(3.0, 7, 15.0, 900.0)  # replaces the newest point: the copy keeps its own
    assert list(before) == [(1.0, 5), (2.0, 6)] and list(window.frozen()) == [(1.0, 5), (3.0, 7)]


def test_equality_hash_slices_and_pickle():
    points = [(1.0, 5), (16.0, 0), (31.0, 2**40)]
    history = LagHistory.of(points)
    assert history == tuple(points) and history == points and history != points[:2] and history != "x"
    assert history == LagHistory.of(points) and hash(history) == hash(LagHistory.of(points))
    assert history[1:] == points[1:] and list(history.lags()) == [5, 0, 2**40]
    assert pickle.loads(pickle.dumps(history)) == history
    assert LagHistory.of([]) == () and len(LagHistory.of([])) == 0


def test_progress_window_keeps_what_the_deque_kept_and_rates_alike():
    """The commit-progress window: append, drop what left the rate window, rate() over it."""
    rng = random.Random(11)
    window, reference, t, total = PointWindow(), deque(), 0.0, 0
    for _ in range(1_000):
        t += rng.choice([0.0, 2.5, 5.0, 61.0])
        total += rng.choice([0, 0, 1, 500, 2**40])
        window.append(t, total)
        window.drop_before(t - 61.0)
        reference.append((t, total))
        while reference and reference[0][0] < t - 61.0:
            reference.popleft()
        assert list(window) == list(reference) and window[0] == reference[0] and window[-1] == reference[-1]
        assert rate(window, 60.0, t) == rate(reference, 60.0, t)
        if len(reference) >= 2:
            assert window[-2] == reference[-2]
