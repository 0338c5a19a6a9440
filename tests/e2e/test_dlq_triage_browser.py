"""In headless Chromium against the running server: a Kafka Connect DLQ with an arbitrary name is
found by its content and triaged by Connect's exception class and stage; a Spring DLT by the cause
class under Spring's listener wrapper. Screenshots of both land in test-artifacts/."""

from __future__ import annotations

import struct

import pytest

from kafka_admin.dlq.conventions import connect, spring
from tests.e2e.conftest import ARTIFACTS, open_when_indexed

pytestmark = [pytest.mark.e2e, pytest.mark.broker]

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
        (connect.EXCEPTION_MESSAGE, b"Converting byte[] to Kafka Connect data failed due to serialization error"),
        (connect.EXCEPTION_STACKTRACE, b"org.apache.kafka.connect.errors.DataException: ...\n\tat x"),
    ]


def test_connect_and_spring_triage(page, server, kafka):
    clicks, views = kafka.create_topic(partitions=1), kafka.create_topic(partitions=1)
    errors = kafka.create_topic(kafka.unique("sink-errors"), partitions=1)
    orders = kafka.create_topic(partitions=1)
    dlt = kafka.create_topic(f"{orders}-dlt", partitions=1)
    p = kafka.producer(acks="all")
    for i in range(6):
        origin = clicks if i % 3 else views
        p.produce(errors, key=f"k{i}".encode(), value=b'{"bad', partition=0, headers=connect_failure(origin, i))
    for i, cause in enumerate([b"java.lang.IllegalArgumentException"] * 3 + [b"java.time.DateTimeException"]):
        headers = [
            (spring.ORIGINAL_TOPIC, orders.encode()),
            (spring.ORIGINAL_PARTITION, struct.pack(">i", 0)),
            (spring.ORIGINAL_OFFSET, struct.pack(">q", 13 + i)),
            (spring.EXCEPTION_FQCN, WRAPPER),
            (spring.EXCEPTION_CAUSE_FQCN, cause),
            (spring.EXCEPTION_MESSAGE, b"Listener failed"),
        ]
        p.produce(dlt, key=f"o{i}".encode(), value=b"{}", partition=0, headers=headers)
    assert p.flush(30) == 0
    ARTIFACTS.mkdir(exist_ok=True)

    open_when_indexed(
        page, f"{server.url}/c/e2e/dlq/{errors}/", "org.apache.kafka.connect.errors.DataException", clicks, views
    )
    triage = page.locator("#dlq-triage").inner_text()
    assert "VALUE_CONVERTER (org.apache.kafka.connect.json.JsonConverter)" in triage
    assert "(no exception header)" not in triage
    assert clicks in page.content() and views in page.content()
    page.screenshot(path=str(ARTIFACTS / "dlq-triage-connect.png"), full_page=True)

    open_when_indexed(page, f"{server.url}/c/e2e/dlq/{dlt}/", "java.lang.IllegalArgumentException")
    triage = page.locator("#dlq-triage").inner_text()
    assert "java.time.DateTimeException" in triage
    assert "ListenerExecutionFailedException" not in triage
    page.screenshot(path=str(ARTIFACTS / "dlq-triage-spring.png"), full_page=True)

    page.goto(f"{server.url}/c/e2e/dlq/{dlt}/0/0/")
    row = page.locator("tr", has_text=spring.ORIGINAL_OFFSET)
    assert row.locator("td").nth(1).inner_text().startswith("13")
    page.screenshot(path=str(ARTIFACTS / "dlq-record-spring.png"), full_page=True)
