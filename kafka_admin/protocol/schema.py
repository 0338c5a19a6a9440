"""Fields and versions the way Kafka's JSON message definitions declare them, and one encoder/decoder.

messages.py writes each message down as its definition in apache/kafka
(clients/src/main/resources/common/message/*.json) states it: field names, types, the versions a
field exists in, nullable versions, tags. This module turns such a declaration and a version into
bytes and back, so a message is data, not hand-written parsing code, and a field added in a later
version is one line.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kafka_admin.protocol.wire import DecodeError, Reader, Writer

PRIMITIVES = ("int8", "int16", "uint16", "int32", "int64", "bool", "string", "bytes", "uuid")


@dataclass(frozen=True, slots=True)
class Versions:
    """A version range as the definitions write it: "0+", "1-3", "2", "none"."""

    low: int
    high: int | None  # None: open-ended

    @classmethod
    def parse(cls, text: str) -> Versions:
        if text == "none":
            return cls(1, 0)  # empty
        if text.endswith("+"):
            return cls(int(text[:-1]), None)
        low, _, high = text.partition("-")
        return cls(int(low), int(high or low))

    def __contains__(self, version: int) -> bool:
        return version >= self.low and (self.high is None or version <= self.high)


@dataclass(frozen=True)
class Field:
    """One field. type: a primitive, "[]<primitive>", "[]" (array of structs) or "{}" (a struct)."""

    name: str  # as in the JSON definition (CamelCase); decoded dicts use snake_case
    type: str
    versions: str = "0+"
    nullable: str = "none"
    tag: int | None = None  # a tagged field (flexible versions only)
    fields: tuple[Field, ...] = ()
    default: Any = None

    def __post_init__(self) -> None:
        element = self.type[2:] if self.type.startswith("[]") else self.type
        if element not in (*PRIMITIVES, "", "{}"):
            raise ValueError(f"unknown type {self.type} of {self.name}")
        if element in ("", "{}") and not self.fields:
            raise ValueError(f"struct field {self.name} declares no fields")

    @functools.cached_property
    def key(self) -> str:
        return snake(self.name)

    def present(self, version: int) -> bool:
        return version in _versions(self.versions)

    def nullable_in(self, version: int) -> bool:
        return version in _versions(self.nullable)


@functools.cache
def _versions(text: str) -> Versions:
    return Versions.parse(text)


def snake(name: str) -> str:
    """GroupId -> group_id, TopicID -> topic_id."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


Fields = tuple[Field, ...]


def encode(fields: Fields, values: Mapping[str, Any], version: int, flexible: bool) -> bytes:
    """The body of a request: each field present in `version`, from values[snake name] or its default."""
    out = Writer()
    _write_struct(out, fields, values, version, flexible)
    return bytes(out)


def decode(fields: Fields, data: bytes, version: int, flexible: bool) -> dict[str, Any]:
    """A response body as nested dicts and lists; refuses trailing bytes (a sign of a wrong schema)."""
    reader = Reader(data)
    value = _read_struct(reader, fields, version, flexible)
    if reader.remaining:
        raise DecodeError(f"{reader.remaining} bytes left after the message")
    return value


def _write_struct(out: Writer, fields: Fields, values: Mapping[str, Any], version: int, flexible: bool) -> None:
    for f in fields:
        if f.present(version) and f.tag is None:
            _write_value(out, f, values.get(f.key, f.default), version, flexible)
    if flexible:
        out.uvarint(0)  # no tagged fields are ever sent


def _write_value(out: Writer, f: Field, value: Any, version: int, flexible: bool) -> None:
    if value is None and not f.nullable_in(version):
        if f.type.startswith("[]"):
            value = []
        elif f.type == "string":
            value = ""
        elif f.type in ("int8", "int16", "uint16", "int32", "int64"):
            value = 0
        elif f.type == "bool":
            value = False
    if f.type.startswith("[]"):
        out.length(None if value is None else len(value), flexible, wide=True)
        for item in value or ():
            if f.type == "[]":
                _write_struct(out, f.fields, item, version, flexible)
            else:
                _write_primitive(out, f.type[2:], item, flexible)
    elif f.type == "{}":
        if f.nullable_in(version):
            out.int("int8", -1 if value is None else 1)
        if value is not None:
            _write_struct(out, f.fields, value, version, flexible)
    else:
        _write_primitive(out, f.type, value, flexible)


