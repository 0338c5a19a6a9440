"""Share-group dead-letter headers (KIP-1191): the broker copies a record that a member rejected or
that used up the delivery count limit to the group's ``errors.deadletterqueue.topic.name``.

==============================  ===============================================================
header                          meaning
==============================  ===============================================================
__dlq.errors.topic              topic the record was delivered from
__dlq.errors.partition          its partition, decimal text
__dlq.errors.offset             its offset, decimal text
__dlq.errors.group              the share group that gave up on it
__dlq.errors.delivery.count     how many times it was delivered, decimal text
__dlq.errors.message            why: "Offset rejected by client.", "Offset delivery count
                                exceeded the threshold."
==============================  ===============================================================

By default the DLQ record carries only this metadata, not the record's key and value (the group
config that copies them is off): such a record can be shown and routed but holds nothing to
re-publish; ``metadata_only`` says so.
"""

from __future__ import annotations

from kafka_admin.dlq.conventions import values as v
from kafka_admin.dlq.conventions.base import Convention, Failure, Headers

PREFIX = "__dlq.errors."
TOPIC = PREFIX + "topic"
PARTITION = PREFIX + "partition"
OFFSET = PREFIX + "offset"
GROUP = PREFIX + "group"
DELIVERY_COUNT = PREFIX + "delivery.count"
MESSAGE = PREFIX + "message"

HEADERS = frozenset({TOPIC, PARTITION, OFFSET, GROUP, DELIVERY_COUNT, MESSAGE})


def metadata_only(key: bytes | None, value: bytes | None) -> bool:
    """Whether a share-group DLQ record holds only the failure's metadata (nothing to re-publish)."""
    return key is None and value is None


def read(headers: Headers) -> Failure:
    get = headers.get
    return Failure(
        original_topic=v.name(get(TOPIC)),
        original_partition=v.number(get(PARTITION), None),
        original_offset=v.number(get(OFFSET), None),
        consumer_group=v.name(get(GROUP)),
        exception_message=v.text(get(MESSAGE)),
        delivery_count=v.number(get(DELIVERY_COUNT), None),
    )


SHARE_GROUP = Convention(
    name="share-group",
    possessive="the share group's",
    origin_topic=TOPIC,
    origin_partition=PARTITION,
    distinctive=HEADERS,
    failure_names=HEADERS,
    read=read,
    prefixes=(PREFIX,),
    copies_record=False,
)
