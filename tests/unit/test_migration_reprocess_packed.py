"""Migration 0006: ledger entries written as rows (0005) give the same answers packed into their
batches, and migrating back gives the same rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dashboard.dlq.ledger import DbLedger, history
from dashboard.models import ReprocessBatch
from tests.unit.test_migration_reprocess_batches import migrate

pytestmark = pytest.mark.django_db(transaction=True)

ROWS, PACKED = ("dashboard", "0005_reprocess_batches"), ("dashboard", "0006_reprocess_packed")
T = "orders-dlq"
AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
CREATED = datetime(2025, 12, 31, 23, 0, 0, tzinfo=UTC)

BATCHES = {
    # name: (partition, run, state, actor, forced, entries: (offset, topic, partition, offset))
    "a": (0, "run-a", "confirmed", "alice", False, [(o, "orders", 2, 100 + o) for o in range(5)]),
    "b": (0, "run-b", "pending", "bob", True, [(7, "orders", 1, 50), (9, "payments", None, None)]),
    "c": (0, "run-b", "abandoned", "bob", True, [(8, "orders", 1, 51)]),
    "d": (1, "run-c", "confirmed", "cy", False, [(o, "orders", 0, o) for o in (0, 2, 3, 1000)]),
    "empty": (0, "run-d", "pending", "dee", False, []),
}


def entry_rows(Entry) -> set[tuple]:
    return set(
        Entry.objects.values_list(
            "batch__run_id", "batch__state", "offset", "target_topic", "target_partition", "target_offset"
        )
    )


def test_entries_become_packed_batches_with_the_same_answers_and_back() -> None:
    apps = migrate(ROWS)
    Batch, Entry = apps.get_model("dashboard", "ReprocessBatch"), apps.get_model("dashboard", "ReprocessEntry")
    for partition, run, state, actor, forced, entries in BATCHES.values():
        offsets = [e[0] for e in entries] or [0]
        batch = Batch.objects.create(
            cluster="c1",
            dlq_topic=T,
            partition=partition,
            first_offset=min(offsets),
            last_offset=max(offsets),
            run_id=run,
            state=state,
            actor=actor,
            forced=forced,
            confirmed_at=AT if state == "confirmed" else None,
        )
        Batch.objects.filter(pk=batch.pk).update(created_at=CREATED)
        for offset, topic, target_partition, target_offset in reversed(entries):  # stored out of order
            Entry.objects.create(
                batch=batch,
                offset=offset,
                target_topic=topic,
                target_partition=target_partition,
                target_offset=target_offset,
            )
    before = entry_rows(Entry)
    # The model as of 0005 (today's has columns a later migration adds).
    apps.get_model("dashboard", "DlqRecord").objects.create(
        cluster="c1", topic=T, partition=0, offset=20, status="resolved"
    )
    try:
        migrate(PACKED)
        assert ReprocessBatch.objects.count() == 4  # the batch without entries held nothing: dropped
        ledger = DbLedger("c1", T)
        asked = [(T, p, o) for p in (0, 1) for o in range(1100)]
        assert ledger.done(asked) == {(T, 0, o) for o in (*range(5), 20)} | {(T, 1, o) for o in (0, 2, 3, 1000)}
        assert ledger.resolved(asked) == {(T, 0, 20)}
        assert sorted(ledger.pending()) == [
            ((T, 0, 7), "orders", 1, 50, "run-b"),
            ((T, 0, 9), "payments", None, None, "run-b"),
        ]
        [h] = history("c1", T, 0, 3)
        assert (h.batch.actor, h.batch.state, h.batch.created_at, h.batch.confirmed_at) == (
            "alice",
            "confirmed",
            CREATED,
            AT,
        )
        assert (h.target_topic, h.target_partition, h.target_offset) == ("orders", 2, 103)
        assert [(h.batch.state, h.target_offset) for h in history("c1", T, 0, 8)] == [("abandoned", 51)]
        assert [(h.batch.forced, h.target_topic) for h in history("c1", T, 0, 9)] == [(True, "payments")]
        assert history("c1", T, 1, 1) == [] and history("c1", T, 1, 1000)[0].target_offset == 1000

        apps = migrate(ROWS)  # and back: the same rows, but for the empty batch, which is gone
        assert entry_rows(apps.get_model("dashboard", "ReprocessEntry")) == before
        assert apps.get_model("dashboard", "ReprocessBatch").objects.filter(run_id="run-d").count() == 0
    finally:
        migrate()
