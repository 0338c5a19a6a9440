"""The database behind kafka_admin.reprocess.Ledger: per-record memory of what was re-published.

The records of one transaction (one DLQ partition) are a ReprocessBatch, one row holding each
record's DLQ offset and target topic, partition and offset packed into arrays (ledger_pack), written
`pending` after the batch is produced and before its Kafka transaction commits, and `confirmed`
after: one row update for the whole batch. A crash in between leaves it pending, and the engine's
recovery checks every record's target offset with a read_committed consumer to settle it; records
settled differently from the rest of their batch are moved to a batch of their own. The DlqRecord
index row (when the record is indexed) mirrors the outcome as its status.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from operator import itemgetter
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from dashboard.dlq import ledger_pack
from dashboard.models import (
    ABANDONED,
    CONFIRMED,
    PENDING,
    REPROCESSED,
    RESOLVED,
    DlqRecord,
    ReprocessBatch,
)
from kafka_admin.reprocess import PendingEntry, RecordKey

# Offsets per query of the DLQ index: well under SQLite's 999 bound parameters, whatever else the
# query binds. (Batches are asked for by span, never by offsets.)
CHUNK = 500

_PARTITION, _OFFSET = itemgetter(1), itemgetter(2)
"""Of a RecordKey."""
_TARGET = itemgetter(1), itemgetter(2), itemgetter(3)
"""Of a PendingEntry: its target topic, partition and offset."""

_SPAN = ("id", "first_offset", "count", "offsets")
"""What membership needs of a batch: not its target columns."""


def _sorted_by_partition(keys: Sequence[RecordKey]) -> dict[int, list[int]]:
    """partition -> its distinct offsets among `keys`, ascending. Keys of one partition in offset
    order (a transaction's, the usual case) take only loops that run in C."""
    partitions = set(map(_PARTITION, keys))
    if len(partitions) == 1:
        offsets = list(map(_OFFSET, keys))
        if not ledger_pack.strictly_ascending(offsets):
            offsets = sorted(set(offsets))
        return {partitions.pop(): offsets}
    by_partition: dict[int, set[int]] = defaultdict(set)
    for _, partition, offset in keys:
        by_partition[partition].add(offset)
    return {partition: sorted(found) for partition, found in by_partition.items()}


def _chunks(offsets: list[int]) -> Iterator[list[int]]:
    """Sorted distinct offsets as the DLQ index is asked for them: dense whole (a range, one query
    however many records), sparse in chunks of at most CHUNK offsets."""
    if _dense(offsets):
        yield offsets
        return
    for i in range(0, len(offsets), CHUNK):
        yield offsets[i : i + CHUNK]


def _dense(offsets: list[int]) -> bool:
    """Sorted offsets that fill at least half of their span: a reprocessed range, the usual case."""
    return offsets[-1] - offsets[0] < 2 * len(offsets)


def _offsets_among(rows: QuerySet, offsets: list[int]) -> Iterable[int]:
    """Those of `offsets` (sorted, distinct, one partition) that have a row in `rows` (of that
    partition). A dense list is asked for as a range, which the indexes answer quickly; a sparse one
    (at most CHUNK) by its offsets."""
    if _dense(offsets):
        wanted = set(offsets)
        found = rows.filter(offset__gte=offsets[0], offset__lte=offsets[-1])
        return (o for o in found.values_list("offset", flat=True) if o in wanted)
    return rows.filter(offset__in=offsets).values_list("offset", flat=True)


def _spanning(batches: QuerySet, partition: int, offsets: list[int]) -> QuerySet:
    """The batches of `batches` in `partition` whose spans overlap offsets[0]..offsets[-1] (sorted)."""
    return batches.filter(partition=partition, first_offset__lte=offsets[-1], last_offset__gte=offsets[0])


def _pack(offsets: list[int], entries: list[PendingEntry]) -> dict:
    """ledger_pack.pack() of entries in the order of `offsets` (theirs)."""
    return ledger_pack.pack(offsets, *(list(map(get, entries)) for get in _TARGET))


class HistoryEntry(NamedTuple):
    """One re-publication of a DLQ record, for its page: the batch (when, who, state) and where to."""

    batch: ReprocessBatch
    target_topic: str
    target_partition: int | None
    target_offset: int | None


def history(cluster: str, dlq_topic: str, partition: int, offset: int, limit: int = 50) -> list[HistoryEntry]:
    """Every batch that holds the record, newest first, at most `limit`."""
    spanning = ReprocessBatch.objects.filter(
        cluster=cluster, dlq_topic=dlq_topic, partition=partition, first_offset__lte=offset, last_offset__gte=offset
    ).order_by("-created_at", "-id")
    out: list[HistoryEntry] = []
    for batch in spanning.iterator(chunk_size=limit):
        found = ledger_pack.entry(batch, offset)
        if found is not None:
            out.append(HistoryEntry(batch, *found[1:]))
            if len(out) == limit:
                break
    return out


class DbLedger:
    """Batches are asked for by the span of the offsets in question (one range query per partition,
    answered by the batch_span index) and membership is decided on their packed offsets: a
    contiguous batch is a range, nothing decoded. The DLQ index is asked by partition: a dense range
    of offsets is one range query, a sparse selection one query per CHUNK offsets, never one OR of
    Q objects (Django copies the children on every |=; docs/dlq.md, Ledger storage)."""

    def __init__(self, cluster: str, dlq_topic: str, actor: str = "", forced: bool = False) -> None:
        self.cluster = cluster
        self.dlq_topic = dlq_topic
        self.actor = actor
        self.forced = forced

    def _batches(self) -> QuerySet:
        return ReprocessBatch.objects.filter(cluster=self.cluster, dlq_topic=self.dlq_topic)

    def _records(self) -> QuerySet:
        return DlqRecord.objects.filter(cluster=self.cluster, topic=self.dlq_topic)

    def done(self, keys: Sequence[RecordKey]) -> set[RecordKey]:
        out: set[RecordKey] = set()
        confirmed = self._batches().filter(state=CONFIRMED)
        handled = self._records().filter(status__in=[REPROCESSED, RESOLVED])
        for partition, offsets in _sorted_by_partition(keys).items():
            found: set[int] = set()
            for _, first, count, blob in _spanning(confirmed, partition, offsets).values_list(*_SPAN):
                found.update(ledger_pack.among(ledger_pack.offset_view(first, count, blob), offsets))
            rows = handled.filter(partition=partition)
            for chunk in _chunks(offsets):
                found.update(_offsets_among(rows, chunk))
            out.update((self.dlq_topic, partition, o) for o in found)
        return out

    def resolved(self, keys: Sequence[RecordKey]) -> set[RecordKey]:
        out: set[RecordKey] = set()
        rows = self._records().filter(status=RESOLVED)
        for partition, offsets in _sorted_by_partition(keys).items():
            for chunk in _chunks(offsets):
                out.update(
                    (self.dlq_topic, partition, o) for o in _offsets_among(rows.filter(partition=partition), chunk)
                )
        return out

    def record_pending(self, entries: Sequence[PendingEntry]) -> None:
        """One batch row per DLQ partition, its records packed (ledger_pack), all rows in one INSERT.
        Of two entries for one record, the last is kept (as MemoryLedger does)."""
        if not entries:
            return
        groups: dict[int, list[PendingEntry]] = defaultdict(list)  # one, for a transaction
        for e in entries:
            groups[e.key[1]].append(e)
        rows = []
        for partition, group in groups.items():
            try:  # a transaction is sent in offset order
                packed = _pack([e.key[2] for e in group], group)
            except ledger_pack.NotAscending:
                by_offset = {e.key[2]: e for e in group}
                offsets = sorted(by_offset)
                packed = _pack(offsets, [by_offset[o] for o in offsets])
            rows.append(
                ReprocessBatch(
                    cluster=self.cluster,
                    dlq_topic=self.dlq_topic,
                    partition=partition,
                    run_id=group[0].run_id,
                    state=PENDING,
                    actor=self.actor,
                    forced=self.forced,
                    **packed,
                )
            )
        ReprocessBatch.objects.bulk_create(rows)  # one statement, atomic

    def pending(self) -> list[PendingEntry]:
        out: list[PendingEntry] = []
        topic = self.dlq_topic
        for batch in self._batches().filter(state=PENDING).order_by("id"):
            offsets, topics, partitions, target_offsets = ledger_pack.columns(batch)
            keys = [(topic, batch.partition, o) for o in offsets]
            out.extend(map(PendingEntry, keys, topics, partitions, target_offsets, [batch.run_id] * batch.count))
        return out

    def confirm(self, keys: Sequence[RecordKey], run_id: str) -> None:
        now = timezone.now()
        records = DlqRecord._meta
        status = {
            "status": REPROCESSED,
            "status_at": connection.ops.adapt_datetimefield_value(now),
            "status_by": self.actor,
        }
        by_partition = _sorted_by_partition(keys)
        with transaction.atomic():
            self._settle(by_partition, run_id, state=CONFIRMED, confirmed_at=now)
            with connection.cursor() as cursor:
                for partition, offsets in by_partition.items():
                    _update(
                        cursor,
                        records,
                        status,
                        {"cluster": self.cluster, "topic": self.dlq_topic},
                        partition,
                        offsets,
                    )

    def abandon(self, keys: Sequence[RecordKey], run_id: str) -> None:
        with transaction.atomic():
            self._settle(_sorted_by_partition(keys), run_id, state=ABANDONED)

    def _settle(self, by_partition: dict[int, list[int]], run_id: str, **values: object) -> None:
        """Set `values` on the pending batches of `run_id` that hold the offsets of `by_partition`
        (partition -> sorted distinct offsets): one UPDATE for the batches held whole; a batch that
        holds other records too is split first, and its records in question get the values."""
        pending = self._batches().filter(run_id=run_id, state=PENDING)
        whole: list[int] = []
        for partition, offsets in by_partition.items():
            for pk, first, count, blob in _spanning(pending, partition, offsets).values_list(*_SPAN):
                settled = ledger_pack.among(ledger_pack.offset_view(first, count, blob), offsets)
                if len(settled) == count:
                    whole.append(pk)
                elif settled:
                    self._split(pk, settled, values)
        for i in range(0, len(whole), CHUNK):
            ReprocessBatch.objects.filter(pk__in=whole[i : i + CHUNK]).update(**values)

    @staticmethod
    def _split(pk: int, offsets: list[int], values: dict) -> None:
        """Move the records of batch `pk` at `offsets` (some, not all of them) to a copy of it that
        gets `values`; both are re-packed. Only recovery splits (a record found in the target while
        another of its batch is not)."""
        batch = ReprocessBatch.objects.get(pk=pk)
        taken, kept = ledger_pack.split(batch, offsets)
        ReprocessBatch.objects.filter(pk=pk).update(**kept)
        created_at = batch.created_at
        batch.pk = None
        for name, value in {**taken, **values}.items():
            setattr(batch, name, value)
        batch.save(force_insert=True)
        ReprocessBatch.objects.filter(pk=batch.pk).update(created_at=created_at)  # auto_now_add set it to now


def _update(cursor, meta, values: dict, where: dict, partition: int, offsets: list[int]) -> None:
    """UPDATE <table> SET values WHERE where AND partition = p AND offset in `offsets` (sorted,
    distinct), in plain SQL: the ORM prepares every offset of an IN list one by one. Contiguous
    offsets (a transaction of a range) are one BETWEEN; others go CHUNK at a time."""
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        return quote(meta.get_field(name).column)

    assignments = ", ".join(f"{column(name)} = %s" for name in values)
    conditions = " AND ".join(f"{column(name)} = %s" for name in where)
    head = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {conditions} AND {column('partition')} = %s"
    bound = [*values.values(), *where.values(), partition]
    if offsets[-1] - offsets[0] + 1 == len(offsets):
        cursor.execute(f"{head} AND {column('offset')} BETWEEN %s AND %s", [*bound, offsets[0], offsets[-1]])
        return
    for i in range(0, len(offsets), CHUNK):
        chunk = offsets[i : i + CHUNK]
        marks = ", ".join(["%s"] * len(chunk))
        cursor.execute(f"{head} AND {column('offset')} IN ({marks})", [*bound, *chunk])
