"""A synthetic cluster of W4 size built from kafka_admin/snapshot/model.py directly (no broker).

Used by bench_scale_downstream.py: everything after a snapshot exists (figures, store, history,
/metrics, pages, publisher) can be measured at 50,000 groups x 10 partitions without seeding a
broker. The churn is the issue's: about 1 % of the groups (the same ones) commit every cycle, the producers write
to a tenth of the topics, a few groups have live members and some of those rebalance.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

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


@dataclass
class SyntheticCluster:
    """Offsets that move from cycle to cycle; snapshot(i) is cycle i's ClusterSnapshot."""

    groups: int = 50_000
    partitions: int = 10
    topics: int = 1_000
    commit_fraction: float = 0.01
    produce_fraction: float = 0.1
    member_fraction: float = 0.02
    rebalance_fraction: float = 0.002
    cluster: str = "bench"
    start: datetime = field(default_factory=lambda: datetime(2026, 1, 1, 12, 0, 0).astimezone())
    interval_s: float = 5.0
    seed: int = 20

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.topic_names = [f"topic-{i:05d}" for i in range(self.topics)]
        self.ends = [[10_000 + 17 * i + p for p in range(self.partitions)] for i in range(self.topics)]
        self.committed = [
            [self.ends[g % self.topics][p] - (g * 7 + p) % 50 for p in range(self.partitions)]
            for g in range(self.groups)
        ]
        self.generation = [0] * self.groups
        self.with_members = set(self.rng.sample(range(self.groups), int(self.groups * self.member_fraction)))
        # The consumers that commit: the same ones every cycle (a live consumer commits on and on;
        # the rest are idle or stopped), half of them with members.
        members = sorted(self.with_members)
        committers = int(self.groups * self.commit_fraction)
        self.committers = members[: committers // 2] + self.rng.sample(range(self.groups), committers - committers // 2)

    def group_id(self, g: int) -> str:
        return f"group-{g:06d}"

    def advance(self) -> None:
        """One cycle of churn: producers write, a few groups commit, a few members rebalance."""
        for i in self.rng.sample(range(self.topics), int(self.topics * self.produce_fraction)):
            self.ends[i] = [e + self.rng.randint(1, 20) for e in self.ends[i]]
        for g in self.committers:
            ends = self.ends[g % self.topics]
            self.committed[g] = [
                min(e, c + self.rng.randint(0, 30)) for c, e in zip(self.committed[g], ends, strict=True)
            ]
        members = sorted(self.with_members)
        for g in self.rng.sample(members, min(len(members), int(self.groups * self.rebalance_fraction))):
            self.generation[g] += 1

    def snapshot(self, cycle: int) -> ClusterSnapshot:
        at = self.start + timedelta(seconds=self.interval_s * cycle)
        topics = tuple(
            Topic(name, False, tuple(PartitionInfo(p, 1, (1,), (1,), 0, e) for p, e in enumerate(ends)))
            for name, ends in zip(self.topic_names, self.ends, strict=True)
        )
        return ClusterSnapshot(
            cluster=self.cluster,
            collected_at=at,
            duration_ms=1000.0,
            requests=10,
            cluster_id="synthetic",
            controller_id=1,
            brokers=(Broker(1, "broker-1", 9092, None),),
            topics=topics,
            groups=tuple(self._group(g) for g in range(self.groups)),
        )

    def _group(self, g: int) -> Group:
        t = g % self.topics
        name, ends = self.topic_names[t], self.ends[t]
        offsets = tuple(
            PartitionOffsets(name, p, c, e, e - c) for p, (c, e) in enumerate(zip(self.committed[g], ends, strict=True))
        )
        members: tuple[Member, ...] = ()
        if g in self.with_members:
            gen = self.generation[g]
            members = tuple(
                Member(
                    f"consumer-{g}-{m}-{gen}",
                    f"client-{m}",
                    f"/10.0.{m}.{g % 250}",
                    tuple(TopicPartitionRef(name, p) for p in range(self.partitions) if p % 2 == (m + gen) % 2),
                )
                for m in range(2)
            )
        state = "Stable" if members else "Empty"
        return Group(self.group_id(g), state, "classic", 1, "range", members, offsets, protocol="consumer")


def add_size_arguments(parser: argparse.ArgumentParser) -> None:
    """--groups, --partitions, --topics: the synthetic cluster's size, W4 unless told."""
    parser.add_argument("--groups", type=int, default=50_000)
    parser.add_argument("--partitions", type=int, default=10)
    parser.add_argument("--topics", type=int, default=1_000)
