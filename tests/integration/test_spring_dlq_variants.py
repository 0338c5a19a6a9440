"""Spring Kafka's DeadLetterPublishingRecoverer with a custom destination resolver (one partition of a
topic no naming rule knows) and poison-pill keys (an ErrorHandlingDeserializer: Spring writes
kafka_dlt-key-exception-*): found by content, triaged by what failed, redriven exactly once to the
original partitions the headers give. On the default spring-kafka (4.1.2) and on 3.3."""

from __future__ import annotations

from dataclasses import replace
from io import StringIO

import pytest
from django.core.management import call_command

from dashboard.dlq import detection as dlq_detection
from dashboard.models import DlqRecord
from dashboard.poller.loop import Poller
from kafka_admin.dlq.conventions import spring
from kafka_admin.dlq.routing import is_dlq_topic
from tests.connect_standalone_support import wait_for
from tests.dlq_support import end_offsets, read_from
from tests.spring_support import VERSION, spring_writer

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("version", [VERSION, "3.3.10"])
def test_a_custom_resolver_dlq_with_poison_keys_is_found_triaged_and_redriven(
    kafka, dashboard_cluster, settings, tmp_path, version
):
    orders = kafka.create_topic(partitions=2)
    dlq = kafka.create_topic(f"{orders}.failures", partitions=1)
    assert not is_dlq_topic(dlq, settings.DLQ_PATTERNS)
    p = kafka.producer(acks="all")
    dead: dict[bytes, tuple[int, bytes, list, str]] = {}
    for i in range(6):
        kind = ("value", "key", "fine")[i % 3]
        key = (b"poison-key-" if kind == "key" else b"order-") + bytes([0xC3, 0xA9, i])
        value = (b"poison " if kind == "value" else b"fine ") + str(i).encode()
        headers = [("trace-id", f"t-{i}".encode()), ("bin", bytes([0, 0xFF, i]))]
        partition = i % 2
        if kind != "fine":
            dead[key] = (partition, value, headers, kind)
        p.produce(orders, key=key, value=value, partition=partition, headers=headers)
    assert p.flush(30) == 0
    log = tmp_path / "spring.log"
    with spring_writer(kafka.bootstrap, orders, kafka.unique("orders-app"), log, dlq=dlq, version=version) as writer:
        wait_for(lambda: end_offsets(kafka.bootstrap, dlq)[0] >= len(dead), 120, "the custom DLQ", writer, log)
        wait_for(lambda: log.read_text().count("processed") >= 2, 60, "the good records", writer, log)
    before = end_offsets(kafka.bootstrap, orders, 2)

    poller = Poller(dashboard_cluster, 1.0)
    snapshot = poller.cycle()
    ours = replace(snapshot, topics=tuple(t for t in snapshot.topics if t.name in {orders, dlq}))
    dlq_detection.sample(dashboard_cluster, ours)
    assert dlq_detection.detected("test") == {dlq: "spring"}
    poller.cycle()
    rows = list(DlqRecord.objects.filter(topic=dlq).order_by("offset"))
    assert len(rows) == len(dead)
    assert {(r.target_topic, r.target_source, r.convention) for r in rows} == {(orders, "header", "spring")}
    by_stage = {}
    for r in rows:
        by_stage.setdefault(r.stage, set()).add(r.failure_class)
    assert by_stage[""] == {"java.lang.IllegalArgumentException"}  # the cause under the listener wrapper
    assert set(by_stage) == {"", "key"}, by_stage
    assert len(by_stage["key"]) == 1 and "" not in by_stage["key"], by_stage

    out = StringIO()
    call_command("dlq_reprocess", "--topic", dlq, stdout=out)
    assert "sent 4, skipped 0, failed 0 (done)" in out.getvalue(), out.getvalue()
    got = []
    for partition in (0, 1):
        got += read_from(kafka.bootstrap, orders, before[partition], 2, partition=partition)
    assert sorted(m.key() for m in got) == sorted(dead)  # each once: the raw key bytes Spring could not read too
    for m in got:
        partition, value, headers, _ = dead[m.key()]
        assert (m.partition(), m.value()) == (partition, value)  # back to the partition the headers give
        assert [h for h in m.headers() if not h[0].startswith("dlq.reprocessed.")] == headers, m.headers()
        assert not any(name.startswith(spring.PREFIX) for name, _ in m.headers())
