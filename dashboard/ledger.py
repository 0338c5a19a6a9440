"""The database behind kafka_admin.reprocess.Ledger: per-record memory of what was re-published.

The records of one transaction (one DLQ partition) are a ReprocessBatch, written `pending` after the
batch is produced and before its Kafka transaction commits, and `confirmed` after: one row update
for the whole batch. A crash in between leaves it pending, and the engine's recovery checks every
entry's target offset with a read_committed consumer to settle it; entries settled differently from
the rest of their batch are moved to a batch of their own. The DlqRecord index row (when the record
is indexed) mirrors the outcome as its status.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from dashboard.models import (
    ABANDONED,
    CONFIRMED,
    PENDING,
    REPROCESSED,
    RESOLVED,
    DlqRecord,
    ReprocessBatch,
    ReprocessEntry,
)
from kafka_admin.reprocess import PendingEntry, RecordKey

# Offsets per query: well under SQLite's 999 bound parameters, whatever else the query binds.
CHUNK = 500


def _offsets_by_partition(keys: Sequence[RecordKey]) -> dict[int, set[int]]:
    offsets: dict[int, set[int]] = defaultdict(set)
    for _, partition, offset in keys:
        offsets[partition].add(offset)
    return offsets


def _by_partition(keys: Sequence[RecordKey]) -> Iterator[tuple[int, list[int]]]:
    """(partition, distinct offsets, sorted): a dense partition whole (it is asked for as a range,
    one query however many records), a sparse one in chunks of at most CHUNK offsets."""
    for partition, distinct in _offsets_by_partition(keys).items():
        found = sorted(distinct)
        if _dense(found):
            yield partition, found
            continue
        for i in range(0, len(found), CHUNK):
            yield partition, found[i : i + CHUNK]


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


_ENTRY_FIELDS = ("batch", "offset", "target_topic", "target_partition", "target_offset")


def _INSERT_ENTRIES() -> str:
    """INSERT INTO <ReprocessEntry's table> (<columns>) VALUES (%s, ...), quoted for the backend."""
    meta = ReprocessEntry._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in _ENTRY_FIELDS)
    values = ", ".join(["%s"] * len(_ENTRY_FIELDS))
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({values})"


