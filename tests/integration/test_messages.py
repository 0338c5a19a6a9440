"""read_records / read_one against the real broker: exact bytes, seeking, paging, bounds, errors."""

from __future__ import annotations

import contextlib
import json
import time
import uuid

import pytest
from confluent_kafka import KafkaException, Producer, TopicPartition

from kafka_admin.config import ClusterConfig
from kafka_admin.records.read import (
    FromOffset,
    FromTimestamp,
    Newest,
    Oldest,
    ReadResult,
    read_one,
    read_records,
)
from tests.kafka_support import KEEP_OLD_RECORDS, Kafka, free_port

pytestmark = pytest.mark.broker

BASE_TS = 1_700_000_000_000  # 2023-11-14T22:13:20Z
BIG = 10 * 1024 * 1024


def send(kafka: Kafka, topic: str, records: list[dict], partition: int = 0, **producer_conf) -> None:
    """Produce records (dicts of key/value/headers/timestamp) to one partition, in order, acknowledged."""
    p = kafka.producer(acks="all", **{"enable.idempotence": True, **producer_conf})
    errors: list[str] = []

    def on_delivery(err, msg) -> None:
        if err is not None:
            errors.append(str(err))

    for rec in records:
        p.produce(topic, partition=partition, on_delivery=on_delivery, **rec)
        p.poll(0)
    assert p.flush(60) == 0
    assert not errors, errors


def offsets(result: ReadResult) -> list[int]:
    return [r.offset for r in result.records]


@pytest.fixture
def config(broker) -> ClusterConfig:
    return broker.config()


@pytest.fixture
def ten(kafka: Kafka) -> str:
    """A topic with values b"0".."9" at offsets 0-9 of partition 0, timestamps BASE_TS + 1000 * i."""
    topic = kafka.create_topic(partitions=3, config=KEEP_OLD_RECORDS)
    send(kafka, topic, [{"value": str(i).encode(), "key": b"k", "timestamp": BASE_TS + 1000 * i} for i in range(10)])
    return topic


class TestExactBytes:
    def test_keys_values_headers_come_back_as_written(self, kafka, config):
        topic = kafka.create_topic(partitions=3, config=KEEP_OLD_RECORDS)
        doc = json.dumps({"order": 17, "note": "<script>alert(1)</script>"}).encode()
        headers = [
            ("trace", b"abc"),
            ("kafka_dlt-original-partition", b"\x00\x00\x00\x02"),
            ("trace", b"def"),
            ("empty", b""),
            ("missing", None),
            ("trace", b"\xff\x00\xfe"),
        ]
        written = [
            {"key": b"order-17", "value": doc, "headers": headers, "timestamp": BASE_TS},
            {"key": None, "value": bytes(range(256)), "timestamp": BASE_TS + 1},
            {"key": b"\x00\xffkey", "value": None, "timestamp": BASE_TS + 2},  # a tombstone
            {"key": b"", "value": b"", "timestamp": BASE_TS + 3},
        ]
        send(kafka, topic, written, partition=1)

        result = read_records(config, topic, 1, Oldest())
        assert result.error is None
        assert (result.start_offset, result.end_offset, result.next_offset) == (0, 4, 4)
        assert result.at_end
        got = result.records
        assert offsets(result) == [0, 1, 2, 3]
        assert all(r.topic == topic and r.partition == 1 for r in got)
        assert [(r.key, r.value) for r in got] == [(w["key"], w["value"]) for w in written]
        assert [(r.key_size, r.value_size) for r in got] == [(8, len(doc)), (0, 256), (5, 0), (0, 0)]
        assert got[0].headers == tuple(headers)  # order and duplicates kept, binary and null values intact
        assert got[0].header_values("trace") == (b"abc", b"def", b"\xff\x00\xfe")
        assert all(r.headers == () for r in got[1:])
        assert [r.timestamp_ms for r in got] == [BASE_TS, BASE_TS + 1, BASE_TS + 2, BASE_TS + 3]
        assert {r.timestamp_type for r in got} == {"CreateTime"}
        assert not any(r.key_truncated or r.value_truncated for r in got)

        # The other partitions are empty: no records, no error, no waiting.
        started = time.monotonic()
        empty = read_records(config, topic, 0, Oldest())
        assert empty == ReadResult((), 0, 0, 0, None)
        assert time.monotonic() - started < 2

    def test_log_append_time(self, kafka, config):
        topic = kafka.create_topic(partitions=1, config={"message.timestamp.type": "LogAppendTime"})
        before = int(time.time() * 1000)
        send(kafka, topic, [{"value": b"x", "timestamp": BASE_TS}])
        [rec] = read_records(config, topic, 0, Oldest()).records
        assert rec.timestamp_type == "LogAppendTime"
        assert rec.timestamp_ms is not None and rec.timestamp_ms >= before - 1000


