"""Spring Kafka's non-blocking retries (``@RetryableTopic``): the headers on records in its retry
topics and in the chain's DLT (``KafkaHeaders.ORIGINAL_*`` and ``EXCEPTION_*``, without ``dlt``).

Spring's retry-topic recoverer writes these instead of ``kafka_dlt-*`` (spring.py); the encodings
are the same. The original-* headers are written once, at the first failure, so in every stage
they name the chain's original topic; the exception-* headers describe the latest failure.

=====================================  ==================  ===============================================
header                                 value               meaning
=====================================  ==================  ===============================================
kafka_original-topic                   UTF-8 string        topic the record first failed in
kafka_original-partition               4-byte BE int       its partition
kafka_original-offset                  8-byte BE long      its offset
kafka_original-timestamp               8-byte BE long      its timestamp, ms since the epoch
kafka_original-timestamp-type          UTF-8 string        CreateTime, LogAppendTime or NoTimestampType
kafka_exception-fqcn                   UTF-8 string        class of the exception (Spring's wrapper)
kafka_exception-cause-fqcn             UTF-8 string        class of its cause
kafka_exception-message                UTF-8 string        the exception's message
kafka_exception-stacktrace             UTF-8 string        the stack trace
kafka_key-exception-*                  as above            the key could not be deserialized
=====================================  ==================  ===============================================

The consumer group (``kafka_dlt-original-consumer-group``, the same name in both modes) and the
``retry_topic-*`` bookkeeping are read by spring.py, which claims those records too.
"""

from __future__ import annotations

from kafka_admin.dlq.conventions import values as v
from kafka_admin.dlq.conventions.base import Convention, Failure, Headers

ORIGINAL_TOPIC = "kafka_original-topic"
ORIGINAL_PARTITION = "kafka_original-partition"
ORIGINAL_OFFSET = "kafka_original-offset"
ORIGINAL_TIMESTAMP = "kafka_original-timestamp"
ORIGINAL_TIMESTAMP_TYPE = "kafka_original-timestamp-type"
EXCEPTION_FQCN = "kafka_exception-fqcn"
EXCEPTION_CAUSE_FQCN = "kafka_exception-cause-fqcn"
EXCEPTION_MESSAGE = "kafka_exception-message"
EXCEPTION_STACKTRACE = "kafka_exception-stacktrace"
KEY_EXCEPTION_FQCN = "kafka_key-exception-fqcn"
KEY_EXCEPTION_CAUSE_FQCN = "kafka_key-exception-cause-fqcn"
KEY_EXCEPTION_MESSAGE = "kafka_key-exception-message"
KEY_EXCEPTION_STACKTRACE = "kafka_key-exception-stacktrace"
PREFIXES = ("kafka_original-", "kafka_exception-", "kafka_key-exception-")

HEADERS = frozenset(
    {
        ORIGINAL_TOPIC,
        ORIGINAL_PARTITION,
        ORIGINAL_OFFSET,
        ORIGINAL_TIMESTAMP,
        ORIGINAL_TIMESTAMP_TYPE,
        EXCEPTION_FQCN,
        EXCEPTION_CAUSE_FQCN,
        EXCEPTION_MESSAGE,
        EXCEPTION_STACKTRACE,
    }
)
KEY_HEADERS = frozenset({KEY_EXCEPTION_FQCN, KEY_EXCEPTION_CAUSE_FQCN, KEY_EXCEPTION_MESSAGE, KEY_EXCEPTION_STACKTRACE})


def read(headers: Headers) -> Failure:
    """The retry recoverer's fields; the key-exception headers stand in where the value's are missing."""
    get = headers.get
    return Failure(
        original_topic=v.name(get(ORIGINAL_TOPIC)),
        original_partition=v.number(get(ORIGINAL_PARTITION), v.INT32.size),
        original_offset=v.number(get(ORIGINAL_OFFSET), v.INT64.size),
        original_timestamp_ms=v.number(get(ORIGINAL_TIMESTAMP), v.INT64.size),
        original_timestamp_type=v.name(get(ORIGINAL_TIMESTAMP_TYPE)),
        exception_class=v.name(get(EXCEPTION_FQCN)) or v.name(get(KEY_EXCEPTION_FQCN)),
        exception_cause_class=v.name(get(EXCEPTION_CAUSE_FQCN)) or v.name(get(KEY_EXCEPTION_CAUSE_FQCN)),
        exception_message=v.first(v.text(get(EXCEPTION_MESSAGE)), v.text(get(KEY_EXCEPTION_MESSAGE))),
        stacktrace=v.first(v.text(get(EXCEPTION_STACKTRACE)), v.text(get(KEY_EXCEPTION_STACKTRACE))),
        stage="key" if get(EXCEPTION_FQCN) is None and get(KEY_EXCEPTION_FQCN) is not None else None,
    )


SPRING_RETRY = Convention(
    name="spring-retry",
    possessive="Spring's retry-topic",
    origin_topic=ORIGINAL_TOPIC,
    origin_partition=ORIGINAL_PARTITION,
    distinctive=HEADERS | KEY_HEADERS,
    failure_names=HEADERS,  # and every header of its prefixes
    read=read,
    prefixes=PREFIXES,
    binary={ORIGINAL_PARTITION: "int32", ORIGINAL_OFFSET: "int64", ORIGINAL_TIMESTAMP: "time64"},
)
