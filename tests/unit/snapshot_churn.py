"""Synthetic snapshots that change from cycle to cycle the ways a cluster does, for the hand-off's tests.

Groups commit, join, rebalance, appear (between existing ids) and go; topics are written to,
created and deleted; a share group moves its start offset. `reuse=True` hands unchanged groups on
as the same objects (the collector's offsets-topic source does); `reuse=False` builds every object
anew each cycle (the admin source, bench/synthetic.py), so only equality says they are unchanged.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from kafka_admin.snapshot.model import (
    Broker,
    ClusterSnapshot,
    Group,
    Member,
    OffsetsSource,
    PartitionInfo,
    PartitionOffsets,
    SharePartition,
    SnapshotError,
    Topic,
    TopicPartitionRef,
)


class Churn:
    def __init__(self, groups: int = 300, topics: int = 20, partitions: int = 3, seed: int = 1, reuse: bool = True):
        self.rng = random.Random(seed)
        self.partitions, self.reuse = partitions, reuse
        self.cycle = 0
        self.ends = {f"topic-{i:03d}": [100 + i] * partitions for i in range(topics)}
        self.state: dict[str, dict] = {}
        for n in range(groups):
            self._new_group(f"group-{n * 10:05d}")
        self._built: dict[str, tuple[tuple, Group]] = {}

    def _new_group(self, gid: str) -> None:
        topic = self.rng.choice(sorted(self.ends))
        self.state[gid] = {
            "topic": topic,
            "committed": [max(0, e - self.rng.randint(0, 50)) for e in self.ends[topic]],
            "members": self.rng.random() < 0.2,
            "generation": 0,
            "share": self.rng.random() < 0.05,
        }

    def advance(self) -> None:
        """One cycle of churn."""
        self.cycle += 1
        for name in self.rng.sample(sorted(self.ends), max(1, len(self.ends) // 5)):
            self.ends[name] = [e + self.rng.randint(1, 9) for e in self.ends[name]]
        gids = sorted(self.state)
        for gid in self.rng.sample(gids, max(1, len(gids) // 50)):
            s = self.state.get(gid)
            if s is not None and s["topic"] in self.ends:
                pairs = zip(s["committed"], self.ends[s["topic"]], strict=True)
                s["committed"] = [min(e, c + self.rng.randint(0, 20)) for c, e in pairs]
        for gid in self.rng.sample(gids, 2):
            self.state[gid]["generation"] += 1
        for gid in self.rng.sample(gids, 2):
            del self.state[gid]
        for _ in range(3):  # new ids land between existing ones once sorted
            self._new_group(f"group-{self.rng.randrange(100_000):05d}x")
        if self.cycle % 4 == 0:
            self.ends[f"topic-new-{self.cycle}"] = [0] * self.partitions
        if self.cycle % 5 == 0:
            gone = self.rng.choice(sorted(self.ends))
            del self.ends[gone]  # its groups keep their offsets, with no end offset now

    def snapshot(self, reachable: bool = True, shuffle: bool = False) -> ClusterSnapshot:
        at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=5 * self.cycle)
        if not reachable:
            error = SnapshotError("cluster", "c", "cluster unreachable")
            return ClusterSnapshot("c", at, 3.0, 1, reachable=False, errors=(error,))
        topics = tuple(
            Topic(name, False, tuple(PartitionInfo(p, 1, (1, 2), (1,), 0, e) for p, e in enumerate(ends)))
            for name, ends in sorted(self.ends.items())
        )
        groups = [self._group(gid) for gid in sorted(self.state)]
        if shuffle:
            self.rng.shuffle(groups)
        return ClusterSnapshot(
            cluster="c",
            collected_at=at,
            duration_ms=12.5 + self.cycle,
            requests=7 + self.cycle % 3,
            cluster_id="cid",
            controller_id=1,
            brokers=(Broker(1, "b1", 9092, None), Broker(2, "b2", 9092, "r2")),
            topics=topics,
            groups=tuple(groups),
            errors=(SnapshotError("group", "group-00010", f"cycle {self.cycle}"),),
            offsets_source=OffsetsSource("offsets-topic", True, self.cycle, self.cycle),
        )

    def _group(self, gid: str) -> Group:
        s = self.state[gid]
        ends = self.ends.get(s["topic"], [None] * self.partitions)
        key = (s["topic"], tuple(s["committed"]), tuple(ends), s["members"], s["generation"], s["share"])
        last = self._built.get(gid)
        if self.reuse and last is not None and last[0] == key:
            return last[1]
        group = self._build(gid, s, ends)
        self._built[gid] = (key, group)
        return group

    def _build(self, gid: str, s: dict, ends: list) -> Group:
        topic = s["topic"]
        offsets = tuple(
            PartitionOffsets(topic, p, c, e, None if e is None else e - c)
            for p, (c, e) in enumerate(zip(s["committed"], ends, strict=True))
        )
        if s["share"]:
            pairs = enumerate(zip(s["committed"], ends, strict=True))
            parts = tuple(SharePartition(topic, p, c, e, None) for p, (c, e) in pairs)
            return Group(gid, "Empty", "share", 2, None, (), (), "share", parts, 5)
        members: tuple[Member, ...] = ()
        if s["members"]:
            gen = s["generation"]
            members = tuple(
                Member(f"m-{gid}-{m}-{gen}", f"client-{m}", "/10.0.0.1", (TopicPartitionRef(topic, m),))
                for m in range(2)
            )
        return Group(gid, "Stable" if members else "Empty", "classic", 1, "range", members, offsets, "consumer")
