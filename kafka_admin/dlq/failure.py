"""Reading a dead-letter record's failure headers across every registered convention.

- Each convention that claims the record (conventions/registry.py) reads it; each field comes from
  the first convention, in registry order, whose value is present and readable.
- A header that repeats (Spring appends on every further failure) counts with its LAST value.
- Text must be UTF-8; a malformed value leaves its field None, it never raises.
- Where two conventions both give a readable original topic, partition or offset and disagree, the
  disagreement is kept in ``FailureInfo.conflicts``, and routing refuses a topic conflict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from kafka_admin.dlq.conventions.base import Failure
from kafka_admin.dlq.conventions.registry import CONVENTIONS, Conventions, Header

# The fields checked for disagreement between conventions.
CONFLICT_FIELDS = ("original_topic", "original_partition", "original_offset")
_CONFLICT_INDEXES = tuple(Failure._fields.index(f) for f in CONFLICT_FIELDS)


@dataclass(frozen=True)
class Conflict:
    """Two conventions' headers disagree about one field (both readable): `values` is (possessive, value)
    per convention that gives one, in precedence order."""

    field: str
    values: tuple[tuple[str, object], ...]

    def describe(self) -> str:
        what = self.field.replace("_", " ")
        (who, value), *rest = self.values
        others = ", ".join(f"{w} {v!r}" for w, v in rest)
        return f"the headers disagree on the {what}: {who} says {value!r}, {others}"


@dataclass(frozen=True)
class FailureInfo:
    """What a DLQ record's headers say about its failure; None where a header is missing or malformed.

    The fields up to `delivery_count` are conventions.base.Failure's, in its order."""

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
    stage: str | None = None
    failed_in: str | None = None
    delivery_count: int | None = None
    style: str = "none"
    """The conventions that read the record, joined by "+" in precedence order ("spring+project"); "none"."""
    conflicts: tuple[Conflict, ...] = ()
    topic_from: str | None = field(default=None, compare=False)
    """The convention whose header gave `original_topic` (what routing trusts); not compared."""

    def conflict(self, field: str) -> Conflict | None:
        return next((c for c in self.conflicts if c.field == field), None)

    @property
    def conventions(self) -> tuple[str, ...]:
        return () if self.style == "none" else tuple(self.style.split("+"))

    @property
    def failure_class(self) -> str | None:
        """The class that tells failures apart: the cause's when the writer wraps it (Spring's
        ListenerExecutionFailedException), else the exception's."""
        return self.exception_cause_class or self.exception_class


_NO_FAILURE = FailureInfo()


def parse_failure(headers: Sequence[Header], conventions: Conventions = CONVENTIONS) -> FailureInfo:
    """What the failure headers of one record say (see the module docstring)."""
    if not headers:
        return _NO_FAILURE
    last = dict(headers)  # the last value of a repeated header wins
    claiming = conventions.claiming(last)
    if not claiming:
        return _NO_FAILURE
    readings = [c.parse(last) for c in claiming]
    style = "+".join(c.name for c in claiming)
    topic_from = next((c.name for c, r in zip(claiming, readings, strict=True) if r.original_topic is not None), None)
    if len(readings) == 1:
        return FailureInfo(*readings[0], style=style, topic_from=topic_from)
    merged = [next((r[i] for r in readings if r[i] is not None), None) for i in range(len(Failure._fields))]
    conflicts = []
    for name, i in zip(CONFLICT_FIELDS, _CONFLICT_INDEXES, strict=True):
        given = tuple((c.possessive, r[i]) for c, r in zip(claiming, readings, strict=True) if r[i] is not None)
        if len({v for _, v in given}) > 1:
            conflicts.append(Conflict(name, given))
    return FailureInfo(*merged, style=style, conflicts=tuple(conflicts), topic_from=topic_from)
