"""kafka_admin.dlq.routing: DLQ names, failure headers byte by byte, routing back, re-publish headers."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kafka_admin.dlq import headers as dh
from kafka_admin.dlq.conventions.registry import CONVENTIONS
from kafka_admin.dlq.routing import (
    DEFAULT_PATTERNS,
    FailureInfo,
    Target,
    header_targets,
    is_dlq_topic,
    is_topic_name,
    original_by_name,
    parse_failure,
    reprocessed_from,
    republish_headers,
    resolve_target,
    utc_iso,
)

TS = 1_700_000_000_123


def spring(topic: str = "orders", partition: int = 2, offset: int = 41, ts: int = TS) -> list[tuple[str, bytes]]:
    """Spring's headers exactly as DeadLetterPublishingRecoverer writes them."""
    return [
        (dh.SPRING_ORIGINAL_TOPIC, topic.encode()),
        (dh.SPRING_ORIGINAL_PARTITION, struct.pack(">i", partition)),
        (dh.SPRING_ORIGINAL_OFFSET, struct.pack(">q", offset)),
        (dh.SPRING_ORIGINAL_TIMESTAMP, struct.pack(">q", ts)),
        (dh.SPRING_ORIGINAL_TIMESTAMP_TYPE, b"CreateTime"),
        (dh.SPRING_ORIGINAL_CONSUMER_GROUP, b"order-service"),
        (dh.SPRING_EXCEPTION_FQCN, b"org.springframework.kafka.listener.ListenerExecutionFailedException"),
        (dh.SPRING_EXCEPTION_CAUSE_FQCN, b"java.lang.IllegalStateException"),
        (dh.SPRING_EXCEPTION_MESSAGE, "Listener failed; bad amount \u20ac".encode()),
        (dh.SPRING_EXCEPTION_STACKTRACE, b"java.lang.IllegalStateException: bad\n\tat Foo.bar(Foo.java:1)"),
    ]


def project(topic: str = "orders", partition: int = 2, offset: int = 41) -> list[tuple[str, bytes]]:
    return [
        (dh.DLQ_ORIGINAL_TOPIC, topic.encode()),
        (dh.DLQ_ORIGINAL_PARTITION, str(partition).encode()),
        (dh.DLQ_ORIGINAL_OFFSET, str(offset).encode()),
        (dh.DLQ_ORIGINAL_TIMESTAMP, str(TS).encode()),
        (dh.DLQ_EXCEPTION_CLASS, b"demo.InvalidOrderError"),
        (dh.DLQ_EXCEPTION_MESSAGE, b"order has no amount"),
        (dh.DLQ_EXCEPTION_STACKTRACE, b"Traceback ..."),
        (dh.DLQ_RETRY_COUNT, b"3"),
        (dh.DLQ_FAILED_AT, b"2025-01-31T12:00:00.000Z"),
        (dh.DLQ_CONSUMER_GROUP, b"demo-order-processor"),
    ]


# ------------------------------------------------------------------------------------- naming


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("orders-dlq", True),
        ("orders.DLT", True),
        ("orders-dlt", True),
        ("orders.dlt", False),  # case-sensitive
        ("orders-DLQ", False),
        ("orders", False),
        ("dlq-orders", False),
        ("-dlq", True),  # matches the pattern, though no name can be derived from it
    ],
)
def test_is_dlq_topic_default_patterns(name: str, expected: bool) -> None:
    assert is_dlq_topic(name, DEFAULT_PATTERNS) is expected


def test_is_dlq_topic_custom_patterns() -> None:
    assert is_dlq_topic("error.orders.group1", ["error.*.*"])
    assert not is_dlq_topic("orders-dlq", ["error.*"])
    assert not is_dlq_topic("orders-dlq", [])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("orders-dlq", "orders"),
        ("orders.DLT", "orders"),
        ("x-dlt", "x"),
        ("a.b-c-dlq", "a.b-c"),
        ("orders-dlq-dlq", "orders-dlq"),  # only the suffix is removed, once
        ("-dlq", None),  # nothing would be left
        ("orders", None),
        ("orders.dlt", None),
    ],
)
def test_original_by_name(name: str, expected: str | None) -> None:
    assert original_by_name(name, DEFAULT_PATTERNS) == expected


