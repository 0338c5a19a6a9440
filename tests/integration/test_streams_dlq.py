"""A real Kafka Streams 4.3.1 application writes its KIP-1034 dead-letter queue
(errors.dead.letter.queue.topic.name, LogAndContinueProcessingExceptionHandler): the DLQ pages read
what it wrote, triage it by the exception's class, and redrive it exactly once to the input topic
its __streams.errors.* headers name, whatever the DLQ's own name says."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from dashboard.models import DlqRecord
from dashboard.poller.loop import Poller
from kafka_admin.dlq.conventions import streams
from tests.connect_standalone_support import wait_for
from tests.dlq_support import end_offsets, read_from
from tests.streams_support import dlq_app

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


def test_a_streams_dlq_is_triaged_and_redriven_exactly_once_to_its_input(kafka, dashboard_cluster):
    source = kafka.create_topic(partitions=2)
    sink = kafka.create_topic(partitions=2)
    app_id = kafka.unique("streams-dlq-app")
    dlq = kafka.create_topic(f"{app_id}-dlq", partitions=1)  # by its name it would go to app_id, a missing topic
    p = kafka.producer(acks="all")
    poison: dict[bytes, tuple[int, bytes, list]] = {}
    for i in range(6):
        key = bytes([0xFE, i]) + b"-order"
        headers = [("trace-id", f"t-{i}".encode()), ("bin", bytes([0, 0xFF, i]))]
        value = (b"poison " if i % 3 == 0 else b"fine ") + str(i).encode()
        if value.startswith(b"poison"):
            poison[key] = (i % 2, value, headers)
        p.produce(source, key=key, value=value, partition=i % 2, headers=headers)
    assert p.flush(30) == 0
    with dlq_app(kafka.bootstrap, app_id, source, sink, dlq) as app:
        wait_for(lambda: sum(end_offsets(kafka.bootstrap, dlq).values()) >= len(poison), 120, "the Streams DLQ", app)
        wait_for(lambda: sum(end_offsets(kafka.bootstrap, sink, 2).values()) >= 6 - len(poison), 60, "the sink", app)
    before = end_offsets(kafka.bootstrap, source, 2)
    Poller(dashboard_cluster, 1.0).cycle()

    rows = list(DlqRecord.objects.filter(topic=dlq).order_by("offset"))
    assert len(rows) == len(poison)
    assert {(r.failure_class, r.convention, r.target_topic, r.target_source) for r in rows} == {
        ("java.lang.IllegalStateException", "streams", source, "header")
    }
    assert sorted((r.original_partition, r.original_offset) for r in rows) == [(0, 0), (1, 1)]
    assert {r.exception_message for r in rows} == {f"cannot process {v.decode()}" for _, v, _ in poison.values()}

    user = get_user_model().objects.create_user("viewer", password="pw-viewer-123")
    user.groups.add(Group.objects.get(name="viewers"))
    client = Client()
    client.force_login(user)
    page = client.get(reverse("dlq_topic", args=["test", dlq])).content.decode()
    assert "java.lang.IllegalStateException" in page
    row = rows[0]
    record_page = client.get(reverse("dlq_record", args=["test", dlq, row.partition, row.offset])).content.decode()
    assert streams.STACKTRACE in record_page and "cannot process poison" in record_page

    out = StringIO()
    call_command("dlq_reprocess", "--topic", dlq, "--dry-run", stdout=out)
    assert f"2 record(s) to send ({source}: 2)" in out.getvalue(), out.getvalue()
    out = StringIO()
    call_command("dlq_reprocess", "--topic", dlq, stdout=out)
    assert "sent 2, skipped 0, failed 0 (done)" in out.getvalue(), out.getvalue()
    got = []
    for partition in (0, 1):
        got += read_from(kafka.bootstrap, source, before[partition], 1, partition=partition)
    assert sorted(m.key() for m in got) == sorted(poison)  # each exactly once, to its own partition
    for m in got:
        partition, value, headers = poison[m.key()]
        assert (m.partition(), m.value()) == (partition, value)
        assert [h for h in m.headers() if not h[0].startswith("dlq.reprocessed.")] == headers
        assert not any(name.startswith(streams.PREFIX) for name, _ in m.headers())
    out = StringIO()
    call_command("dlq_reprocess", "--topic", dlq, stdout=out)
    assert "0 record(s) to send" in out.getvalue() and "sent 0," in out.getvalue()
