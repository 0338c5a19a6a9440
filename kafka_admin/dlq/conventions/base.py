"""What a dead-letter header convention is: its header names, how it is recognised, how it is read.

A convention is data plus one function: the registry (registry.py), the failure parser
(kafka_admin.dlq.failure), the router and the reprocess engine loop over the registered
conventions and name none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple


class Failure(NamedTuple):
    """What one convention's headers say about a failure; None where a header is missing or malformed.

    The field order is FailureInfo's (kafka_admin.dlq.failure): a merged reading is built from these.
    """

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
    """Where it failed, in the writer's words (Connect: KEY_CONVERTER, VALUE_CONVERTER, TASK_PUT...)."""
    failed_in: str | None = None
    """Who failed beyond the consumer group: a connector and task, a Streams application..."""
    delivery_count: int | None = None


NO_FAILURE = Failure()

# The headers' last values by name: the last value of a repeated header wins.
Headers = Mapping[str, bytes | None]


@dataclass(frozen=True)
class Convention:
    """One writer's dead-letter headers.

    `distinctive` are the names that tell this writer apart; two of them present make a record this
    convention's (`matches`). A convention whose names carry a prefix of its own (`prefixes`, e.g.
    Spring's ``kafka_dlt-``) or are owned outright (`namespaced`) is recognised by any one of them
    (`claims`); a generic one (Karafka's ``source_topic``) needs two. `failure_names` and `prefixes`
    are what a reprocess strips; `origin_topic` is the header a record is routed back by.
    """

    name: str
    possessive: str
    """How a message names its headers: "Spring's", "the project's"."""
    origin_topic: str
    origin_partition: str | None
    """The header naming the original partition: the record goes back there when it still exists."""
    distinctive: frozenset[str]
    failure_names: frozenset[str]
    read: Callable[[Headers], Failure] = field(repr=False)
    prefixes: tuple[str, ...] = ()
    namespaced: bool = True
    copies_record: bool = True
    """False when the writer may keep only the failure's metadata (no key, no value): such a record
    is not re-published (KIP-1191's share-group DLQ by default)."""
    binary: Mapping[str, str] = field(default_factory=dict)
    """Headers written as big-endian binary numbers: name -> "int32", "int64" or "time64" (ms)."""

    def owns(self, header: str) -> bool:
        """Whether `header` is one of this convention's failure headers (by its name alone)."""
        return header in self.failure_names or header.startswith(self.prefixes)

    def matches(self, names: Iterable[str]) -> bool:
        """Whether at least two of this convention's distinctive headers are present."""
        return len(self.distinctive.intersection(names)) >= 2

    def claims(self, names: Iterable[str]) -> bool:
        """Whether a record with these header names is read with this convention."""
        if not self.namespaced:
            return self.matches(names)
        return any(self.owns(n) for n in names)

    def parse(self, headers: Headers) -> Failure:
        """This convention's reading of a record's headers (last value per name)."""
        return self.read(headers)