def test_original_by_name_prefix_patterns_and_unusable_ones() -> None:
    assert original_by_name("dlq.orders", ["dlq.*"]) == "orders"
    # Patterns with other wildcards match but derive nothing: the group would end up in the name.
    assert original_by_name("error.orders.g1", ["error.*.*"]) is None
    assert original_by_name("orders-dlq", ["*-dl?"]) is None
    assert original_by_name("orders-dlq", ["orders-dlq"]) is None
    assert original_by_name("orders-dlq", ["*"]) is None
    # The first pattern that derives a name wins.
    assert original_by_name("dlq.orders-dlq", ["dlq.*", "*-dlq"]) == "orders-dlq"
    assert original_by_name("dlq.orders-dlq", ["*-dlq", "dlq.*"]) == "dlq.orders"


# ------------------------------------------------------------------------------ failure headers


def test_parse_spring_binary_headers() -> None:
    info = parse_failure(spring())
    assert info == FailureInfo(
        original_topic="orders",
        original_partition=2,
        original_offset=41,
        original_timestamp_ms=TS,
        original_timestamp_type="CreateTime",
        consumer_group="order-service",
        exception_class="org.springframework.kafka.listener.ListenerExecutionFailedException",
        exception_cause_class="java.lang.IllegalStateException",
        exception_message="Listener failed; bad amount \u20ac",
        stacktrace="java.lang.IllegalStateException: bad\n\tat Foo.bar(Foo.java:1)",
        retry_count=None,
        failed_at=None,
        style="spring",
    )


def test_parse_spring_large_values_use_every_byte() -> None:
    info = parse_failure(
        [
            (dh.SPRING_ORIGINAL_PARTITION, b"\x00\x01\x00\x00"),
            (dh.SPRING_ORIGINAL_OFFSET, b"\x00\x00\x01\x00\x00\x00\x00\x05"),
        ]
    )
    assert info.original_partition == 65536
    assert info.original_offset == 2**40 + 5


def test_spring_numbers_as_decimal_text_are_tolerated() -> None:
    info = parse_failure(
        [
            (dh.SPRING_ORIGINAL_PARTITION, b"7"),
            (dh.SPRING_ORIGINAL_OFFSET, b"12345678"),  # 8 ASCII digits: text, not a binary long
            (dh.SPRING_ORIGINAL_TIMESTAMP, str(TS).encode()),
        ]
    )
    assert (info.original_partition, info.original_offset, info.original_timestamp_ms) == (7, 12345678, TS)
    assert parse_failure([(dh.SPRING_ORIGINAL_PARTITION, b"1234")]).original_partition == 1234


def test_spring_binary_values_that_are_whitespace_bytes_stay_binary() -> None:
    # 0x20 is a space: the value must not be stripped into text.
    assert parse_failure([(dh.SPRING_ORIGINAL_PARTITION, struct.pack(">i", 32))]).original_partition == 32
    offset = struct.pack(">q", 0x2031)  # b"\x00...\x20\x31": ends in " 1"
    assert parse_failure([(dh.SPRING_ORIGINAL_OFFSET, offset)]).original_offset == 0x2031


def test_parse_project_text_headers() -> None:
    info = parse_failure(project())
    assert info.style == "project"
    assert (info.original_topic, info.original_partition, info.original_offset) == ("orders", 2, 41)
    assert info.original_timestamp_ms == TS
    assert info.original_timestamp_type is None
    assert info.exception_class == "demo.InvalidOrderError"
    assert info.exception_cause_class is None
    assert info.exception_message == "order has no amount"
    assert info.stacktrace == "Traceback ..."
    assert info.retry_count == 3
    assert info.failed_at == datetime(2025, 1, 31, 12, 0, tzinfo=UTC)
    assert info.consumer_group == "demo-order-processor"
    assert info.conflicts == ()