class DbLedger:
    """Every query goes by partition: a dense range of offsets is one range query, a sparse
    selection one query per CHUNK offsets. (Built as one OR of (partition, offset) pairs per 400
    keys, the Q objects alone took ~1 ms per record: Django copies the children on every |=.)"""

    def __init__(self, cluster: str, dlq_topic: str, actor: str = "", forced: bool = False) -> None:
        self.cluster = cluster
        self.dlq_topic = dlq_topic
        self.actor = actor
        self.forced = forced

    def _batches(self) -> QuerySet:
        return ReprocessBatch.objects.filter(cluster=self.cluster, dlq_topic=self.dlq_topic)

    def _records(self) -> QuerySet:
        return DlqRecord.objects.filter(cluster=self.cluster, topic=self.dlq_topic)

    def _entries_in(self, batches: QuerySet, partition: int, offsets: list[int]) -> QuerySet:
        """Entries of `batches` in `partition` whose batch spans overlap offsets[0]..offsets[-1]."""
        spanning = batches.filter(partition=partition, first_offset__lte=offsets[-1], last_offset__gte=offsets[0])
        return ReprocessEntry.objects.filter(batch__in=spanning.values("id"))

    def done(self, keys: Sequence[RecordKey]) -> set[RecordKey]:
        out: set[RecordKey] = set()
        confirmed = self._batches().filter(state=CONFIRMED)
        handled = self._records().filter(status__in=[REPROCESSED, RESOLVED])
        for partition, offsets in _by_partition(keys):
            for rows in (self._entries_in(confirmed, partition, offsets), handled.filter(partition=partition)):
                out.update((self.dlq_topic, partition, o) for o in _offsets_among(rows, offsets))
        return out

    def resolved(self, keys: Sequence[RecordKey]) -> set[RecordKey]:
        out: set[RecordKey] = set()
        rows = self._records().filter(status=RESOLVED)
        for partition, offsets in _by_partition(keys):
            out.update(
                (self.dlq_topic, partition, o) for o in _offsets_among(rows.filter(partition=partition), offsets)
            )
        return out

    def record_pending(self, entries: Sequence[PendingEntry]) -> None:
        """One batch row per DLQ partition, and one INSERT executed for all its entries (bulk_create
        built a model instance per row and took ~70 µs per record on SQLite)."""
        if not entries:
            return
        by_partition: dict[int, list[PendingEntry]] = defaultdict(list)
        for e in entries:
            by_partition[e.key[1]].append(e)
        with transaction.atomic(), connection.cursor() as cursor:  # one commit for all
            for partition, group in by_partition.items():
                offsets = [e.key[2] for e in group]
                batch = ReprocessBatch.objects.create(
                    cluster=self.cluster,
                    dlq_topic=self.dlq_topic,
                    partition=partition,
                    first_offset=min(offsets),
                    last_offset=max(offsets),
                    run_id=group[0].run_id,
                    state=PENDING,
                    actor=self.actor,
                    forced=self.forced,
                )
                rows = [(batch.pk, e.key[2], e.target_topic, e.target_partition, e.target_offset) for e in group]
                cursor.executemany(_INSERT_ENTRIES(), rows)

    def pending(self) -> list[PendingEntry]:
        rows = ReprocessEntry.objects.filter(
            batch__cluster=self.cluster, batch__dlq_topic=self.dlq_topic, batch__state=PENDING
        ).values_list(
            "batch__partition", "offset", "target_topic", "target_partition", "target_offset", "batch__run_id"
        )
        return [
            PendingEntry((self.dlq_topic, partition, offset), topic, target_partition, target_offset, run_id)
            for partition, offset, topic, target_partition, target_offset, run_id in rows
        ]

    def confirm(self, keys: Sequence[RecordKey], run_id: str) -> None:
        now = timezone.now()
        records = DlqRecord._meta
        status = {
            "status": REPROCESSED,
            "status_at": connection.ops.adapt_datetimefield_value(now),
            "status_by": self.actor,
        }
        with transaction.atomic():
            self._settle(keys, run_id, state=CONFIRMED, confirmed_at=now)
            with connection.cursor() as cursor:
                for partition, offsets in _by_partition(keys):
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
            self._settle(keys, run_id, state=ABANDONED)

    def _settle(self, keys: Sequence[RecordKey], run_id: str, **values: object) -> None:
        """Set `values` on the pending batches of `run_id` that hold `keys`; a batch that holds other
        entries too has the entries of `keys` moved to a new batch first, which gets the values."""
        pending = self._batches().filter(run_id=run_id, state=PENDING)
        for partition, offsets in _offsets_by_partition(keys).items():
            spanning = pending.filter(
                partition=partition, first_offset__lte=max(offsets), last_offset__gte=min(offsets)
            )
            for batch in spanning:
                held = set(batch.entries.values_list("offset", flat=True))
                settled = held & offsets
                if settled == held:
                    ReprocessBatch.objects.filter(pk=batch.pk).update(**values)
                elif settled:
                    self._split(batch, sorted(settled), values)

    @staticmethod
    def _split(batch: ReprocessBatch, offsets: list[int], values: dict) -> None:
        """Move the entries of `batch` at `offsets` (sorted) to a copy of it that gets `values`.
        Only recovery splits (an entry found in the target while another of its batch is not)."""
        old_id, created_at = batch.pk, batch.created_at
        batch.pk = None
        batch.first_offset, batch.last_offset = offsets[0], offsets[-1]
        for name, value in values.items():
            setattr(batch, name, value)
        batch.save(force_insert=True)
        ReprocessBatch.objects.filter(pk=batch.pk).update(created_at=created_at)  # auto_now_add set it to now
        for i in range(0, len(offsets), CHUNK):
            ReprocessEntry.objects.filter(batch_id=old_id, offset__in=offsets[i : i + CHUNK]).update(batch=batch)


def _update(cursor, meta, values: dict, where: dict, partition: int, offsets: list[int]) -> None:
    """UPDATE <table> SET values WHERE where AND partition = p AND offset in `offsets` (sorted,
    distinct), in plain SQL: through the ORM, Django prepared every offset of an IN list one by one
    (~10 µs per record). Contiguous offsets (a transaction of a range) are one BETWEEN; others go
    CHUNK at a time."""
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
