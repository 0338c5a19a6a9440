"""The DLQ index: what each dead-letter record is, kept in the database for filtering and counts.

The poller calls index_new_records() every cycle. It reads only records past the last indexed
offset (nothing at all when a DLQ has no new records: the snapshot's end offsets say so), parses
their failure headers, and drops index rows that retention already deleted from Kafka.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from functools import partial

from django.conf import settings
from django.db.models import Max

from dashboard.clusters import UnknownCluster, schema_decoder
from dashboard.dlq import detection, ledger_pack
from dashboard.models import CONFIRMED, REPROCESSED, WAITING, DlqRecord, ReprocessBatch
from dashboard.relations import chains_in
from dashboard.state import store
from kafka_admin.config import ClusterConfig
from kafka_admin.dlq.chain import RetryChains
from kafka_admin.dlq.routing import parse_failure, resolve_target
from kafka_admin.records.payload import PayloadDecoder, short
from kafka_admin.records.read import FromOffset, ReadResult, Record, read_records
from kafka_admin.snapshot.model import ClusterSnapshot, Topic

log = logging.getLogger(__name__)

RecordReader = Callable[..., ReadResult]
PREVIEW_BYTES = 2048
MIN_READ_S = 0.5  # with less time left in the poll cycle, the index waits for the next cycle


def dlq_topics(snapshot: ClusterSnapshot) -> list[Topic]:
    """The dead letter queues: named or mapped DLQs, those detected by their content, and the DLTs of
    retry chains, less DLQ_IGNORE. What the DLQ list, /metrics and the alert rules count."""
    chains = chains_in(snapshot)
    return [t for t in redrivable_topics(snapshot) if not _retry_stage(chains, t.name)]


def redrivable_topics(snapshot: ClusterSnapshot) -> list[Topic]:
    """dlq_topics() and the retry topics of retry chains: indexed and redriven alike, but not counted
    as dead letters (most of a retry topic's records were retried already; its chain shows what waits)."""
    found = detection.detected(snapshot.cluster)
    chains = chains_in(snapshot)
    ignored = settings.DLQ_IGNORE
    return [
        t
        for t in snapshot.topics
        if not t.internal
        and t.name not in ignored
        and (t.name in found or detection.declared(t.name) or _dead_letter_stage(chains, t.name))
    ]


def _dead_letter_stage(chains: RetryChains, topic: str) -> bool:
    chain = chains.of(topic)
    return chain is not None and topic != chain.origin


def _retry_stage(chains: RetryChains, topic: str) -> bool:
    chain = chains.of(topic)
    return chain is not None and topic in chain.retries


def index_new_records(
    config: ClusterConfig, snapshot: ClusterSnapshot, deadline: float | None = None, read: RecordReader | None = None
) -> int:
    """Index what is new in every DLQ topic; returns how many records were added.

    `read(topic, partition, seek, **options)` reads the records: the poller passes its broker
    session's (in its supervised child); by default read_records in this process.

    With a `deadline` (time.monotonic()), each read gets at most what is left of it, and reading stops
    when too little is left: the poll cycle keeps its timeout, and the index catches up next cycle.
    """
    added = 0
    reader = read or partial(read_records, config)
    scanned = store.dlq_scanned(snapshot.cluster)
    chains = chains_in(snapshot)
    try:
        for topic in redrivable_topics(snapshot):
            seen = scanned.setdefault(topic.name, {})
            n, finished = _index_topic(config, snapshot, topic, reader, deadline, seen, chains)
            added += n
            if not finished:
                break
    finally:
        store.save_dlq_scanned(snapshot.cluster, scanned)
    return added


def _index_topic(
    config: ClusterConfig,
    snapshot: ClusterSnapshot,
    topic: Topic,
    reader: RecordReader,
    deadline: float | None,
    scanned: dict[int, int],
    chains: RetryChains | None = None,
) -> tuple[int, bool]:
    """Index one DLQ's new records: (how many were added, False when the cycle's time ran out).

    Notes in `scanned` the offset each partition's reading got to, past transaction markers too
    (they take offsets but hold no record): the pages count what is not listed yet from there."""
    added = 0
    last = dict(
        DlqRecord.objects.filter(cluster=snapshot.cluster, topic=topic.name)
        .values("partition")
        .annotate(top=Max("offset"))
        .values_list("partition", "top")
    )
    for p in topic.partitions:
        rows = DlqRecord.objects.filter(cluster=snapshot.cluster, topic=topic.name, partition=p.partition)
        if p.start_offset is not None:
            rows.filter(offset__lt=p.start_offset).delete()  # deleted by retention
        if p.end_offset is not None and last.get(p.partition, -1) >= p.end_offset:
            # Offsets past the log's end: the topic was recreated (or the cluster replaced under the
            # same name). The index of the old topic describes records that no longer exist.
            rows.filter(offset__gte=p.end_offset).delete()
            last[p.partition] = rows.aggregate(top=Max("offset"))["top"]
            if last[p.partition] is None:
                del last[p.partition]
        start = max(last.get(p.partition, -1) + 1, p.start_offset or 0)
        if p.end_offset is None:
            continue
        if start >= p.end_offset:
            scanned[p.partition] = p.end_offset
            continue
        left = config.request_timeout_s if deadline is None else deadline - time.monotonic()
        if left < MIN_READ_S:
            return added, False
        result = reader(
            topic.name,
            p.partition,
            FromOffset(start),
            limit=settings.DLQ_INDEX_BATCH,
            max_value_bytes=PREVIEW_BYTES,
            timeout_s=min(config.request_timeout_s, left),
        )
        if result.error and not result.records:
            log.debug("DLQ index of %s/%d: %s", topic.name, p.partition, result.error)
            continue
        added += store_records(snapshot.cluster, topic.name, result.records, chains)
        if result.next_offset is not None and not result.error:
            scanned[p.partition] = result.next_offset
    return added, True


def row_for(cluster: str, dlq_topic: str, record: Record, chains: RetryChains | None = None) -> DlqRecord:
    info = parse_failure(record.headers)
    target = resolve_target(info, dlq_topic, settings.DLQ_PATTERNS, settings.DLQ_MAPPING, chains)
    decoder = _decoder(cluster)
    origin = info.original_topic or dlq_topic
    return DlqRecord(
        cluster=cluster,
        topic=dlq_topic,
        partition=record.partition,
        offset=record.offset,
        timestamp=record.timestamp,
        key_preview=short(_preview(record.key, decoder, origin, True), 300),
        value_preview=_preview(record.value, decoder, origin, False)[:PREVIEW_BYTES],
        value_size=record.value_size,
        original_topic=(info.original_topic or "")[:255],
        original_partition=info.original_partition,
        original_offset=info.original_offset,
        target_topic=(target.topic or "")[:255],
        target_source=target.source or "",
        target_reason=target.reason[:300],
        exception_class=(info.exception_class or "")[:300],
        failure_class=(info.failure_class or "")[:300],
        stage=(info.stage or "")[:300],
        convention=info.style[:100],
        exception_message=(info.exception_message or "")[:2000],
        consumer_group=(info.consumer_group or "")[:255],
        retry_count=info.retry_count,
        failed_at=info.failed_at,
    )


REREAD_FIELDS = ("failure_class", "stage", "convention", "exception_class", "original_topic")


def reread_unrecorded(
    config: ClusterConfig, snapshot: ClusterSnapshot, deadline: float | None = None, read: RecordReader | None = None
) -> int:
    """The backfill of migration 0007: rows indexed before the conventions were recorded
    (convention "") are read again from Kafka, DLQ_INDEX_BATCH records a partition a cycle, and get
    their failure class, stage and convention. Rows whose record retention already took keep what
    they have, marked "none". Returns how many rows were updated."""
    updated = 0
    reader = read or partial(read_records, config)
    for topic in dlq_topics(snapshot):
        pending = DlqRecord.objects.filter(cluster=snapshot.cluster, topic=topic.name, convention="")
        for partition in pending.values_list("partition", flat=True).distinct().order_by("partition"):
            left = config.request_timeout_s if deadline is None else deadline - time.monotonic()
            if left < MIN_READ_S:
                return updated
            rows = list(pending.filter(partition=partition).order_by("offset")[: settings.DLQ_INDEX_BATCH])
            if not rows:
                continue
            result = reader(
                topic.name,
                partition,
                FromOffset(rows[0].offset),
                limit=settings.DLQ_INDEX_BATCH,
                max_value_bytes=1,
                timeout_s=min(config.request_timeout_s, left),
            )
            if result.error and not result.records:
                continue
            by_offset = {r.offset: r for r in result.records}
            last_read = result.records[-1].offset if result.records else rows[0].offset - 1
            changed = []
            for row in rows:
                record = by_offset.get(row.offset)
                if record is None and row.offset > last_read:
                    break  # past what this read reached: next cycle
                info = parse_failure(record.headers) if record is not None else None
                row.convention = info.style if info is not None else "none"
                if info is not None:
                    row.failure_class = (info.failure_class or "")[:300]
                    row.stage = (info.stage or "")[:300]
                    row.exception_class = (info.exception_class or "")[:300]
                    row.original_topic = (info.original_topic or "")[:255]
                changed.append(row)
            DlqRecord.objects.bulk_update(changed, REREAD_FIELDS, batch_size=500)
            updated += len(changed)
    return updated


def store_records(cluster: str, dlq_topic: str, records: Iterable[Record], chains: RetryChains | None = None) -> int:
    rows = [row_for(cluster, dlq_topic, r, chains) for r in records]
    DlqRecord.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    _apply_earlier_reprocesses(cluster, dlq_topic, rows)
    return len(rows)


def _apply_earlier_reprocesses(cluster: str, dlq_topic: str, rows: list[DlqRecord]) -> None:
    """A record can be reprocessed (CLI, API) before the index reaches it: carry its status over."""
    spans: dict[int, tuple[int, int]] = {}
    for r in rows:
        lo, hi = spans.get(r.partition, (r.offset, r.offset))
        spans[r.partition] = (min(lo, r.offset), max(hi, r.offset))
    for partition, (lo, hi) in spans.items():
        confirmed = ReprocessBatch.objects.filter(
            cluster=cluster,
            dlq_topic=dlq_topic,
            partition=partition,
            state=CONFIRMED,
            first_offset__lte=hi,
            last_offset__gte=lo,
        ).order_by("id")
        batches = confirmed.values_list("first_offset", "count", "offsets", "actor", "confirmed_at")
        for first, count, blob, actor, at in batches:  # one UPDATE per contiguous run of offsets
            for start, end in ledger_pack.runs(ledger_pack.offset_view(first, count, blob), lo, hi):
                DlqRecord.objects.filter(
                    cluster=cluster,
                    topic=dlq_topic,
                    partition=partition,
                    offset__gte=start,
                    offset__lte=end,
                    status=WAITING,
                ).update(status=REPROCESSED, status_at=at, status_by=actor)


def _decoder(cluster: str) -> PayloadDecoder | None:
    try:
        return schema_decoder(cluster)
    except UnknownCluster:
        return None


def _preview(data: bytes | None, decoder: PayloadDecoder | None, topic: str, is_key: bool) -> str:
    """A schema-framed key or value previews (and is searched) as its decoded JSON; else as text."""
    if decoder is not None and data:
        decoded = decoder.decode(topic, data, is_key)
        if decoded is not None and decoded.text is not None:
            return decoded.text.replace("\x00", "")
    return _text(data)


def _text(data: bytes | None) -> str:
    """Searchable text of a preview: undecodable bytes become U+FFFD, NULs are dropped (SQL-safe)."""
    if data is None:
        return ""
    return data.decode("utf-8", "replace").replace("\x00", "")
