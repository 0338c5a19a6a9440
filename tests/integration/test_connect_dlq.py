"""A real Kafka Connect worker writes the DLQ: FileStreamSink over two topics, JsonConverter,
errors.tolerance=all, a DLQ with an arbitrary name and context headers. Then the dashboard indexes
it, plans and reprocesses it; read back read_committed: each record once in its own origin, key,
value and business headers byte-identical, Connect's headers gone; a second run sends nothing."""

from __future__ import annotations

import json
from dataclasses import replace
from io import StringIO

import pytest
from django.core.management import call_command

from dashboard.dlq import detection as dlq_detection
from dashboard.dlq import index as dlq_index
from dashboard.models import DlqRecord
from dashboard.poller.loop import Poller
from kafka_admin.dlq.conventions import connect
from kafka_admin.dlq.routing import is_dlq_topic
from tests.connect_standalone_support import standalone_worker, wait_for
from tests.dlq_support import end_offsets, read_from

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


def test_a_connect_dlq_over_two_topics_is_reprocessed_exactly_once(kafka, dashboard_cluster, settings, tmp_path):
    clicks, views = kafka.create_topic(partitions=1), kafka.create_topic(partitions=1)
    dlq = kafka.unique("sink-errors")  # no -dlq: detection by name alone must not pass it
    assert not is_dlq_topic(dlq, settings.DLQ_PATTERNS)
    connector = {
        "name": kafka.unique("file-sink"),
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "tasks.max": "1",
        "topics": f"{clicks},{views}",
        "file": str(tmp_path / "sink.txt"),
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": dlq,
        "errors.deadletterqueue.topic.replication.factor": "1",
        "errors.deadletterqueue.context.headers.enable": "true",
    }
    p = kafka.producer(acks="all")
    bad: dict[tuple[str, bytes], tuple[bytes, list]] = {}
    for topic in (clicks, views):
        for i in range(4):
            key = f"{topic[-6:]}-{i}".encode()
            headers = [("trace-id", f"t-{i}".encode()), ("raw", bytes([0, 0xFF, i])), ("trace-id", b"again")]
            if i % 2:
                value = b'{"broken": ' + bytes([0x80 + i])  # not JSON: the value converter fails
                bad[(topic, key)] = (value, headers)
            else:
                value = json.dumps({"ok": i}).encode()
            p.produce(topic, key=key, value=value, partition=0, headers=headers)
    assert p.flush(30) == 0
    work = tmp_path / "connect"
    with standalone_worker(kafka.bootstrap, work, connector) as worker:
        wait_for(
            lambda: (tmp_path / "sink.txt").exists() and len((tmp_path / "sink.txt").read_text().splitlines()) >= 4,
            180,
            "the good records in the sink file",
            worker,
            work / "worker.log",
        )
        wait_for(
            lambda: (
                end_offsets(kafka.bootstrap, dlq)[0] >= len(bad)
                if dlq in kafka.admin.list_topics(timeout=5).topics
                else 0
            ),
            120,
            "the bad records in the DLQ",
            worker,
            work / "worker.log",
        )
    # The connector is stopped before the redrive (the bug "fixed"), or it would dead-letter them again.
    before = {t: end_offsets(kafka.bootstrap, t)[0] for t in (clicks, views)}
    # Found by its content. The poller samples a few topics a cycle and the session's broker may hold
    # every other test's topics too, so the sampling is also asked about this test's three (those the
    # cycle sampled already are not due again).
    poller = Poller(dashboard_cluster, 1.0)
    snapshot = poller.cycle()
    ours = replace(snapshot, topics=tuple(t for t in snapshot.topics if t.name in {clicks, views, dlq}))
    dlq_detection.sample(dashboard_cluster, ours)
    assert dlq_detection.detected("test") == {dlq: "connect"}
    settings.DLQ_IGNORE = frozenset({dlq})  # an explicit setting switches it off
    assert dlq not in [t.name for t in dlq_index.dlq_topics(ours)]
    settings.DLQ_IGNORE = frozenset()
    assert dlq in [t.name for t in dlq_index.dlq_topics(ours)]
    poller.cycle()  # now indexed as a DLQ
    rows = list(DlqRecord.objects.filter(topic=dlq).order_by("offset"))
    assert len(rows) == len(bad)
    assert {r.target_topic for r in rows} == {clicks, views}
    assert {r.target_source for r in rows} == {"header"}
    assert {(r.failure_class, r.convention) for r in rows} == {
        ("org.apache.kafka.connect.errors.DataException", "connect")
    }
    assert all(r.stage.startswith("VALUE_CONVERTER") for r in rows)

    out = StringIO()
    call_command("dlq_reprocess", "--topic", dlq, "--dry-run", stdout=out)
    counts = ", ".join(f"{t}: 2" for t in sorted((clicks, views)))
    assert f"4 record(s) to send ({counts})" in out.getvalue(), out.getvalue()
    out = StringIO()
    call_command("dlq_reprocess", "--topic", dlq, stdout=out)
    assert "sent 4, skipped 0, failed 0 (done)" in out.getvalue(), out.getvalue()

    for topic in (clicks, views):
        got = read_from(kafka.bootstrap, topic, before[topic], 2)
        assert len(got) == 2  # exactly once
        for m in got:
            value, headers = bad[(topic, m.key())]
            assert m.value() == value
            assert [h for h in m.headers() if not h[0].startswith("dlq.reprocessed.")] == headers
            assert not any(name.startswith(connect.PREFIX) for name, _ in m.headers())
    out = StringIO()
    call_command("dlq_reprocess", "--topic", dlq, stdout=out)
    assert "0 record(s) to send" in out.getvalue() and "4 already handled" in out.getvalue()
    assert "sent 0," in out.getvalue(), out.getvalue()
