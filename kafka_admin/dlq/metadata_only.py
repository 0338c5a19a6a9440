"""Dead letters that hold only the failure's metadata, and what can still be done with one.

A writer whose convention does not always copy the failed record (KIP-1191's share-group DLQ: by
default no key and no value) leaves a dead letter that names the original record but holds nothing
to re-publish. What is possible then depends on the original record: while the original topic still
retains that offset it can be read (and re-produced from there); once retention deleted it, or the
topic is gone, only the metadata is left. Pure: the caller passes the original partition's log range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kafka_admin.dlq.conventions.registry import CONVENTIONS, Conventions
from kafka_admin.dlq.failure import FailureInfo

State = Literal["retained", "deleted", "not-yet", "gone", "unnamed"]


@dataclass(frozen=True)
class MetadataOnly:
    """A metadata-only dead letter: where its original record was, and whether that is still there."""

    writer: str
    topic: str | None
    partition: int | None
    offset: int | None
    state: State
    log_start: int | None = None

    @property
    def readable(self) -> bool:
        return self.state == "retained"

    def says(self) -> str:
        """One plain sentence about the original record."""
        where = f"{self.topic} partition {self.partition} offset {self.offset}"
        if self.state == "retained":
            return f"The original record is still in {where}: it is read from there below."
        if self.state == "deleted":
            return f"The original record at {where} was deleted by retention (the log now starts at {self.log_start})."
        if self.state == "not-yet":
            return f"{where} is past the end of that partition: the topic was recreated or truncated."
        if self.state == "gone":
            return f"The original topic or partition ({self.topic} partition {self.partition}) no longer exists."
        return "The headers do not name the original record's topic, partition and offset."


def metadata_only(
    info: FailureInfo,
    key: bytes | None,
    value: bytes | None,
    log_range: tuple[int | None, int | None] | None,
    conventions: Conventions = CONVENTIONS,
) -> MetadataOnly | None:
    """The metadata-only reading of a dead letter, or None when it carries a key or a value or its
    writer always copies the record. `log_range` is (log start, log end) of the original partition,
    None when the snapshot has no such topic or partition."""
    if key is not None or value is not None or conventions.copies_record(info.topic_from):
        return None
    convention = conventions.by_name(info.topic_from or "")
    writer = convention.possessive if convention else "its writer's"
    topic, partition, offset = info.original_topic, info.original_partition, info.original_offset
    if topic is None or partition is None or offset is None:
        return MetadataOnly(writer, topic, partition, offset, "unnamed")
    if log_range is None:
        return MetadataOnly(writer, topic, partition, offset, "gone")
    start, end = log_range
    if start is not None and offset < start:
        return MetadataOnly(writer, topic, partition, offset, "deleted", start)
    if end is not None and offset >= end:
        return MetadataOnly(writer, topic, partition, offset, "not-yet", start)
    return MetadataOnly(writer, topic, partition, offset, "retained", start)
