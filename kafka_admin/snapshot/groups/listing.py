"""Which groups a cycle reads: the admin API's listing joined with the codec's ListGroups.

confluent-kafka 2.16 lists only classic and consumer groups (share and streams groups are not in
its answer at all) and names the KIP-848 states Assigning and Reconciling UNKNOWN. The codec's
ListGroups v5 asks every broker for every type, with the broker's own spelling of state and type
and the protocol type. Where both list a group, the broker's words win; a group either lists is
kept. When the codec cannot list (a broker before ListGroups v5 says no type; an unreachable
broker), the cycle goes on with the admin listing and says why in the snapshot's errors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kafka_admin.protocol.client import BrokerListing, ListResult
from kafka_admin.snapshot.groups.base import UNKNOWN_STATE, GroupCycle, GroupType, ListedGroup
from kafka_admin.snapshot.groups.registry import GroupTypes


def broker_listing(cycle: GroupCycle, brokers: Mapping[int, tuple[str, int]]) -> ListResult | None:
    """The codec's listing of every group, or None (recorded as a "groups" error) when it failed."""
    before = cycle.protocol.requests
    try:
        result = cycle.protocol.list_groups(cycle.remaining(), nodes=brokers)
    except Exception as exc:  # noqa: BLE001 - any failure: the admin listing stands alone
        cycle.error("groups", "types", f"share and streams groups not listed: {exc}")
        return None
    finally:
        cycle.requests += cycle.protocol.requests - before
    for message in result.errors:
        cycle.error("groups", "types", f"ListGroups: {message}")
    if result.version is not None and result.version < 5:
        cycle.error(
            "groups",
            "types",
            f"the broker answers ListGroups v{result.version} (group types need v5, Kafka 3.7+): types not known",
        )
    return result


def listed_groups(
    types: GroupTypes, admin: Iterable[Any], broker: ListResult | None
) -> list[tuple[ListedGroup, GroupType]]:
    """One ListedGroup (and the type that reads it) per group id either listing names, in id order."""
    from_admin = {g.group_id: g for g in admin}
    from_broker: dict[str, BrokerListing] = {g.group_id: g for g in broker.groups} if broker else {}
    out = []
    for gid in sorted(from_admin.keys() | from_broker.keys()):
        listing = from_admin.get(gid)
        known = from_broker.get(gid)
        state = types.state_name(listing.state) if listing is not None else None
        reported_type = getattr(listing, "type", None)
        type_name = types.type_name(reported_type)
        protocol = None
        if known is not None:
            state = known.state or state
            if known.type:
                reported_type, type_name = known.type, types.type_name(known.type)
            protocol = known.protocol_type
        group = ListedGroup(gid, listing if listing is not None else known, state or UNKNOWN_STATE, type_name, protocol)
        out.append((group, types.group_type(reported_type, protocol)))
    return out
