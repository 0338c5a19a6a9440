"""Dead-letter records, the pure part: which topics are DLQs, why a record failed, where it goes back to.

No I/O here. ``kafka_admin.reprocess`` reads and re-publishes; the names of the headers and
Spring's binary encodings live in ``kafka_admin.dlq.headers``.

Reading failure headers (``parse_failure``):

- Spring writes the original partition as a 4-byte and offset/timestamp as 8-byte big-endian
  numbers; some writers put decimal text under the same names. A value that is all ASCII digits
  is read as decimal text, otherwise a value of exactly the binary width as a number, otherwise
  the field is None. (The binary form of a real partition, offset or timestamp never consists of
  ASCII digits only: that would be a partition above 808 million or a time in the year 10^8.)
- Text must be UTF-8; a malformed value leaves its field None, it never raises.
- A header that repeats (Spring appends on every further failure) counts with its LAST value.
- When a record carries both styles, each field comes from Spring's header when that is present
  and readable, else from the project's (Spring's are written by the framework from the consumed
  record itself; ours are text and may be hand-written). Where both are readable and disagree
  about the original topic, partition or offset, the disagreement is kept in
  ``FailureInfo.conflicts``, and ``resolve_target`` refuses to route on a topic conflict.

Routing back (``resolve_target``), never a guess: the original-topic header first, else the DLQ's
name by a naming pattern (``orders-dlq`` -> ``orders``), else an explicit mapping (DLQ topic ->
original topic); a target that is the DLQ topic itself (a loop) or not a legal topic name is
refused.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Literal, TypeVar

if TYPE_CHECKING:
    from kafka_admin.records.read import Record

from kafka_admin.dlq import headers as dh

DEFAULT_PATTERNS: tuple[str, ...] = ("*-dlq", "*.DLT", "*-dlt")

Header = tuple[str, bytes | None]
Style = Literal["spring", "project", "both", "none"]
TargetSource = Literal["header", "naming", "mapping"]

_WILDCARDS = frozenset("*?[]")
_DECIMAL = re.compile(rb"[+-]?[0-9]+")
_TOPIC_NAME = re.compile(r"[A-Za-z0-9._-]{1,249}")
_INT32 = struct.Struct(">i")
_INT64 = struct.Struct(">q")
T = TypeVar("T")


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


# ------------------------------------------------------------------------------ failure headers


@dataclass(frozen=True)
class Conflict:
    """Spring's and the project's header disagree about one field (both readable)."""

    field: str
    spring: object
    project: object

    def describe(self) -> str:
        what = self.field.replace("_", " ")
        return f"the headers disagree on the {what}: Spring's says {self.spring!r}, the project's {self.project!r}"


@dataclass(frozen=True)
class FailureInfo:
    """What a DLQ record's headers say about its failure; None where a header is missing or malformed."""

    original_topic: str | None = None
    original_partition: int | None = None
    original_offset: int | None = None
    original_timestamp_ms: int | None = None
    original_timestamp_type: str | None = None
    consumer_group: str | None = None
    exception_class: str | None = None
    exception_cause_class: str | None = None
    exception_message: str | None = None
    stacktrace: str | None = None
    retry_count: int | None = None
    failed_at: datetime | None = None
    style: Style = "none"
    conflicts: tuple[Conflict, ...] = ()

    def conflict(self, field: str) -> Conflict | None:
        return next((c for c in self.conflicts if c.field == field), None)


_NO_FAILURE = FailureInfo()


def parse_failure(headers: Sequence[Header]) -> FailureInfo:
    """Read the Spring and project failure headers of one record (see the module docstring).

    Called once per record a reprocess routes (100,000s per run), so each style's headers are
    read only when a header of that style is present."""
    last = dict(headers)  # the last value of a repeated header wins
    spring = any(name.startswith(dh.SPRING_HEADER_PREFIX) for name in last)
    project = not dh.PROJECT_HEADERS.isdisjoint(last)
    if not (spring or project):
        return _NO_FAILURE
    get = last.get
    s = _spring_fields(get) if spring else _NO_FIELDS
    p = _project_fields(get) if project else _NO_FIELDS
    conflicts: tuple[Conflict, ...] = ()
    if spring and project:
        conflicts = tuple(
            Conflict(name, s[i], p[i])
            for i, name in enumerate(_CONFLICT_FIELDS)
            if s[i] is not None and p[i] is not None and s[i] != p[i]
        )
    # Per field: Spring's when present and readable, else the project's (see _FIELDS).
    v = [a if a is not None else b for a, b in zip(s, p, strict=True)]
    return FailureInfo(
        original_topic=v[0],
        original_partition=v[1],
        original_offset=v[2],
        original_timestamp_ms=v[3],
        original_timestamp_type=v[4],
        consumer_group=v[5],
        exception_class=v[6],
        exception_cause_class=v[7],
        exception_message=v[8],
        stacktrace=v[9],
        retry_count=v[10],
        failed_at=v[11],
        style="both" if spring and project else "spring" if spring else "project",
        conflicts=conflicts,
    )


