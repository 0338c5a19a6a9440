"""Each DLQ convention read from its writer's documented format, and what the registry derives."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

from kafka_admin.dlq.conventions import connect, karafka, share_group, smallrye, spring, streams
from kafka_admin.dlq.conventions.registry import CONVENTIONS
from kafka_admin.dlq.detect import convention_of
from kafka_admin.dlq.routing import header_targets, parse_failure, republish_headers, route_key
from kafka_admin.reprocess.classify import size_and_original_topics
from kafka_admin.reprocess.republish import RepublishHeaders

AT = datetime(2025, 2, 3, 4, 5, 6, tzinfo=UTC)
STACK = "org.apache.kafka.connect.errors.DataException: Converting byte[] to Kafka Connect data failed\n\tat x"


def connect_headers(topic: str = "clicks", partition: int = 0, offset: int = 7) -> list[tuple[str, bytes]]:
    """As DeadLetterQueueReporter writes them with context headers on (all UTF-8 text)."""
    return [
        (connect.TOPIC, topic.encode()),
        (connect.PARTITION, str(partition).encode()),
        (connect.OFFSET, str(offset).encode()),
        (connect.CONNECTOR_NAME, b"file-sink"),
        (connect.TASK_ID, b"0"),
        (connect.STAGE, b"VALUE_CONVERTER"),
        (connect.CLASS_NAME, b"org.apache.kafka.connect.json.JsonConverter"),
        (connect.EXCEPTION_CLASS_NAME, b"org.apache.kafka.connect.errors.DataException"),
        (connect.EXCEPTION_MESSAGE, b"Converting byte[] to Kafka Connect data failed due to serialization error: "),
        (connect.EXCEPTION_STACKTRACE, STACK.encode()),
    ]


def republished(headers: list[tuple[str, bytes | None]]) -> list[tuple[str, bytes | None]]:
    out = republish_headers(headers, dlq_topic="d", partition=0, offset=1, actor="a", at=AT)
    return [h for h in out if not h[0].startswith("dlq.reprocessed.")]


class TestConnect:
    def test_every_documented_header_is_read(self) -> None:
        info = parse_failure(connect_headers())
        assert info.style == "connect"
        assert (info.original_topic, info.original_partition, info.original_offset) == ("clicks", 0, 7)
        assert info.exception_class == "org.apache.kafka.connect.errors.DataException"
        assert info.failure_class == "org.apache.kafka.connect.errors.DataException"
        assert info.exception_message.startswith("Converting byte[]")
        assert info.stacktrace == STACK
        assert info.stage == "VALUE_CONVERTER (org.apache.kafka.connect.json.JsonConverter)"
        assert info.failed_in == "connector file-sink, task 0"
        assert info.consumer_group == "connect-file-sink"

    def test_one_dlq_over_two_topics_routes_each_record_to_its_own_origin(self) -> None:
        router = header_targets("sink-errors")  # a name no naming pattern matches
        assert router.route_headers(connect_headers("clicks")).topic == "clicks"
        assert router.route_headers(connect_headers("views")).topic == "views"
        assert router.route_headers(connect_headers("views")).source == "header"

    def test_republish_strips_every_connect_header_and_keeps_business_ones_in_order(self) -> None:
        business = [("trace-id", b"\x00\x01"), ("tenant", b"acme"), ("trace-id", None)]
        headers = [business[0], *connect_headers(), business[1], business[2]]
        assert republished(headers) == business


class TestSpring:
    def test_cause_class_is_the_failure_class_under_the_listener_wrapper(self) -> None:
        info = parse_failure(
            [
                (spring.ORIGINAL_TOPIC, b"orders"),
                (spring.EXCEPTION_FQCN, b"org.springframework.kafka.listener.ListenerExecutionFailedException"),
                (spring.EXCEPTION_CAUSE_FQCN, b"java.lang.IllegalArgumentException"),
            ]
        )
        assert info.exception_class == "org.springframework.kafka.listener.ListenerExecutionFailedException"
        assert info.failure_class == "java.lang.IllegalArgumentException"

    def test_key_exception_headers_give_class_cause_and_the_key_stage(self) -> None:
        info = parse_failure(
            [
                (spring.KEY_EXCEPTION_FQCN, b"org.springframework.kafka.support.serializer.DeserializationException"),
                (spring.KEY_EXCEPTION_CAUSE_FQCN, b"org.apache.kafka.common.errors.SerializationException"),
                (spring.KEY_EXCEPTION_MESSAGE, b"failed to deserialize"),
            ]
        )
        assert info.failure_class == "org.apache.kafka.common.errors.SerializationException"
        assert info.stage == "key"

    def test_binary_numbers_read_as_numbers_and_times(self) -> None:
        assert CONVENTIONS.reading(spring.ORIGINAL_PARTITION, struct.pack(">i", 13)) == "13"
        assert CONVENTIONS.reading(spring.ORIGINAL_OFFSET, struct.pack(">q", 13)) == "13"
        ts = CONVENTIONS.reading(spring.ORIGINAL_TIMESTAMP, struct.pack(">q", 1_700_000_000_123))
        assert ts == "2023-11-14T22:13:20.123Z (1700000000123)"

    def test_values_not_in_binary_form_are_left_to_the_plain_rendering(self) -> None:
        assert CONVENTIONS.reading(spring.ORIGINAL_PARTITION, b"13") is None  # decimal text
        assert CONVENTIONS.reading(spring.ORIGINAL_PARTITION, b"\x00\x0d") is None  # wrong width
        assert CONVENTIONS.reading(spring.ORIGINAL_PARTITION, struct.pack(">i", -1)) is None
        assert CONVENTIONS.reading(spring.ORIGINAL_PARTITION, None) is None
        assert CONVENTIONS.reading(spring.ORIGINAL_TOPIC, b"\x00\x00\x00\x0d") is None  # text header
        assert CONVENTIONS.reading("trace-id", struct.pack(">i", 13)) is None


class TestStreams:
    def test_kip_1034_headers(self) -> None:
        info = parse_failure(
            [
                (streams.EXCEPTION, b"org.apache.kafka.common.errors.SerializationException: Size of data received"),
                (streams.MESSAGE, b"Size of data received"),
                (streams.STACKTRACE, b"org.apache.kafka.common.errors.SerializationException: ...\n\tat y"),
                (streams.TOPIC, b"payments"),
                (streams.PARTITION, b"2"),
                (streams.OFFSET, b"40"),
            ]
        )
        assert info.style == "streams"
        assert (info.original_topic, info.original_partition, info.original_offset) == ("payments", 2, 40)
        assert info.exception_class == "org.apache.kafka.common.errors.SerializationException"
        assert info.exception_message == "Size of data received"

    def test_an_unattributed_partition_of_minus_one_is_none(self) -> None:
        info = parse_failure([(streams.TOPIC, b"payments"), (streams.PARTITION, b"-1")])
        assert info.original_partition is None


class TestShareGroup:
    def test_kip_1191_headers(self) -> None:
        info = parse_failure(
            [
                (share_group.TOPIC, b"jobs"),
                (share_group.PARTITION, b"2"),
                (share_group.OFFSET, b"41"),
                (share_group.GROUP, b"workers"),
                (share_group.DELIVERY_COUNT, b"5"),
                (share_group.MESSAGE, b"Offset delivery count exceeded the threshold."),
            ]
        )
        assert info.style == "share-group"
        assert (info.original_topic, info.original_partition, info.original_offset) == ("jobs", 2, 41)
        assert (info.consumer_group, info.delivery_count) == ("workers", 5)
        assert info.exception_message == "Offset delivery count exceeded the threshold."

    def test_metadata_only_records_say_so(self) -> None:
        assert share_group.metadata_only(None, None)
        assert not share_group.metadata_only(None, b"{}")


class TestSmallRye:
    HEADERS = [
        (smallrye.EXCEPTION_CLASS_NAME, b"java.lang.IllegalStateException"),
        (smallrye.REASON, b"boom"),
        (smallrye.CAUSE_CLASS_NAME, b"java.io.IOException"),
        (smallrye.CAUSE, b"disk"),
        (smallrye.TOPIC, b"prices"),
        (smallrye.PARTITION, b"1"),
        (smallrye.OFFSET, b"9"),
    ]

    def test_dead_letter_headers(self) -> None:
        info = parse_failure(self.HEADERS)
        assert info.style == "smallrye"
        assert (info.original_topic, info.original_partition, info.original_offset) == ("prices", 1, 9)
        assert (info.exception_class, info.failure_class) == ("java.lang.IllegalStateException", "java.io.IOException")
        assert info.exception_message == "boom (cause: disk)"
        assert republished([("b", b"1"), *self.HEADERS]) == [("b", b"1")]

    def test_one_generic_name_alone_is_a_business_header(self) -> None:
        alone = [(smallrye.REASON, b"customer asked")]
        assert parse_failure(alone).style == "none"
        assert republished(alone) == alone


class TestKarafka:
    def test_source_headers(self) -> None:
        headers = [
            (karafka.TOPIC, b"orders_states"),
            (karafka.PARTITION, b"0"),
            (karafka.OFFSET, b"3"),
            (karafka.CONSUMER_GROUP, b"app"),
        ]
        info = parse_failure(headers)
        assert (info.style, info.original_topic, info.original_offset, info.consumer_group) == (
            "karafka",
            "orders_states",
            3,
            "app",
        )
        assert header_targets("dead_messages").route_headers(headers).topic == "orders_states"
        assert republished([("x", b"1"), *headers]) == [("x", b"1")]

    def test_source_topic_alone_is_not_enough(self) -> None:
        alone = [("x", b"1"), (karafka.TOPIC, b"orders_states")]
        assert parse_failure(alone).style == "none"
        assert header_targets("dead_messages").route_headers(alone).topic is None
        assert republished(alone) == alone
        assert CONVENTIONS.matching(["source_topic"]) == ()
        assert [c.name for c in CONVENTIONS.matching(["source_topic", "source_offset"])] == ["karafka"]


class TestRegistry:
    def test_detection_needs_two_distinctive_headers(self) -> None:
        assert CONVENTIONS.matching([connect.TOPIC]) == ()
        assert [c.name for c in CONVENTIONS.matching([connect.TOPIC, connect.STAGE])] == ["connect"]

    def test_names_and_route_names_are_unique(self) -> None:
        names = [c.name for c in CONVENTIONS.conventions]
        assert len(names) == len(set(names)) == 8
        assert len(CONVENTIONS.route_names) == len(set(CONVENTIONS.route_names))

    def test_engine_key_equals_route_key_for_generic_names(self) -> None:
        headers = [(karafka.TOPIC, b"a"), (karafka.OFFSET, b"12"), (connect.TOPIC, b"b")]
        _size, key = size_and_original_topics(headers)
        assert key == route_key(headers)
        # A presence-only name does not split the cache by its value.
        assert (
            key == size_and_original_topics([(karafka.TOPIC, b"a"), (karafka.OFFSET, b"99"), (connect.TOPIC, b"b")])[1]
        )

    def test_the_run_shortcut_strips_generic_names_per_record(self) -> None:
        make = RepublishHeaders("d", "a")
        make.start(0, AT)
        lone = [("x", b"1"), (karafka.TOPIC, b"t")]
        pair = [("x", b"1"), (karafka.TOPIC, b"t"), (karafka.OFFSET, b"2")]
        for headers in (lone, pair, lone):
            assert make(headers, 1) == republish_headers(
                headers, dlq_topic="d", partition=0, offset=1, actor="a", at=AT
            )


def test_record_page_rows_show_springs_binary_partition_as_13_with_its_bytes_beside() -> None:
    from dashboard.dlq.views import header_row

    name, shown, raw = header_row(spring.ORIGINAL_PARTITION, struct.pack(">i", 13))
    assert (name, shown) == (spring.ORIGINAL_PARTITION, "13")
    assert raw is not None and "0d" in raw.lower()
    assert header_row("trace-id", b"abc")[2] is None


class TestDetection:
    def test_a_topic_is_a_dlq_when_most_sampled_records_match_a_convention(self) -> None:
        failure = [connect.TOPIC, connect.STAGE, "trace-id"]
        assert convention_of([failure, failure, ["trace-id"]]) == "connect"
        assert convention_of([failure, ["trace-id"], ["trace-id"]]) is None
        assert convention_of([]) is None

    def test_generic_names_alone_do_not_make_a_dlq(self) -> None:
        assert convention_of([[karafka.TOPIC, "x"]] * 5) is None
        assert convention_of([[karafka.TOPIC, karafka.PARTITION]] * 5) == "karafka"


def test_a_metadata_only_share_group_record_is_not_re_published_but_one_with_a_value_is() -> None:
    from kafka_admin.config import ClusterConfig
    from kafka_admin.records.read import make_record
    from kafka_admin.reprocess import MemoryLedger
    from kafka_admin.reprocess.classify import Classifier
    from kafka_admin.reprocess.scan import Page
    from kafka_admin.reprocess.topics import TopicInfo

    headers = ((share_group.TOPIC, b"jobs"), (share_group.PARTITION, b"0"), (share_group.GROUP, b"workers"))
    router = header_targets("jobs-dlq")
    config = ClusterConfig(name="unit", bootstrap_servers="127.0.0.1:1")
    classify = Classifier(config, "jobs-dlq", router, MemoryLedger(), False, None, set(), "alice")
    classify.topics.cache["jobs"] = TopicInfo(exists=True, partitions=1)
    empty = make_record("jobs-dlq", 0, 0, None, None, None, None, headers, 0, 0)
    full = make_record("jobs-dlq", 0, 1, None, None, b"k", b"v", headers, 1, 1)
    decisions = classify(Page(0, [empty, full], [empty, full], 0, [], 2))
    assert (decisions[0].kind, "only the failure's metadata" in decisions[0].reason) == ("unmapped", True)
    assert (decisions[1].kind, decisions[1].target, decisions[1].partition) == ("send", "jobs", 0)


def test_springs_retry_topic_headers_count_attempts_and_are_stripped() -> None:
    headers = [
        ("trace-id", b"t"),
        (spring.ORIGINAL_TOPIC, b"orders"),
        (spring.RETRY_ATTEMPTS, struct.pack(">i", 3)),
        (spring.RETRY_BACKOFF_TIMESTAMP, (1_700_000_000_123).to_bytes(6, "big")),
        (spring.RETRY_ORIGINAL_TIMESTAMP, (1_700_000_000_000).to_bytes(6, "big")),
    ]
    info = parse_failure(headers)
    assert (info.style, info.retry_count) == ("spring", 1)  # attempt 3: the initial delivery and one retry failed
    assert republished(headers) == [("trace-id", b"t")]
    assert CONVENTIONS.reading(spring.RETRY_ATTEMPTS, struct.pack(">i", 3)) == "3"
