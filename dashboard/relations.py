"""Which things name which: a topic's DLQs, a DLQ's original topic, the groups reading a topic.

Why one module: the topic page, the DLQ pages and the search all link these the same way, read
from the latest snapshot (never the broker), with the DLQ rules of settings (patterns, mapping).
"""

from __future__ import annotations

from django.conf import settings

from kafka_admin.dlq.routing import is_dlq_topic, original_by_name
from kafka_admin.snapshot.model import ClusterSnapshot


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