def test_failed_at_offsets_are_converted_to_utc_and_naive_is_utc() -> None:
    at = parse_failure([(dh.DLQ_FAILED_AT, b"2025-01-31T14:00:00+02:00")]).failed_at
    assert at == datetime(2025, 1, 31, 12, 0, tzinfo=UTC)
    assert at.utcoffset() == timedelta(0)
    assert parse_failure([(dh.DLQ_FAILED_AT, b"2025-01-31T12:00:00")]).failed_at == datetime(
        2025, 1, 31, 12, tzinfo=UTC
    )
    assert parse_failure([(dh.DLQ_FAILED_AT, b"yesterday")]).failed_at is None


def test_both_styles_agreeing() -> None:
    info = parse_failure(spring() + project())
    assert info.style == "spring+project"
    assert info.conventions == ("spring", "project")
    assert info.conflicts == ()
    # Spring's header is preferred field by field, the project's fills in what Spring lacks.
    assert info.exception_class == "org.springframework.kafka.listener.ListenerExecutionFailedException"
    assert info.consumer_group == "order-service"
    assert info.retry_count == 3
    assert info.failed_at == datetime(2025, 1, 31, 12, tzinfo=UTC)


def test_both_styles_disagreeing_are_reported_and_spring_wins() -> None:
    info = parse_failure(spring(topic="orders", partition=2, offset=41) + project(topic="payments", offset=99))
    assert (info.original_topic, info.original_partition, info.original_offset) == ("orders", 2, 41)
    assert {c.field for c in info.conflicts} == {"original_topic", "original_offset"}
    conflict = info.conflict("original_topic")
    assert conflict is not None and conflict.values == (("Spring's", "orders"), ("the project's", "payments"))
    assert "Spring's says 'orders'" in conflict.describe()


def test_project_header_fills_in_when_spring_is_malformed() -> None:
    headers = [(dh.SPRING_ORIGINAL_PARTITION, b"\x00\x01"), (dh.DLQ_ORIGINAL_PARTITION, b"4")]
    info = parse_failure(headers)
    assert info.original_partition == 4
    assert info.conflicts == ()


def test_repeated_headers_last_value_wins() -> None:
    headers = [
        *spring(topic="orders", partition=1, offset=10),
        *spring(topic="orders-retry", partition=3, offset=77),  # Spring appends on a second failure
        (dh.DLQ_RETRY_COUNT, b"1"),
        (dh.DLQ_RETRY_COUNT, b"5"),
    ]
    info = parse_failure(headers)
    assert (info.original_topic, info.original_partition, info.original_offset) == ("orders-retry", 3, 77)
    assert info.retry_count == 5
    # The last value wins even when it is malformed: the field is then None.
    assert parse_failure([*spring(), (dh.SPRING_ORIGINAL_OFFSET, b"\x01")]).original_offset is None


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [
        (dh.SPRING_ORIGINAL_PARTITION, b"\x00\x00\x01", "original_partition"),  # 3 bytes
        (dh.SPRING_ORIGINAL_PARTITION, b"\x00\x00\x00\x00\x01", "original_partition"),  # 5 bytes
        (dh.SPRING_ORIGINAL_PARTITION, struct.pack(">i", -1), "original_partition"),  # negative
        (dh.SPRING_ORIGINAL_OFFSET, struct.pack(">i", 5), "original_offset"),  # an int where a long belongs
        (dh.SPRING_ORIGINAL_OFFSET, b"", "original_offset"),
        (dh.SPRING_ORIGINAL_OFFSET, None, "original_offset"),
        (dh.SPRING_ORIGINAL_TIMESTAMP, struct.pack(">q", -1), "original_timestamp_ms"),
        (dh.DLQ_ORIGINAL_OFFSET, b"12a", "original_offset"),
        (dh.DLQ_ORIGINAL_OFFSET, b"-3", "original_offset"),
        (dh.DLQ_ORIGINAL_OFFSET, b"1.5", "original_offset"),
        (dh.DLQ_RETRY_COUNT, b"three", "retry_count"),
        (dh.SPRING_ORIGINAL_TOPIC, b"\xff\xfeorders", "original_topic"),  # not UTF-8
        (dh.SPRING_ORIGINAL_TOPIC, b"", "original_topic"),
        (dh.SPRING_EXCEPTION_MESSAGE, b"\xc3\x28", "exception_message"),
        (dh.DLQ_FAILED_AT, b"\xff", "failed_at"),
    ],
)
def test_malformed_values_leave_the_field_none(name: str, value: bytes | None, field: str) -> None:
    info = parse_failure([(name, value)])
    assert getattr(info, field) is None


