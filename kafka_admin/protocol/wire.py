"""The Kafka protocol's primitive types (big-endian ints, varints, strings, arrays, tagged fields).

Written from the protocol guide (kafka.apache.org/protocol): "compact" forms (flexible versions)
carry unsigned-varint lengths plus one, so 0 means null; classic forms carry int16/int32 lengths
with -1 for null.
"""

from __future__ import annotations

import struct
import uuid

_INTS = {"int8": ">b", "int16": ">h", "uint16": ">H", "int32": ">i", "int64": ">q", "float64": ">d"}


class DecodeError(ValueError):
    """Bytes that do not parse as the message they were said to be."""


class Writer:
    """Appends encoded values; `bytes()` gives the result."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def __bytes__(self) -> bytes:
        return b"".join(self._parts)

    def raw(self, data: bytes) -> None:
        self._parts.append(data)

    def int(self, kind: str, value: int | float) -> None:
        self._parts.append(struct.pack(_INTS[kind], value))

    def bool(self, value: bool) -> None:
        self._parts.append(b"\x01" if value else b"\x00")

    def uvarint(self, value: int) -> None:
        if value < 0:
            raise ValueError("unsigned varint of a negative number")
        out = bytearray()
        while value >= 0x80:
            out.append((value & 0x7F) | 0x80)
            value >>= 7
        out.append(value)
        self._parts.append(bytes(out))

    def length(self, n: int | None, compact: bool, wide: bool = False) -> None:
        """A length prefix: compact (uvarint n+1, 0 for null) or int16/int32 (-1 for null)."""
        if compact:
            self.uvarint(0 if n is None else n + 1)
        else:
            self.int("int32" if wide else "int16", -1 if n is None else n)

    def string(self, value: str | None, compact: bool) -> None:
        data = None if value is None else value.encode()
        self.length(None if data is None else len(data), compact)
        if data:
            self.raw(data)

    def bytes(self, value: bytes | None, compact: bool) -> None:
        self.length(None if value is None else len(value), compact, wide=True)
        if value:
            self.raw(value)

    def uuid(self, value: uuid.UUID | None) -> None:
        self.raw((value or uuid.UUID(int=0)).bytes)


class Reader:
    """Reads encoded values from a buffer, refusing to run past its end."""

    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.pos = 0

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise DecodeError(f"needs {n} bytes at {self.pos}, {self.remaining} left")
        out = bytes(self.data[self.pos : self.pos + n])
        self.pos += n
        return out

    def int(self, kind: str) -> int:
        fmt = _INTS[kind]
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def bool(self) -> bool:
        return self.take(1) != b"\x00"

    def uvarint(self) -> int:
        value = shift = 0
        while True:
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
            if shift > 63:
                raise DecodeError("varint longer than 64 bits")

    def length(self, compact: bool, wide: bool = False) -> int | None:
        n = self.uvarint() - 1 if compact else self.int("int32" if wide else "int16")
        return None if n < 0 else n

    def string(self, compact: bool) -> str | None:
        n = self.length(compact)
        if n is None:
            return None
        try:
            return self.take(n).decode()
        except UnicodeDecodeError as exc:
            raise DecodeError(f"a string that is not UTF-8 at {self.pos - n}") from exc

    def bytes(self, compact: bool) -> bytes | None:
        n = self.length(compact, wide=True)
        return None if n is None else self.take(n)

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(bytes=self.take(16))