# The fields both styles can give, in FailureInfo's order; the first three are checked for conflicts.
_CONFLICT_FIELDS = ("original_topic", "original_partition", "original_offset")
_NO_FIELDS: tuple[None, ...] = (None,) * 12


def _spring_fields(get: Callable[[str], bytes | None]) -> tuple:
    """The fields Spring's headers give (the key-exception ones when the value's are missing)."""
    return (
        _text(get(dh.SPRING_ORIGINAL_TOPIC)) or None,
        _number(get(dh.SPRING_ORIGINAL_PARTITION), _INT32.size),
        _number(get(dh.SPRING_ORIGINAL_OFFSET), _INT64.size),
        _number(get(dh.SPRING_ORIGINAL_TIMESTAMP), _INT64.size),
        _text(get(dh.SPRING_ORIGINAL_TIMESTAMP_TYPE)) or None,
        _text(get(dh.SPRING_ORIGINAL_CONSUMER_GROUP)) or None,
        _text(get(dh.SPRING_EXCEPTION_FQCN)) or _text(get(dh.SPRING_KEY_EXCEPTION_FQCN)) or None,
        _text(get(dh.SPRING_EXCEPTION_CAUSE_FQCN)) or None,
        _first(_text(get(dh.SPRING_EXCEPTION_MESSAGE)), _text(get(dh.SPRING_KEY_EXCEPTION_MESSAGE))),
        _first(_text(get(dh.SPRING_EXCEPTION_STACKTRACE)), _text(get(dh.SPRING_KEY_EXCEPTION_STACKTRACE))),
        None,
        None,
    )


def _project_fields(get: Callable[[str], bytes | None]) -> tuple:
    """The fields the project's headers give (no timestamp type and no cause class: it writes none)."""
    return (
        _text(get(dh.DLQ_ORIGINAL_TOPIC)) or None,
        _number(get(dh.DLQ_ORIGINAL_PARTITION), _INT32.size),
        _number(get(dh.DLQ_ORIGINAL_OFFSET), _INT64.size),
        _number(get(dh.DLQ_ORIGINAL_TIMESTAMP), _INT64.size),
        None,
        _text(get(dh.DLQ_CONSUMER_GROUP)) or None,
        _text(get(dh.DLQ_EXCEPTION_CLASS)) or None,
        None,
        _text(get(dh.DLQ_EXCEPTION_MESSAGE)),
        _text(get(dh.DLQ_EXCEPTION_STACKTRACE)),
        _number(get(dh.DLQ_RETRY_COUNT), _INT32.size),
        _utc_time(_text(get(dh.DLQ_FAILED_AT))),
    )


def _first(*values: T | None) -> T | None:
    return next((v for v in values if v is not None), None)


