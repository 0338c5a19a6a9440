"""Groups listed without a type the registry knows.

Brokers without KIP-848's ListGroups v5 report no type, and confluent-kafka reports a type it does
not know as UNKNOWN. Such groups are read as consumer groups, as before types were reported;
their description may name the type. A type that is named but registered by no module (a Kafka
of tomorrow) is only listed (UNRECOGNISED).
"""

from __future__ import annotations

from kafka_admin.snapshot.groups.base import LISTING_ONLY, GroupType
from kafka_admin.snapshot.groups.consumer_reads import CONSUMER_GROUP_READS

UNREPORTED = GroupType(
    name=None,
    reported=(),
    states=(),
    reads=CONSUMER_GROUP_READS,
    about="a type the listing did not name: read as a consumer group",
)

UNRECOGNISED = GroupType(
    name=None,
    reported=(),
    states=(),
    reads=LISTING_ONLY,
    about="a type the broker named that no module knows: listed with its state, as the broker names both",
    reset_refused=(
        "The dashboard does not know this group type, so it cannot tell whether moving its offsets is safe. "
        "Use the tool that comes with the Kafka release that introduced the type."
    ),
)