def test_decimal_text_with_surrounding_whitespace_and_sign() -> None:
    assert parse_failure([(dh.DLQ_ORIGINAL_OFFSET, b" 42\n")]).original_offset == 42
    assert parse_failure([(dh.DLQ_ORIGINAL_OFFSET, b"+42")]).original_offset == 42


def test_no_failure_headers() -> None:
    info = parse_failure([("trace-id", b"abc"), ("content-type", None)])
    assert info == FailureInfo()
    assert info.style == "none"
    assert parse_failure([]) == FailureInfo()


def test_key_exception_headers_stand_in_for_the_value_exception() -> None:
    info = parse_failure(
        [
            (dh.SPRING_KEY_EXCEPTION_FQCN, b"org.apache.kafka.common.errors.SerializationException"),
            (dh.SPRING_KEY_EXCEPTION_MESSAGE, b"bad key"),
        ]
    )
    assert info.style == "spring"
    assert info.exception_class == "org.apache.kafka.common.errors.SerializationException"
    assert info.exception_message == "bad key"


# ------------------------------------------------------------------------------------- target


def test_target_from_header_first() -> None:
    target = resolve_target(parse_failure(spring(topic="payments")), "orders-dlq", DEFAULT_PATTERNS, {})
    assert target == Target("payments", "header", target.reason, 2)  # and the original partition
    assert target.found and "header" in target.reason


def test_target_from_project_header() -> None:
    target = resolve_target(parse_failure(project(topic="payments")), "whatever", DEFAULT_PATTERNS, {})
    assert (target.topic, target.source) == ("payments", "header")


def test_target_by_naming_when_no_header() -> None:
    target = resolve_target(FailureInfo(), "orders.DLT", DEFAULT_PATTERNS, {"other": "elsewhere"})
    assert (target.topic, target.source) == ("orders", "naming")
    assert "'*.DLT'" in target.reason


def test_mapping_wins_over_naming_but_not_over_the_records_header() -> None:
    mapping = {"orders.DLT": "elsewhere"}
    target = resolve_target(FailureInfo(), "orders.DLT", DEFAULT_PATTERNS, mapping)
    assert (target.topic, target.source) == ("elsewhere", "mapping")
    target = resolve_target(parse_failure(spring(topic="payments")), "orders.DLT", DEFAULT_PATTERNS, mapping)
    assert (target.topic, target.source) == ("payments", "header")


def test_target_by_mapping() -> None:
    target = resolve_target(FailureInfo(), "failed-orders", DEFAULT_PATTERNS, {"failed-orders": "orders"})
    assert (target.topic, target.source) == ("orders", "mapping")
    assert "failed-orders -> orders" in target.reason


def test_no_target_is_never_a_guess() -> None:
    target = resolve_target(FailureInfo(), "failed-orders", DEFAULT_PATTERNS, {"other": "x"})
    assert target == Target(
        None,
        None,
        "no original-topic header, the name does not match a DLQ pattern, and no mapping for failed-orders",
    )
    assert not target.found
    assert resolve_target(FailureInfo(), "failed-orders").topic is None  # defaults: no mapping


