"""Spring Kafka's own DeadLetterPublishingRecoverer writes the DLQ (a small program, built from Maven
Central by the test setup): the dashboard triages it by the cause class under Spring's listener
wrapper, shows its binary numbers as numbers, and redrives it exactly once over both partitions."""

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
from kafka_admin.dlq.conventions import spring
from tests.connect_standalone_support import wait_for
from tests.dlq_support import end_offsets, read_from
from tests.spring_support import VERSION, spring_writer

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

WRAPPER = "org.springframework.kafka.listener.ListenerExecutionFailedException"


@pytest.mark.parametrize("version", [VERSION, "3.3.10"])
def test_a_spring_dlt_is_triaged_by_its_cause_and_redriven_exactly_once(kafka, dashboard_cluster, tmp_path, version):
    orders = kafka.create_topic(partitions=2)
    dlt = kafka.create_topic(f"{orders}-dlt", partitions=2)  # Spring's default since 3.3, same partition
    p = kafka.producer(acks="all")
    poison: dict[bytes, tuple[int, bytes, list]] = {}
    for i in range(8):
        key = bytes([0xFE, i]) + b"-order"
        partition = i % 2
        headers = [("trace-id", f"t-{i}".encode()), ("bin", bytes([0, 0xFF, i])), ("trace-id", None)]
        value = (b"poison " if i % 4 < 2 else b"fine ") + str(i).encode()
        if value.startswith(b"poison"):
            poison[key] = (partition, value, headers)
        p.produce(orders, key=key, value=value, partition=partition, headers=headers)
    assert p.flush(30) == 0
    log = tmp_path / "spring.log"
    with spring_writer(kafka.bootstrap, orders, kafka.unique("orders-app"), log, version=version) as writer:
        wait_for(
            lambda: sum(end_offsets(kafka.bootstrap, dlt, 2).values()) >= len(poison), 120, "Spring's DLT", writer, log
        )
        wait_for(lambda: log.read_text().count("processed") >= 8 - len(poison), 60, "the good records", writer, log)
    before = end_offsets(kafka.bootstrap, orders, 2)
    Poller(dashboard_cluster, 1.0).cycle()
    rows = list(DlqRecord.objects.filter(topic=dlt).order_by("partition", "offset"))
    assert len(rows) == len(poison)
    assert {(r.exception_class, r.failure_class, r.convention) for r in rows} == {
        (WRAPPER, "java.lang.IllegalArgumentException", "spring")
    }
    assert {(r.target_topic, r.target_source) for r in rows} == {(orders, "header")}
    assert sorted((r.original_partition, r.original_offset) for r in rows) == [(0, 0), (0, 2), (1, 0), (1, 2)]

    user = get_user_model().objects.create_user("viewer", password="pw-viewer-123")
    user.groups.add(Group.objects.get(name="viewers"))
    client = Client()
    client.force_login(user)
    row = next(r for r in rows if r.original_offset == 2)
    page = client.get(reverse("dlq_record", args=["test", dlt, row.partition, row.offset])).content.decode()
    assert "java.lang.IllegalArgumentException" in page
    cell = page.split(spring.ORIGINAL_OFFSET, 1)[1].split("</tr>", 1)[0]
    assert ">2 <details" in cell and "raw bytes" in cell  # the number, its 8 bytes one click away

    out = StringIO()
    call_command("dlq_reprocess", "--topic", dlt, "--dry-run", stdout=out)
    assert f"4 record(s) to send ({orders}: 4)" in out.getvalue(), out.getvalue()
    out = StringIO()
    call_command("dlq_reprocess", "--topic", dlt, stdout=out)
    assert "partition 0: sent 2, skipped 0, failed 0 (done)" in out.getvalue(), out.getvalue()
    assert "partition 1: sent 2, skipped 0, failed 0 (done)" in out.getvalue(), out.getvalue()
    got = []
    for partition in (0, 1):
        got += read_from(kafka.bootstrap, orders, before[partition], 2, partition=partition)
    assert sorted(m.key() for m in got) == sorted(poison)  # each exactly once
    for m in got:
        _, value, headers = poison[m.key()]
        assert m.value() == value
        assert [h for h in m.headers() if not h[0].startswith("dlq.reprocessed.")] == headers
        assert not any(name.startswith(spring.PREFIX) for name, _ in m.headers())
    out = StringIO()
    call_command("dlq_reprocess", "--topic", dlt, stdout=out)
    assert "0 record(s) to send" in out.getvalue() and "sent 0," in out.getvalue()