def _write_primitive(out: Writer, kind: str, value: Any, flexible: bool) -> None:
    if kind == "string":
        out.string(value, flexible)
    elif kind == "bytes":
        out.bytes(value, flexible)
    elif kind == "bool":
        out.bool(bool(value))
    elif kind == "uuid":
        out.uuid(value)
    else:
        out.int(kind, value)


_Step = tuple[str, Any, Any]  # (key, how to read it or None when absent, the default)
_Plan = tuple[Any, tuple[_Step, ...], dict[int, Field]]
_PLANS: dict[tuple[int, int], _Plan] = {}


def _step(f: Field, version: int) -> _Step:
    """A field's key and reader for one version: primitives read straight off the Reader."""
    if not f.present(version) or f.tag is not None:
        return f.key, None, f.default
    if f.type == "string" and not f.nullable_in(version):
        return f.key, lambda r, fl: r.string(fl), None
    if f.type in ("int8", "int16", "int32", "int64", "uint16"):
        kind = f.type
        return f.key, lambda r, fl: r.int(kind), None
    return f.key, lambda r, fl: _read_value(r, f, version, fl), None


def _plan(fields: Fields, version: int) -> _Plan:
    """(fields, each field's step, the tagged fields by tag) of one version, kept: a list of
    thousands of structs decodes with one plan (the fields object is checked, not hashed)."""
    key = (id(fields), version)
    plan = _PLANS.get(key)
    if plan is None or plan[0] is not fields:
        plan = (
            fields,
            tuple(_step(f, version) for f in fields),
            {f.tag: f for f in fields if f.tag is not None and f.present(version)},
        )
        _PLANS[key] = plan
    return plan


def _read_struct(reader: Reader, fields: Fields, version: int, flexible: bool) -> dict[str, Any]:
    value: dict[str, Any] = {}
    _, steps, tagged = _plan(fields, version)
    for key, read, default in steps:
        value[key] = default if read is None else read(reader, flexible)
    if flexible:
        for _ in range(reader.uvarint()):
            tag, size = reader.uvarint(), reader.uvarint()
            body = reader.take(size)
            known = tagged.get(tag)
            if known is not None:  # unknown tags are skipped: that is what tags are for
                sub = Reader(body)
                value[known.key] = _read_value(sub, known, version, flexible)
    return value


def _read_value(reader: Reader, f: Field, version: int, flexible: bool) -> Any:
    if f.type.startswith("[]"):
        n = reader.length(flexible, wide=True)
        if n is None:
            if not f.nullable_in(version):
                raise DecodeError(f"null array {f.name} that is not nullable")
            return None
        if n > reader.remaining:  # every element takes at least one byte
            raise DecodeError(f"array {f.name} of {n} elements in {reader.remaining} bytes")
        if f.type == "[]":
            return [_read_struct(reader, f.fields, version, flexible) for _ in range(n)]
        return [_read_primitive(reader, f.type[2:], flexible) for _ in range(n)]
    if f.type == "{}":
        if f.nullable_in(version) and reader.int("int8") < 0:
            return None
        return _read_struct(reader, f.fields, version, flexible)
    return _read_primitive(reader, f.type, flexible)


def _read_primitive(reader: Reader, kind: str, flexible: bool) -> Any:
    if kind == "string":
        return reader.string(flexible)
    if kind == "bytes":
        return reader.bytes(flexible)
    if kind == "bool":
        return reader.bool()
    if kind == "uuid":
        return reader.uuid()
    return reader.int(kind)


@dataclass(frozen=True)
class Message:
    """One API: its key, the versions this codec speaks, where flexible versions begin, its two bodies."""

    name: str
    api_key: int
    versions: tuple[int, int]  # (lowest, highest) this codec speaks
    flexible_from: int | None  # None: never flexible
    request: Fields = ()
    response: Fields = ()
    # ApiVersions answers with header v0 whatever its version, so a client can read it before
    # knowing what the broker speaks (KIP-511).
    response_header_v0: bool = False
    about: str = field(default="", compare=False)

    def flexible(self, version: int) -> bool:
        return self.flexible_from is not None and version >= self.flexible_from
