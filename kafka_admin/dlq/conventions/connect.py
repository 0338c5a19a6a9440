"""Kafka Connect's sink dead-letter headers (``DeadLetterQueueReporter``), written only with
``errors.deadletterqueue.context.headers.enable=true``; every value is UTF-8 text, numbers decimal.

=========================================  =========================================================
header                                     meaning
=========================================  =========================================================
__connect.errors.topic                     topic the failed record was read from
__connect.errors.partition                 its partition
__connect.errors.offset                    its offset
__connect.errors.connector.name            the sink connector
__connect.errors.task.id                   its task number
__connect.errors.stage                     where it failed: KEY_CONVERTER, VALUE_CONVERTER,
                                           HEADER_CONVERTER, TRANSFORMATION, TASK_PUT, ...
__connect.errors.class.name                the class running that stage (the converter, the SMT)
__connect.errors.exception.class.name      class of the exception
__connect.errors.exception.message         its message
__connect.errors.exception.stacktrace      the stack trace
=========================================  =========================================================

One DLQ usually serves a connector over many topics, so the record's own headers are what routes it.
"""

from __future__ import annotations

from kafka_admin.dlq.conventions import values as v
from kafka_admin.dlq.conventions.base import Convention, Failure, Headers

PREFIX = "__connect.errors."
TOPIC = PREFIX + "topic"
PARTITION = PREFIX + "partition"
OFFSET = PREFIX + "offset"
CONNECTOR_NAME = PREFIX + "connector.name"
TASK_ID = PREFIX + "task.id"
STAGE = PREFIX + "stage"
CLASS_NAME = PREFIX + "class.name"
EXCEPTION_CLASS_NAME = PREFIX + "exception.class.name"
EXCEPTION_MESSAGE = PREFIX + "exception.message"
EXCEPTION_STACKTRACE = PREFIX + "exception.stacktrace"

HEADERS = frozenset(
    {
        TOPIC,
        PARTITION,
        OFFSET,
        CONNECTOR_NAME,
        TASK_ID,
        STAGE,
        CLASS_NAME,
        EXCEPTION_CLASS_NAME,
        EXCEPTION_MESSAGE,
        EXCEPTION_STACKTRACE,
    }
)


def read(headers: Headers) -> Failure:
    get = headers.get
    connector, task = v.name(get(CONNECTOR_NAME)), v.name(get(TASK_ID))
    failed_in = None
    if connector:
        failed_in = f"connector {connector}" + (f", task {task}" if task else "")
    stage = v.name(get(STAGE))
    executing = v.name(get(CLASS_NAME))
    if stage and executing:
        stage = f"{stage} ({executing})"
    return Failure(
        original_topic=v.name(get(TOPIC)),
        original_partition=v.number(get(PARTITION), None),
        original_offset=v.number(get(OFFSET), None),
        # Connect's sink tasks consume as the group connect-<connector name> by default.
        consumer_group=f"connect-{connector}" if connector else None,
        exception_class=v.name(get(EXCEPTION_CLASS_NAME)),
        exception_message=v.text(get(EXCEPTION_MESSAGE)),
        stacktrace=v.text(get(EXCEPTION_STACKTRACE)),
        stage=stage,
        failed_in=failed_in,
    )


CONNECT = Convention(
    name="connect",
    possessive="Kafka Connect's",
    origin_topic=TOPIC,
    origin_partition=PARTITION,
    distinctive=HEADERS,
    failure_names=HEADERS,
    read=read,
    prefixes=(PREFIX,),
)