def test_target_loop_is_refused() -> None:
    target = resolve_target(parse_failure(spring(topic="orders-dlq")), "orders-dlq", DEFAULT_PATTERNS, {})
    assert target.topic is None and target.source is None
    assert "loop" in target.reason
    # The header is explicit: no fall-back to the naming convention after a refused header.
    target = resolve_target(FailureInfo(), "loop", DEFAULT_PATTERNS, {"loop": "loop"})
    assert target.topic is None and "loop" in target.reason


def test_target_conflicting_headers_are_refused() -> None:
    info = parse_failure(spring(topic="orders") + project(topic="payments"))
    target = resolve_target(info, "orders-dlq", DEFAULT_PATTERNS, {})
    assert target.topic is None
    assert "disagree" in target.reason and "orders" in target.reason and "payments" in target.reason


def test_target_must_be_a_legal_topic_name() -> None:
    info = parse_failure([(dh.SPRING_ORIGINAL_TOPIC, b"not a topic!")])
    target = resolve_target(info, "orders-dlq", DEFAULT_PATTERNS, {})
    assert target.topic is None and "not a legal topic name" in target.reason
    assert is_topic_name("orders.v1_A-b")
    assert not is_topic_name("..")
    assert not is_topic_name("a" * 250)
    assert not is_topic_name("")


def test_header_targets_callable() -> None:
    route = header_targets("orders-dlq", DEFAULT_PATTERNS, {})
    assert route(None, FailureInfo()).topic == "orders"  # type: ignore[arg-type]
    assert route(None, parse_failure(spring(topic="payments"))).topic == "payments"  # type: ignore[arg-type]


_NAMES = sorted(
    dh.FAILURE_HEADERS | {dh.SPRING_KEY_EXCEPTION_FQCN, dh.SPRING_KEY_EXCEPTION_MESSAGE, "kafka_dlt-other", "trace-id"}
)
_VALUES = [
    None,
    b"",
    b"12",
    b"-3",
    b" 7 ",
    struct.pack(">i", 5),
    struct.pack(">q", 256),
    b"\xff\xfe",
    b"orders",
    b"orders-dlq",
    b"bad topic",
    b"2025-01-31T12:00:00.000Z",
    "\u20ac".encode(),
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_NAMES), st.sampled_from(_VALUES)), max_size=10))
def test_route_headers_answers_as_resolve_target_of_the_parsed_headers(headers) -> None:
    """The router's shortcut (only the original-topic headers, cached per pair) never routes
    differently from resolve_target(parse_failure(...)), conflicts and hostile values included."""
    router = header_targets("orders-dlq", DEFAULT_PATTERNS, {"orders-dlq": "mapped"})
    expected = resolve_target(parse_failure(headers), "orders-dlq", DEFAULT_PATTERNS, {"orders-dlq": "mapped"})
    assert router.route_headers(headers) == expected
    assert router.route_headers(headers) == expected  # from the cache
    assert router(None, parse_failure(headers)) == expected  # type: ignore[arg-type]


def test_route_headers_cache_stays_bounded() -> None:
    router = header_targets("orders-dlq")
    router.MAX_CACHED = 10
    for i in range(25):
        assert router.route_headers([(dh.DLQ_ORIGINAL_TOPIC, f"t{i}".encode())]).topic == f"t{i}"
    assert len(router._cache) <= 10


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_NAMES), st.sampled_from(_VALUES)), max_size=10))
def test_parse_failure_takes_each_field_from_the_last_readable_header(headers) -> None:
    """The first convention (registry order) whose header is present and readable wins; the last repeat counts."""
    info = parse_failure(headers)
    last = dict(headers)
    claiming = CONVENTIONS.claiming(last)
    topics = [(last.get(c.origin_topic) or b"").decode("utf-8", "replace") for c in claiming]
    readable = [t for t in topics if t and "\ufffd" not in t]
    assert info.original_topic in {*readable, None}
    if readable:
        assert info.original_topic == readable[0]
    if info.conflict("original_topic") is not None:
        assert len(set(readable)) > 1
    if not claiming:
        assert info == FailureInfo()


