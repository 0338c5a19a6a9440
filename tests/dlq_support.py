"""DLQ test helpers: failure headers as Spring writes them, a DLQ filled in bulk, a read_committed
reader, and what a dashboard's SQLite ledger says it confirmed."""

from __future__ import annotations

import sqlite3
import time

from confluent_kafka import Consumer, TopicPartition

from dashboard.dlq import ledger_pack
from kafka_admin.dlq import headers as h


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


def fill_dlq(kafka, dlq: str, original: str, count: int) -> None:
    """`count` records in partition 0 of `dlq` (offset i holds key k<i>), routed to `original` by header."""
    p = kafka.producer(acks="all")
    for i in range(count):
        p.produce(
            dlq,
            key=f"k{i}".encode(),
            value=f'{{"i": {i}}}'.encode(),
            partition=0,
            headers=[(h.DLQ_ORIGINAL_TOPIC, original.encode()), (h.DLQ_EXCEPTION_CLASS, b"Boom")],
        )
        if i % 1000 == 0:
            p.poll(0)
    assert p.flush(60) == 0


def confirmed_in_ledger(db: str, distinct_offsets: bool = False) -> int:
    """Records in confirmed ledger batches, in the SQLite file `db` (0 before it has the tables):
    read without Django, as another process writes it. distinct_offsets: DLQ records, each once."""
    with sqlite3.connect(db, timeout=10) as conn:
        try:
            rows = conn.execute(
                "select first_offset, \"count\", offsets from dashboard_reprocessbatch where state='confirmed'"
            ).fetchall()
        except sqlite3.OperationalError:
            return 0
    if not distinct_offsets:
        return sum(count for _, count, _ in rows)
    offsets: set[int] = set()
    for first, count, blob in rows:
        offsets.update(ledger_pack.offset_view(first, count, blob))
    return len(offsets)


def end_offsets(bootstrap: str, topic: str, partitions: int = 1) -> dict[int, int]:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "ends", "isolation.level": "read_committed"})
    try:
        return {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(partitions)}
    finally:
        c.close()


def read_from(bootstrap: str, topic: str, start: int, expected: int, timeout: float = 30, partition: int = 0) -> list:
    """Records of `partition` from `start`, read_committed, and a little longer to catch duplicates."""
    c = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"readback-{time.monotonic_ns()}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    c.assign([TopicPartition(topic, partition, start)])
    got: list = []
    deadline = time.monotonic() + timeout
    extra = None
    while time.monotonic() < deadline:
        m = c.poll(0.3)
        if m is not None and not m.error():
            got.append(m)
        if len(got) >= expected and extra is None:
            extra = time.monotonic() + 1.5
        if extra is not None and time.monotonic() > extra:
            break
    c.close()
    return got
