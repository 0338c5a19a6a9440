"""Dead-letter records, the pure part: which topics are DLQs, why a record failed, where it goes back to.

No I/O here. ``kafka_admin.reprocess`` reads and re-publishes.

Failure headers are read by ``kafka_admin.dlq.failure.parse_failure`` over the registered
conventions (``kafka_admin.dlq.conventions``); this module names no convention.

Routing back (``resolve_target``), per record and never a guess: the record's own original-topic
header first (a Connect DLQ over many topics sends each record to its own origin), else an explicit
mapping (DLQ topic -> original topic), else the DLQ's name by a naming pattern (``orders-dlq`` ->
``orders``); a target that is the DLQ topic itself (a loop) or not a legal topic name is
refused, and so is one that would run it through a retry chain again (kafka_admin.dlq.chain).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from kafka_admin.records.read import Record

from kafka_admin.dlq import headers as dh
from kafka_admin.dlq.chain import RetryChains
from kafka_admin.dlq.conventions import values
from kafka_admin.dlq.conventions.registry import CONVENTIONS, Conventions
from kafka_admin.dlq.failure import Conflict, FailureInfo, parse_failure

__all__ = ["Conflict", "FailureInfo", "parse_failure"]  # re-exported: the DLQ feature reads them here

DEFAULT_PATTERNS: tuple[str, ...] = ("*-dlq", "*.DLT", "*-dlt")

Header = tuple[str, bytes | None]
TargetSource = Literal["header", "naming", "mapping"]

_WILDCARDS = frozenset("*?[]")
_TOPIC_NAME = re.compile(r"[A-Za-z0-9._-]{1,249}")


# ------------------------------------------------------------------------------------- naming


def is_dlq_topic(name: str, patterns: Sequence[str] = DEFAULT_PATTERNS) -> bool:
    """Whether `name` matches one of the fnmatch-style `patterns` (case-sensitive)."""
    return any(fnmatchcase(name, pattern) for pattern in patterns)


def original_by_name(dlq_topic: str, patterns: Sequence[str] = DEFAULT_PATTERNS) -> str | None:
    """The original topic the DLQ's name implies: "orders-dlq" -> "orders" by "*-dlq".

    Only patterns of the form "*<suffix>" or "<prefix>*" (no other wildcard) derive a name; the
    first pattern that matches with something left over wins. None when none does.
    """
    for pattern in patterns:
        derived = _derive(dlq_topic, pattern)
        if derived:
            return derived
    return None


def _derive(name: str, pattern: str) -> str | None:
    if pattern.startswith("*") and not _WILDCARDS & set(pattern[1:]):
        suffix = pattern[1:]
        if suffix and name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    elif pattern.endswith("*") and not _WILDCARDS & set(pattern[:-1]):
        prefix = pattern[:-1]
        if prefix and name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix) :]
    return None


def _matching_pattern(name: str, patterns: Sequence[str]) -> str | None:
    return next((p for p in patterns if _derive(name, p)), None)


# ------------------------------------------------------------------------------------- target


@dataclass(frozen=True)
class Target:
    """Where a DLQ record goes back to: `topic` None means nowhere, and `reason` says why."""

    topic: str | None
    source: TargetSource | None
    reason: str
    partition: int | None = None
    """The original partition the record's headers give (header routing only); None: by key."""
    metadata_only_if_empty: bool = False
    """The writer may keep only the failure's metadata: a record without key and value is not sent."""

    @property
    def found(self) -> bool:
        return self.topic is not None


def resolve_target(
    info: FailureInfo,
    dlq_topic: str,
    patterns: Sequence[str] = DEFAULT_PATTERNS,
    mapping: Mapping[str, str] | None = None,
    chains: RetryChains | None = None,
) -> Target:
    """The original topic of a DLQ record: its own headers, else DLQ_MAPPING, else the naming
    convention; never a guess. With the cluster's retry `chains`, a target inside a chain other than
    its original topic is refused (RetryChains.loop_reason)."""
    target = _resolve(info, dlq_topic, patterns, mapping)
    if target.topic is not None and chains is not None:
        loop = chains.loop_reason(dlq_topic, target.topic)
        if loop is not None:
            return Target(None, None, f"{target.reason.removeprefix('from ')} names {target.topic}, but {loop}")
    return target


def _resolve(info: FailureInfo, dlq_topic: str, patterns: Sequence[str], mapping: Mapping[str, str] | None) -> Target:
    conflict = info.conflict("original_topic")
    if conflict is not None:
        return Target(None, None, f"{conflict.describe()}; not choosing one")
    if info.original_topic is not None:
        target = _checked(info.original_topic, "header", "the record's original-topic header", dlq_topic)
        if target.topic is not None:
            metadata_only = not CONVENTIONS.copies_record(info.topic_from)
            target = Target(target.topic, target.source, target.reason, info.original_partition, metadata_only)
        return target
    mapped = (mapping or {}).get(dlq_topic)
    if mapped:  # an operator's explicit word beats a name's pattern
        return _checked(mapped, "mapping", f"the mapping {dlq_topic} -> {mapped}", dlq_topic)
    derived = original_by_name(dlq_topic, patterns)
    if derived is not None:
        pattern = _matching_pattern(dlq_topic, patterns)
        return _checked(derived, "naming", f"the DLQ's name by the pattern {pattern!r}", dlq_topic)
    return Target(
        None,
        None,
        f"no original-topic header, the name does not match a DLQ pattern, and no mapping for {dlq_topic}",
    )


