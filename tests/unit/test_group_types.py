"""Group types as plug-ins: the registry's states and names, and the cycle's loop over the registry.

The listings below are plain stand-ins (an id, a state, a type) and the cycle a stand-in that only
records errors: the types under test read nothing from a broker. Classic and consumer groups are
read from a real one in tests/integration/test_snapshot.py.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from confluent_kafka import ConsumerGroupState, ConsumerGroupType

from kafka_admin.protocol.client import BrokerListing, ListResult
from kafka_admin.snapshot.collect import read_listed
from kafka_admin.snapshot.groups.base import LISTING_ONLY, Ends, GroupCycle, GroupState, GroupType, ListedGroup
from kafka_admin.snapshot.groups.consumer_reads import CONSUMER_GROUP_READS
from kafka_admin.snapshot.groups.listing import listed_groups
from kafka_admin.snapshot.groups.registry import (
    GROUP_STATES,
    GROUP_TYPES,
    REPORTED_STATE_NAMES,
    REPORTED_STATES,
    STATE_KINDS,
    GroupTypes,
    reset_refused,
    state_name,
)
from kafka_admin.snapshot.model import Group


class Reported(enum.Enum):
    """Names an admin API of tomorrow might report (the enums of confluent-kafka have no such members)."""

    THROWAWAY = 1
    IDLING = 2
    LOITERING = 3
    OTHER = 4


@dataclass(frozen=True)
class Listing:
    group_id: str
    state: Any
    type: Any = None


@dataclass
class Cycle:
    """The poll cycle as a type's reads see it, without a client (the throwaway types need none)."""

    group_types: GroupTypes
    errors: list[tuple[str, str, str]] = field(default_factory=list)
    requests: int = 0
    deadline: float = 0.0
    memo: dict[str, Any] = field(default_factory=dict)

    def error(self, scope: str, name: str, exc: BaseException | str) -> None:
        self.errors.append((scope, name, str(exc)))

    def remaining(self) -> float:
        return 1.0


