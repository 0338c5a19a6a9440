"""Decoding header values as the conventions write them: UTF-8 text, decimal text, big-endian numbers.

Every decoder returns None for a missing or malformed value; none raises (the bytes are untrusted).
"""

from __future__ import annotations

import re
import struct
from datetime import UTC, datetime

_DECIMAL = re.compile(rb"[+-]?[0-9]+")
INT32 = struct.Struct(">i")
INT64 = struct.Struct(">q")


def text(raw: bytes | None) -> str | None:
    """UTF-8 text; None when missing or not UTF-8."""
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def name(raw: bytes | None) -> str | None:
    """Text that must not be empty (a topic, a class): None for b""."""
    return text(raw) or None


def number(raw: bytes | None, width: int | None) -> int | None:
    """Decimal text, or a big-endian signed number of exactly `width` bytes (4 or 8; None: text only).

    None when it is neither, or negative. The binary form of a real partition, offset or timestamp
    never consists of ASCII digits only (a partition above 808 million, a time in the year 10^8),
    so all-digit values are read as text.
    """
    if raw is None:
        return None
    if raw.isdigit():  # the common case, without the regular expression
        return int(raw)
    stripped = raw.strip()
    if _DECIMAL.fullmatch(stripped):
        value = int(stripped)
    elif width is not None and len(raw) == width:
        value = (INT32 if width == INT32.size else INT64).unpack(raw)[0]
    else:
        return None
    return value if value >= 0 else None


def utc_time(value: str | None) -> datetime | None:
    """ISO-8601 text as an aware UTC datetime (a naive one is taken as UTC)."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def first(*values: object) -> object:
    """The first value that is not None."""
    return next((v for v in values if v is not None), None)


_WIDTHS = {"int32": INT32.size, "int64": INT64.size, "time64": INT64.size}


def binary_reading(kind: str, raw: bytes | None) -> str | None:
    """A binary number header as a person reads it ("13"; a time as ISO-8601 UTC with its ms);
    None when the value is not that binary form (text, another width, negative)."""
    width = _WIDTHS.get(kind)
    if raw is None or width is None or len(raw) != width or raw.isdigit():
        return None
    value = number(raw, width)
    if value is None:
        return None
    if kind != "time64":
        return str(value)
    try:
        when = datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return str(value)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z") + f" ({value})"
