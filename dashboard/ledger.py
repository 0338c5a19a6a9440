"""The database behind kafka_admin.reprocess.Ledger: per-record memory of what was re-published.

A ReprocessEntry is written `pending` after a batch is produced and before its Kafka transaction
commits, and `confirmed` after; a crash in between leaves it pending, and the engine's recovery
checks the target offset with a read_committed consumer to settle it. The DlqRecord index row (when
the record is indexed) mirrors the outcome as its status.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import Q
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


class DbLedger:
    def __init__(self, cluster: str, dlq_topic: str, actor: str = "", forced: bool = False) -> None:
        self.cluster = cluster
        self.dlq_topic = dlq_topic
        self.actor = actor
        self.forced = forced

    def _keyed(self, keys: Sequence[RecordKey]) -> Q:
        q = Q(pk__in=[])
        for _, partition, offset in keys:
            q |= Q(partition=partition, offset=offset)
        return q

    def done(self, keys: Sequence[RecordKey]) -> set[RecordKey]:
        out: set[RecordKey] = set()
        for i in range(0, len(keys), 400):
            chunk = keys[i : i + 400]
            confirmed = ReprocessEntry.objects.filter(
                self._keyed(chunk), cluster=self.cluster, dlq_topic=self.dlq_topic, state=CONFIRMED
            ).values_list("partition", "offset")
            handled = DlqRecord.objects.filter(
                self._keyed(chunk), cluster=self.cluster, topic=self.dlq_topic, status__in=[REPROCESSED, RESOLVED]
            ).values_list("partition", "offset")
            out.update((self.dlq_topic, p, o) for p, o in [*confirmed, *handled])
        return out

    def resolved(self, keys: Sequence[RecordKey]) -> set[RecordKey]:
        out: set[RecordKey] = set()
        for i in range(0, len(keys), 400):
            rows = DlqRecord.objects.filter(
                self._keyed(keys[i : i + 400]), cluster=self.cluster, topic=self.dlq_topic, status=RESOLVED
            ).values_list("partition", "offset")
            out.update((self.dlq_topic, p, o) for p, o in rows)
        return out

    def record_pending(self, entries: Sequence[PendingEntry]) -> None:
        ReprocessEntry.objects.bulk_create(
            [
                ReprocessEntry(
                    cluster=self.cluster,
                    dlq_topic=self.dlq_topic,
                    partition=e.key[1],
                    offset=e.key[2],
                    run_id=e.run_id,
                    target_topic=e.target_topic,
                    target_partition=e.target_partition,
                    target_offset=e.target_offset,
                    state=PENDING,
                    actor=self.actor,
                    forced=self.forced,
                )
                for e in entries
            ],
            batch_size=500,
        )

    def pending(self) -> list[PendingEntry]:
        rows = ReprocessEntry.objects.filter(cluster=self.cluster, dlq_topic=self.dlq_topic, state=PENDING)
        return [
            PendingEntry(
                (self.dlq_topic, r.partition, r.offset), r.target_topic, r.target_partition, r.target_offset, r.run_id
            )
            for r in rows
        ]

    def confirm(self, keys: Sequence[RecordKey], run_id: str) -> None:
        now = timezone.now()
        with transaction.atomic():
            for i in range(0, len(keys), 400):
                chunk = keys[i : i + 400]
                ReprocessEntry.objects.filter(
                    self._keyed(chunk), cluster=self.cluster, dlq_topic=self.dlq_topic, run_id=run_id, state=PENDING
                ).update(state=CONFIRMED, confirmed_at=now)
                DlqRecord.objects.filter(self._keyed(chunk), cluster=self.cluster, topic=self.dlq_topic).update(
                    status=REPROCESSED, status_at=now, status_by=self.actor
                )

    def abandon(self, keys: Sequence[RecordKey], run_id: str) -> None:
        for i in range(0, len(keys), 400):
            ReprocessEntry.objects.filter(
                self._keyed(keys[i : i + 400]),
                cluster=self.cluster,
                dlq_topic=self.dlq_topic,
                run_id=run_id,
                state=PENDING,
            ).update(state=ABANDONED)
