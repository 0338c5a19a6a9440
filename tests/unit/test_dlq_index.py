"""The DLQ index forgets what no longer exists in Kafka (no broker needed: nothing new to read)."""

import pytest

from dashboard.dlq.index import index_new_records
from dashboard.models import DlqRecord
from kafka_admin.config import ClusterConfig
from tests.factories import snapshot

pytestmark = pytest.mark.django_db

NOWHERE = ClusterConfig(bootstrap_servers="127.0.0.1:1", request_timeout_s=1, cycle_timeout_s=1)


def rows(*offsets: int) -> None:
    DlqRecord.objects.bulk_create(
        [DlqRecord(cluster="local", topic="orders-dlq", partition=0, offset=o) for o in offsets]
    )


class TestIndexCleanup:
    def test_a_recreated_topic_drops_the_old_rows(self):
        rows(*range(10))
        snap = snapshot(ends={"orders-dlq": [3]}, groups={})  # the topic now ends at offset 3
        index_new_records(NOWHERE, snap)
        assert sorted(DlqRecord.objects.values_list("offset", flat=True)) == [0, 1, 2]

    def test_retention_drops_rows_below_the_log_start(self):
        from dataclasses import replace

        rows(*range(5))
        snap = snapshot(ends={"orders-dlq": [5]}, groups={})
        topic = snap.topics[0]
        moved = replace(topic, partitions=(replace(topic.partitions[0], start_offset=2),))
        index_new_records(NOWHERE, replace(snap, topics=(moved,)))
        assert sorted(DlqRecord.objects.values_list("offset", flat=True)) == [2, 3, 4]


def test_records_indexed_after_they_were_reprocessed_carry_the_status_over():
    from dashboard.dlq.index import _apply_earlier_reprocesses
    from dashboard.dlq.ledger import DbLedger
    from dashboard.models import REPROCESSED, RESOLVED, WAITING, ReprocessBatch
    from kafka_admin.reprocess import PendingEntry

    def sent(actor: str, offsets: list[int], run: str, settle: str | None) -> None:
        ledger = DbLedger("local", "orders-dlq", actor=actor)
        ledger.record_pending([PendingEntry(("orders-dlq", 0, o), "orders", 0, o, run) for o in offsets])
        if settle == "confirm":
            ledger.confirm([("orders-dlq", 0, o) for o in offsets], run)
        elif settle == "abandon":
            ledger.abandon([("orders-dlq", 0, o) for o in offsets], run)

    sent("ann", list(range(10)), "r1", "confirm")  # contiguous
    sent("bo", [20, 22, 23, 30], "r2", "confirm")  # sparse
    sent("cy", [40], "r3", None)  # pending: not reprocessed (yet)
    sent("di", [41], "r4", "abandon")
    rows(*range(50))  # indexed now, after the reprocess
    DlqRecord.objects.filter(offset=5).update(status=RESOLVED)
    _apply_earlier_reprocesses("local", "orders-dlq", list(DlqRecord.objects.filter(offset__gte=3, offset__lte=45)))
    by_offset = {r.offset: (r.status, r.status_by, r.status_at) for r in DlqRecord.objects.all()}
    at = dict(ReprocessBatch.objects.values_list("actor", "confirmed_at"))
    expected = {o: (WAITING, "", None) for o in range(50)}
    expected.update({o: (REPROCESSED, "ann", at["ann"]) for o in range(3, 10)})  # 0-2: not in this index round
    expected.update({o: (REPROCESSED, "bo", at["bo"]) for o in (20, 22, 23, 30)})
    expected[5] = (RESOLVED, "", None)  # only waiting records take the status over
    assert by_offset == expected
