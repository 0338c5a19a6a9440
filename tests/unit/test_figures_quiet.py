"""Quiet groups reused (kafka_admin/figures/quiet.py) give exactly the figures of a full judgement.

Each test feeds the same snapshots to a FigureTracker that reuses quiet groups and to one that
judges every group in full (reuse_quiet=False), and holds every figure of every group equal at
every cycle: time lags, statuses and their reasons' texts, rates, trends, catch-up.
"""

from __future__ import annotations

import dataclasses
import pickle
import random
import sys
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from kafka_admin.figures.rates import LazyTrend, Trend, trend
from kafka_admin.figures.tracker import FigureTracker
from kafka_admin.snapshot.model import ClusterSnapshot, RecordTime
from tests.factories import later, snapshot, unreachable

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from synthetic import SyntheticCluster

Step = Callable[[FigureTracker], None]


def figures_of(gf) -> tuple:
    return (
        gf.time_lag,
        gf.commit_rate,
        gf.produce_rate,
        (gf.trend.slope, gf.trend.direction, gf.trend.samples),
        gf.catch_up,
        gf.lag_history,
        dict(gf.partition_time_lags.items()),
        gf.status,
        {tp: (ps.status, ps.reason, ps.steady) for tp, ps in gf.partition_statuses.items()},
        gf.within_noise,
    )


def side_by_side(snapshots: Iterable[ClusterSnapshot | Step], **config) -> int:
    """Feeds both trackers; a callable is applied to both (note_resets, seeding). Returns the most
    groups the reusing tracker had quiet at once, to show the reuse was exercised."""
    full, quiet = FigureTracker(reuse_quiet=False, **config), FigureTracker(**config)
    most = 0
    for cycle, item in enumerate(snapshots):
        if callable(item):
            item(full)
            item(quiet)
            continue
        a, b = full.update(item), quiet.update(item)
        assert a.at == b.at and a.topics == b.topics
        assert a.groups.keys() == b.groups.keys()
        for gid in a.groups:
            assert figures_of(a.groups[gid]) == figures_of(b.groups[gid]), (cycle, gid)
        most = max(most, quiet.quiet_groups)
    return most


def jittered(cluster: SyntheticCluster, cycles: int, seed: int = 1) -> Iterable[ClusterSnapshot]:
    """The synthetic cluster's cycles at uneven times: mostly 5 s, sometimes a slow cycle of 20-60 s
    (the poll interval, hence the STOP thresholds, moves)."""
    rng = random.Random(seed)
    at = cluster.start
    for c in range(cycles):
        cluster.advance()
        s = cluster.snapshot(c)
        yield dataclasses.replace(s, collected_at=at)
        at = later_than(at, 5.0 if rng.random() < 0.9 else rng.uniform(20, 60))


def later_than(at: datetime, seconds: float) -> datetime:
    return at + timedelta(seconds=seconds)


class TestSynthetic:
    def test_bench_cluster_small(self):
        cluster = SyntheticCluster(groups=200, partitions=4, topics=10)
        most = side_by_side(cluster.snapshot(c) for c in range(60) if cluster.advance() is None)
        assert most > 150  # most groups are quiet most cycles

    def test_churn_members_rebalances_uneven_polls(self):
        cluster = SyntheticCluster(
            groups=150,
            partitions=3,
            topics=12,
            commit_fraction=0.05,
            produce_fraction=0.3,
            member_fraction=0.2,
            rebalance_fraction=0.05,
            seed=7,
        )
        assert side_by_side(jittered(cluster, 90)) > 0

    def test_small_windows(self):
        # Windows of 6, judged from 3 samples: old caught-up samples leave the window while quiet.
        cluster = SyntheticCluster(groups=120, partitions=3, topics=30, produce_fraction=0.05, seed=3)
        assert side_by_side(jittered(cluster, 60, seed=2), status_samples=6, status_min_samples=3) > 0


def steps(groups_at: Callable[[int], dict], ends_at: Callable[[int], dict], n: int, **kw) -> list:
    members_at = kw.get("members_at", lambda i: {})
    every = kw.get("every", 5)
    return [snapshot(later(every * i), ends=ends_at(i), groups=groups_at(i), members=members_at(i)) for i in range(n)]


