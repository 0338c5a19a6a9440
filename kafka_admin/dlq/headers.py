"""Names of the failure headers a dead-letter record carries, and the encoders for Spring's binary ones.

A DLQ record keeps the original key, value and business headers, and adds failure headers that say
where it came from and why it failed. Each writer's names live in its convention's module
(kafka_admin.dlq.conventions: spring, project, ...); they are repeated here under their old names
for the demo's writer and the tests. The engine names none of them: it asks the registry.

A reprocessed record (``kafka_admin.reprocess``) carries none of the failure headers; instead, all
UTF-8 text:

=====================================  ===============================================================
header                                 meaning
=====================================  ===============================================================
dlq.reprocessed.from.topic             the DLQ topic the record was re-published from
dlq.reprocessed.from.partition         its partition there, decimal
dlq.reprocessed.from.offset            its offset there, decimal
dlq.reprocessed.at                     when, ISO-8601 UTC (2025-01-31T12:00:00.000Z)
dlq.reprocessed.by                     who asked for it
=====================================  ===============================================================
"""

from __future__ import annotations

import struct

from kafka_admin.dlq.conventions import project, spring
from kafka_admin.dlq.conventions.registry import CONVENTIONS

# Spring Kafka
SPRING_ORIGINAL_TOPIC = spring.ORIGINAL_TOPIC
SPRING_ORIGINAL_PARTITION = spring.ORIGINAL_PARTITION
SPRING_ORIGINAL_OFFSET = spring.ORIGINAL_OFFSET
SPRING_ORIGINAL_TIMESTAMP = spring.ORIGINAL_TIMESTAMP
SPRING_ORIGINAL_TIMESTAMP_TYPE = spring.ORIGINAL_TIMESTAMP_TYPE
SPRING_ORIGINAL_CONSUMER_GROUP = spring.ORIGINAL_CONSUMER_GROUP
SPRING_EXCEPTION_FQCN = spring.EXCEPTION_FQCN
SPRING_EXCEPTION_CAUSE_FQCN = spring.EXCEPTION_CAUSE_FQCN
SPRING_EXCEPTION_MESSAGE = spring.EXCEPTION_MESSAGE
SPRING_EXCEPTION_STACKTRACE = spring.EXCEPTION_STACKTRACE
SPRING_KEY_EXCEPTION_FQCN = spring.KEY_EXCEPTION_FQCN
SPRING_KEY_EXCEPTION_MESSAGE = spring.KEY_EXCEPTION_MESSAGE
SPRING_KEY_EXCEPTION_STACKTRACE = spring.KEY_EXCEPTION_STACKTRACE
SPRING_HEADER_PREFIX = spring.PREFIX
SPRING_HEADERS = spring.HEADERS

# The project's own (text)
DLQ_ORIGINAL_TOPIC = project.ORIGINAL_TOPIC
DLQ_ORIGINAL_PARTITION = project.ORIGINAL_PARTITION
DLQ_ORIGINAL_OFFSET = project.ORIGINAL_OFFSET
DLQ_ORIGINAL_TIMESTAMP = project.ORIGINAL_TIMESTAMP
DLQ_EXCEPTION_CLASS = project.EXCEPTION_CLASS
DLQ_EXCEPTION_MESSAGE = project.EXCEPTION_MESSAGE
DLQ_EXCEPTION_STACKTRACE = project.EXCEPTION_STACKTRACE
DLQ_RETRY_COUNT = project.RETRY_COUNT
DLQ_FAILED_AT = project.FAILED_AT
DLQ_CONSUMER_GROUP = project.CONSUMER_GROUP
PROJECT_HEADERS = project.HEADERS

# A reprocessed record's headers (text): where it was re-published from, when and by whom.
REPROCESSED_FROM_TOPIC = "dlq.reprocessed.from.topic"
REPROCESSED_FROM_PARTITION = "dlq.reprocessed.from.partition"
REPROCESSED_FROM_OFFSET = "dlq.reprocessed.from.offset"
REPROCESSED_AT = "dlq.reprocessed.at"
REPROCESSED_BY = "dlq.reprocessed.by"
REPROCESS_HEADER_PREFIX = "dlq.reprocessed."

REPROCESS_HEADERS = frozenset(
    {REPROCESSED_FROM_TOPIC, REPROCESSED_FROM_PARTITION, REPROCESSED_FROM_OFFSET, REPROCESSED_AT, REPROCESSED_BY}
)

# Every named header that describes a failure rather than the business record (the registry's
# conventions); a record that fails again drops the old ones, a reprocess does not re-send them.
FAILURE_HEADERS = frozenset().union(*(c.failure_names for c in CONVENTIONS.conventions))

# Spring's names for Kafka's timestamp types (org.apache.kafka.common.record.TimestampType).
TIMESTAMP_TYPE_NAMES = {0: "NoTimestampType", 1: "CreateTime", 2: "LogAppendTime"}

_INT32 = struct.Struct(">i")
_INT64 = struct.Struct(">q")


def encode_int32(value: int) -> bytes:
    """4-byte big-endian signed int, as Java's ByteBuffer.putInt (Spring's original-partition)."""
    return _INT32.pack(value)


def encode_int64(value: int) -> bytes:
    """8-byte big-endian signed long, as Java's ByteBuffer.putLong (Spring's offset and timestamp)."""
    return _INT64.pack(value)


def encode_text(value: object) -> bytes:
    """UTF-8 text; numbers in the project's headers are written as decimal text."""
    return str(value).encode("utf-8")
