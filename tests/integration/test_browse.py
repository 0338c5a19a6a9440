"""The message browser's read (kafka_admin.records.browse) against the real broker: partitions merged
by time newest first, seeks by offset and time, substring filters on key, value and headers, binary
payloads, the cap on records scanned and the cursor that scans further."""

from __future__ import annotations

import pytest

from kafka_admin.records.browse import BrowseResult, browse
from kafka_admin.records.match import Match
from kafka_admin.records.read import FromOffset, FromTimestamp, Newest, Oldest
from tests.kafka_support import KEEP_OLD_RECORDS, Kafka

pytestmark = pytest.mark.broker

BASE_TS = 1_700_000_000_000


def send(kafka: Kafka, topic: str, records: list[dict]) -> None:
    p = kafka.producer(acks="all")
    for rec in records:
        p.produce(topic, **rec)
    assert p.flush(60) == 0


def ids(result: BrowseResult) -> list[tuple[int, int]]:
    return [(r.partition, r.offset) for r in result.records]


@pytest.fixture(scope="module")
def interleaved(kafka: Kafka) -> str:
    """30 records over 3 partitions; record i has timestamp BASE_TS + 1000 i and lands on partition i % 3
    (so the merged order by time alternates partitions). Every fifth has header trace=t<i>, keys k<i>."""
    topic = kafka.create_topic(partitions=3, config=KEEP_OLD_RECORDS)
    send(
        kafka,
        topic,
        [
            {
                "partition": i % 3,
                "key": f"k{i}".encode(),
                "value": f'{{"n": {i}, "word": "{"needle" if i in (4, 17) else "hay"}"}}'.encode(),
                "timestamp": BASE_TS + 1000 * i,
                "headers": [("trace", f"t{i}".encode())] if i % 5 == 0 else [],
            }
            for i in range(30)
        ],
    )
    return topic


def numbers(result: BrowseResult) -> list[int]:
    return [int(r.key[1:]) for r in result.records]


class TestMergedOrder:
    def test_newest_first_across_partitions(self, broker, interleaved):
        result = browse(broker.config(), interleaved, None, Newest(), limit=10)
        assert result.error is None
        assert numbers(result) == list(range(29, 19, -1))
        assert result.direction == "newest" and not result.exhausted
        assert result.total == 30 and len(result.bounds) == 3

    def test_older_pages_continue_without_gaps_or_repeats(self, broker, interleaved):
        config, seen, cursor = broker.config(), [], None
        for _ in range(6):
            result = browse(config, interleaved, None, Newest(), limit=7, cursor=cursor)
            seen += numbers(result)
            cursor = result.cursor
            if result.exhausted:
                break
        assert seen == list(range(29, -1, -1)) and result.exhausted

    def test_one_partition_newest_first(self, broker, interleaved):
        result = browse(broker.config(), interleaved, 1, Newest(), limit=4)
        assert numbers(result) == [28, 25, 22, 19] and ids(result)[0] == (1, 9)

    def test_oldest_lists_forward_merged(self, broker, interleaved):
        result = browse(broker.config(), interleaved, None, Oldest(), limit=5)
        assert numbers(result) == [0, 1, 2, 3, 4] and result.direction == "oldest"


class TestSeek:
    def test_by_time_across_partitions(self, broker, interleaved):
        result = browse(broker.config(), interleaved, None, FromTimestamp(BASE_TS + 12_500), limit=4)
        assert numbers(result) == [13, 14, 15, 16]

    def test_by_time_after_the_last_record_is_empty(self, broker, interleaved):
        result = browse(broker.config(), interleaved, None, FromTimestamp(BASE_TS + 10**9), limit=4)
        assert result.records == () and result.exhausted and result.error is None

    def test_by_offset_in_one_partition(self, broker, interleaved):
        result = browse(broker.config(), interleaved, 2, FromOffset(3), limit=3)
        assert ids(result) == [(2, 3), (2, 4), (2, 5)] and numbers(result) == [11, 14, 17]

    def test_by_offset_in_every_partition(self, broker, interleaved):
        result = browse(broker.config(), interleaved, None, FromOffset(8), limit=10)
        assert numbers(result) == [24, 25, 26, 27, 28, 29] and result.exhausted

    def test_offset_outside_one_partition_is_named(self, broker, interleaved):
        result = browse(broker.config(), interleaved, 0, FromOffset(99), limit=3)
        assert result.error == "offset 99 is beyond the end of partition 0 (log start 0, end 10)"

    def test_unknown_partition_and_topic(self, broker, interleaved):
        assert "partition 7 does not exist" in browse(broker.config(), interleaved, 7, Newest()).error
        assert "does not exist" in browse(broker.config(), "no-such-topic-xyz", None, Newest()).error


class TestFilters:
    def test_value_substring_newest_first(self, broker, interleaved):
        result = browse(broker.config(), interleaved, None, Newest(), limit=10, match=Match("NEEDLE", "value"))
        assert numbers(result) == [17, 4] and result.scanned == 30 and result.exhausted

    def test_key_substring(self, broker, interleaved):
        result = browse(broker.config(), interleaved, None, Newest(), limit=10, match=Match("k2", "key"))
        assert numbers(result) == [29, 28, 27, 26, 25, 24, 23, 22, 21, 20]

    def test_header_name_and_value(self, broker, interleaved):
        by_value = browse(broker.config(), interleaved, None, Newest(), limit=10, match=Match("t1", "headers"))
        assert numbers(by_value) == [15, 10]
        by_name = browse(broker.config(), interleaved, None, Oldest(), limit=10, match=Match("trace", "headers"))
        assert numbers(by_name) == [0, 5, 10, 15, 20, 25]
        assert browse(broker.config(), interleaved, None, Newest(), match=Match("trace", "value")).records == ()

    def test_scan_cap_stops_and_the_cursor_scans_further(self, broker, interleaved):
        config = broker.config()
        first = browse(config, interleaved, None, Newest(), limit=5, match=Match("needle"), scan_cap=10)
        assert first.records == () and first.scanned == 10 and not first.exhausted
        second = browse(
            config, interleaved, None, Newest(), limit=5, match=Match("needle"), scan_cap=10, cursor=first.cursor
        )
        assert numbers(second) == [17] and second.scanned == 10
        third = browse(
            config, interleaved, None, Newest(), limit=5, match=Match("needle"), scan_cap=10, cursor=second.cursor
        )
        assert numbers(third) == [4] and third.exhausted


def test_binary_payloads_come_back_as_bytes(broker, kafka):
    topic = kafka.create_topic(partitions=2)
    blob = bytes(range(256))
    send(kafka, topic, [{"partition": 1, "key": b"\x00\xff", "value": blob, "headers": [("bin", b"\x00\x01\xfe")]}])
    result = browse(broker.config(), topic, None, Newest(), limit=5)
    [record] = result.records
    assert record.value == blob and record.key == b"\x00\xff" and record.headers == (("bin", b"\x00\x01\xfe"),)
    found = browse(broker.config(), topic, None, Newest(), match=Match("\x01\x02\x03", "value"))
    assert len(found.records) == 1


def test_bounds_refused_without_a_broker_call(broker):
    assert "show 1 to 200" in browse(broker.config(), "t", None, Newest(), limit=0).error
    assert "scan 1 to 100,000" in browse(broker.config(), "t", None, Newest(), scan_cap=10**6).error