# ------------------------------------------------------------------------------------ republish

AT = datetime(2025, 2, 3, 4, 5, 6, 789000, tzinfo=UTC)


def test_republish_keeps_business_headers_in_order_and_drops_failure_ones() -> None:
    business = [
        ("trace-id", b"abc"),
        ("dup", b"\x00\x01"),
        ("null", None),
        ("dup", b"\xff\xfe"),
        ("empty", b""),
    ]
    headers = [
        business[0],
        *spring(),
        business[1],
        *project(),
        business[2],
        (dh.SPRING_KEY_EXCEPTION_FQCN, b"x"),
        ("kafka_dlt-some-future-header", b"y"),
        business[3],
        (dh.REPROCESSED_FROM_TOPIC, b"older-dlq"),
        (dh.REPROCESSED_BY, b"someone"),
        business[4],
    ]
    out = republish_headers(headers, dlq_topic="orders-dlq", partition=1, offset=2, actor="alice", at=AT)
    assert out == [
        *business,
        (dh.REPROCESSED_FROM_TOPIC, b"orders-dlq"),
        (dh.REPROCESSED_FROM_PARTITION, b"1"),
        (dh.REPROCESSED_FROM_OFFSET, b"2"),
        (dh.REPROCESSED_AT, b"2025-02-03T04:05:06.789Z"),
        (dh.REPROCESSED_BY, b"alice"),
    ]
    assert {name for name, _ in out} & dh.FAILURE_HEADERS == set()


def test_republish_headers_text_and_times() -> None:
    plus_two = timezone(timedelta(hours=2))
    out = republish_headers(
        [], dlq_topic="d", partition=0, offset=10**12, actor="J\u00f6rg", at=datetime(2025, 1, 1, 2, tzinfo=plus_two)
    )
    assert dict(out)[dh.REPROCESSED_AT] == b"2025-01-01T00:00:00.000Z"
    assert dict(out)[dh.REPROCESSED_BY] == "J\u00f6rg".encode()
    assert dict(out)[dh.REPROCESSED_FROM_OFFSET] == b"1000000000000"
    assert utc_iso(datetime(2025, 1, 1)) == "2025-01-01T00:00:00.000Z"  # naive is UTC


def test_reprocess_header_names() -> None:
    assert {
        dh.REPROCESSED_FROM_TOPIC,
        dh.REPROCESSED_FROM_PARTITION,
        dh.REPROCESSED_FROM_OFFSET,
        dh.REPROCESSED_AT,
        dh.REPROCESSED_BY,
    } == dh.REPROCESS_HEADERS
    assert all(name.startswith(dh.REPROCESS_HEADER_PREFIX) for name in dh.REPROCESS_HEADERS)
    assert not dh.REPROCESS_HEADERS & dh.FAILURE_HEADERS


def test_reprocessed_from_round_trip() -> None:
    out = republish_headers(
        [(dh.REPROCESSED_FROM_OFFSET, b"999")], dlq_topic="orders-dlq", partition=3, offset=17, actor="a", at=AT
    )
    assert reprocessed_from(out) == ("orders-dlq", 3, 17)
    assert reprocessed_from([]) is None
    assert reprocessed_from([(dh.REPROCESSED_FROM_TOPIC, b"t"), (dh.REPROCESSED_FROM_PARTITION, b"0")]) is None
    bad = [
        (dh.REPROCESSED_FROM_TOPIC, b"t"),
        (dh.REPROCESSED_FROM_PARTITION, b"\x00"),
        (dh.REPROCESSED_FROM_OFFSET, b"1"),
    ]
    assert reprocessed_from(bad) is None
