"""Kafka Streams' dead-letter headers (KIP-1034, Kafka 4.2+: ``errors.dead.letter.queue.topic.name``),
written by the built-in exception handlers; all UTF-8 text, numbers decimal. Key and value are the
raw bytes of the failed record.

=============================  ================================================================
header                         meaning
=============================  ================================================================
__streams.errors.topic         topic the failed record was read from
__streams.errors.partition     its partition
__streams.errors.offset        its offset
__streams.errors.exception     the exception as Java's Throwable.toString(): "<class>: <message>"
__streams.errors.message       its message
__streams.errors.stacktrace    the stack trace
=============================  ================================================================
"""

from __future__ import annotations

from kafka_admin.dlq.conventions import values as v
from kafka_admin.dlq.conventions.base import Convention, Failure, Headers

PREFIX = "__streams.errors."
TOPIC = PREFIX + "topic"
PARTITION = PREFIX + "partition"
OFFSET = PREFIX + "offset"
EXCEPTION = PREFIX + "exception"
MESSAGE = PREFIX + "message"
STACKTRACE = PREFIX + "stacktrace"

HEADERS = frozenset({TOPIC, PARTITION, OFFSET, EXCEPTION, MESSAGE, STACKTRACE})


def exception_class(described: str | None) -> str | None:
    """The class in Throwable.toString() ("java.lang.IllegalStateException: bad" -> the class)."""
    if not described:
        return None
    return described.split(": ", 1)[0].strip() or None


def read(headers: Headers) -> Failure:
    get = headers.get
    # A record the handler could not attribute (a punctuation) carries partition -1: None here.
    return Failure(
        original_topic=v.name(get(TOPIC)),
        original_partition=v.number(get(PARTITION), None),
        original_offset=v.number(get(OFFSET), None),
        exception_class=exception_class(v.text(get(EXCEPTION))),
        exception_message=v.text(get(MESSAGE)),
        stacktrace=v.text(get(STACKTRACE)),
    )


STREAMS = Convention(
    name="streams",
    possessive="Kafka Streams'",
    origin_topic=TOPIC,
    origin_partition=PARTITION,
    distinctive=HEADERS,
    failure_names=HEADERS,
    read=read,
    prefixes=(PREFIX,),
)
