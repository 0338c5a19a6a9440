"""The demo's DLQ writer: the order processor that retries a poison record, then writes it to
orders-dlq with Spring-compatible and the project's own failure headers."""

from __future__ import annotations

import os
import time
import traceback
from pathlib import Path

from confluent_kafka import KafkaError, KafkaException, Message

from kafka_admin.demo.clients import consume, log_failed_commit, make_consumer, make_producer, next_offsets
from kafka_admin.demo.records import Headers, business_headers, parse_order, utc_iso
from kafka_admin.demo.workload import (
    BUG_FIXED_ENV,
    BUG_FIXED_FILE,
    GROUP_ORDER_PROCESSOR,
    MAX_RETRIES,
    ORDERS,
    ORDERS_DLQ,
    POLL_TIMEOUT_S,
    RETRY_BACKOFF_S,
    Worker,
)
from kafka_admin.dlq import headers as dh


def bug_fixed(state_dir: Path) -> bool:
    """The "fixed" switch: DEMO_BUG_FIXED=1 or a file <state dir>/bug-fixed. Read on every failure,
    so it can be flipped while the demo runs and reprocessed DLQ records then succeed."""
    if os.environ.get(BUG_FIXED_ENV, "").strip().lower() in {"1", "true", "yes", "on"}:
        return True
    return (state_dir / BUG_FIXED_FILE).exists()


def exception_class_name(exc: BaseException) -> str:
    """Fully qualified class name, as Spring's exception-fqcn; builtins without their module."""
    cls = type(exc)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def failure_headers(msg: Message, exc: BaseException, *, group: str, retries: int, failed_at: float) -> Headers:
    """Spring-compatible and project failure headers for a record that failed with `exc`."""
    ts_type, ts = msg.timestamp()
    fqcn = exception_class_name(exc)
    message = str(exc)
    stack = "".join(traceback.format_exception(exc))
    enc = dh.encode_text
    return [
        (dh.SPRING_ORIGINAL_TOPIC, enc(msg.topic())),
        (dh.SPRING_ORIGINAL_PARTITION, dh.encode_int32(msg.partition())),
        (dh.SPRING_ORIGINAL_OFFSET, dh.encode_int64(msg.offset())),
        (dh.SPRING_ORIGINAL_TIMESTAMP, dh.encode_int64(ts)),
        (dh.SPRING_ORIGINAL_TIMESTAMP_TYPE, enc(dh.TIMESTAMP_TYPE_NAMES.get(ts_type, "NoTimestampType"))),
        (dh.SPRING_ORIGINAL_CONSUMER_GROUP, enc(group)),
        (dh.SPRING_EXCEPTION_FQCN, enc(fqcn)),
        (dh.SPRING_EXCEPTION_MESSAGE, enc(message)),
        (dh.SPRING_EXCEPTION_STACKTRACE, enc(stack)),
        (dh.DLQ_ORIGINAL_TOPIC, enc(msg.topic())),
        (dh.DLQ_ORIGINAL_PARTITION, enc(msg.partition())),
        (dh.DLQ_ORIGINAL_OFFSET, enc(msg.offset())),
        (dh.DLQ_ORIGINAL_TIMESTAMP, enc(ts)),
        (dh.DLQ_EXCEPTION_CLASS, enc(fqcn)),
        (dh.DLQ_EXCEPTION_MESSAGE, enc(message)),
        (dh.DLQ_EXCEPTION_STACKTRACE, enc(stack)),
        (dh.DLQ_RETRY_COUNT, enc(retries)),
        (dh.DLQ_FAILED_AT, enc(utc_iso(failed_at))),
        (dh.DLQ_CONSUMER_GROUP, enc(group)),
    ]


def _process_with_retries(w: Worker, msg: Message) -> BaseException | None:
    """Try a record 1 + MAX_RETRIES times with short sleeps; the last error, or None on success."""
    error: BaseException | None = None
    for attempt in range(MAX_RETRIES + 1):
        try:
            parse_order(msg.value(), lenient=bug_fixed(w.state_dir))
            return None
        except (ValueError, TypeError) as exc:
            error = exc
            if attempt < MAX_RETRIES:
                w.stop.wait(RETRY_BACKOFF_S * 2**attempt)
    return error


def dlq_writer(w: Worker) -> None:
    """demo-dlq-writer (group demo-order-processor): process orders; a record that still fails after
    MAX_RETRIES retries goes to orders-dlq with its key, value, business headers and failure headers.

    The DLQ producer is idempotent with acks=all, and the group's offsets are committed only after
    the DLQ writes of the batch are acknowledged: a failed record is never lost (after a crash it
    may reach the DLQ twice).
    """
    failures: list[KafkaError] = []

    def on_delivery(err: KafkaError | None, _msg: Message) -> None:
        if err is not None:
            failures.append(err)

    consumer = make_consumer(
        w.config, GROUP_ORDER_PROCESSOR, {"enable.auto.commit": False, "on_commit": log_failed_commit}
    )
    producer = make_producer(w.config, "demo-dlq-writer", {"linger.ms": 20})
    try:
        consumer.subscribe([ORDERS])
        while not w.stop.is_set():
            batch = consume(consumer, 500, POLL_TIMEOUT_S)
            if not batch:
                continue
            dead = 0
            for msg in batch:
                error = _process_with_retries(w, msg)
                w.stats.consumed += 1
                if error is None:
                    continue
                headers = business_headers(msg) + failure_headers(
                    msg, error, group=GROUP_ORDER_PROCESSOR, retries=MAX_RETRIES, failed_at=time.time()
                )
                producer.produce(ORDERS_DLQ, key=msg.key(), value=msg.value(), headers=headers, on_delivery=on_delivery)
                dead += 1
            if dead and producer.flush(w.config.request_timeout_s * 3) > 0:
                raise RuntimeError("DLQ records not acknowledged in time; not committing")
            if failures:
                raise KafkaException(failures[0])
            w.stats.dead_lettered += dead
            consumer.commit(offsets=next_offsets(batch), asynchronous=True)
    finally:
        consumer.close()
        producer.flush(5.0)
