"""The cycle's /metrics lines kept per group and topic (dashboard/metrics_lines.py) write, cycle after
cycle with churn, byte for byte what generate_latest writes from the collector (the reference path,
dashboard.metrics._cycle_samples), which builds everything afresh from the snapshot and figures."""

from __future__ import annotations

import pickle
import random
from dataclasses import replace
from datetime import timedelta

import pytest
from prometheus_client import generate_latest

from dashboard import metrics, metrics_lines
from dashboard.state.store import ClusterState
from kafka_admin.figures.tracker import FigureTracker
from kafka_admin.snapshot.model import (
    Broker,
    ClusterSnapshot,
    Group,
    Member,
    PartitionInfo,
    PartitionOffsets,
    Topic,
    TopicPartitionRef,
)
from tests.factories import later

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]

TOPICS = {"orders": 3, 'we"ird\\topic': 2, "payments": 1, "idle": 2}
ODD_IDS = ['g"quote', "g\\back", "g\nnewline", "g,comma=1"]


class Churn:
    """A small cluster whose offsets, members, states and partitions move each cycle, handed on as the
    collector does: an unchanged group or topic is the last cycle's object, a changed one a new one."""

    def __init__(self, cluster: str, seed: int = 20) -> None:
        self.cluster = cluster
        self.rng = random.Random(seed)
        self.ends = {t: [100 + 10 * p for p in range(n)] for t, n in TOPICS.items()}
        self.leaders = {t: [1] * n for t, n in TOPICS.items()}
        ids = [f"g-{i:02d}" for i in range(24)] + ODD_IDS
        self.committed: dict[str, dict[tuple[str, int], int]] = {}
        for i, gid in enumerate(ids):
            names = list(TOPICS)
            chosen = [names[i % len(names)]] + ([names[(i + 1) % len(names)]] if i % 3 == 0 else [])
            self.committed[gid] = {(t, p): self.ends[t][p] - (i * 7 + p) % 40 for t in chosen for p in range(TOPICS[t])}
        self.committed["g-01"][("gone", 0)] = 3  # a topic that does not exist: unknown lag
        self.committed["g-02"][("orders", 0)] = self.ends["orders"][0] + 5  # ahead: a negative lag
        self.committed["g-empty"] = {}  # lists no offsets
        self.members: dict[str, int] = {gid: 0 for gid in ids[::4]}
        self.states = {gid: "Empty" for gid in self.committed}
        self.previous: ClusterSnapshot | None = None

    def advance(self, cycle: int) -> None:
        rng = self.rng
        for t in rng.sample(list(TOPICS), 2):
            self.ends[t] = [e + rng.randint(0, 30) for e in self.ends[t]]
        for gid in rng.sample(sorted(self.committed), 5):
            for (t, p), c in self.committed[gid].items():
                if t in self.ends:
                    self.committed[gid][(t, p)] = max(c, min(self.ends[t][p], c + rng.randint(0, 40)))
        for gid in rng.sample(sorted(self.members), 2):
            self.members[gid] += 1  # a rebalance: new member ids
        flip = rng.choice(sorted(self.states))
        self.states[flip] = "Stable" if self.states[flip] == "Empty" else "Empty"
        if cycle == 4:
            self.leaders["orders"][1] = 2  # not the preferred replica, then back
        if cycle == 7:
            self.leaders["orders"][1] = 1
            self.committed.pop("g-05")  # deleted
        if cycle == 9:
            self.committed["g-new"] = {("orders", 0): 50}  # created

    def snapshot(self, cycle: int) -> ClusterSnapshot:
        topics = tuple(
            Topic(
                t,
                False,
                tuple(
                    PartitionInfo(p, self.leaders[t][p], (1, 2), (1,) if p else (1, 2), 0, e)
                    for p, e in enumerate(ends)
                ),
            )
            for t, ends in self.ends.items()
        )
        groups = tuple(self._group(gid) for gid in sorted(self.committed))
        snap = ClusterSnapshot(
            cluster=self.cluster,
            collected_at=later(5 * cycle),
            duration_ms=120.0 + cycle,
            requests=7,
            brokers=(Broker(1, "b1", 9092), Broker(2, "b2", 9092)),
            topics=topics,
            groups=groups,
        )
        if self.previous is not None:  # the collector's hand-on of unchanged objects
            old_groups = {g.group_id: g for g in self.previous.groups}
            old_topics = {t.name: t for t in self.previous.topics}
            snap = replace(
                snap,
                groups=tuple(old if (old := old_groups.get(g.group_id)) == g else g for g in snap.groups),
                topics=tuple(old if (old := old_topics.get(t.name)) == t else t for t in snap.topics),
            )
        self.previous = snap
        return snap

    def _group(self, gid: str) -> Group:
        offsets = []
        for (t, p), c in self.committed[gid].items():
            end = self.ends[t][p] if t in self.ends else None
            offsets.append(PartitionOffsets(t, p, c, end, None if end is None else end - c))
        members: tuple[Member, ...] = ()
        if gid in self.members:
            gen = self.members[gid]
            tps = [TopicPartitionRef(t, p) for t, p in self.committed[gid]]
            members = tuple(
                Member(f"m-{gid}-{m}-{gen}", f"client-{m}", "/10.0.0.1", tuple(tps[m::2])) for m in range(2)
            )
        kind = None if gid == "g-03" else "classic"  # a broker before 3.7 names no type
        protocol = None if gid == "g-04" else "consumer"
        return Group(gid, self.states.get(gid, "Empty"), kind, 1, "range", members, tuple(offsets), protocol=protocol)


