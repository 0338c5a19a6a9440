"""The project's own dead-letter headers (written by the demo), all UTF-8 text so that any tool
(kcat, kafka-console-consumer) shows them.

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
"""

from __future__ import annotations

from kafka_admin.dlq.conventions import values as v
from kafka_admin.dlq.conventions.base import Convention, Failure, Headers

ORIGINAL_TOPIC = "dlq.original.topic"
ORIGINAL_PARTITION = "dlq.original.partition"
ORIGINAL_OFFSET = "dlq.original.offset"
ORIGINAL_TIMESTAMP = "dlq.original.timestamp"
EXCEPTION_CLASS = "dlq.exception.class"
EXCEPTION_MESSAGE = "dlq.exception.message"
EXCEPTION_STACKTRACE = "dlq.exception.stacktrace"
RETRY_COUNT = "dlq.retry.count"
FAILED_AT = "dlq.failed.at"
CONSUMER_GROUP = "dlq.consumer.group"

HEADERS = frozenset(
    {
        ORIGINAL_TOPIC,
        ORIGINAL_PARTITION,
        ORIGINAL_OFFSET,
        ORIGINAL_TIMESTAMP,
        EXCEPTION_CLASS,
        EXCEPTION_MESSAGE,
        EXCEPTION_STACKTRACE,
        RETRY_COUNT,
        FAILED_AT,
        CONSUMER_GROUP,
    }
)


def read(headers: Headers) -> Failure:
    """The project's fields (no timestamp type and no cause class: it writes none)."""
    get = headers.get
    return Failure(
        original_topic=v.name(get(ORIGINAL_TOPIC)),
        original_partition=v.number(get(ORIGINAL_PARTITION), v.INT32.size),
        original_offset=v.number(get(ORIGINAL_OFFSET), v.INT64.size),
        original_timestamp_ms=v.number(get(ORIGINAL_TIMESTAMP), v.INT64.size),
        consumer_group=v.name(get(CONSUMER_GROUP)),
        exception_class=v.name(get(EXCEPTION_CLASS)),
        exception_message=v.text(get(EXCEPTION_MESSAGE)),
        stacktrace=v.text(get(EXCEPTION_STACKTRACE)),
        retry_count=v.number(get(RETRY_COUNT), v.INT32.size),
        failed_at=v.utc_time(v.text(get(FAILED_AT))),
    )


# "dlq." is shared with the dlq.reprocessed.* provenance headers: the names, not a prefix.
PROJECT = Convention(
    name="project",
    possessive="the project's",
    origin_topic=ORIGINAL_TOPIC,
    origin_partition=ORIGINAL_PARTITION,
    distinctive=HEADERS,
    failure_names=HEADERS,
    read=read,
)