class TestEdgeCases:
    def test_quiet_then_waking_then_quiet_again(self):
        # Stuck behind for 40 cycles (STOP while quiet), a commit after the long pause, quiet again.
        def groups(i):
            return {"g": {("t", 0): 100 if i < 40 else 150, ("t", 1): 300}, "idle": {("t", 1): 300}}

        assert side_by_side(steps(groups, lambda i: {"t": [200, 300]}, 80)) > 0

    def test_owned_partition_stalls_then_members_leave(self):
        def members(i):
            return {"g": [("m1", "c1", [("t", 0), ("t", 1)])]} if i < 30 else {}

        def groups(i):
            return {"g": {("t", 0): 10, ("t", 1): 50}}

        assert side_by_side(steps(groups, lambda i: {"t": [90, 50]}, 60, members_at=members)) > 0

    def test_rewind_and_the_dashboards_own_reset(self):
        def groups(i):
            return {"g": {("t", 0): 500 if i < 20 else 200}, "h": {("t", 0): 500 if i < 25 else 100}}

        seq: list = steps(groups, lambda i: {"t": [600]}, 70)
        seq.insert(24, lambda tr: tr.note_resets([("h", later(24 * 5).timestamp())]))
        assert side_by_side(seq) > 0

    def test_partitions_added_and_topic_deleted(self):
        def ends(i):
            parts = [100, 100] if i < 20 else [100, 100, 40]
            return {"t": parts, "gone": [70]} if i < 45 else {"t": parts}

        def groups(i):
            g = {("t", 0): 90, ("t", 1): 100}
            if i >= 25:
                g[("t", 2)] = 10
            if i < 50:
                g[("gone", 0)] = 60
            return {"g": g}

        assert side_by_side(steps(groups, ends, 80)) > 0

    def test_slow_topic_and_transaction_marker(self):
        # One record every 30 cycles; a consumer one record (a marker) behind a silent topic.
        def ends(i):
            return {"slow": [1000 + i // 30], "tx": [501]}

        def groups(i):
            return {"slow-c": {("slow", 0): 1000 + max(0, i // 30 - 1)}, "tx-c": {("tx", 0): 500}}

        assert side_by_side(steps(ends_at=ends, groups_at=groups, n=100)) > 0

    def test_restart_seeding_then_quiet(self):
        t0 = later(0).timestamp()
        seed: list = [
            lambda tr: tr.seed_topic("t", t0 - 300, {0: 100, 1: 40}),
            lambda tr: [
                tr.seed_group_offsets("g", t0 - 300 + 5 * k, {"t": [[0, 20, 100], [1, 40, 40]]}) for k in range(30)
            ],
            lambda tr: tr.seed_group_lag("g", t0 - 300, 80),
        ]
        seq = seed + steps(lambda i: {"g": {("t", 0): 20, ("t", 1): 40}}, lambda i: {"t": [100, 40]}, 40)
        # Seeding again while the group is quiet pushes its held samples first.
        seq.insert(len(seed) + 30, lambda tr: tr.seed_group_offsets("g", later(30 * 5 - 2).timestamp(), {}))
        assert side_by_side(seq) > 0

    def test_clock_steps_back_same_snapshot_twice_and_unreachable(self):
        seq = steps(lambda i: {"g": {("t", 0): 10}}, lambda i: {"t": [50]}, 40)
        seq.insert(20, seq[19])  # the same snapshot fed twice
        seq.insert(30, snapshot(later(60), ends={"t": [50]}, groups={"g": {("t", 0): 10}}))  # clock back
        seq.insert(35, unreachable(later(400)))
        assert side_by_side(seq) > 0

    def test_record_timestamps_for_some_cycles(self):
        seq = []
        for i in range(50):
            s = snapshot(later(5 * i), ends={"t": [80 + (i // 10)]}, groups={"g": {("t", 0): 50}, "h": {("t", 0): 50}})
            if 20 <= i < 30:
                s = dataclasses.replace(
                    s, record_times=(RecordTime("t", 0, 50, 50, int((later(0).timestamp() - 600) * 1000)),)
                )
            seq.append(s)
        assert side_by_side(seq) > 0


@pytest.mark.parametrize("window", [(24, 12), (6, 3), (3, 2)])
def test_random_walks(window):
    """Random offsets that mostly stand still: every path in and out of quiet, at several window sizes."""
    rng = random.Random(sum(window))
    committed = {g: [rng.randint(0, 50) for _ in range(3)] for g in range(25)}
    ends = [60, 60, 60]
    owners: dict = {}
    seq = []
    t = 0.0
    for _ in range(120):
        t += 5 if rng.random() < 0.85 else rng.choice([1, 15, 70])
        if rng.random() < 0.2:
            ends[rng.randrange(3)] += rng.randint(1, 5)
        for g, offs in committed.items():
            r = rng.random()
            if r < 0.03:
                p = rng.randrange(3)
                offs[p] = min(ends[p], offs[p] + rng.randint(1, 30))
            elif r < 0.04:
                offs[rng.randrange(3)] = rng.randint(0, 20)
            elif r < 0.05:
                owners[g] = (
                    [("m", "c", [("t", p) for p in range(3) if rng.random() < 0.5])] if g not in owners else None
                )
                if owners[g] is None:
                    del owners[g]
        groups = {f"g{g}": {("t", p): c for p, c in enumerate(offs)} for g, offs in committed.items()}
        seq.append(
            snapshot(later(t), ends={"t": list(ends)}, groups=groups, members={f"g{g}": m for g, m in owners.items()})
        )
    assert side_by_side(seq, status_samples=window[0], status_min_samples=window[1]) > 0


def test_quiet_figures_pickle_as_plain_values():
    """A shared cache (Redis) pickles the figures: quiet groups' lazy parts arrive as dicts and a Trend."""
    cluster = SyntheticCluster(groups=40, partitions=3, topics=4)
    full, quiet = FigureTracker(reuse_quiet=False), FigureTracker()
    for c in range(16):
        cluster.advance()
        s = cluster.snapshot(c)
        a, b = full.update(s), quiet.update(s)
    assert quiet.quiet_groups > 0
    back = pickle.loads(pickle.dumps(b))
    for gid, gf in back.groups.items():
        assert type(gf.partition_statuses) is dict and type(gf.partition_time_lags) is dict
        assert type(gf.trend) is Trend
        assert figures_of(gf) == figures_of(a.groups[gid])


def test_lazy_trend_equals_the_trend_it_stands_for():
    points = [(5.0 * i, 100.0 + 7 * i) for i in range(20)]
    lazy, eager = LazyTrend(points, 900.0), trend(points, 900.0)
    assert lazy == eager and eager == lazy
    assert (lazy.slope, lazy.direction, lazy.samples) == (eager.slope, eager.direction, eager.samples)
    assert hash(lazy) == hash(eager)
