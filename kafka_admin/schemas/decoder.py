"""Decode Confluent-framed keys and values with confluent-kafka's own deserializers.

A SchemaDecoder serves one registry. Schemas are fetched by id once and kept in a bounded LRU
together with their deserializer and the (subject, version) pairs that hold them, so a page of
records costs registry requests only for ids it has not met. Nothing here raises for a record:
an unreachable registry, an unknown id, a deleted subject or garbage after the magic byte come
back as Decoded(reason=...), and the caller shows the bytes. After a failed connection the
decoder does not ask again for BACKOFF_S, so a page of 100 records meets one timeout, not 100.

Protobuf needs no generated classes: the registered schema (.proto text, as Confluent's Java
serializer registers it, or a serialized FileDescriptorProto, as confluent-kafka's does), with the
subject versions it references, becomes descriptors and a message class at run time, once per id
(protoc.py compiles text, bounded; a schema that does not compile is remembered as such).
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import json
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka.schema_registry import (
    Schema,
    SchemaRegistryClient,
    SchemaRegistryError,
    topic_subject_name_strategy,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import descriptor_pb2, json_format, message_factory
from google.protobuf.descriptor import Descriptor

from kafka_admin.schemas.protoc import ProtoSchemaError, Reference, build, gather, serialized
from kafka_admin.schemas.settings import RegistryConfig
from kafka_admin.schemas.wire import Decoded, framing, message_indexes, subject_for

BACKOFF_S = 5.0  # after an unreachable registry, answer from memory for this long
UNKNOWN_TTL_S = 30.0  # an id the registry does not know is asked about again after this long
REASON_LIMIT = 300


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= REASON_LIMIT else text[: REASON_LIMIT - 1] + "…"


def _jsonable(value: Any) -> Any:
    """Avro and JSON values json.dumps cannot write: bytes as 0x-hex, the rest as their text."""
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return repr(value)


def to_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=_jsonable)


@dataclass
class _Entry:
    """One schema id: its schema, how to decode with it, who holds it."""

    schema: Schema
    versions: list[tuple[str, int]]
    deserializers: dict[tuple[int, ...], Callable[[bytes], Any]] = field(default_factory=dict)
    descriptors: dict[tuple[int, ...], Descriptor] = field(default_factory=dict)
    pool: Any = None
    file: descriptor_pb2.FileDescriptorProto | None = None
    proto_error: ProtoSchemaError | None = None  # why it gives no descriptors (until proto_retry_at)
    proto_retry_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)  # one compile per id at a time


class SchemaDecoder:
    """Decodes framed payloads for one registry; thread-safe, one per registry per process."""

    def __init__(self, config: RegistryConfig, client: SchemaRegistryClient | None = None) -> None:
        self.config = config
        self.client = client or SchemaRegistryClient(config.client_config())
        self.requests = 0  # registry lookups made (the bench and the tests read it)
        self._entries: OrderedDict[int, _Entry] = OrderedDict()
        self._unknown: dict[int, tuple[float, str]] = {}
        self._down_until = 0.0
        self._down_reason = ""
        self._lock = threading.Lock()

    # -- the one public call

    def decode(self, topic: str, data: bytes, is_key: bool = False) -> Decoded | None:
        """None when `data` is not Confluent-framed; else a Decoded, with text or a reason."""
        frame = framing(data)
        if frame is None:
            return None
        sid = frame.schema_id
        entry = self._entry(sid)
        if isinstance(entry, str):
            return Decoded(sid, reason=entry)
        fmt = entry.schema.schema_type or "AVRO"
        try:
            key, record_name = self._message_key(entry, fmt, data)
            decode = self._deserializer(entry, fmt, key)
            text = to_json(decode(bytes(data)))
        except ProtoSchemaError as exc:
            return Decoded(sid, format=fmt, reason=_cut(f"schema id {sid} gives no Protobuf descriptors: {exc}"))
        except Exception as exc:  # noqa: BLE001 - a deserializer may raise anything on garbage
            return Decoded(sid, format=fmt, reason=_cut(f"does not decode with schema id {sid} ({fmt}): {exc}"))
        subject, version, note = self._holder(entry, topic, is_key, record_name)
        return Decoded(sid, text, fmt, subject, version, note=note)

    def schema(self, sid: int) -> Schema | None:
        """The registered schema with this id (from the cache when met before), or None."""
        entry = self._entry(sid)
        return None if isinstance(entry, str) else entry.schema

    # -- schemas by id, cached

    def _entry(self, sid: int) -> _Entry | str:
        with self._lock:
            entry = self._entries.get(sid)
            if entry is not None:
                self._entries.move_to_end(sid)
                return entry
            now = time.monotonic()
            unknown = self._unknown.get(sid)
            if unknown and unknown[0] > now:
                return unknown[1]
            if self._down_until > now:
                return self._down_reason
        try:
            self.requests += 1
            schema = self.client.get_schema(sid)
            self.requests += 1
            versions = [(v.subject, v.version) for v in self.client.get_schema_versions(sid)]
        except SchemaRegistryError as exc:
            if exc.http_status_code == 404:
                reason = f"schema id {sid} is not in the schema registry"
                with self._lock:
                    self._unknown[sid] = (time.monotonic() + UNKNOWN_TTL_S, reason)
                    if len(self._unknown) > self.config.cache_size:
                        self._unknown.pop(next(iter(self._unknown)))
                return reason
            return _cut(f"the schema registry answered {exc.http_status_code}: {exc.error_message}")
        except Exception as exc:  # noqa: BLE001 - connection refused, timeout, TLS, bad JSON...
            reason = _cut(f"schema registry unreachable ({type(exc).__name__}: {exc})")
            with self._lock:
                self._down_until = time.monotonic() + BACKOFF_S
                self._down_reason = reason
            return reason
        entry = _Entry(schema, versions)
        with self._lock:
            self._entries[sid] = entry
            while len(self._entries) > self.config.cache_size:
                self._entries.popitem(last=False)
        return entry

    def _holder(
        self, entry: _Entry, topic: str, is_key: bool, record_name: str | None
    ) -> tuple[str | None, int | None, str | None]:
        """The (subject, version) holding this schema: the strategy's subject when it holds it."""
        if not entry.versions:
            return None, None, "no subject holds this schema any more (deleted)"
        wanted = subject_for(self.config.subject_strategy, topic, is_key, record_name)
        for subject, version in entry.versions:
            if subject == wanted:
                return subject, version, None
        subject, version = entry.versions[0]
        return subject, version, f"registered under {subject}, not {wanted}" if wanted else None

    # -- deserializers

    def _message_key(self, entry: _Entry, fmt: str, data: bytes) -> tuple[tuple[int, ...], str | None]:
        if fmt == "PROTOBUF":
            found = message_indexes(data)
            if found is None:
                raise ValueError("the Protobuf message indexes after the schema id cannot be read")
            key = tuple(found[0])
            return key, self._descriptor(entry, key).full_name
        if fmt == "AVRO":
            return (), _avro_name(entry.schema.schema_str)
        return (), _json_title(entry.schema.schema_str)

    def _deserializer(self, entry: _Entry, fmt: str, key: tuple[int, ...]) -> Callable[[bytes], Any]:
        found = entry.deserializers.get(key)
        if found is not None:
            return found
        if fmt == "AVRO":
            avro = AvroDeserializer(self.client)
            made: Callable[[bytes], Any] = lambda b: avro(b, None)  # noqa: E731
        elif fmt == "JSON":
            # Without a context its default strategy (associations) refuses; no lookup depends on it here.
            js = JSONDeserializer(
                None, schema_registry_client=self.client, conf={"subject.name.strategy": topic_subject_name_strategy}
            )
            ctx = SerializationContext("-", MessageField.VALUE)
            made = lambda b: js(b, ctx)  # noqa: E731
        elif fmt == "PROTOBUF":
            cls = message_factory.GetMessageClass(self._descriptor(entry, key))
            # No client: the class is already the writer's; it only reads the framing, asks nothing.
            pb = ProtobufDeserializer(cls, {}, None)
            made = lambda b: json_format.MessageToDict(pb(b, None), preserving_proto_field_name=True)  # noqa: E731
        else:
            raise ValueError(f"schema type {fmt} is not supported")
        entry.deserializers[key] = made
        return made

    def _protobuf(self, entry: _Entry) -> tuple[descriptor_pb2.FileDescriptorProto, Any]:
        """The schema's file descriptor and pool, built once (a failure is kept, and raised again)."""
        with entry.lock:
            if entry.file is not None:
                return entry.file, entry.pool
            if entry.proto_error is not None and entry.proto_retry_at > time.monotonic():
                raise entry.proto_error
            refs = [Reference(r.name, r.subject, r.version) for r in entry.schema.references or []]
            try:
                entry.file, entry.pool = build(gather(entry.schema.schema_str or "", refs, self._reference))
            except ProtoSchemaError as exc:
                entry.proto_error = exc
                entry.proto_retry_at = float("inf") if exc.lasting else time.monotonic() + BACKOFF_S
                raise
            entry.proto_error = None
            return entry.file, entry.pool

    def _reference(self, subject: str, version: int) -> tuple[str, list[Reference]]:
        """A referenced subject version's schema text and references (confluent-kafka caches them)."""
        try:
            self.requests += 1
            found = self.client.get_version(subject, version)
        except SchemaRegistryError as exc:
            if exc.http_status_code == 404:
                raise ProtoSchemaError(
                    f"the schema references {subject} v{version}, which the registry does not hold"
                ) from None
            raise ProtoSchemaError(
                _cut(f"the schema registry answered {exc.http_status_code} for {subject} v{version}"), lasting=False
            ) from None
        except Exception as exc:  # noqa: BLE001 - connection refused, timeout, TLS, bad JSON...
            reason = _cut(f"schema registry unreachable ({type(exc).__name__}: {exc})")
            with self._lock:
                self._down_until = time.monotonic() + BACKOFF_S
                self._down_reason = reason
            raise ProtoSchemaError(reason, lasting=False) from None
        refs = [Reference(r.name, r.subject, r.version) for r in found.schema.references or []]
        return found.schema.schema_str or "", refs

    def record_name(self, sid: int) -> str | None:
        """The record name of schema `sid` for the record strategies (compiles .proto text once)."""
        entry = self._entry(sid)
        if isinstance(entry, str):
            return None
        if (entry.schema.schema_type or "AVRO") != "PROTOBUF":
            return record_name(entry.schema)
        try:
            return _first_message(self._protobuf(entry)[0])
        except ProtoSchemaError:
            return None

    def _descriptor(self, entry: _Entry, key: tuple[int, ...]) -> Descriptor:
        found = entry.descriptors.get(key)
        if found is not None:
            return found
        file, pool = self._protobuf(entry)
        message: Any = file
        names = []
        for index in key:
            top = isinstance(message, descriptor_pb2.FileDescriptorProto)
            children = message.message_type if top else message.nested_type
            if index >= len(children):
                raise ValueError(f"message index {index} is out of range for the registered schema")
            message = children[index]
            names.append(message.name)
        full = ".".join(([file.package] if file.package else []) + names)
        desc = pool.FindMessageTypeByName(full)
        entry.descriptors[key] = desc
        return desc