class RecordingReads:
    """Reads that say who asked for what, and give each group one member-less row."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def read(self, cycle: GroupCycle, groups: Sequence[ListedGroup], ends: Ends) -> list[Group]:
        self.calls.append([g.group_id for g in groups])
        return [Group(g.group_id, g.state, g.type, coordinator=7) for g in groups]


def throwaway(reads: Any = None) -> GroupType:
    extra = {} if reads is None else {"reads": reads}
    return GroupType(
        name="throwaway",
        reported=("THROWAWAY",),
        states=(GroupState("Idling", "IDLING", "idle"), GroupState("Loitering", None, "warn")),
        about="a type for this test only",
        **extra,
    )


class TestRegistry:
    def test_the_states_every_page_knows(self):
        assert GROUP_STATES == (
            "Stable",
            "Empty",
            "PreparingRebalance",
            "CompletingRebalance",
            "Dead",
            "Assigning",
            "Reconciling",
            "NotReady",
            "Unknown",
        )
        # what confluent-kafka 2.16 can report, and the groups page's state filter offers
        assert REPORTED_STATE_NAMES == ("Stable", "Empty", "PreparingRebalance", "CompletingRebalance", "Dead")
        assert STATE_KINDS["Stable"] == "ok" and STATE_KINDS["Empty"] == "idle" and STATE_KINDS["Dead"] == "err"
        assert {STATE_KINDS[s] for s in ("PreparingRebalance", "CompletingRebalance", "Assigning", "Reconciling")} == {
            "warn"
        }

    def test_every_reported_state_of_the_admin_api_has_a_spelling(self):
        named = {s.name for s in ConsumerGroupState} - {"UNKNOWN"}
        assert set(REPORTED_STATES) == named
        assert state_name(ConsumerGroupState.PREPARING_REBALANCING) == "PreparingRebalance"
        assert state_name(ConsumerGroupState.UNKNOWN) == "Unknown" and state_name(None) == "Unknown"

    def test_type_names(self):
        assert GROUP_TYPES.type_name(ConsumerGroupType.CLASSIC) == "classic"
        assert GROUP_TYPES.type_name(ConsumerGroupType.CONSUMER) == "consumer"
        assert GROUP_TYPES.type_name(ConsumerGroupType.UNKNOWN) is None
        assert GROUP_TYPES.type_name(Reported.THROWAWAY) == "THROWAWAY"  # not registered: as given

    def test_a_missing_type_is_read_as_a_consumer_group(self):
        for reported in (ConsumerGroupType.UNKNOWN, None):
            assert GROUP_TYPES.group_type(reported).reads is CONSUMER_GROUP_READS
            assert GROUP_TYPES.group_type(reported).name is None

    def test_a_named_type_no_module_knows_is_listed_only(self):
        for reported in (Reported.THROWAWAY, "queue-of-tomorrow"):
            assert GROUP_TYPES.group_type(reported).reads is LISTING_ONLY
        assert GROUP_TYPES.type_name("queue-of-tomorrow") == "queue-of-tomorrow"

    def test_the_brokers_lower_case_names_find_the_types(self):
        assert [GROUP_TYPES.type_name(n) for n in ("classic", "consumer", "share", "streams")] == [
            "classic",
            "consumer",
            "share",
            "streams",
        ]
        assert GROUP_TYPES.group_type("classic").reads is CONSUMER_GROUP_READS

    def test_adding_a_type_adds_its_states_and_names_and_leaves_the_registry_alone(self):
        types = GROUP_TYPES.adding(throwaway())
        assert types.states == (*GROUP_STATES[:-1], "Idling", "Loitering", "Unknown")
        assert types.state_name(Reported.IDLING) == "Idling"
        assert types.state_name(Reported.LOITERING) == "LOITERING"  # no reported name declared: as given
        assert types.type_name(Reported.THROWAWAY) == "throwaway"
        assert types.state_kinds["Loitering"] == "warn"
        assert "Idling" not in GROUP_STATES and GROUP_TYPES.type_name(Reported.THROWAWAY) == "THROWAWAY"

    def test_clashes_are_refused(self):
        with pytest.raises(ValueError, match="CLASSIC"):
            GROUP_TYPES.adding(GroupType("impostor", ("CLASSIC",), ()))
        with pytest.raises(ValueError, match="Stable"):
            GROUP_TYPES.adding(GroupType("odd", ("ODD",), (GroupState("Stable", "STABLE", "err"),)))
        with pytest.raises(ValueError, match="STABLE"):
            GROUP_TYPES.adding(GroupType("odd", ("ODD",), (GroupState("Steady", "STABLE", "ok"),)))

    @pytest.mark.parametrize(
        ("gtype", "protocol", "tool"),
        [
            ("streams", "streams", "kafka-streams-groups"),
            ("share", "share", "kafka-share-groups"),
            ("classic", "connect", "/connectors/<name>/offsets"),
            ("tomorrow", None, "does not know this group type"),
        ],
    )
    def test_no_offset_reset_where_it_is_unsafe_and_what_to_do_instead(self, gtype, protocol, tool):
        assert tool in reset_refused(gtype, protocol)

    @pytest.mark.parametrize(
        ("gtype", "protocol"), [("classic", "consumer"), ("consumer", "consumer"), ("classic", ""), (None, None)]
    )
    def test_consumer_groups_keep_their_offset_reset(self, gtype, protocol):
        assert reset_refused(gtype, protocol) == ""


class TestTheCycleLoopsOverTheRegistry:
    def test_a_registered_throwaway_type_is_read_by_its_own_reads(self):
        reads = RecordingReads()
        cycle = Cycle(GROUP_TYPES.adding(throwaway(reads)))
        listings = [
            Listing("t-2", Reported.IDLING, Reported.THROWAWAY),
            Listing("t-1", ConsumerGroupState.UNKNOWN, Reported.THROWAWAY),
        ]
        groups = read_listed(cycle, listings, {})
        assert reads.calls == [["t-1", "t-2"]]  # one call with every group of the type, in id order
        assert groups == (Group("t-1", "Unknown", "throwaway", coordinator=7), Group("t-2", "Idling", "throwaway", 7))
        assert cycle.errors == []

    def test_a_type_without_reads_shows_its_listing(self):
        cycle = Cycle(GROUP_TYPES.adding(throwaway()))
        groups = read_listed(cycle, [Listing("quiet", Reported.IDLING, Reported.THROWAWAY)], {("t", 0): 5})
        assert groups == (Group("quiet", "Idling", "throwaway"),)

    def test_types_sharing_reads_share_one_call(self):
        reads = RecordingReads()
        other = GroupType("other", ("OTHER",), (), reads=reads)
        cycle = Cycle(GROUP_TYPES.adding(throwaway(reads), other))
        listings = [
            Listing("b", Reported.IDLING, Reported.THROWAWAY),
            Listing("a", None, Reported.OTHER),
        ]
        groups = read_listed(cycle, listings, {})
        assert reads.calls == [["a", "b"]]
        assert [(g.group_id, g.type, g.state) for g in groups] == [
            ("a", "other", "Unknown"),
            ("b", "throwaway", "Idling"),
        ]


class TestTheBrokersListingJoinsTheAdminListing:
    """groups/listing.py: the codec's ListGroups v5 beside confluent-kafka's listing."""

    def broker(self, *groups: BrokerListing, version: int = 5) -> ListResult:
        return ListResult(list(groups), [], version)

    def test_groups_only_the_broker_lists_are_kept_with_its_words(self):
        reads = RecordingReads()
        cycle = Cycle(GROUP_TYPES.adding(throwaway(reads)))
        admin = [Listing("c-1", ConsumerGroupState.STABLE, ConsumerGroupType.CLASSIC)]
        broker = self.broker(
            BrokerListing("c-1", "consumer", "Stable", "classic"),
            BrokerListing("q-1", "share", "Empty", "share"),
            BrokerListing("s-1", "streams", "NotReady", "streams"),
            BrokerListing("t-1", "throwaway", "Loitering", "throwaway"),
            BrokerListing("x-1", "odd", "Brewing", "cauldron"),
        )
        listed = dict(
            (g.group_id, (g.state, g.type, g.protocol)) for g, _ in listed_groups(cycle.group_types, admin, broker)
        )
        assert listed == {
            "c-1": ("Stable", "classic", "consumer"),
            "q-1": ("Empty", "share", "share"),
            "s-1": ("NotReady", "streams", "streams"),
            "t-1": ("Loitering", "throwaway", "throwaway"),
            "x-1": ("Brewing", "cauldron", "odd"),  # unknown type and state: listed as the broker says
        }
        # classic, share and streams groups need a client to be read: the others are only listed
        no_classic = ListResult([g for g in broker.groups if g.type not in ("classic", "share", "streams")], [], 5)
        groups = {g.group_id: g for g in read_listed(cycle, [], {}, no_classic)}
        assert reads.calls == [["t-1"]]
        assert groups["x-1"] == Group("x-1", "Brewing", "cauldron", protocol="odd")

    def test_kip_848_states_come_from_the_broker(self):
        admin = [Listing("k", ConsumerGroupState.UNKNOWN, ConsumerGroupType.CONSUMER)]
        broker = self.broker(BrokerListing("k", "consumer", "Reconciling", "consumer"))
        ((group, gtype),) = listed_groups(GROUP_TYPES, admin, broker)
        assert (group.state, group.type, gtype.reads) == ("Reconciling", "consumer", CONSUMER_GROUP_READS)

    def test_without_the_brokers_listing_the_admin_listing_stands(self):
        admin = [Listing("a", ConsumerGroupState.EMPTY, ConsumerGroupType.CLASSIC)]
        ((group, _),) = listed_groups(GROUP_TYPES, admin, None)
        assert (group.state, group.type, group.protocol) == ("Empty", "classic", None)

    def test_a_group_only_the_admin_api_lists_is_kept(self):
        admin = [Listing("late", ConsumerGroupState.STABLE, ConsumerGroupType.CONSUMER)]
        ((group, _),) = listed_groups(GROUP_TYPES, admin, self.broker())
        assert (group.group_id, group.state, group.type) == ("late", "Stable", "consumer")
