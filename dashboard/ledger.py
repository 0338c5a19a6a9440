"""The database behind kafka_admin.reprocess.Ledger: per-record memory of what was re-published.

A ReprocessEntry is written `pending` after a batch is produced and before its Kafka transaction
commits, and `confirmed` after; a crash in between leaves it pending, and the engine's recovery
checks the target offset with a read_committed consumer to settle it. The DlqRecord index row (when
the record is indexed) mirrors the outcome as its status.
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
    ReprocessEntry,
)
from kafka_admin.reprocess import PendingEntry, RecordKey

# Offsets per query: well under SQLite's 999 bound parameters, whatever else the query binds.
CHUNK = 500


def _by_partition(keys: Sequence[RecordKey]) -> Iterator[tuple[int, list[int]]]:
    """(partition, offsets) in chunks of at most CHUNK offsets, sorted."""
    offsets: dict[int, list[int]] = defaultdict(list)
    for _, partition, offset in keys:
        offsets[partition].append(offset)
    for partition, found in offsets.items():
        found.sort()
        for i in range(0, len(found), CHUNK):
            yield partition, found[i : i + CHUNK]


def _offsets_among(rows: QuerySet, partition: int, offsets: list[int]) -> Iterable[int]:
    """Those of `offsets` (sorted) that have a row in `rows` for `partition`.

    A dense chunk (a reprocessed offset range, the usual case) is asked for as a range, which the
    (partition, offset) index answers quickly; a sparse one by its offsets."""
    if offsets[-1] - offsets[0] < 2 * len(offsets):
        wanted = set(offsets)
        found = rows.filter(partition=partition, offset__gte=offsets[0], offset__lte=offsets[-1])
        return (o for o in found.values_list("offset", flat=True) if o in wanted)
    return rows.filter(partition=partition, offset__in=offsets).values_list("offset", flat=True)


_PENDING_FIELDS = (
    "cluster",
    "dlq_topic",
    "partition",
    "offset",
    "run_id",
    "target_topic",
    "target_partition",
    "target_offset",
    "state",
    "actor",
    "forced",
    "created_at",
)


def _INSERT_PENDING() -> str:
    """INSERT INTO <ReprocessEntry's table> (<columns>) VALUES (%s, ...), quoted for the backend."""
    meta = ReprocessEntry._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in _PENDING_FIELDS)
    values = ", ".join(["%s"] * len(_PENDING_FIELDS))
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({values})"


class DbLedger:
    """Every query goes by (partition, offset chunk): a page of 2,000 records costs a handful of
    queries. (Built as one OR of (partition, offset) pairs per 400 keys, the Q objects alone took
    ~1 ms per record: Django copies the children on every |=.)"""

    def __init__(self, cluster: str, dlq_topic: str, actor: str = "", forced: bool = False) -> None:
        self.cluster = cluster
        self.dlq_topic = dlq_topic
        self.actor = actor
        self.forced = forced

    def _entries(self) -> QuerySet:
        return ReprocessEntry.objects.filter(cluster=self.cluster, dlq_topic=self.dlq_topic)

    def _records(self) -> QuerySet:
        return DlqRecord.objects.filter(cluster=self.cluster, topic=self.dlq_topic)

    def done(self, keys: Sequence[RecordKey]) -> set[RecordKey]:
        out: set[RecordKey] = set()
        confirmed = self._entries().filter(state=CONFIRMED)
        handled = self._records().filter(status__in=[REPROCESSED, RESOLVED])
        for partition, offsets in _by_partition(keys):
            for rows in (confirmed, handled):
                out.update((self.dlq_topic, partition, o) for o in _offsets_among(rows, partition, offsets))
        return out

    def resolved(self, keys: Sequence[RecordKey]) -> set[RecordKey]:
        out: set[RecordKey] = set()
        rows = self._records().filter(status=RESOLVED)
        for partition, offsets in _by_partition(keys):
            out.update((self.dlq_topic, partition, o) for o in _offsets_among(rows, partition, offsets))
        return out

    def record_pending(self, entries: Sequence[PendingEntry]) -> None:
        """One INSERT executed for all rows: bulk_create built a model instance per row and took
        ~70 µs per record on SQLite, more than the rest of a reprocess together."""
        if not entries:
            return
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        rows = [
            (
                self.cluster,
                self.dlq_topic,
                e.key[1],
                e.key[2],
                e.run_id,
                e.target_topic,
                e.target_partition,
                e.target_offset,
                PENDING,
                self.actor,
                self.forced,
                now,
            )
            for e in entries
        ]
        with transaction.atomic(), connection.cursor() as cursor:  # one commit, not one per row
            cursor.executemany(_INSERT_PENDING(), rows)

    def pending(self) -> list[PendingEntry]:
        rows = self._entries().filter(state=PENDING)
        return [
            PendingEntry(
                (self.dlq_topic, r.partition, r.offset), r.target_topic, r.target_partition, r.target_offset, r.run_id
            )
            for r in rows
        ]

    def confirm(self, keys: Sequence[RecordKey], run_id: str) -> None:
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        entries, records = ReprocessEntry._meta, DlqRecord._meta
        with transaction.atomic(), connection.cursor() as cursor:
            for partition, offsets in _by_partition(keys):
                _update(
                    cursor,
                    entries,
                    {"state": CONFIRMED, "confirmed_at": now},
                    {"cluster": self.cluster, "dlq_topic": self.dlq_topic, "run_id": run_id, "state": PENDING},
                    partition,
                    offsets,
                )
                _update(
                    cursor,
                    records,
                    {"status": REPROCESSED, "status_at": now, "status_by": self.actor},
                    {"cluster": self.cluster, "topic": self.dlq_topic},
                    partition,
                    offsets,
                )

    def abandon(self, keys: Sequence[RecordKey], run_id: str) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            for partition, offsets in _by_partition(keys):
                _update(
                    cursor,
                    ReprocessEntry._meta,
                    {"state": ABANDONED},
                    {"cluster": self.cluster, "dlq_topic": self.dlq_topic, "run_id": run_id, "state": PENDING},
                    partition,
                    offsets,
                )


def _update(cursor, meta, values: dict, where: dict, partition: int, offsets: list[int]) -> None:
    """UPDATE <table> SET values WHERE where AND partition = p AND offset IN (offsets), in plain SQL:
    through the ORM, Django prepared every offset of an IN list one by one (~10 µs per record)."""
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        return quote(meta.get_field(name).column)

    assignments = ", ".join(f"{column(name)} = %s" for name in values)
    conditions = " AND ".join(f"{column(name)} = %s" for name in where)
    marks = ", ".join(["%s"] * len(offsets))
    cursor.execute(
        f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {conditions}"
        f" AND {column('partition')} = %s AND {column('offset')} IN ({marks})",
        [*values.values(), *where.values(), partition, *offsets],
    )
