"""The database ledger's answers, for dense (an offset range) and sparse (a selection) keys, and
what it stores: one packed row per transaction."""

from __future__ import annotations

import pytest

from dashboard.dlq import ledger_pack
from dashboard.dlq.ledger import CHUNK, DbLedger, history
from dashboard.models import (
    ABANDONED,
    CONFIRMED,
    PENDING,
    REPROCESSED,
    RESOLVED,
    DlqRecord,
    ReprocessBatch,
)
from kafka_admin.reprocess import PendingEntry

pytestmark = pytest.mark.django_db

T = "orders-dlq"


def entries(offsets, run="run-1", partition=0):
    return [PendingEntry((T, partition, o), "orders", 1, 1000 + o, run) for o in offsets]


def stored(**where) -> dict[int, tuple]:
    """DLQ offset -> (batch state, target topic, partition, offset) of every record in the batches."""
    out = {}
    for batch in ReprocessBatch.objects.filter(**where).order_by("id"):
        for offset, *target in ledger_pack.unpack(batch):
            assert offset not in out, "a record in two batches"
            out[offset] = (batch.state, *target)
    return out


def test_pending_then_confirmed_is_done_for_dense_and_sparse_keys() -> None:
    ledger = DbLedger("c1", T, actor="alice")
    dense = list(range(0, 2 * CHUNK + 7))  # more than one chunk
    sparse = [10_000, 50_000, 999_999]
    ledger.record_pending(entries(dense) + entries(sparse) + entries([3], partition=2))
    assert {e.key for e in ledger.pending()} == {(T, 0, o) for o in dense + sparse} | {(T, 2, 3)}
    [row] = history("c1", T, 0, 5)
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
    assert ReprocessBatch.objects.count() == 2  # one row per DLQ partition of the transaction
    asked = [(T, 0, o) for o in [*dense, *sparse, 7_000_000]] + [(T, 2, 3), (T, 1, 3)]
    assert ledger.done(asked) == set()  # pending is not done
    ledger.confirm([(T, 0, o) for o in dense[:100] + sparse[:1]], "run-1")
    assert ledger.done(asked) == {(T, 0, o) for o in dense[:100] + sparse[:1]}
    ledger.confirm([(T, 0, o) for o in dense], "other-run")  # another run's entries are not touched
    assert sum(ReprocessBatch.objects.filter(state=CONFIRMED).values_list("count", flat=True)) == 101


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
    assert {offset: state for offset, (state, *_) in stored().items()} == {1: CONFIRMED, 2: ABANDONED}
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
        b.state: (b.first_offset, b.last_offset, list(ledger_pack.offsets(b)))
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


def test_a_sparse_selection_is_one_row_and_answers_exactly_its_records() -> None:
    ledger = DbLedger("c1", T)
    selected = [5, 6, 7, 40, 41, 900, 77_777, 10**12]
    ledger.record_pending(entries(reversed(selected)))  # any order in
    [batch] = ReprocessBatch.objects.all()
    assert (batch.count, batch.first_offset, batch.last_offset, batch.offsets != b"") == (8, 5, 10**12, True)
    assert [e.key[2] for e in ledger.pending()] == selected
    ledger.confirm([(T, 0, o) for o in selected], "run-1")
    asked = [(T, 0, o) for o in [*range(0, 1000), 77_776, 77_777, 77_778, 10**12, 10**12 + 1]]
    assert ledger.done(asked) == {(T, 0, o) for o in selected}
    assert ReprocessBatch.objects.get().state == CONFIRMED  # whole: no split


def test_several_target_topics_and_unknown_targets_come_back_as_written() -> None:
    ledger = DbLedger("c1", T, actor="fay")
    written = [
        PendingEntry((T, 3, 10), "orders", 0, 500, "run-1"),
        PendingEntry((T, 3, 11), "payments", None, None, "run-1"),
        PendingEntry((T, 3, 12), "orders", 2, None, "run-1"),
        PendingEntry((T, 3, 14), "refunds", None, 0, "run-1"),
    ]
    ledger.record_pending(written)
    assert ledger.pending() == written
    assert [(h.target_topic, h.target_partition, h.target_offset) for h in history("c1", T, 3, 11)] == [
        ("payments", None, None)
    ]
    ledger.confirm([(T, 3, 11), (T, 3, 14)], "run-1")
    assert ledger.pending() == [written[0], written[2]]
    assert stored(partition=3) == {
        10: (PENDING, "orders", 0, 500),
        11: (CONFIRMED, "payments", None, None),
        12: (PENDING, "orders", 2, None),
        14: (CONFIRMED, "refunds", None, 0),
    }


