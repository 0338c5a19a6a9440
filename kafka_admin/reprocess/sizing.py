"""Sizes of records: what a batch holds, and the record batch the broker compares with max.message.bytes."""

from __future__ import annotations

from collections.abc import Sequence

from kafka_admin.dlq.routing import Header
from kafka_admin.records.read import Record

# A record batch's fixed header (baseOffset .. records count), counted in max.message.bytes.
RECORD_BATCH_OVERHEAD = 61


def record_size(record: Record) -> int:
    """Bytes of a record's key, value and headers (whole sizes, even when cut)."""
    return record.key_size + record.value_size + headers_size(record.headers)


def headers_size(headers: Sequence[Header]) -> int:
    """Characters of the header names plus bytes of their values (None counts 0); a plain loop is
    the quickest way on Python 3.11."""
    size = 0
    for name, value in headers:
        size += len(name) + len(value or b"")
    return size


def _varint_size(value: int) -> int:
    zigzag = (value << 1) ^ (value >> 63)
    size = 1
    while zigzag >= 0x80:
        zigzag >>= 7
        size += 1
    return size


def record_batch_size(key_size: int | None, value_size: int | None, headers: Sequence[tuple[str, bytes | None]]) -> int:
    """Bytes of a record batch holding just this record, as the broker compares it with
    max.message.bytes (uncompressed; None sizes are null key/value)."""

    def field_size(size: int | None) -> int:
        return _varint_size(-1) if size is None else _varint_size(size) + size

    body = 3 + field_size(key_size) + field_size(value_size) + _varint_size(len(headers))
    for name, value in headers:
        body += field_size(len(name.encode())) + field_size(None if value is None else len(value))
    return RECORD_BATCH_OVERHEAD + _varint_size(body) + body
