"""The registered group types, and the one list of group states every reader uses.

GROUP_TYPES is what the poll cycle reads groups with. GROUP_STATES (every state a group can show,
Kafka's spelling), REPORTED_STATES (the admin API's state names -> that spelling) and STATE_KINDS
(state -> how pages show it) are derived from it: a new type is one module and one line below.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from kafka_admin.snapshot.groups.base import UNKNOWN_STATE, GroupType
from kafka_admin.snapshot.groups.classic import CLASSIC
from kafka_admin.snapshot.groups.connect import CONNECT
from kafka_admin.snapshot.groups.consumer import CONSUMER
from kafka_admin.snapshot.groups.share import SHARE
from kafka_admin.snapshot.groups.streams import STREAMS
from kafka_admin.snapshot.groups.unreported import UNRECOGNISED, UNREPORTED


def reported_name(value: Any) -> str | None:
    """An admin API enum's name (ConsumerGroupState.STABLE -> "STABLE"); None for None and UNKNOWN."""
    if value is None:
        return None
    name = getattr(value, "name", str(value))
    return None if name == "UNKNOWN" else name


class GroupTypes:
    """An immutable set of group types; `adding()` makes a new one (no registration at import time)."""

    def __init__(
        self, types: Iterable[GroupType], fallback: GroupType = UNREPORTED, unrecognised: GroupType = UNRECOGNISED
    ) -> None:
        self.types = tuple(types)
        self.fallback = fallback
        self.unrecognised = unrecognised
        self._by_reported: dict[str, GroupType] = {}
        self._by_protocol: dict[str, GroupType] = {}
        self._state_names: dict[str, str] = {}
        self._kinds: dict[str, str] = {}
        self._names_seen: dict[tuple[str, Any], str | None] = {}  # the two lookups below, per value met
        for gtype in self.types:
            for protocol in gtype.protocols:
                if self._by_protocol.setdefault(protocol, gtype) is not gtype:
                    raise ValueError(f"two types claim protocol type {protocol}")
            for reported in gtype.reported:
                if self._by_reported.setdefault(reported.upper(), gtype) is not gtype:
                    raise ValueError(f"two types report themselves as {reported}")
            for state in gtype.states:
                if self._kinds.setdefault(state.name, state.kind) != state.kind:
                    raise ValueError(f"state {state.name} has two kinds")
                if state.reported and self._state_names.setdefault(state.reported, state.name) != state.name:
                    raise ValueError(f"reported state {state.reported} is spelled two ways")

    def adding(self, *types: GroupType) -> GroupTypes:
        return GroupTypes((*self.types, *types), self.fallback, self.unrecognised)

    def group_type(self, reported: Any, protocol: str | None = None) -> GroupType:
        """The type a listing reports (the admin API's enum or the broker's own name, any case);
        a protocol type a module claims (Connect's "connect") wins over it.

        No type named (old brokers, confluent-kafka's UNKNOWN): the fallback, read as a consumer
        group. A type named that no module knows: listed with its state only, never described
        with another type's calls (a DescribeGroups of a share group only earns an error).
        """
        if protocol is not None and protocol in self._by_protocol:
            return self._by_protocol[protocol]
        name = reported_name(reported)
        if name is None:
            return self.fallback
        return self._by_reported.get(name.upper(), self.unrecognised)

    def _seen(self, kind: str, reported: Any, lookup: Any) -> str | None:
        """A lookup's answer for a value met before (tens of thousands of groups a cycle, few values)."""
        try:
            return self._names_seen[(kind, reported)]
        except KeyError:
            answer = self._names_seen[(kind, reported)] = lookup(reported)
            return answer
        except TypeError:  # not hashable
            return lookup(reported)

    def type_name(self, reported: Any) -> str | None:
        """ConsumerGroupType.CLASSIC -> "classic"; an unregistered name as given; UNKNOWN -> None."""
        return self._seen("type", reported, self._type_name)

    def _type_name(self, reported: Any) -> str | None:
        name = reported_name(reported)
        if name is None:
            return None
        gtype = self._by_reported.get(name.upper())
        return gtype.name if gtype is not None else name

    def state_name(self, reported: Any) -> str | None:
        """ConsumerGroupState.STABLE -> "Stable" (Kafka's spelling); an unregistered name as given;
        UNKNOWN and None -> None."""
        return self._seen("state", reported, self._state_name)

    def _state_name(self, reported: Any) -> str | None:
        name = reported_name(reported)
        return None if name is None else self._state_names.get(name, name)

    @property
    def states(self) -> tuple[str, ...]:
        """Every state of every type, in registration order, Unknown last."""
        return (*self._kinds, UNKNOWN_STATE)

    @property
    def reported_states(self) -> Mapping[str, str]:
        """The admin API's state names -> Kafka's spelling."""
        return MappingProxyType(self._state_names)

    @property
    def state_kinds(self) -> Mapping[str, str]:
        """Kafka's spelling -> how pages show the state (GroupState.kind)."""
        return MappingProxyType(self._kinds)


GROUP_TYPES = GroupTypes((CLASSIC, CONSUMER, SHARE, STREAMS, CONNECT))

GROUP_STATES: tuple[str, ...] = GROUP_TYPES.states
GROUP_TYPE_NAMES: tuple[str, ...] = tuple(dict.fromkeys(t.name for t in GROUP_TYPES.types if t.name))
REPORTED_STATES: Mapping[str, str] = GROUP_TYPES.reported_states
# The states the admin API can report today: what a state filter offers.
REPORTED_STATE_NAMES: tuple[str, ...] = tuple(dict.fromkeys(REPORTED_STATES.values()))
STATE_KINDS: Mapping[str, str] = GROUP_TYPES.state_kinds


def state_name(reported: Any) -> str:
    """The registered types' spelling of a reported state; Unknown when the admin API did not name it."""
    return GROUP_TYPES.state_name(reported) or UNKNOWN_STATE
