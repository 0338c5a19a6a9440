"""Detection by content: whether a topic's latest records are dead letters, whatever its name.

Pure: the poller samples the last few records of a topic and passes their header names here. A
record is a convention's when at least two of that convention's distinctive headers are present
(Conventions.matching): one generic name (Karafka's ``source_topic``) is a business header.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from kafka_admin.dlq.conventions.registry import CONVENTIONS, Conventions

SAMPLE_RECORDS = 5
"""Records read from the end of each sampled partition."""
SAMPLE_PARTITIONS = 2
"""Partitions of one topic sampled per check (those with records, the busiest first)."""


def convention_of(records: Iterable[Iterable[str]], conventions: Conventions = CONVENTIONS) -> str | None:
    """The convention that most of the sampled records (their header names) match; None when no more
    than half of them match any."""
    votes: Counter[str] = Counter()
    total = 0
    for names in records:
        total += 1
        matched = conventions.matching(set(names))
        if matched:
            votes[matched[0].name] += 1
    if not votes:
        return None
    name, count = votes.most_common(1)[0]
    return name if count * 2 > total else None