class TestSeekAndPage:
    def test_from_offset_and_next_page(self, config, ten):
        page1 = read_records(config, ten, 0, FromOffset(3), limit=4)
        assert page1.error is None
        assert offsets(page1) == [3, 4, 5, 6]
        assert [r.value for r in page1.records] == [b"3", b"4", b"5", b"6"]
        assert page1.next_offset == 7 and not page1.at_end

        page2 = read_records(config, ten, 0, FromOffset(page1.next_offset), limit=4)
        assert offsets(page2) == [7, 8, 9]
        assert page2.next_offset == 10 and page2.at_end

        page3 = read_records(config, ten, 0, FromOffset(page2.next_offset), limit=4)
        assert page3 == ReadResult((), 0, 10, 10, None)

    def test_oldest(self, config, ten):
        result = read_records(config, ten, 0, Oldest(), limit=2)
        assert offsets(result) == [0, 1] and result.next_offset == 2

    def test_newest(self, config, ten):
        result = read_records(config, ten, 0, Newest(), limit=3)
        assert offsets(result) == [7, 8, 9]
        assert result.next_offset == 10 and result.at_end
        assert offsets(read_records(config, ten, 0, Newest(), limit=50)) == list(range(10))

    def test_by_timestamp(self, config, ten):
        exact = read_records(config, ten, 0, FromTimestamp(BASE_TS + 4000), limit=2)
        assert exact.error is None and offsets(exact) == [4, 5]
        between = read_records(config, ten, 0, FromTimestamp(BASE_TS + 4001), limit=2)
        assert offsets(between) == [5, 6]
        before_all = read_records(config, ten, 0, FromTimestamp(0), limit=1)
        assert offsets(before_all) == [0]

    def test_timestamp_after_the_newest_record(self, config, ten):
        result = read_records(config, ten, 0, FromTimestamp(BASE_TS + 9001))
        assert result.records == ()
        assert result.error == (
            "no record in partition 0 has a timestamp at or after 2023-11-14T22:13:29.001Z (1700000009001 ms)"
        )
        assert (result.start_offset, result.end_offset) == (0, 10)

    def test_limit_zero_reads_nothing(self, config, ten):
        assert read_records(config, ten, 0, Oldest(), limit=0) == ReadResult((), 0, 10, 0, None)

    def test_read_one(self, config, ten):
        rec = read_one(config, ten, 0, 6)
        assert rec is not None and rec.offset == 6 and rec.value == b"6" and rec.key == b"k"
        assert read_one(config, ten, 0, 10) is None  # the end: nothing there yet
        assert read_one(config, ten, 0, 999) is None
        assert read_one(config, ten, 5, 0) is None


