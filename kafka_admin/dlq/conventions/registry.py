"""The registered dead-letter conventions, and what the parser, router and reprocess derive from them.

CONVENTIONS is the one list; everything else asks it: which conventions read a record (`claiming`),
which headers a reprocess strips (`strips`), and the few header values a record is routed by
(`route_slots`: the engine picks them up in the pass that sizes the headers, without naming any
convention). A new convention is one module and one entry below; order is precedence: where two
conventions' headers give the same field, the earlier one's readable value wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kafka_admin.dlq.conventions import values
from kafka_admin.dlq.conventions.base import Convention
from kafka_admin.dlq.conventions.connect import CONNECT
from kafka_admin.dlq.conventions.karafka import KARAFKA
from kafka_admin.dlq.conventions.project import PROJECT
from kafka_admin.dlq.conventions.share_group import SHARE_GROUP
from kafka_admin.dlq.conventions.smallrye import SMALLRYE
from kafka_admin.dlq.conventions.spring import SPRING
from kafka_admin.dlq.conventions.spring_retry import SPRING_RETRY
from kafka_admin.dlq.conventions.streams import STREAMS

Header = tuple[str, bytes | None]


class Conventions:
    """An immutable, ordered set of conventions; `adding()` makes a new one (no registration at import)."""

    def __init__(self, conventions: Iterable[Convention]) -> None:
        self.conventions = tuple(conventions)
        names = [c.name for c in self.conventions]
        if len(set(names)) != len(names):
            raise ValueError(f"two conventions share a name: {names}")
        self._namespaced = tuple(c for c in self.conventions if c.namespaced)
        self._generic = tuple(c for c in self.conventions if not c.namespaced)
        self._generic_names = frozenset().union(*(c.failure_names | c.distinctive for c in self._generic))
        # The route key: each convention's origin-topic and origin-partition value, then (generic conventions only) the
        # presence of their other distinctive headers, which decides whether they claim a record.
        slots: dict[str, int] = {}
        for c in self.conventions:
            slots.setdefault(c.origin_topic, len(slots))
        for c in self.conventions:  # few distinct values (a partition number): the cache stays small
            if c.origin_partition is not None:
                slots.setdefault(c.origin_partition, len(slots))
        self.value_slots = len(slots)
        for c in self._generic:
            for name in sorted(c.distinctive):
                slots.setdefault(name, len(slots))
        self.route_slots = slots
        self.route_names = tuple(slots)

    def adding(self, *conventions: Convention) -> Conventions:
        return Conventions((*self.conventions, *conventions))

    def by_name(self, name: str) -> Convention | None:
        return next((c for c in self.conventions if c.name == name), None)

    def claiming(self, names: Iterable[str]) -> tuple[Convention, ...]:
        """The conventions that read a record with these header names, in precedence order."""
        names = names if isinstance(names, (set, frozenset, dict)) else set(names)
        return tuple(c for c in self.conventions if c.claims(names))

    def matching(self, names: Iterable[str]) -> tuple[Convention, ...]:
        """The conventions at least two of whose distinctive headers are present (DLQ detection)."""
        names = set(names)
        return tuple(c for c in self.conventions if c.matches(names))

    def strips(self, name: str) -> bool | None:
        """Whether a reprocess drops the header `name`: True or False by the name alone; None when it
        depends on the record (a generic convention's name, dropped only where that convention claims it)."""
        if any(c.owns(name) for c in self._namespaced):
            return True
        return None if name in self._generic_names else False

    def kept(self, headers: Sequence[Header]) -> list[Header]:
        """The headers that are not failure headers of any convention, in order."""
        generic: tuple[Convention, ...] = ()
        if self._generic and not self._generic_names.isdisjoint(n for n, _ in headers):
            generic = tuple(c for c in self._generic if c.matches(n for n, _ in headers))
        return [
            h
            for h in headers
            if not any(c.owns(h[0]) for c in self._namespaced) and not any(c.owns(h[0]) for c in generic)
        ]

    def reading(self, name: str, raw: bytes | None) -> str | None:
        """A binary header value as a person reads it (Spring's partition 0x0000000d -> "13"); None
        when no convention writes `name` in binary or the value is not in that form."""
        for c in self._namespaced:
            kind = c.binary.get(name)
            if kind is not None:
                return values.binary_reading(kind, raw)
        return None

    def copies_record(self, name: str | None) -> bool:
        """Whether the convention `name` always copies the failed record's key and value."""
        convention = self.by_name(name) if name else None
        return convention is None or convention.copies_record

    def headers_for_key(self, key: Sequence[bytes | None]) -> list[Header]:
        """The headers a route key stands for (presence slots as empty values), for parsing."""
        return [(name, value) for name, value in zip(self.route_names, key, strict=True) if value is not None]


# The framework-written headers before the project's own (the demo's, text, may be hand-written);
# the generic-named ones last.
CONVENTIONS = Conventions((SPRING, SPRING_RETRY, CONNECT, STREAMS, SHARE_GROUP, PROJECT, SMALLRYE, KARAFKA))