def record_name(schema: Schema) -> str | None:
    """The record name the record strategies use: Avro's full name, a JSON title, the first message
    of a serialized Protobuf schema (for .proto text, SchemaDecoder.record_name compiles it)."""
    kind = schema.schema_type or "AVRO"
    if kind == "AVRO":
        return _avro_name(schema.schema_str)
    if kind == "JSON":
        return _json_title(schema.schema_str)
    fdp = serialized(schema.schema_str or "")
    return _first_message(fdp) if fdp is not None else None


def _first_message(fdp: descriptor_pb2.FileDescriptorProto) -> str | None:
    if not fdp.message_type:
        return None
    return f"{fdp.package}.{fdp.message_type[0].name}" if fdp.package else fdp.message_type[0].name


def _avro_name(schema_str: str | None) -> str | None:
    try:
        parsed = json.loads(schema_str or "")
    except ValueError:
        return None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("name"), str):
        return None
    name, namespace = parsed["name"], parsed.get("namespace")
    return f"{namespace}.{name}" if namespace and "." not in name else name


def _json_title(schema_str: str | None) -> str | None:
    try:
        parsed = json.loads(schema_str or "")
    except ValueError:
        return None
    title = parsed.get("title") if isinstance(parsed, dict) else None
    return title if isinstance(title, str) else None


@functools.lru_cache(maxsize=64)
def decoder_for(config: RegistryConfig) -> SchemaDecoder:
    """The process's decoder for a registry: its schema cache lives as long as the process."""
    return SchemaDecoder(config)
