"""The DLQ header names and the encoders for Spring's binary headers (no broker needed)."""

from __future__ import annotations

import struct

import pytest

from kafka_admin.dlq import headers as dh
from kafka_admin.dlq.conventions.registry import CONVENTIONS


class TestEncodeInt32:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (0, b"\x00\x00\x00\x00"),
            (1, b"\x00\x00\x00\x01"),
            (258, b"\x00\x00\x01\x02"),
            (-1, b"\xff\xff\xff\xff"),
            (2**31 - 1, b"\x7f\xff\xff\xff"),
            (-(2**31), b"\x80\x00\x00\x00"),
        ],
    )
    def test_big_endian_four_bytes(self, value: int, expected: bytes) -> None:
        assert dh.encode_int32(value) == expected

    @pytest.mark.parametrize("value", [0, 5, 17, 2**31 - 1, -(2**31)])
    def test_round_trip_with_struct(self, value: int) -> None:
        assert struct.unpack(">i", dh.encode_int32(value)) == (value,)

    @pytest.mark.parametrize("value", [2**31, -(2**31) - 1])
    def test_out_of_range_is_refused(self, value: int) -> None:
        with pytest.raises(struct.error):
            dh.encode_int32(value)


class TestEncodeInt64:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (0, b"\x00" * 8),
            (239, b"\x00\x00\x00\x00\x00\x00\x00\xef"),
            (1_700_000_000_123, b"\x00\x00\x01\x8b\xcf\xe5\x68\x7b"),
            (-1, b"\xff" * 8),
            (2**63 - 1, b"\x7f" + b"\xff" * 7),
        ],
    )
    def test_big_endian_eight_bytes(self, value: int, expected: bytes) -> None:
        assert dh.encode_int64(value) == expected

    @pytest.mark.parametrize("value", [0, 42, 2**32 + 7, 1_700_000_000_123, 2**63 - 1, -(2**63)])
    def test_round_trip_with_struct(self, value: int) -> None:
        assert struct.unpack(">q", dh.encode_int64(value)) == (value,)

    def test_out_of_range_is_refused(self) -> None:
        with pytest.raises(struct.error):
            dh.encode_int64(2**63)


class TestEncodeText:
    def test_numbers_are_decimal_text(self) -> None:
        assert dh.encode_text(42) == b"42"
        assert dh.encode_text(1_700_000_000_123) == b"1700000000123"

    def test_text_is_utf8(self) -> None:
        assert dh.encode_text("übel") == "übel".encode()


class TestNames:
    def test_spring_names_keep_springs_prefix(self) -> None:
        assert all(name.startswith("kafka_dlt-") for name in dh.SPRING_HEADERS)
        assert dh.SPRING_ORIGINAL_PARTITION == "kafka_dlt-original-partition"
        assert dh.SPRING_ORIGINAL_OFFSET == "kafka_dlt-original-offset"

    def test_project_names_are_dotted(self) -> None:
        assert all(name.startswith("dlq.") for name in dh.PROJECT_HEADERS)
        assert len(dh.PROJECT_HEADERS) == 10

    def test_failure_headers_are_every_conventions(self) -> None:
        assert frozenset().union(*(c.failure_names for c in CONVENTIONS.conventions)) == dh.FAILURE_HEADERS
        assert dh.SPRING_HEADERS | dh.PROJECT_HEADERS <= dh.FAILURE_HEADERS
        assert not dh.SPRING_HEADERS & dh.PROJECT_HEADERS

    def test_timestamp_type_names_are_springs(self) -> None:
        assert dh.TIMESTAMP_TYPE_NAMES == {0: "NoTimestampType", 1: "CreateTime", 2: "LogAppendTime"}


class _FakeMessage:
    """Just what the DLQ writer reads from a confluent-kafka Message."""

    def topic(self) -> str:
        return "orders"

    def partition(self) -> int:
        return 4

    def offset(self) -> int:
        return 12345

    def timestamp(self) -> tuple[int, int]:
        return 1, 1_700_000_000_123

    def headers(self) -> list[tuple[str, bytes]]:
        return [("trace-id", b"abc"), (dh.DLQ_RETRY_COUNT, b"3"), (dh.SPRING_EXCEPTION_FQCN, b"Old")]


class TestDemoWriterHeaders:
    """The demo's DLQ writer emits both sets, decodable with the conventions above."""

    def _headers(self) -> dict[str, bytes]:
        from kafka_admin.demo import InvalidOrderError, failure_headers

        try:
            raise InvalidOrderError("amount is not a finite number: 'NaN'")
        except InvalidOrderError as exc:
            error = exc
        pairs = failure_headers(_FakeMessage(), error, group="demo-order-processor", retries=3, failed_at=0.0)
        assert len(pairs) == len({name for name, _ in pairs}), "no header twice"
        return dict(pairs)

    def test_spring_binary_values(self) -> None:
        h = self._headers()
        assert h[dh.SPRING_ORIGINAL_TOPIC] == b"orders"
        assert struct.unpack(">i", h[dh.SPRING_ORIGINAL_PARTITION]) == (4,)
        assert struct.unpack(">q", h[dh.SPRING_ORIGINAL_OFFSET]) == (12345,)
        assert struct.unpack(">q", h[dh.SPRING_ORIGINAL_TIMESTAMP]) == (1_700_000_000_123,)
        assert h[dh.SPRING_ORIGINAL_TIMESTAMP_TYPE] == b"CreateTime"
        assert h[dh.SPRING_ORIGINAL_CONSUMER_GROUP] == b"demo-order-processor"
        assert h[dh.SPRING_EXCEPTION_FQCN] == b"kafka_admin.demo.InvalidOrderError"
        assert b"InvalidOrderError" in h[dh.SPRING_EXCEPTION_STACKTRACE]

    def test_project_text_values(self) -> None:
        h = self._headers()
        assert h[dh.DLQ_ORIGINAL_TOPIC] == b"orders"
        assert h[dh.DLQ_ORIGINAL_PARTITION] == b"4"
        assert h[dh.DLQ_ORIGINAL_OFFSET] == b"12345"
        assert h[dh.DLQ_ORIGINAL_TIMESTAMP] == b"1700000000123"
        assert h[dh.DLQ_EXCEPTION_CLASS] == b"kafka_admin.demo.InvalidOrderError"
        assert h[dh.DLQ_EXCEPTION_MESSAGE] == b"amount is not a finite number: 'NaN'"
        assert h[dh.DLQ_RETRY_COUNT] == b"3"
        assert h[dh.DLQ_FAILED_AT] == b"1970-01-01T00:00:00.000Z"
        assert h[dh.DLQ_CONSUMER_GROUP] == b"demo-order-processor"

    def test_old_failure_headers_are_dropped_business_headers_kept(self) -> None:
        from kafka_admin.demo import business_headers

        assert business_headers(_FakeMessage()) == [("trace-id", b"abc")]
