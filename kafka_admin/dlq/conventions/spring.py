"""Spring Kafka's ``DeadLetterPublishingRecoverer`` headers (``KafkaHeaders.DLT_*``).

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

When the key could not be deserialized Spring writes ``kafka_dlt-key-exception-*`` instead; every
``kafka_dlt-`` header describes a failure. Non-blocking retries (``@RetryableTopic``: ``<topic>-retry-N``
topics ending in ``<topic>-dlt``) add ``retry_topic-attempts`` (4-byte BE int: the number of the delivery
attempt the record makes from that topic, 2 in the first retry topic; the retries made before it
arrived are that less 2), and
``retry_topic-backoff-timestamp`` / ``retry_topic-original-timestamp`` (epoch ms as a minimal
big-endian byte string, so of varying width): retry bookkeeping, stripped on republish like the
rest. Some writers put decimal text under the binary names:
values.number() reads both.
"""

from __future__ import annotations

from kafka_admin.dlq.conventions import values as v
from kafka_admin.dlq.conventions.base import Convention, Failure, Headers

ORIGINAL_TOPIC = "kafka_dlt-original-topic"
ORIGINAL_PARTITION = "kafka_dlt-original-partition"
ORIGINAL_OFFSET = "kafka_dlt-original-offset"
ORIGINAL_TIMESTAMP = "kafka_dlt-original-timestamp"
ORIGINAL_TIMESTAMP_TYPE = "kafka_dlt-original-timestamp-type"
ORIGINAL_CONSUMER_GROUP = "kafka_dlt-original-consumer-group"
EXCEPTION_FQCN = "kafka_dlt-exception-fqcn"
EXCEPTION_CAUSE_FQCN = "kafka_dlt-exception-cause-fqcn"
EXCEPTION_MESSAGE = "kafka_dlt-exception-message"
EXCEPTION_STACKTRACE = "kafka_dlt-exception-stacktrace"
KEY_EXCEPTION_FQCN = "kafka_dlt-key-exception-fqcn"
KEY_EXCEPTION_CAUSE_FQCN = "kafka_dlt-key-exception-cause-fqcn"
KEY_EXCEPTION_MESSAGE = "kafka_dlt-key-exception-message"
KEY_EXCEPTION_STACKTRACE = "kafka_dlt-key-exception-stacktrace"
PREFIX = "kafka_dlt-"
RETRY_ATTEMPTS = "retry_topic-attempts"
RETRY_BACKOFF_TIMESTAMP = "retry_topic-backoff-timestamp"
RETRY_ORIGINAL_TIMESTAMP = "retry_topic-original-timestamp"
RETRY_PREFIX = "retry_topic-"
RETRY_HEADERS = frozenset({RETRY_ATTEMPTS, RETRY_BACKOFF_TIMESTAMP, RETRY_ORIGINAL_TIMESTAMP})

HEADERS = frozenset(
    {
        ORIGINAL_TOPIC,
        ORIGINAL_PARTITION,
        ORIGINAL_OFFSET,
        ORIGINAL_TIMESTAMP,
        ORIGINAL_TIMESTAMP_TYPE,
        ORIGINAL_CONSUMER_GROUP,
        EXCEPTION_FQCN,
        EXCEPTION_CAUSE_FQCN,
        EXCEPTION_MESSAGE,
        EXCEPTION_STACKTRACE,
    }
)
KEY_HEADERS = frozenset({KEY_EXCEPTION_FQCN, KEY_EXCEPTION_CAUSE_FQCN, KEY_EXCEPTION_MESSAGE, KEY_EXCEPTION_STACKTRACE})


def retries(attempt: int | None) -> int | None:
    """Retries made before a record reached its topic, from the attempt it makes there (the first
    delivery is attempt 1, and it has no header)."""
    return None if attempt is None else max(attempt - 2, 0)


def read(headers: Headers) -> Failure:
    """Spring's fields; the key-exception headers stand in where the value's are missing."""
    get = headers.get
    return Failure(
        original_topic=v.name(get(ORIGINAL_TOPIC)),
        original_partition=v.number(get(ORIGINAL_PARTITION), v.INT32.size),
        original_offset=v.number(get(ORIGINAL_OFFSET), v.INT64.size),
        original_timestamp_ms=v.number(get(ORIGINAL_TIMESTAMP), v.INT64.size),
        original_timestamp_type=v.name(get(ORIGINAL_TIMESTAMP_TYPE)),
        consumer_group=v.name(get(ORIGINAL_CONSUMER_GROUP)),
        exception_class=v.name(get(EXCEPTION_FQCN)) or v.name(get(KEY_EXCEPTION_FQCN)),
        exception_cause_class=v.name(get(EXCEPTION_CAUSE_FQCN)) or v.name(get(KEY_EXCEPTION_CAUSE_FQCN)),
        exception_message=v.first(v.text(get(EXCEPTION_MESSAGE)), v.text(get(KEY_EXCEPTION_MESSAGE))),
        stacktrace=v.first(v.text(get(EXCEPTION_STACKTRACE)), v.text(get(KEY_EXCEPTION_STACKTRACE))),
        retry_count=retries(v.number(get(RETRY_ATTEMPTS), v.INT32.size)),
        stage="key" if get(EXCEPTION_FQCN) is None and get(KEY_EXCEPTION_FQCN) is not None else None,
    )


SPRING = Convention(
    name="spring",
    possessive="Spring's",
    origin_topic=ORIGINAL_TOPIC,
    origin_partition=ORIGINAL_PARTITION,
    distinctive=HEADERS | KEY_HEADERS | RETRY_HEADERS,
    failure_names=HEADERS,  # and every other kafka_dlt- header, by the prefix
    read=read,
    prefixes=(PREFIX, RETRY_PREFIX),
    binary={
        ORIGINAL_PARTITION: "int32",
        ORIGINAL_OFFSET: "int64",
        ORIGINAL_TIMESTAMP: "time64",
        RETRY_ATTEMPTS: "int32",
    },
)