def test_a_record_given_twice_in_one_transaction_is_kept_once_the_last_way() -> None:
    ledger = DbLedger("c1", T)
    ledger.record_pending([*entries([1, 2]), PendingEntry((T, 0, 1), "other", 7, 70, "run-1")])
    assert stored() == {1: (PENDING, "other", 7, 70), 2: (PENDING, "orders", 1, 1002)}


def test_a_split_leaves_a_sparse_remainder_that_recovery_settles_later() -> None:
    ledger = DbLedger("c1", T, actor="gus")
    ledger.record_pending([PendingEntry((T, 0, o), f"t{o % 3}", o % 4, 2000 + o, "run-1") for o in range(100, 200)])
    found = [o for o in range(100, 200) if o % 10 == 0]
    ledger.confirm([(T, 0, o) for o in found], "run-1")
    remainder = ReprocessBatch.objects.get(state=PENDING)
    assert remainder.count == 90 and remainder.offsets != b""  # sparse now: the tens moved out
    assert [e.key[2] for e in ledger.pending()] == [o for o in range(100, 200) if o % 10]
    assert all(e.target_topic == f"t{e.key[2] % 3}" and e.target_offset == 2000 + e.key[2] for e in ledger.pending())
    ledger.abandon([(T, 0, o) for o in range(100, 150)], "run-1")  # splits the sparse remainder again
    ledger.confirm([(T, 0, o) for o in range(150, 200) if o % 10], "run-1")  # the rest of it, whole
    assert ledger.pending() == []
    states = {o: state for o, (state, *_) in stored().items()}
    assert states == {o: CONFIRMED if o % 10 == 0 or o >= 150 else ABANDONED for o in range(100, 200)}
    assert ledger.done([(T, 0, o) for o in range(0, 300)]) == {(T, 0, o) for o, s in states.items() if s == CONFIRMED}
    assert set(ReprocessBatch.objects.values_list("run_id", "actor", "count")) >= {("run-1", "gus", 10)}


def test_the_history_of_a_record_is_every_batch_that_holds_it_newest_first() -> None:
    DbLedger("c1", T, actor="hal").record_pending(entries(range(0, 10)))
    DbLedger("c1", T, actor="hal").confirm([(T, 0, o) for o in range(0, 10)], "run-1")
    DbLedger("c1", T, actor="ida", forced=True).record_pending(entries([3, 9], run="run-2"))  # sparse, spans 5
    DbLedger("c1", T, actor="jo").record_pending(entries([5], run="run-3", partition=1))  # another partition
    assert [(h.batch.actor, h.batch.state, h.batch.forced, h.target_offset) for h in history("c1", T, 0, 3)] == [
        ("ida", PENDING, True, 1003),
        ("hal", CONFIRMED, False, 1003),
    ]
    assert [h.batch.actor for h in history("c1", T, 0, 5)] == ["hal"]  # inside run-2's span, not in it
    assert [h.batch.actor for h in history("c1", T, 0, 3, limit=1)] == ["ida"]
    assert history("c1", T, 0, 10) == [] and history("c2", T, 0, 3) == []


def test_a_hundred_thousand_record_transaction_is_one_row() -> None:
    ledger = DbLedger("c1", T)
    offsets = range(1_000_000, 1_100_000)
    ledger.record_pending(entries(offsets))
    assert ReprocessBatch.objects.count() == 1
    keys = [(T, 0, o) for o in offsets]
    assert len(ledger.pending()) == 100_000
    ledger.confirm(keys, "run-1")
    assert ledger.done([(T, 0, o) for o in range(999_990, 1_100_010)]) == set(keys)
    assert ReprocessBatch.objects.get().state == CONFIRMED and ledger.pending() == []
