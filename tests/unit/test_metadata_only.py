"""KIP-1191 share-group dead letters without key and value: what the record page can still offer."""

from __future__ import annotations

from kafka_admin.dlq.conventions import share_group as share
from kafka_admin.dlq.metadata_only import metadata_only
from kafka_admin.dlq.routing import parse_failure

# A share-group DLQ record as KIP-1191 describes it: decimal text, no key or value by default.
KIP_HEADERS = [
    (share.TOPIC, b"orders"),
    (share.PARTITION, b"2"),
    (share.OFFSET, b"41"),
    (share.GROUP, b"billing"),
    (share.DELIVERY_COUNT, b"5"),
    (share.MESSAGE, b"Offset delivery count exceeded the threshold."),
]
INFO = parse_failure(KIP_HEADERS)


def test_a_retained_original_is_offered_to_read() -> None:
    only = metadata_only(INFO, None, None, (0, 100))
    assert (only.topic, only.partition, only.offset, only.state) == ("orders", 2, 41, "retained")
    assert only.readable and only.writer == "the share group's"
    assert "still in orders partition 2 offset 41" in only.says()


def test_an_original_deleted_by_retention_says_where_the_log_starts_now() -> None:
    only = metadata_only(INFO, None, None, (50, 100))
    assert only.state == "deleted" and not only.readable
    assert "deleted by retention (the log now starts at 50)" in only.says()


def test_an_offset_past_the_end_and_a_missing_partition() -> None:
    assert metadata_only(INFO, None, None, (0, 41)).state == "not-yet"
    assert metadata_only(INFO, None, None, None).state == "gone"
    assert "no longer exists" in metadata_only(INFO, None, None, None).says()


def test_headers_that_do_not_name_the_offset() -> None:
    info = parse_failure([(share.TOPIC, b"orders"), (share.GROUP, b"billing"), (share.OFFSET, b"x")])
    assert metadata_only(info, None, None, (0, 10)).state == "unnamed"


def test_a_share_record_with_a_key_or_value_is_an_ordinary_dead_letter() -> None:
    assert metadata_only(INFO, b"k", None, (0, 100)) is None
    assert metadata_only(INFO, None, b"", (0, 100)) is None  # an empty value is a value


def test_writers_that_always_copy_the_record_are_never_metadata_only() -> None:
    spring_info = parse_failure([("kafka_dlt-original-topic", b"orders")])
    assert metadata_only(spring_info, None, None, (0, 100)) is None  # a tombstone dead letter
