"""Which things name which: a topic's DLQs, a DLQ's original topic, the groups reading a topic, the
retry chain a topic is a stage of (with each stage's records and where they wait).

Why one module: the topic page, the DLQ pages and the search all link these the same way, read
from the latest snapshot (never the broker), with the DLQ rules of settings (patterns, mapping).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from kafka_admin.dlq.chain import RetryChain, RetryChains, retry_chains
from kafka_admin.dlq.routing import is_dlq_topic, original_by_name
from kafka_admin.snapshot.model import ClusterSnapshot, PartitionInfo


def is_dlq_name(name: str) -> bool:
    """A DLQ by the settings: mapped in DLQ_MAPPING or named by DLQ_PATTERNS."""
    return name in settings.DLQ_MAPPING or is_dlq_topic(name, settings.DLQ_PATTERNS)


def original_of(dlq_topic: str) -> str | None:
    """The DLQ's original topic by mapping, else by name; None when neither says (headers may)."""
    return settings.DLQ_MAPPING.get(dlq_topic) or original_by_name(dlq_topic, settings.DLQ_PATTERNS)


def dlqs_of(snapshot: ClusterSnapshot | None, topic: str) -> list[str]:
    """The DLQ topics in the snapshot whose mapping or name points back at `topic`."""
    if snapshot is None:
        return []
    return sorted(
        t.name
        for t in snapshot.topics
        if not t.internal and t.name != topic and is_dlq_name(t.name) and original_of(t.name) == topic
    )


def groups_reading(snapshot: ClusterSnapshot | None, topic: str) -> list[str]:
    """Groups with committed offsets on, or members assigned to, `topic`, by name."""
    if snapshot is None:
        return []
    return sorted(
        g.group_id
        for g in snapshot.groups
        if any(o.topic == topic for o in g.offsets) or any(a.topic == topic for m in g.members for a in m.assignments)
    )


@dataclass(frozen=True)
class Stage:
    topic: str
    role: str
    records: int
    groups: tuple[tuple[str, int | None], ...]
    """(group, lag on this topic) of every group reading it; lag None when unknown."""

    @property
    def waiting(self) -> int:
        """Records no group has read yet: the largest lag, or every record when nobody reads it."""
        lags = [lag for _, lag in self.groups if lag is not None]
        return max(lags) if lags else (0 if self.groups else self.records)


def chains_in(snapshot: ClusterSnapshot | None) -> RetryChains:
    if snapshot is None:
        return RetryChains()
    return retry_chains(t.name for t in snapshot.topics if not t.internal)


def stages(snapshot: ClusterSnapshot, chain: RetryChain) -> list[Stage]:
    topics = {t.name: t for t in snapshot.topics}
    out = []
    for name in chain.stages:
        topic = topics.get(name)
        records = sum(_records(p) or 0 for p in topic.partitions) if topic is not None else 0
        groups = []
        for group_id in groups_reading(snapshot, name):
            group = next(g for g in snapshot.groups if g.group_id == group_id)
            committed = {o.partition: o.lag for o in group.offsets if o.topic == name}
            # A partition the group has not committed on yet: none of its records is read (Spring's
            # retry consumer commits only once a record's back-off is over).
            lags = [committed.get(p.partition, _records(p)) for p in (topic.partitions if topic else ())]
            groups.append((group_id, sum(lags) if None not in lags else None))
        out.append(Stage(name, chain.role(name) or "", records, tuple(groups)))
    return out


def _records(p: PartitionInfo) -> int | None:
    return None if p.end_offset is None else p.end_offset - (p.start_offset or 0)


def chain_view(snapshot: ClusterSnapshot | None, topic: str) -> dict | None:
    """The retry chain `topic` is a stage of, with each stage's figures (partials/retry_chain.html);
    None when it is in none."""
    chain = chains_in(snapshot).of(topic)
    if snapshot is None or chain is None:
        return None
    return {"chain": chain, "stages": stages(snapshot, chain), "current": topic}
