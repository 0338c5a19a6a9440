"""DLQ test helpers: failure headers as Spring writes them, a read_committed reader."""

from __future__ import annotations

import time

from confluent_kafka import Consumer

from kafka_admin import dlq_headers as h


def spring_headers(topic: str, partition: int, offset: int, exc: str, message: str) -> list:
    return [
        ("trace-id", b"t-1"),
        (h.SPRING_ORIGINAL_TOPIC, topic.encode()),
        (h.SPRING_ORIGINAL_PARTITION, h.encode_int32(partition)),
        (h.SPRING_ORIGINAL_OFFSET, h.encode_int64(offset)),
        (h.SPRING_ORIGINAL_TIMESTAMP, h.encode_int64(1_700_000_000_000)),
        (h.SPRING_EXCEPTION_FQCN, exc.encode()),
        (h.SPRING_EXCEPTION_MESSAGE, message.encode()),
        (h.SPRING_EXCEPTION_STACKTRACE, f"{exc}: {message}\n\tat com.example.Handler.handle(Handler.java:42)".encode()),
    ]


def read_all(kafka, topic: str, expected: int, timeout: float = 20) -> list:
    c = Consumer(
        {
            "bootstrap.servers": kafka.bootstrap,
            "group.id": kafka.unique("reader"),
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    c.subscribe([topic])
    got, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline and len(got) < expected:
        m = c.poll(0.5)
        if m is not None and not m.error():
            got.append(m)
    # a little longer, to catch duplicates
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        m = c.poll(0.3)
        if m is not None and not m.error():
            got.append(m)
    c.close()
    return got