class TestLargeValues:
    def test_value_cut_to_max_value_bytes_keeps_full_size(self, kafka, config):
        topic = kafka.create_topic(partitions=1, config={"max.message.bytes": str(BIG)})
        big = uuid.uuid4().bytes * (5 * 1024 * 1024 // 16)  # 5 MiB, not compressible to nothing
        big_key = b"K" * 100_000
        send(
            kafka,
            topic,
            [{"key": big_key, "value": big}, {"key": b"small", "value": b"after"}],
            **{"message.max.bytes": BIG, "compression.type": "none"},
        )
        result = read_records(config, topic, 0, Oldest(), max_value_bytes=64 * 1024)
        assert result.error is None
        first, second = result.records
        assert first.value_size == len(big) == 5 * 1024 * 1024
        assert first.value == big[: 64 * 1024]
        assert first.key_size == 100_000 and first.key == big_key[: 64 * 1024]
        assert first.value_truncated and first.key_truncated
        assert (second.value, second.value_size, second.value_truncated) == (b"after", 5, False)

        whole = read_one(config, topic, 0, 0)
        assert whole is not None and whole.value == big and whole.key == big_key
        assert not whole.value_truncated


class TestErrors:
    def test_unknown_topic(self, config):
        name = Kafka.unique("no-such-topic")
        assert read_records(config, name, 0, Oldest()) == ReadResult(error=f"topic {name} does not exist")

    def test_unknown_partition(self, kafka, config):
        topic = kafka.create_topic(partitions=3)
        result = read_records(config, topic, 7, Oldest())
        assert result.records == ()
        assert result.error == f"partition 7 does not exist; topic {topic} has partitions 0-2"
        single = kafka.create_topic(partitions=1)
        assert read_records(config, single, 1, Oldest()).error == (
            f"partition 1 does not exist; topic {single} has partition 0"
        )
        assert "partition -1 does not exist" in read_records(config, topic, -1, Oldest()).error

    def test_offset_beyond_the_end(self, config, ten):
        result = read_records(config, ten, 0, FromOffset(999))
        assert result == ReadResult(
            (), 0, 10, None, "offset 999 is beyond the end of partition 0 (log start 0, end 10)"
        )

    def test_offset_below_the_log_start(self, kafka, config, ten):
        futures = kafka.admin.delete_records([TopicPartition(ten, 0, 4)], request_timeout=30)
        for fut in futures.values():
            fut.result(timeout=30)
        result = read_records(config, ten, 0, FromOffset(2))
        assert result.error == "offset 2 is below the log start of partition 0 (log start 4, end 10)"
        assert offsets(read_records(config, ten, 0, Oldest(), limit=2)) == [4, 5]
        assert read_one(config, ten, 0, 2) is None

    def test_bad_arguments(self, config, ten):
        assert read_records(config, ten, 0, Oldest(), limit=-1).error == "limit must not be negative, got -1"
        assert "negative" in read_records(config, ten, 0, FromOffset(-5)).error
        assert "negative" in read_records(config, ten, 0, FromTimestamp(-1)).error
        assert "negative" in read_records(config, ten, 0, Oldest(), max_value_bytes=-1).error
        assert read_records(config, "", 0, Oldest()).error == "no topic given"

    def test_unreachable_cluster_gives_an_error_within_the_request_timeout(self):
        config = ClusterConfig(bootstrap_servers=f"127.0.0.1:{free_port()}", request_timeout_s=2, cycle_timeout_s=2)
        started = time.monotonic()
        result = read_records(config, "anything", 0, Oldest())
        assert time.monotonic() - started < 4
        assert result.records == ()
        assert result.error and result.error.startswith("could not read metadata of topic anything:")
        assert "\n" not in result.error


class TestTransactions:
    @pytest.fixture
    def tx_topic(self, kafka: Kafka) -> str:
        """Offsets 0-4 committed, 5 marker, 6-8 aborted, 9 marker, 10-11 committed, 12 marker."""
        topic = kafka.create_topic(partitions=1)
        producer = Producer({"bootstrap.servers": kafka.bootstrap, "transactional.id": Kafka.unique("tx")})
        producer.init_transactions(30)
        for values, commit in ((range(5), True), (range(100, 103), False), (range(10, 12), True)):
            producer.begin_transaction()
            for v in values:
                producer.produce(topic, value=str(v).encode(), partition=0)
            producer.flush(30)  # abort_transaction drops what is not yet sent: send it first
            if commit:
                producer.commit_transaction(30)
            else:
                producer.abort_transaction(30)
        return topic

    def test_read_uncommitted_stops_at_the_end_without_waiting(self, config, tx_topic):
        started = time.monotonic()
        result = read_records(config, tx_topic, 0, Oldest(), timeout_s=10)
        elapsed = time.monotonic() - started
        assert result.error is None
        assert offsets(result) == [0, 1, 2, 3, 4, 6, 7, 8, 10, 11]
        assert (result.end_offset, result.next_offset) == (13, 13) and result.at_end
        assert elapsed < 3, f"read took {elapsed:.1f} s: it waited for the timeout"

    def test_read_committed_skips_aborted_records(self, config, tx_topic):
        started = time.monotonic()
        result = read_records(config, tx_topic, 0, Oldest(), timeout_s=10, read_committed=True)
        assert time.monotonic() - started < 3
        assert result.error is None
        assert [r.value for r in result.records] == [b"0", b"1", b"2", b"3", b"4", b"10", b"11"]
        assert result.next_offset == 13

    def test_page_ending_on_a_marker(self, config, tx_topic):
        page = read_records(config, tx_topic, 0, FromOffset(3), limit=2, timeout_s=10)
        assert offsets(page) == [3, 4] and page.next_offset == 5
        nxt = read_records(config, tx_topic, 0, FromOffset(page.next_offset), limit=2, timeout_s=10)
        assert offsets(nxt) == [6, 7]  # the marker at 5 is skipped

    def test_newest_counts_records_not_offsets(self, config, tx_topic):
        started = time.monotonic()
        result = read_records(config, tx_topic, 0, Newest(), limit=3, timeout_s=10)
        assert time.monotonic() - started < 3
        assert result.error is None
        assert offsets(result) == [8, 10, 11]
        assert result.next_offset == 13
        committed = read_records(config, tx_topic, 0, Newest(), limit=3, timeout_s=10, read_committed=True)
        assert offsets(committed) == [4, 10, 11]

    def test_read_one_on_a_marker_is_none(self, config, tx_topic):
        assert read_one(config, tx_topic, 0, 5) is None
        assert read_one(config, tx_topic, 0, 12) is None
        rec = read_one(config, tx_topic, 0, 11)
        assert rec is not None and rec.value == b"11"

    def test_open_transaction_is_not_visible_to_read_committed(self, kafka, config):
        topic = kafka.create_topic(partitions=1)
        producer = Producer({"bootstrap.servers": kafka.bootstrap, "transactional.id": Kafka.unique("tx")})
        producer.init_transactions(30)
        producer.begin_transaction()
        producer.produce(topic, value=b"pending", partition=0)
        producer.flush(30)
        try:
            committed = read_records(config, topic, 0, Oldest(), timeout_s=10, read_committed=True)
            assert committed == ReadResult((), 0, 0, 0, None)  # the end is the last stable offset
            uncommitted = read_records(config, topic, 0, Oldest(), timeout_s=10)
            assert [r.value for r in uncommitted.records] == [b"pending"]
        finally:
            with contextlib.suppress(KafkaException):
                producer.abort_transaction(30)
