"""Names of the failure headers a dead-letter record carries, and the encoders for Spring's binary ones.

A DLQ record keeps the original key, value and business headers, and adds two sets of failure
headers that say where it came from and why it failed. Both are written by the demo's DLQ writer
and read by the DLQ feature; the names live here, once, so writer and reader cannot drift apart.

Spring Kafka (``DeadLetterPublishingRecoverer``), binary values as Spring writes them:

=====================================  ==================  ===============================================
header                                 value               meaning
=====================================  ==================  ===============================================
kafka_dlt-original-topic               UTF-8 string        topic the failed record was read from
kafka_dlt-original-partition           4-byte BE int       its partition
kafka_dlt-original-offset              8-byte BE long      its offset
kafka_dlt-original-timestamp           8-byte BE long      its timestamp, ms since the epoch
kafka_dlt-original-timestamp-type      UTF-8 string        CreateTime, LogAppendTime or NoTimestampType
kafka_dlt-original-consumer-group      UTF-8 string        group.id of the consumer that failed
kafka_dlt-exception-fqcn               UTF-8 string        class of the exception
kafka_dlt-exception-cause-fqcn         UTF-8 string        class of its cause (optional)
kafka_dlt-exception-message            UTF-8 string        the exception's message
kafka_dlt-exception-stacktrace         UTF-8 string        the stack trace
=====================================  ==================  ===============================================

The project's own headers, all UTF-8 text so that any tool (kcat, kafka-console-consumer) shows them:

=====================================  ===============================================================
header                                 meaning
=====================================  ===============================================================
dlq.original.topic                     topic the failed record was read from
dlq.original.partition                 its partition, decimal
dlq.original.offset                    its offset, decimal
dlq.original.timestamp                 its timestamp, ms since the epoch, decimal
dlq.exception.class                    class of the exception
dlq.exception.message                  the exception's message
dlq.exception.stacktrace               the stack trace
dlq.retry.count                        retries made after the first attempt, decimal
dlq.failed.at                          when it was given up on, ISO-8601 UTC (2025-01-31T12:00:00.000Z)
dlq.consumer.group                     group.id of the consumer that failed
=====================================  ===============================================================

Any of these may be missing: applications switch headers off, and other frameworks write none.
Spring also writes ``kafka_dlt-key-exception-*`` when the key could not be deserialized; every
``kafka_dlt-`` header describes a failure.

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

# Spring Kafka
SPRING_ORIGINAL_TOPIC = "kafka_dlt-original-topic"
SPRING_ORIGINAL_PARTITION = "kafka_dlt-original-partition"
SPRING_ORIGINAL_OFFSET = "kafka_dlt-original-offset"
SPRING_ORIGINAL_TIMESTAMP = "kafka_dlt-original-timestamp"
SPRING_ORIGINAL_TIMESTAMP_TYPE = "kafka_dlt-original-timestamp-type"
SPRING_ORIGINAL_CONSUMER_GROUP = "kafka_dlt-original-consumer-group"
SPRING_EXCEPTION_FQCN = "kafka_dlt-exception-fqcn"
SPRING_EXCEPTION_CAUSE_FQCN = "kafka_dlt-exception-cause-fqcn"
SPRING_EXCEPTION_MESSAGE = "kafka_dlt-exception-message"
SPRING_EXCEPTION_STACKTRACE = "kafka_dlt-exception-stacktrace"

# Written instead of the exception-* ones when the key could not be deserialized.
SPRING_KEY_EXCEPTION_FQCN = "kafka_dlt-key-exception-fqcn"
SPRING_KEY_EXCEPTION_MESSAGE = "kafka_dlt-key-exception-message"
SPRING_KEY_EXCEPTION_STACKTRACE = "kafka_dlt-key-exception-stacktrace"
# Every header Spring's recoverer writes starts with this.
SPRING_HEADER_PREFIX = "kafka_dlt-"

SPRING_HEADERS = frozenset(
    {
        SPRING_ORIGINAL_TOPIC,
        SPRING_ORIGINAL_PARTITION,
        SPRING_ORIGINAL_OFFSET,
        SPRING_ORIGINAL_TIMESTAMP,
        SPRING_ORIGINAL_TIMESTAMP_TYPE,
        SPRING_ORIGINAL_CONSUMER_GROUP,
        SPRING_EXCEPTION_FQCN,
        SPRING_EXCEPTION_CAUSE_FQCN,
        SPRING_EXCEPTION_MESSAGE,
        SPRING_EXCEPTION_STACKTRACE,
    }
)

# The project's own (text)
DLQ_ORIGINAL_TOPIC = "dlq.original.topic"
DLQ_ORIGINAL_PARTITION = "dlq.original.partition"
DLQ_ORIGINAL_OFFSET = "dlq.original.offset"
DLQ_ORIGINAL_TIMESTAMP = "dlq.original.timestamp"
DLQ_EXCEPTION_CLASS = "dlq.exception.class"
DLQ_EXCEPTION_MESSAGE = "dlq.exception.message"
DLQ_EXCEPTION_STACKTRACE = "dlq.exception.stacktrace"
DLQ_RETRY_COUNT = "dlq.retry.count"
DLQ_FAILED_AT = "dlq.failed.at"
DLQ_CONSUMER_GROUP = "dlq.consumer.group"

PROJECT_HEADERS = frozenset(
    {
        DLQ_ORIGINAL_TOPIC,
        DLQ_ORIGINAL_PARTITION,
        DLQ_ORIGINAL_OFFSET,
        DLQ_ORIGINAL_TIMESTAMP,
        DLQ_EXCEPTION_CLASS,
        DLQ_EXCEPTION_MESSAGE,
        DLQ_EXCEPTION_STACKTRACE,
        DLQ_RETRY_COUNT,
        DLQ_FAILED_AT,
        DLQ_CONSUMER_GROUP,
    }
)

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

# Every header that describes a failure rather than the business record; a record that fails
# again drops the old ones before the new ones are added, and a reprocess does not re-send them.
FAILURE_HEADERS = SPRING_HEADERS | PROJECT_HEADERS

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
