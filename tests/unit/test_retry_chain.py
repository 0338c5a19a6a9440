"""Spring's retry-topic chains: found by name, read by their headers, and never looped through."""

from __future__ import annotations

import struct

from kafka_admin.dlq.chain import RetryChain, retry_chains
from kafka_admin.dlq.conventions import spring, spring_retry
from kafka_admin.dlq.routing import FailureInfo, header_targets, parse_failure, republish_headers, resolve_target

TOPICS = [
    "orders",
    "orders-retry-20000",
    "orders-retry-200",
    "orders-dlt",
    "payments",
    "payments-retry",
    "lonely-retry-1",  # no "lonely" topic: not a chain
    "clicks",
    "clicks-dlq",
]


def test_chains_are_found_by_name_with_retries_in_attempt_order() -> None:
    chains = retry_chains(TOPICS)
    assert chains.chains == (
        RetryChain("orders", ("orders-retry-200", "orders-retry-20000"), "orders-dlt"),
        RetryChain("payments", ("payments-retry",), None),
    )
    assert chains.of("orders-dlt").describe() == "orders → orders-retry-200 → orders-retry-20000 → orders-dlt"
    assert chains.of("orders-retry-20000").role("orders-retry-20000") == "retry 2"
    assert chains.of("clicks-dlq") is None and chains.of("lonely-retry-1") is None


def test_index_suffixes_sort_numerically() -> None:
    chain = retry_chains(["t", "t-retry-10", "t-retry-2", "t-retry-0"]).of("t")
    assert chain.retries == ("t-retry-0", "t-retry-2", "t-retry-10")


def test_loops_through_a_chain_are_refused_and_its_origin_is_allowed() -> None:
    chains = retry_chains(TOPICS)
    assert chains.loop_reason("orders-dlt", "orders") is None
    assert chains.loop_reason("orders-retry-200", "orders") is None
    assert "retry 1 stage of the retry chain" in chains.loop_reason("orders-dlt", "orders-retry-200")
    assert "Its original topic is orders" in chains.loop_reason("orders-retry-20000", "orders-dlt")
    assert "not an original topic" in chains.loop_reason("clicks-dlq", "orders-dlt")
    assert "not an original topic" in chains.loop_reason("payments-retry", "orders-retry-200")
    assert chains.loop_reason("clicks-dlq", "clicks") is None
    assert chains.loop_reason("clicks-dlq", "payments") is None  # another chain's origin is a topic like any


def test_resolve_target_refuses_a_header_naming_a_stage_of_the_dlqs_own_chain() -> None:
    chains = retry_chains(TOPICS)
    info = FailureInfo(original_topic="orders-retry-200", style="spring-retry", topic_from="spring-retry")
    target = resolve_target(info, "orders-dlt", chains=chains)
    assert target.topic is None
    assert target.reason.startswith("the record's original-topic header names orders-retry-200, but ")
    assert resolve_target(info, "orders-dlt").topic == "orders-retry-200"  # without the chains: no guard
    mapped = resolve_target(FailureInfo(), "weird", mapping={"weird": "orders-dlt"}, chains=chains)
    assert mapped.topic is None and "the DLT stage" in mapped.reason


def test_the_router_refuses_the_loop_from_the_route_key_too() -> None:
    router = header_targets("orders-dlt", chains=retry_chains(TOPICS))
    assert router.route_headers([(spring_retry.ORIGINAL_TOPIC, b"orders")]).topic == "orders"
    assert router.route_headers([(spring_retry.ORIGINAL_TOPIC, b"orders-retry-20000")]).topic is None


# What Spring Kafka 4.1.2's retry-topic recoverer wrote to a DLT (tests/integration/test_spring_retry_chain.py).
DLT_HEADERS = [
    ("trace-id", b"t-0"),
    (spring_retry.ORIGINAL_TOPIC, b"orders"),
    (spring_retry.ORIGINAL_PARTITION, struct.pack(">i", 1)),
    (spring_retry.ORIGINAL_OFFSET, struct.pack(">q", 13)),
    (spring_retry.ORIGINAL_TIMESTAMP, struct.pack(">q", 1_796_243_300_000)),
    (spring_retry.ORIGINAL_TIMESTAMP_TYPE, b"CreateTime"),
    (spring.ORIGINAL_CONSUMER_GROUP, b"chain-app"),
    (spring.RETRY_ORIGINAL_TIMESTAMP, b"\x01\xa28r\x02\xf8"),
    (spring.RETRY_ATTEMPTS, struct.pack(">i", 2)),
    (spring.RETRY_BACKOFF_TIMESTAMP, b"\x01\xa28r2)"),
    (spring.RETRY_ATTEMPTS, struct.pack(">i", 3)),
    (spring_retry.EXCEPTION_FQCN, b"org.springframework.kafka.listener.ListenerExecutionFailedException"),
    (spring_retry.EXCEPTION_CAUSE_FQCN, b"java.lang.IllegalStateException"),
    (spring_retry.EXCEPTION_MESSAGE, b"Listener failed; cannot process poison 0"),
    (spring_retry.EXCEPTION_STACKTRACE, b"org.springframework...\n\tat ..."),
    ("bin", b"\x00\xff"),
]


def test_springs_retry_topic_headers_are_read() -> None:
    info = parse_failure(DLT_HEADERS)
    assert info.conventions == ("spring", "spring-retry")
    assert (info.original_topic, info.original_partition, info.original_offset) == ("orders", 1, 13)
    assert info.original_timestamp_ms == 1_796_243_300_000
    assert info.failure_class == "java.lang.IllegalStateException"
    assert info.consumer_group == "chain-app" and info.retry_count == 1  # the last attempt header: 3
    assert info.topic_from == "spring-retry" and not info.conflicts


def test_springs_retry_topic_key_exception_headers_say_the_key_failed() -> None:
    info = parse_failure([(spring_retry.ORIGINAL_TOPIC, b"orders"), (spring_retry.KEY_EXCEPTION_FQCN, b"x.KeyError")])
    assert (info.exception_class, info.stage) == ("x.KeyError", "key")


def test_republish_strips_every_retry_topic_header_and_keeps_business_headers() -> None:
    from datetime import UTC, datetime

    out = republish_headers(DLT_HEADERS, dlq_topic="orders-dlt", partition=0, offset=0, actor="t", at=datetime.now(UTC))
    assert [h for h in out if not h[0].startswith("dlq.reprocessed.")] == [("trace-id", b"t-0"), ("bin", b"\x00\xff")]