def _text(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _number(raw: bytes | None, width: int | None) -> int | None:
    """Decimal text, or a big-endian signed number of exactly `width` bytes (4 or 8; None: text only).

    None when it is neither, or negative.
    """
    if raw is None:
        return None
    if raw.isdigit():  # the common case, without the regular expression
        return int(raw)
    stripped = raw.strip()
    if _DECIMAL.fullmatch(stripped):
        value = int(stripped)
    elif width is not None and len(raw) == width:
        value = (_INT32 if width == _INT32.size else _INT64).unpack(raw)[0]
    else:
        return None
    return value if value >= 0 else None


def _utc_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


# ------------------------------------------------------------------------------------- target


@dataclass(frozen=True)
class Target:
    """Where a DLQ record goes back to: `topic` None means nowhere, and `reason` says why."""

    topic: str | None
    source: TargetSource | None
    reason: str

    @property
    def found(self) -> bool:
        return self.topic is not None


def resolve_target(
    info: FailureInfo,
    dlq_topic: str,
    patterns: Sequence[str] = DEFAULT_PATTERNS,
    mapping: Mapping[str, str] | None = None,
) -> Target:
    """The original topic of a DLQ record: header, else naming convention, else mapping; never a guess."""
    conflict = info.conflict("original_topic")
    if conflict is not None:
        return Target(None, None, f"{conflict.describe()}; not choosing one")
    if info.original_topic is not None:
        return _checked(info.original_topic, "header", "the record's original-topic header", dlq_topic)
    derived = original_by_name(dlq_topic, patterns)
    if derived is not None:
        pattern = _matching_pattern(dlq_topic, patterns)
        return _checked(derived, "naming", f"the DLQ's name by the pattern {pattern!r}", dlq_topic)
    mapped = (mapping or {}).get(dlq_topic)
    if mapped:
        return _checked(mapped, "mapping", f"the mapping {dlq_topic} -> {mapped}", dlq_topic)
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

    ``route_headers`` gives the same answer from the record's headers alone, without parsing
    every failure header: resolve_target() reads only the original topic (and whether Spring's and
    the project's header disagree on it), so the answer depends on the last values of those two
    headers, and it is worked out once per distinct pair. A reprocess of 100,000 records usually
    sees one pair.
    """

    MAX_CACHED = 10_000

    def __init__(
        self, dlq_topic: str, patterns: Sequence[str] = DEFAULT_PATTERNS, mapping: Mapping[str, str] | None = None
    ) -> None:
        self.dlq_topic = dlq_topic
        self.patterns = tuple(patterns)
        self.mapping = dict(mapping or {})
        self._cache: dict[tuple[bytes | None, bytes | None], Target] = {}

    def __call__(self, _record: Record, info: FailureInfo) -> Target:
        return resolve_target(info, self.dlq_topic, self.patterns, self.mapping)

    def route_headers(self, headers: Sequence[Header]) -> Target:
        """resolve_target(parse_failure(headers), ...) at the cost of one pass over the names."""
        spring = project = None
        for name, value in headers:
            if name == dh.SPRING_ORIGINAL_TOPIC:
                spring = value
            elif name == dh.DLQ_ORIGINAL_TOPIC:
                project = value
        return self.route_pair(spring, project)

    def route_pair(self, spring: bytes | None, project: bytes | None) -> Target:
        """route_headers() of headers whose last SPRING_ORIGINAL_TOPIC and DLQ_ORIGINAL_TOPIC values
        are `spring` and `project` (None: absent): for a caller that passes over the headers anyway."""
        key = (spring, project)
        target = self._cache.get(key)
        if target is None:
            if len(self._cache) >= self.MAX_CACHED:
                self._cache.clear()
            only = ((dh.SPRING_ORIGINAL_TOPIC, spring), (dh.DLQ_ORIGINAL_TOPIC, project))
            target = self._cache[key] = self(None, parse_failure([h for h in only if h[1] is not None]))  # type: ignore[arg-type]
        return target


def header_targets(
    dlq_topic: str, patterns: Sequence[str] = DEFAULT_PATTERNS, mapping: Mapping[str, str] | None = None
) -> HeaderRouter:
    """A `targets` callable for kafka_admin.reprocess that routes every record by resolve_target()."""
    return HeaderRouter(dlq_topic, patterns, mapping)


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
    failure header (dlq_headers.FAILURE_HEADERS and anything else Spring's recoverer wrote, i.e.
    every ``kafka_dlt-*`` header) and the ``dlq.reprocessed.*`` headers of an earlier reprocess.
    Added: where it came from, when (ISO-8601 UTC; a naive `at` is taken as UTC) and by whom.
    """
    kept = [
        (name, value)
        for name, value in headers
        if name not in dh.FAILURE_HEADERS
        and not name.startswith(dh.SPRING_HEADER_PREFIX)
        and not name.startswith(dh.REPROCESS_HEADER_PREFIX)
    ]
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
    topic = _text(last.get(dh.REPROCESSED_FROM_TOPIC))
    partition = _number(last.get(dh.REPROCESSED_FROM_PARTITION), None)
    offset = _number(last.get(dh.REPROCESSED_FROM_OFFSET), None)
    if not topic or partition is None or offset is None:
        return None
    return topic, partition, offset


def utc_iso(at: datetime) -> str:
    """2025-01-31T12:00:00.000Z (a naive datetime is taken as UTC)."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
