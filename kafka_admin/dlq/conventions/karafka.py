"""Karafka's (Ruby) dead-letter headers, all strings: ``source_topic``, ``source_partition``,
``source_offset``, ``source_consumer_group`` (Karafka Pro's enhanced DLQ; older releases wrote the
same under ``original_*``). The names are generic, so a record is Karafka's only when two of them
are there, and only then are they stripped on republish.
"""

from __future__ import annotations

from kafka_admin.dlq.conventions import values as v
from kafka_admin.dlq.conventions.base import Convention, Failure, Headers

TOPIC = "source_topic"
PARTITION = "source_partition"
OFFSET = "source_offset"
CONSUMER_GROUP = "source_consumer_group"

HEADERS = frozenset({TOPIC, PARTITION, OFFSET, CONSUMER_GROUP})


def read(headers: Headers) -> Failure:
    get = headers.get
    return Failure(
        original_topic=v.name(get(TOPIC)),
        original_partition=v.number(get(PARTITION), None),
        original_offset=v.number(get(OFFSET), None),
        consumer_group=v.name(get(CONSUMER_GROUP)),
    )


KARAFKA = Convention(
    name="karafka",
    possessive="Karafka's",
    origin_topic=TOPIC,
    origin_partition=PARTITION,
    distinctive=HEADERS,
    failure_names=HEADERS,
    read=read,
    namespaced=False,
)
