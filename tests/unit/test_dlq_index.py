"""The DLQ index forgets what no longer exists in Kafka (no broker needed: nothing new to read)."""

import pytest

from dashboard.dlq_index import index_new_records
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
