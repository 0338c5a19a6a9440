"""Which topics are DLQs by their content: the poller samples the latest records of topics that moved
and remembers, in the cache, the ones whose records carry a DLQ convention's headers.

Bounded per cycle: at most DLQ_DETECT_TOPICS topics, each the last few records of a few partitions,
within the cycle's deadline; a topic is sampled when first seen, then again only when its end
offsets moved and RESAMPLE_S have passed (a busy topic is not read every cycle).
Topics named or mapped as DLQs, internal topics and DLQ_IGNORE are never sampled.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.core.cache import cache

from kafka_admin.config import ClusterConfig
from kafka_admin.dlq.detect import SAMPLE_PARTITIONS, SAMPLE_RECORDS, convention_of
from kafka_admin.dlq.routing import is_dlq_topic
from kafka_admin.records.read import FromOffset, ReadResult, read_records
from kafka_admin.snapshot.model import ClusterSnapshot, Topic

RecordReader = Callable[..., ReadResult]

log = logging.getLogger(__name__)

MIN_READ_S = 0.5
RESAMPLE_S = 300.0


def _key(cluster: str) -> str:
    return f"dlq-detected:{cluster}"


def _state(cluster: str) -> dict:
    try:
        return cache.get(_key(cluster)) or {"seen": {}, "found": {}}
    except Exception:  # the cache (Redis) is down: detection waits, nothing breaks
        log.debug("DLQ detection state unavailable", exc_info=True)
        return {"seen": {}, "found": {}}


def detected(cluster: str) -> dict[str, str]:
    """Topic -> the convention its latest records were written with."""
    return dict(_state(cluster)["found"]) if settings.DLQ_DETECT else {}


def declared(name: str) -> bool:
    """Named or mapped as a DLQ by the settings."""
    return name in settings.DLQ_MAPPING or is_dlq_topic(name, settings.DLQ_PATTERNS)


def _signature(topic: Topic) -> tuple:
    return tuple((p.partition, p.end_offset) for p in topic.partitions)


def _due(topic: Topic, seen: dict, now: float) -> bool:
    last = seen.get(topic.name)
    return last is None or (last[0] != _signature(topic) and now - last[1] >= RESAMPLE_S)


def sample(
    config: ClusterConfig, snapshot: ClusterSnapshot, deadline: float | None = None, read: RecordReader | None = None
) -> int:
    """Sample the topics that moved (see the module docstring); returns how many were sampled.

    `read` as for index.index_new_records: the poller passes its broker child's reader."""
    reader = read or partial(read_records, config)
    if not settings.DLQ_DETECT:
        return 0
    state = _state(snapshot.cluster)
    seen, found = state["seen"], state["found"]
    now = time.time()
    names = {t.name for t in snapshot.topics}
    for gone in [n for n in seen if n not in names]:
        seen.pop(gone, None)
        found.pop(gone, None)
    candidates = [
        t
        for t in snapshot.topics
        if not t.internal and t.name not in settings.DLQ_IGNORE and not declared(t.name) and _due(t, seen, now)
    ]
    sampled = 0
    for topic in candidates[: settings.DLQ_DETECT_TOPICS]:
        records = _latest_header_names(config, reader, topic, deadline)
        if records is None:
            break  # out of time: next cycle
        # A topic with nothing to read yet is due again as soon as it moves (not after RESAMPLE_S).
        seen[topic.name] = (_signature(topic), now if records else 0.0)
        convention = convention_of(records) if records else found.get(topic.name)
        if convention:
            found[topic.name] = convention
        else:
            found.pop(topic.name, None)
        sampled += 1
    try:
        cache.set(_key(snapshot.cluster), {"seen": seen, "found": found}, None)
    except Exception:
        log.debug("DLQ detection state not saved", exc_info=True)
    return sampled


def _latest_header_names(
    config: ClusterConfig, read: RecordReader, topic: Topic, deadline: float | None
) -> list[list[str]] | None:
    """The header names of the last records of up to SAMPLE_PARTITIONS partitions; None: no time left."""
    with_records = [p for p in topic.partitions if p.end_offset and p.end_offset > (p.start_offset or 0)]
    with_records.sort(key=lambda p: p.end_offset or 0, reverse=True)
    out: list[list[str]] = []
    for p in with_records[:SAMPLE_PARTITIONS]:
        left = config.request_timeout_s if deadline is None else deadline - time.monotonic()
        if left < MIN_READ_S:
            return None
        start = max(p.start_offset or 0, (p.end_offset or 0) - SAMPLE_RECORDS)
        result = read(
            topic.name,
            p.partition,
            FromOffset(start),
            limit=SAMPLE_RECORDS,
            max_value_bytes=1,
            timeout_s=min(config.request_timeout_s, left),
        )
        out += [[name for name, _ in r.headers] for r in result.records]
    return out
