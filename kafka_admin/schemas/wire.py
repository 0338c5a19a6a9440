"""The Confluent wire format, read without I/O: magic byte 0, a 4-byte big-endian schema id, then
(Protobuf only) the message indexes as zigzag varints, then the payload.

Pure functions over untrusted bytes: nothing here raises on bad input, it answers None.
"""

from __future__ import annotations

from typing import NamedTuple

MAGIC_BYTE = 0
HEADER_SIZE = 5
MAX_INDEXES = 64  # a nesting deeper than this is garbage, not a schema


class Framing(NamedTuple):
    """The framing of one payload: which schema, and where the encoded message starts."""

    schema_id: int
    body_offset: int  # just after the schema id


def framing(data: bytes | None) -> Framing | None:
    """The schema id of a Confluent-framed payload, or None when `data` is not framed."""
    if data is None or len(data) < HEADER_SIZE or data[0] != MAGIC_BYTE:
        return None
    return Framing(int.from_bytes(data[1:HEADER_SIZE], "big"), HEADER_SIZE)


def _varint(data: bytes, pos: int) -> tuple[int, int] | None:
    """A zigzag varint at `pos`: (value, next position), or None if cut or over 10 bytes."""
    result = shift = 0
    for i in range(pos, min(len(data), pos + 10)):
        byte = data[i]
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return (result >> 1) ^ -(result & 1), i + 1
        shift += 7
    return None


def message_indexes(data: bytes, pos: int = HEADER_SIZE) -> tuple[list[int], int] | None:
    """The Protobuf message indexes at `pos` and where the message starts; a count of 0 means [0]
    (the first message of the file). None when they cannot be read."""
    head = _varint(data, pos)
    if head is None:
        return None
    count, pos = head
    if count == 0:
        return [0], pos
    if count < 0 or count > MAX_INDEXES:
        return None
    indexes = []
    for _ in range(count):
        item = _varint(data, pos)
        if item is None or item[0] < 0:
            return None
        indexes.append(item[0])
        pos = item[1]
    return indexes, pos


def subject_for(strategy: str, topic: str, is_key: bool, record_name: str | None) -> str | None:
    """The subject a serializer with `strategy` registers under (None: the record name is unknown)."""
    suffix = "key" if is_key else "value"
    if strategy == "topic":
        return f"{topic}-{suffix}"
    if record_name is None:
        return None
    if strategy == "record":
        return record_name
    return f"{topic}-{record_name}"


class Decoded(NamedTuple):
    """What became of one framed payload: JSON text, or the reason it stays bytes; the schema it names."""

    schema_id: int
    text: str | None = None  # pretty JSON when decoded
    format: str | None = None  # AVRO, PROTOBUF, JSON
    subject: str | None = None
    version: int | None = None
    reason: str | None = None  # why it was not decoded (the record is then shown as bytes)
    note: str | None = None  # decoded, but worth saying (e.g. no subject holds this schema any more)
