"""A real Spring Kafka @RetryableTopic application (a small program, built from Maven Central by the
test setup) runs its records through `<topic>-retry-200`, `<topic>-retry-20000` and `<topic>-dlt`:
the DLQ and topic pages show that chain with where records wait, and the DLT is redriven exactly
once to the chain's original topic, never into a stage of the chain."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from dashboard.models import DlqRecord
from dashboard.poller.loop import Poller
from tests.connect_standalone_support import wait_for
from tests.dlq_support import end_offsets, read_from
from tests.spring_support import retry_chain_writer

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

FAILURE_PREFIXES = ("kafka_dlt-", "kafka_original-", "kafka_exception-", "kafka_key-exception-", "retry_topic-")


def waiting_cells(page: str) -> list[tuple[str, int]]:
    """(topic, waiting) per row of the retry-chain table, in order."""
    table = page.split('id="retry-chain"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<td class="name mono"><a href="[^"]*">([^<]+)</a>.*?data-waiting="(\d+)"', table, re.S)
    return [(topic, int(n)) for topic, n in rows]


def test_a_retry_chain_is_shown_with_where_records_wait_and_redriven_to_its_origin(kafka, dashboard_cluster, tmp_path):
    orders = kafka.create_topic(partitions=2)
    retry1, retry2, dlt = f"{orders}-retry-200", f"{orders}-retry-20000", f"{orders}-dlt"
    for topic in (retry1, retry2, dlt):
        kafka.create_topic(topic, partitions=2)
    p = kafka.producer(acks="all")
    poison: dict[bytes, tuple[bytes, list]] = {}
    for i in range(4):
        key = bytes([0xFE, i]) + b"-order"
        headers = [("trace-id", f"t-{i}".encode()), ("bin", bytes([0, 0xFF, i])), ("trace-id", None)]
        value = (b"poison " if i < 2 else b"fine ") + str(i).encode()
        if i < 2:
            poison[key] = (value, headers)
        p.produce(orders, key=key, value=value, partition=i % 2, headers=headers)
    assert p.flush(30) == 0

    user = get_user_model().objects.create_user("viewer", password="pw-viewer-123")
    user.groups.add(Group.objects.get(name="viewers"))
    client = Client()
    client.force_login(user)
    group = kafka.unique("chain-app")
    log = tmp_path / "spring.log"
    with retry_chain_writer(kafka.bootstrap, orders, group, log) as app:
        # The second retry waits 20 s: meanwhile the page shows the records waiting there.
        wait_for(lambda: sum(end_offsets(kafka.bootstrap, retry2, 2).values()) >= 2, 120, "the 2nd retry", app, log)
        Poller(dashboard_cluster, 1.0).cycle()
        page = client.get(reverse("dlq_topic", args=["test", dlt])).content.decode()
        stages = waiting_cells(page)
        assert [t for t, _ in stages] == [orders, retry1, retry2, dlt]
        if sum(end_offsets(kafka.bootstrap, dlt, 2).values()) == 0:  # still within the 20 s back-off
            assert dict(stages)[retry2] == 2, stages
        wait_for(lambda: sum(end_offsets(kafka.bootstrap, dlt, 2).values()) >= 2, 120, "the DLT", app, log)
    before = end_offsets(kafka.bootstrap, orders, 2)
    Poller(dashboard_cluster, 1.0).cycle()

    rows = list(DlqRecord.objects.filter(topic=dlt).order_by("partition", "offset"))
    assert len(rows) == 2
    assert {(r.failure_class, r.target_topic, r.target_source) for r in rows} == {
        ("java.lang.IllegalStateException", orders, "header")
    }
    assert all("spring-retry" in r.convention.split("+") for r in rows)
    # Spring's retry_topic-attempts in the DLT is 4 (the attempt a DLT delivery would be): 2 retries were made
    assert sorted((r.original_partition, r.original_offset, r.retry_count) for r in rows) == [(0, 0, 2), (1, 0, 2)]

    page = client.get(reverse("dlq_topic", args=["test", dlt])).content.decode()
    assert waiting_cells(page) == [(orders, 0), (retry1, 0), (retry2, 0), (dlt, 2)]  # dead letters wait in the DLT
    assert "dead letters wait here" in page
    topic_page = client.get(reverse("topic", args=["test", orders])).content.decode()
    assert [t for t, _ in waiting_cells(topic_page)] == [orders, retry1, retry2, dlt]
    assert client.get(reverse("dlq_topic", args=["test", retry2])).status_code == 200  # redrivable like a DLQ
    listing = client.get(reverse("dlq", args=["test"])).content.decode()
    assert f">{dlt}</a>" in listing and f">{retry1}</a>" not in listing  # retried records are no dead letters

    out = StringIO()  # a retry topic is redriven like a DLQ: its headers name the chain's origin too
    call_command("dlq_reprocess", "--topic", retry2, "--dry-run", stdout=out)
    assert f"2 record(s) to send ({orders}: 2)" in out.getvalue(), out.getvalue()
    out = StringIO()
    call_command("dlq_reprocess", "--topic", dlt, "--dry-run", stdout=out)
    assert f"2 record(s) to send ({orders}: 2)" in out.getvalue(), out.getvalue()
    out = StringIO()
    call_command("dlq_reprocess", "--topic", dlt, stdout=out)
    assert "partition 0: sent 1, skipped 0, failed 0 (done)" in out.getvalue(), out.getvalue()
    assert "partition 1: sent 1, skipped 0, failed 0 (done)" in out.getvalue(), out.getvalue()
    got = []
    for partition in (0, 1):
        got += read_from(kafka.bootstrap, orders, before[partition], 1, partition=partition)
    assert sorted(m.key() for m in got) == sorted(poison)  # each exactly once, to the chain's origin
    for m in got:
        value, headers = poison[m.key()]
        assert m.value() == value
        assert [h for h in m.headers() if not h[0].startswith("dlq.reprocessed.")] == headers
        assert not any(name.startswith(FAILURE_PREFIXES) for name, _ in m.headers())
    out = StringIO()
    call_command("dlq_reprocess", "--topic", dlt, stdout=out)
    assert "0 record(s) to send" in out.getvalue() and "sent 0," in out.getvalue()