def _checked(topic: str, source: TargetSource, how: str, dlq_topic: str) -> Target:
    if topic == dlq_topic:
        return Target(None, None, f"{how} names the DLQ topic {dlq_topic} itself; re-publishing there would loop")
    if not is_topic_name(topic):
        return Target(None, None, f"{how} names {topic[:300]!r}, which is not a legal topic name")
    return Target(topic, source, f"from {how}")


def is_topic_name(name: str) -> bool:
    """Kafka's rule: 1-249 of [A-Za-z0-9._-], and not "." or ".."."""
    return bool(_TOPIC_NAME.fullmatch(name)) and name not in (".", "..")


class HeaderRouter:
    """A `targets` callable for kafka_admin.reprocess that routes every record by resolve_target().

    ``route_key`` gives the same answer from a few header values alone, without parsing every
    failure header: resolve_target() reads only the original topic (and whether conventions disagree
    on it), so the answer depends on the last values of the registry's ``route_names`` (each
    convention's original-topic header; for a generic convention, whether its other distinctive
    headers are there), and it is worked out once per distinct key. A reprocess of 100,000 records
    usually sees one key.
    """

    MAX_CACHED = 10_000

    def __init__(
        self,
        dlq_topic: str,
        patterns: Sequence[str] = DEFAULT_PATTERNS,
        mapping: Mapping[str, str] | None = None,
        conventions: Conventions = CONVENTIONS,
        chains: RetryChains | None = None,
    ) -> None:
        self.dlq_topic = dlq_topic
        self.patterns = tuple(patterns)
        self.mapping = dict(mapping or {})
        self.chains = chains
        self.conventions = conventions
        self._cache: dict[tuple[bytes | None, ...], Target] = {}

    def __call__(self, _record: Record, info: FailureInfo) -> Target:
        return resolve_target(info, self.dlq_topic, self.patterns, self.mapping, self.chains)

    def route_headers(self, headers: Sequence[Header]) -> Target:
        """resolve_target(parse_failure(headers), ...) at the cost of one pass over the names."""
        return self.route_key(route_key(headers, self.conventions))

    def route_key(self, key: tuple[bytes | None, ...]) -> Target:
        """route_headers() of headers whose route key (see route_key()) is `key`: for a caller that
        passes over the headers anyway."""
        target = self._cache.get(key)
        if target is None:
            if len(self._cache) >= self.MAX_CACHED:
                self._cache.clear()
            info = parse_failure(self.conventions.headers_for_key(key), self.conventions)
            target = self._cache[key] = self(None, info)  # type: ignore[arg-type]
        return target


def route_key(headers: Sequence[Header], conventions: Conventions = CONVENTIONS) -> tuple[bytes | None, ...]:
    """The last value of each of the registry's route names: None when absent; a null value as b""
    (the conventions read both alike, and the name's presence decides which conventions claim the
    record); a presence-only name as b""."""
    slots, values_end = conventions.route_slots, conventions.value_slots
    key: list[bytes | None] = [None] * len(slots)
    for name, value in headers:
        i = slots.get(name)
        if i is not None:
            key[i] = (value or b"") if i < values_end else b""
    return tuple(key)


def header_targets(
    dlq_topic: str,
    patterns: Sequence[str] = DEFAULT_PATTERNS,
    mapping: Mapping[str, str] | None = None,
    chains: RetryChains | None = None,
) -> HeaderRouter:
    """A `targets` callable for kafka_admin.reprocess that routes every record by resolve_target()."""
    return HeaderRouter(dlq_topic, patterns, mapping, chains=chains)


# ------------------------------------------------------------------------------------ re-publish


def republish_headers(
    headers: Sequence[Header],
    *,
    dlq_topic: str,
    partition: int,
    offset: int,
    actor: str,
    at: datetime,
) -> list[Header]:
    """The headers a reprocessed record is re-published with.

    Business headers stay, in order, repeated names and None values included. Dropped: every
    registered convention's failure headers (Conventions.kept) and the ``dlq.reprocessed.*``
    headers of an earlier reprocess.
    Added: where it came from, when (ISO-8601 UTC; a naive `at` is taken as UTC) and by whom.
    """
    kept = [h for h in CONVENTIONS.kept(headers) if not h[0].startswith(dh.REPROCESS_HEADER_PREFIX)]
    return [
        *kept,
        (dh.REPROCESSED_FROM_TOPIC, dh.encode_text(dlq_topic)),
        (dh.REPROCESSED_FROM_PARTITION, dh.encode_text(partition)),
        (dh.REPROCESSED_FROM_OFFSET, dh.encode_text(offset)),
        (dh.REPROCESSED_AT, dh.encode_text(utc_iso(at))),
        (dh.REPROCESSED_BY, dh.encode_text(actor)),
    ]


def reprocessed_from(headers: Sequence[Header]) -> tuple[str, int, int] | None:
    """(DLQ topic, partition, offset) a reprocessed record says it came from; None when it does not say."""
    last: dict[str, bytes | None] = {}
    for name, value in headers:
        if name.startswith(dh.REPROCESS_HEADER_PREFIX):
            last[name] = value
    topic = values.text(last.get(dh.REPROCESSED_FROM_TOPIC))
    partition = values.number(last.get(dh.REPROCESSED_FROM_PARTITION), None)
    offset = values.number(last.get(dh.REPROCESSED_FROM_OFFSET), None)
    if not topic or partition is None or offset is None:
        return None
    return topic, partition, offset


def utc_iso(at: datetime) -> str:
    """2025-01-31T12:00:00.000Z (a naive datetime is taken as UTC)."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
