"""SmallRye Reactive Messaging (Quarkus) Kafka connector's dead-letter headers
(``failure-strategy=dead-letter-queue``, default topic ``dead-letter-topic-<channel>``); UTF-8 text.

================================  ============================================================
header                            meaning
================================  ============================================================
dead-letter-topic                 topic the failed record was read from
dead-letter-partition             its partition, decimal
dead-letter-offset                its offset, decimal
dead-letter-exception-class-name  class of the exception
dead-letter-reason                its message
dead-letter-cause-class-name      class of its cause (only when there is one)
dead-letter-cause                 the cause's message
================================  ============================================================
"""

from __future__ import annotations

from kafka_admin.dlq.conventions import values as v
from kafka_admin.dlq.conventions.base import Convention, Failure, Headers

PREFIX = "dead-letter-"
TOPIC = "dead-letter-topic"
PARTITION = "dead-letter-partition"
OFFSET = "dead-letter-offset"
EXCEPTION_CLASS_NAME = "dead-letter-exception-class-name"
REASON = "dead-letter-reason"
CAUSE_CLASS_NAME = "dead-letter-cause-class-name"
CAUSE = "dead-letter-cause"

HEADERS = frozenset({TOPIC, PARTITION, OFFSET, EXCEPTION_CLASS_NAME, REASON, CAUSE_CLASS_NAME, CAUSE})


def read(headers: Headers) -> Failure:
    get = headers.get
    reason, cause = v.text(get(REASON)), v.text(get(CAUSE))
    message = reason if not cause else f"{reason or ''} (cause: {cause})".strip()
    return Failure(
        original_topic=v.name(get(TOPIC)),
        original_partition=v.number(get(PARTITION), v.INT32.size),
        original_offset=v.number(get(OFFSET), v.INT64.size),
        exception_class=v.name(get(EXCEPTION_CLASS_NAME)),
        exception_cause_class=v.name(get(CAUSE_CLASS_NAME)),
        exception_message=message,
    )


# "dead-letter-" is a plain phrase an application may use too: its names, and two of them.
SMALLRYE = Convention(
    name="smallrye",
    possessive="SmallRye's",
    origin_topic=TOPIC,
    origin_partition=PARTITION,
    distinctive=HEADERS,
    failure_names=HEADERS,
    read=read,
    namespaced=False,
)
