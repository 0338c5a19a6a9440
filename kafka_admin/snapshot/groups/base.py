"""What a group type declares: its names, its states, and how its members and offsets are read.

A type module (classic.py, consumer.py, ...) builds one GroupType and registry.py lists it. The poll
cycle (snapshot/collect.py) hands every listed group to its type's reads and names no type itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from kafka_admin.snapshot.model import Group

if TYPE_CHECKING:
    from confluent_kafka.admin import AdminClient

    from kafka_admin.config import ClusterConfig
    from kafka_admin.protocol.client import GroupProtocolClient
    from kafka_admin.snapshot.groups.describe_cache import DescriptionCache
    from kafka_admin.snapshot.groups.registry import GroupTypes
    from kafka_admin.snapshot.offsets_topic import OffsetsTopicReader

Ends = Mapping[tuple[str, int], int]  # (topic, partition) -> log-end offset, as this cycle read them
UNKNOWN_STATE = "Unknown"  # a state the admin API did not name


@dataclass(frozen=True, slots=True)
class GroupState:
    """One state of a group type, in Kafka's spelling (as kafka-consumer-groups prints it)."""

    name: str
    # The admin API's name for it (ConsumerGroupState.STABLE -> "STABLE"); None when confluent-kafka
    # has no name for it (it reports such a state as UNKNOWN).
    reported: str | None
    # How pages show it: "ok" (settled), "idle" (no members), "warn" (moving), "err" (gone).
    kind: str


@dataclass(frozen=True, slots=True)
class ListedGroup:
    """A group as the listing gave it, with its state and type already in the registry's spelling."""

    group_id: str
    listing: Any  # confluent_kafka.ConsumerGroupListing, or protocol.client.BrokerListing
    state: str
    type: str | None
    protocol: str | None = None  # the protocol type ListGroups names ("consumer", "connect", "share", ...)


class GroupCycle(Protocol):
    """What the poll cycle offers a type's reads: its client, its budget, its error list."""

    config: ClusterConfig
    admin: AdminClient
    protocol: GroupProtocolClient  # the codec's client, for what the admin API cannot ask
    group_types: GroupTypes
    deadline: float  # time.monotonic() by which the whole cycle ends
    requests: int  # requests sent this cycle; reads add theirs
    descriptions: DescriptionCache  # descriptions kept between cycles (offsets-topic source)
    catch_up_wait_s: float  # how long to wait for the offsets reader's start-up catch-up
    # The leader of each __consumer_offsets partition (its groups' coordinator), from this cycle's
    # metadata; empty when the topic is not there.
    offsets_leaders: Mapping[int, int]
    # The collector's, kept across cycles: what a type's reads need not ask every cycle (under a
    # key of their own, e.g. share_limits.MEMO_KEY).
    memo: dict[str, Any]

    def remaining(self) -> float:
        """The timeout for the next call: the request timeout, bounded by the cycle's deadline."""
        ...

    def error(self, scope: str, name: str, exc: BaseException | str) -> None:
        """Record an error in the snapshot; the rest of it stands."""
        ...

    def offsets_reader(self) -> OffsetsTopicReader:
        """The __consumer_offsets reader (offsets-topic source), started on first use."""
        ...


class GroupReads(Protocol):
    """How the members, committed offsets and lag of a type's groups are read in one cycle.

    One call gets every listed group of every type that shares these reads, so types read alike
    share batches and the in-flight bound. It returns one Group per listed group, in any order.
    """

    def read(self, cycle: GroupCycle, groups: Sequence[ListedGroup], ends: Ends) -> list[Group]: ...


class ListingOnly:
    """For a type whose members and offsets the admin API cannot read: the listing's state, nothing more."""

    def read(self, cycle: GroupCycle, groups: Sequence[ListedGroup], ends: Ends) -> list[Group]:
        return [Group(group_id=g.group_id, state=g.state, type=g.type, protocol=g.protocol) for g in groups]


LISTING_ONLY = ListingOnly()


@dataclass(frozen=True)
class GroupType:
    """A kind of group Kafka lists (classic, consumer, ...): what the registry needs to know of it."""

    name: str | None  # as the snapshot and the pages name it ("classic"); None: not known
    reported: tuple[str, ...]  # the admin API's type name(s) (ConsumerGroupType.CLASSIC -> "CLASSIC")
    states: tuple[GroupState, ...]
    reads: GroupReads = LISTING_ONLY
    about: str = ""  # one line for readers of the registry
    # Protocol types (ListGroups' ProtocolType) this type claims whatever the group type says:
    # Connect workers are classic groups read in a way of their own.
    protocols: tuple[str, ...] = ()
    # Why the dashboard offers no offset reset (or other offset write) for this type, and what to
    # do instead, in plain words; empty: a reset is offered (Kafka's own rules still apply).
    reset_refused: str = ""
