"""A DLQ of several conventions against the real broker: per-record routing (a Connect DLQ over two
topics), triage by the real class, the backfill of rows indexed before it, and dlq_reprocess over
every partition by default (an empty one included), exactly once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from dashboard.dlq import service as dlq_service
from dashboard.dlq.queries import DlqQuery
from dashboard.models import DlqRecord
from dashboard.poller.loop import Poller
from kafka_admin.dlq.conventions import connect, spring
from kafka_admin.dlq.conventions.registry import CONVENTIONS
from tests.dlq_support import read_all

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

WRAPPER = b"org.springframework.kafka.listener.ListenerExecutionFailedException"


def connect_failure(topic: str, offset: int) -> list[tuple[str, bytes]]:
    return [
        (connect.TOPIC, topic.encode()),
        (connect.PARTITION, b"0"),
        (connect.OFFSET, str(offset).encode()),
        (connect.CONNECTOR_NAME, b"file-sink"),
        (connect.TASK_ID, b"0"),
        (connect.STAGE, b"VALUE_CONVERTER"),
        (connect.CLASS_NAME, b"org.apache.kafka.connect.json.JsonConverter"),
        (connect.EXCEPTION_CLASS_NAME, b"org.apache.kafka.connect.errors.DataException"),
        (connect.EXCEPTION_MESSAGE, b"Converting byte[] to Kafka Connect data failed"),
        (connect.EXCEPTION_STACKTRACE, b"org.apache.kafka.connect.errors.DataException: ...\n\tat x" * 40),
    ]


def spring_failure(topic: str, offset: int, cause: bytes) -> list[tuple[str, bytes]]:
    return [
        (spring.ORIGINAL_TOPIC, topic.encode()),
        (spring.ORIGINAL_PARTITION, (0).to_bytes(4, "big")),
        (spring.ORIGINAL_OFFSET, offset.to_bytes(8, "big")),
        (spring.EXCEPTION_FQCN, WRAPPER),
        (spring.EXCEPTION_CAUSE_FQCN, cause),
        (spring.EXCEPTION_MESSAGE, b"Listener failed"),
    ]


@pytest.fixture
def mixed_dlq(kafka, dashboard_cluster, settings):
    clicks, views, orders = (kafka.create_topic(partitions=1) for _ in range(3))
    dlq = kafka.create_topic(kafka.unique("sink-errors"), partitions=3)  # no DLQ naming pattern matches
    settings.DLQ_MAPPING = {dlq: orders}  # makes it a DLQ; each record's headers still win
    p = kafka.producer(acks="all")
    sent = {}
    for i in range(6):
        origin = clicks if i % 2 == 0 else views
        business = [("trace-id", f"t-{i}".encode()), ("bin", bytes([0, 255, i]))]
        key, value = f"k{i}".encode(), b'{"not json' + bytes([i])
        p.produce(
            dlq, key=key, value=value, partition=0, headers=[business[0], *connect_failure(origin, i), business[1]]
        )
        sent[(dlq, 0, i)] = (origin, key, value, business)
    for i, cause in enumerate([b"java.lang.IllegalArgumentException", b"java.lang.IllegalArgumentException", b"x.Y"]):
        key, value = f"s{i}".encode(), b"v"
        business = [("tenant", b"acme")]
        p.produce(dlq, key=key, value=value, partition=1, headers=[*business, *spring_failure(orders, i, cause)])
        sent[(dlq, 1, i)] = (orders, key, value, business)
    assert p.flush(30) == 0
    Poller(dashboard_cluster, 1.0).cycle()
    return dlq, (clicks, views, orders), sent


def test_each_record_routes_to_its_own_origin_and_triage_groups_by_the_real_class(mixed_dlq):
    dlq, (clicks, views, orders), _ = mixed_dlq
    rows = {(r.partition, r.offset): r for r in DlqRecord.objects.filter(topic=dlq)}
    assert len(rows) == 9
    assert {rows[(0, i)].target_topic for i in (0, 2, 4)} == {clicks}
    assert {rows[(0, i)].target_topic for i in (1, 3, 5)} == {views}
    assert {rows[(1, i)].target_topic for i in range(3)} == {orders}
    assert {r.target_source for r in rows.values()} == {"header"}
    assert rows[(0, 1)].convention == "connect" and rows[(1, 0)].convention == "spring"
    triage = dlq_service.triage("test", dlq, DlqQuery(status="all"))
    groups = {(t["failure_class"], t["stage"]): t["n"] for t in triage}
    assert groups == {
        (
            "org.apache.kafka.connect.errors.DataException",
            "VALUE_CONVERTER (org.apache.kafka.connect.json.JsonConverter)",
        ): 6,
        ("java.lang.IllegalArgumentException", ""): 2,
        ("x.Y", ""): 1,
    }


def test_rows_indexed_before_the_conventions_are_read_again(mixed_dlq, dashboard_cluster):
    dlq, _, _ = mixed_dlq
    rows = DlqRecord.objects.filter(topic=dlq)
    expected = set(rows.values_list("offset", "partition", "failure_class", "stage", "convention"))
    # What migration 0007 leaves: the old exception class, nothing else known.
    for row in rows:
        DlqRecord.objects.filter(pk=row.pk).update(failure_class=row.exception_class, stage="", convention="")
    Poller(dashboard_cluster, 1.0).cycle()  # the poller's cycle reads them again
    assert set(rows.values_list("offset", "partition", "failure_class", "stage", "convention")) == expected


def test_cli_over_every_partition_exactly_once_with_business_headers_intact(kafka, mixed_dlq):
    dlq, (clicks, views, orders), sent = mixed_dlq
    out = StringIO()
    call_command("dlq_reprocess", "--topic", dlq, "--dry-run", stdout=out)
    text = out.getvalue()
    assert (
        f"9 record(s) to send ({', '.join(f'{t}: {n}' for t, n in sorted({clicks: 3, views: 3, orders: 3}.items()))})"
        in text
    )
    assert "dry run: nothing sent" in text and "nothing in the range" not in text
    out = StringIO()
    call_command("dlq_reprocess", "--topic", dlq, stdout=out)
    assert "partition 0: sent 6, skipped 0, failed 0 (done)" in out.getvalue()
    assert "partition 1: sent 3, skipped 0, failed 0 (done)" in out.getvalue()
    for topic in (clicks, views, orders):
        got = read_all(kafka, topic, 3)
        assert len(got) == 3  # exactly once
        for m in got:
            names = [name for name, _ in m.headers()]
            origin = next(v for n, v in m.headers() if n == "dlq.reprocessed.from.offset")
            part = int(next(v for n, v in m.headers() if n == "dlq.reprocessed.from.partition"))
            want_topic, key, value, business = sent[(dlq, part, int(origin))]
            assert (want_topic, m.key(), m.value()) == (topic, key, value)
            assert [h for h in m.headers() if not h[0].startswith("dlq.reprocessed.")] == business
            assert not any(CONVENTIONS.strips(n) for n in names)
    out = StringIO()
    call_command("dlq_reprocess", "--topic", dlq, "--dry-run", stdout=out)
    assert "0 record(s) to send" in out.getvalue()
    assert "9 already handled" in out.getvalue()
