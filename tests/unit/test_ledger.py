"""The database ledger's answers, for dense (an offset range) and sparse (a selection) keys."""

from __future__ import annotations

import pytest

from dashboard.ledger import CHUNK, DbLedger
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
from kafka_admin.reprocess import PendingEntry

pytestmark = pytest.mark.django_db

T = "orders-dlq"


def entries(offsets, run="run-1", partition=0):
    return [PendingEntry((T, partition, o), "orders", 1, 1000 + o, run) for o in offsets]


def test_pending_then_confirmed_is_done_for_dense_and_sparse_keys() -> None:
    ledger = DbLedger("c1", T, actor="alice")
    dense = list(range(0, 2 * CHUNK + 7))  # more than one chunk
    sparse = [10_000, 50_000, 999_999]
    ledger.record_pending(entries(dense) + entries(sparse) + entries([3], partition=2))
    assert {e.key for e in ledger.pending()} == {(T, 0, o) for o in dense + sparse} | {(T, 2, 3)}
    row = ReprocessEntry.objects.select_related("batch").get(batch__partition=0, offset=5)
    assert (
        row.batch.state,
        row.batch.actor,
        row.target_offset,
        row.batch.run_id,
        row.batch.created_at is not None,
    ) == (
        PENDING,
        "alice",
        1005,
        "run-1",
        True,
    )
    asked = [(T, 0, o) for o in [*dense, *sparse, 7_000_000]] + [(T, 2, 3), (T, 1, 3)]
    assert ledger.done(asked) == set()  # pending is not done
    ledger.confirm([(T, 0, o) for o in dense[:100] + sparse[:1]], "run-1")
    assert ledger.done(asked) == {(T, 0, o) for o in dense[:100] + sparse[:1]}
    ledger.confirm([(T, 0, o) for o in dense], "other-run")  # another run's entries are not touched
    assert ReprocessEntry.objects.filter(batch__state=CONFIRMED).count() == 101


def test_the_index_status_counts_and_resolved_is_told_apart() -> None:
    ledger = DbLedger("c1", T)
    for offset, status in [(1, REPROCESSED), (2, RESOLVED), (3, "waiting"), (90_000, RESOLVED)]:
        DlqRecord.objects.create(cluster="c1", topic=T, partition=0, offset=offset, status=status)
    DlqRecord.objects.create(cluster="c2", topic=T, partition=0, offset=4, status=RESOLVED)  # other cluster
    keys = [(T, 0, o) for o in (1, 2, 3, 4, 90_000)]
    assert ledger.done(keys) == {(T, 0, 1), (T, 0, 2), (T, 0, 90_000)}
    assert ledger.resolved(keys) == {(T, 0, 2), (T, 0, 90_000)}


def test_confirm_marks_the_index_and_abandon_forgets_only_pending() -> None:
    ledger = DbLedger("c1", T, actor="bob")
    DlqRecord.objects.create(cluster="c1", topic=T, partition=0, offset=1)
    ledger.record_pending(entries([1, 2]))
    ledger.confirm([(T, 0, 1)], "run-1")
    record = DlqRecord.objects.get(offset=1)
    assert (record.status, record.status_by) == (REPROCESSED, "bob")
    ledger.abandon([(T, 0, 1), (T, 0, 2)], "run-1")
    states = dict(ReprocessEntry.objects.values_list("offset", "batch__state"))
    assert states == {1: CONFIRMED, 2: ABANDONED}
    assert ledger.pending() == []


def test_a_transaction_is_one_batch_row_confirmed_by_one_update() -> None:
    ledger = DbLedger("c1", T, actor="carol", forced=True)
    ledger.record_pending(entries(range(100, 2100)))
    ledger.record_pending(entries(range(2100, 4100), run="run-2"))
    assert ReprocessBatch.objects.count() == 2
    first = ReprocessBatch.objects.get(run_id="run-1")
    assert (first.partition, first.first_offset, first.last_offset, first.actor, first.forced) == (
        0,
        100,
        2099,
        "carol",
        True,
    )
    ledger.confirm([(T, 0, o) for o in range(100, 2100)], "run-1")
    assert ReprocessBatch.objects.count() == 2  # confirmed whole: no split
    assert ledger.done([(T, 0, o) for o in range(0, 5000)]) == {(T, 0, o) for o in range(100, 2100)}
    assert {e.key for e in ledger.pending()} == {(T, 0, o) for o in range(2100, 4100)}


def test_recovery_settling_part_of_a_batch_splits_it_and_keeps_its_run_and_time() -> None:
    ledger = DbLedger("c1", T, actor="dave")
    ledger.record_pending(entries(range(10)) + entries([5], partition=1))
    created = ReprocessBatch.objects.get(partition=0).created_at
    ledger.confirm([(T, 0, o) for o in (2, 3, 4)], "run-1")  # found in the target
    ledger.abandon([(T, 0, o) for o in (7, 8)], "run-1")  # not found
    by_state = {
        b.state: (b.first_offset, b.last_offset, sorted(b.entries.values_list("offset", flat=True)))
        for b in ReprocessBatch.objects.filter(partition=0)
    }
    assert by_state == {
        CONFIRMED: (2, 4, [2, 3, 4]),
        ABANDONED: (7, 8, [7, 8]),
        PENDING: (0, 9, [0, 1, 5, 6, 9]),
    }
    assert set(ReprocessBatch.objects.filter(partition=0).values_list("run_id", "actor", "created_at")) == {
        ("run-1", "dave", created)
    }
    assert {e.key for e in ledger.pending()} == {(T, 0, o) for o in (0, 1, 5, 6, 9)} | {(T, 1, 5)}
    assert ledger.done([(T, 0, o) for o in range(10)]) == {(T, 0, o) for o in (2, 3, 4)}


@pytest.mark.parametrize(
    "confirmed",
    [
        list(range(10, 3 * CHUNK)),  # contiguous: one range update
        [o for o in range(10, 3 * CHUNK) if o % 3],  # dense with gaps: the gaps stay waiting
        list(range(10, 20 * CHUNK, 7)),  # sparse: chunk by chunk
    ],
    ids=["contiguous", "dense-with-gaps", "sparse"],
)
def test_confirm_marks_exactly_its_records_in_the_index(confirmed: list[int]) -> None:
    ledger = DbLedger("c1", T, actor="erin")
    DlqRecord.objects.bulk_create(
        [DlqRecord(cluster="c1", topic=T, partition=0, offset=o) for o in range(0, 20 * CHUNK + 10)]
    )
    DlqRecord.objects.create(cluster="c1", topic=T, partition=1, offset=15)  # another partition
    ledger.record_pending(entries(confirmed))
    ledger.confirm([(T, 0, o) for o in confirmed], "run-1")
    marked = set(DlqRecord.objects.filter(status=REPROCESSED).values_list("partition", "offset"))
    assert marked == {(0, o) for o in confirmed}
    keys = [(T, 0, o) for o in range(0, 20 * CHUNK + 10)]
    assert ledger.done(keys) == {(T, 0, o) for o in confirmed}