def _reference(cm: list[metrics.ClusterMetrics], now) -> bytes:
    return generate_latest(metrics.registry_for(cm, now))


@pytest.mark.parametrize("limit", [0, 10])  # 0: per-partition series on; 10: left out
def test_kept_lines_equal_the_reference_cycle_after_cycle(settings, limit):
    settings.METRICS_PARTITION_SERIES_MAX = limit
    cluster = f"churn-{limit}"
    churn, tracker = Churn(cluster), FigureTracker()
    kept = metrics_lines.kept(cluster)
    previous: dict[str, tuple[Group, bytes]] = {}
    reused = moved_with_the_clock = 0
    for cycle in range(14):
        churn.advance(cycle)
        snap = churn.snapshot(cycle)
        figures = tracker.update(snap)
        if cycle % 4 == 3:  # read afresh from a shared cache: equal objects, none the same
            snap, figures = pickle.loads(pickle.dumps((snap, figures)))
        if cycle in (6, 8):  # a group without figures: its figures' lines go, then come back
            figures = replace(figures, groups={k: v for k, v in figures.groups.items() if k != "g-07"})
        cm = [metrics.ClusterMetrics(ClusterState(cluster, snap, None, figures), {"orders-dlq": cycle})]
        now = snap.collected_at + timedelta(seconds=1)
        made = kept.made
        body = metrics.render(cm, now)
        assert body == _reference(cm, now), f"cycle {cycle}"
        if cycle and cycle % 4 != 3:
            reused += len(snap.groups) + len(snap.topics) - (kept.made - made)
        lines = {g.group_id: _max_line(body, g.group_id) for g in snap.groups}
        for g in snap.groups:
            old = previous.get(g.group_id)
            if old is not None and old[0] is g and old[1] != lines[g.group_id]:
                moved_with_the_clock += 1  # the same Group object, a time lag that grew: written anew
        previous = {g.group_id: (g, lines[g.group_id]) for g in snap.groups}
    assert reused > 100  # the lines were kept, not made again each cycle
    assert moved_with_the_clock > 10


def _max_line(body: bytes, gid: str) -> bytes:
    label = metrics_lines.escape_value(gid).encode()
    prefix = b"kafka_dashboard_consumergroup_lag_seconds_max{"
    return b"".join(line for line in body.split(b"\n") if line.startswith(prefix) and b'"' + label + b'"' in line)


def _family(body: bytes, name: str) -> bytes:
    start = name.encode() + b"{"
    return b"".join(line + b"\n" for line in body.split(b"\n") if line.startswith(start))


def test_a_changed_group_is_written_anew_and_only_it():
    """The same figures, one group's Group changed (its state and a commit): its lines are made
    again and equal the reference; every other group's chunk is the very bytes object kept."""
    churn, tracker = Churn("churn-one"), FigureTracker()
    lines = metrics_lines.CycleLines("churn-one")
    snap = churn.snapshot(0)
    figures = tracker.update(snap)
    first = lines.render(snap, figures, True)
    g = snap.groups[0]
    changed = replace(g, state="Dead", offsets=(replace(g.offsets[0], committed=g.offsets[0].committed - 1),))
    later_snap = replace(snap, groups=(changed, *snap.groups[1:]))
    second = lines.render(later_snap, figures, True)
    state = ClusterState("churn-one", later_snap, None, figures)
    body = generate_latest(metrics.registry_for([metrics.ClusterMetrics(state)], snap.collected_at))
    for name in (*metrics_lines.GROUP_STATIC, metrics_lines.LAG_SECONDS, metrics_lines.LAG_SECONDS_MAX):
        assert b"".join(second[name]) == _family(body, name), name
    for name in ("kafka_dashboard_group_info", "kafka_consumergroup_current_offset_sum"):
        assert second[name][0] != first[name][0]
        assert all(a is b for a, b in zip(second[name][1:], first[name][1:], strict=True))
    assert b'state="Dead"' in second["kafka_dashboard_group_info"][0]


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (1.5, 1.5, True),
        (0.0, 0.0, True),
        (None, None, True),
        (3, 3.0, True),
        (0.0, -0.0, False),
        (0, 0.0, False),
        (1.0, 2.0, False),
        (None, 0.0, False),
        (float("nan"), float("nan"), False),
    ],
)
def test_same_means_the_same_value_text(a, b, same):
    assert metrics_lines.same(a, b) is same
    if same:
        assert metrics_lines.value_text(a if a is not None else 0) == metrics_lines.value_text(
            b if b is not None else 0
        )
