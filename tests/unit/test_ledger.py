"""The database ledger's answers, for dense (an offset range) and sparse (a selection) keys."""

from __future__ import annotations

import pytest

from dashboard.ledger import CHUNK, DbLedger
from dashboard.models import ABANDONED, CONFIRMED, PENDING, REPROCESSED, RESOLVED, DlqRecord, ReprocessEntry
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
    row = ReprocessEntry.objects.get(partition=0, offset=5)
    assert (row.state, row.actor, row.target_offset, row.run_id, row.created_at is not None) == (
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
    assert ReprocessEntry.objects.filter(state=CONFIRMED).count() == 101


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
    states = dict(ReprocessEntry.objects.values_list("offset", "state"))
    assert states == {1: CONFIRMED, 2: ABANDONED}
    assert ledger.pending() == []
