"""Kafka Connect worker groups: classic groups with protocol type "connect" (distributed workers).

The admin client refuses to describe them ("not a consumer group"), so DescribeGroups goes over
the codec once per coordinator and the members' metadata and assignments are read as Connect
writes them (protocol/connect_protocol.py). With incremental cooperative rebalancing (Connect's
default since 2.3) an assignment holds only what the last rebalance changed; what a worker runs is
the allocation in its member metadata, minus what was revoked, plus what was assigned. A
connector's own instance is task -1 there; it is shown as the connector.

This type is claimed by the protocol type, not by the group type (registry: GroupType.protocols).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kafka_admin.protocol import connect_protocol as cp
from kafka_admin.protocol import messages
from kafka_admin.protocol.wire import DecodeError
from kafka_admin.snapshot.connect_model import ConnectInfo, ConnectWorker
from kafka_admin.snapshot.groups.base import LISTING_ONLY, Ends, GroupCycle, GroupType, ListedGroup
from kafka_admin.snapshot.groups.share_reads import describe_error
from kafka_admin.snapshot.model import Group, Member

Owned = set[tuple[str, int]]


def owned(entries: list[dict[str, Any]] | None) -> Owned:
    return {(e["connector"], t) for e in entries or () for t in e["tasks"]}


def worker_of(member: dict[str, Any]) -> tuple[ConnectWorker, dict[str, Any] | None]:
    state = cp.worker_state(member["member_metadata"]) or {}
    current = cp.assignment(member["member_assignment"])
    before = cp.assignment(state.get("allocation")) if state.get("allocation") else None
    runs = owned(before["assignment"]) if before else set()
    if current is not None:
        runs = (runs - owned(current["revoked"])) | owned(current["assignment"])
    worker = ConnectWorker(
        member["member_id"],
        state.get("url"),
        tuple(sorted(c for c, t in runs if t == cp.CONNECTOR_TASK)),
        tuple(sorted((c, t) for c, t in runs if t != cp.CONNECTOR_TASK)),
    )
    return worker, current


def build_connect_group(cycle: GroupCycle, listed: ListedGroup, desc: dict[str, Any] | None, node: int | None) -> Group:
    gid, state = listed.group_id, listed.state
    if desc is None or desc["error_code"]:
        if desc is not None:
            cycle.error("group", gid, describe_error(desc, "DescribeGroups"))
        return Group(gid, state, listed.type, coordinator=node, protocol=listed.protocol)
    workers, members, leader = [], [], None
    for m in desc["members"]:
        try:
            worker, current = worker_of(m)
        except DecodeError as exc:
            cycle.error("group", f"{gid} {m['member_id']}", f"Connect member data not understood: {exc}")
            continue
        workers.append(worker)
        members.append(Member(m["member_id"], m["client_id"], m["client_host"], (), m["group_instance_id"]))
        leader = leader or current
    info = ConnectInfo(
        leader["leader"] if leader else None,
        leader["leader_url"] if leader else None,
        leader["config_offset"] if leader else None,
        desc["protocol_data"] or None,
        tuple(workers),
    )
    return Group(
        gid,
        desc["group_state"] or state,
        listed.type,
        coordinator=node,
        members=tuple(members),
        protocol=listed.protocol,
        connect=info,
    )


class ConnectGroupReads:
    def read(self, cycle: GroupCycle, groups: Sequence[ListedGroup], ends: Ends) -> list[Group]:
        client = cycle.protocol
        ids = [g.group_id for g in groups]
        before = client.requests
        try:
            unsupported = client.supports(messages.DESCRIBE_GROUPS, cycle.remaining())
            if unsupported is not None:
                cycle.error("groups", "connect", f"Connect groups listed only: {unsupported}")
                return LISTING_ONLY.read(cycle, groups, ends)
            found = client.coordinators(ids, cycle.remaining())
            described, failed = client.describe_groups(ids, cycle.remaining(), found)
        except Exception as exc:  # noqa: BLE001 - the listing stands, the reason is recorded
            cycle.error("groups", "connect", f"Connect groups listed only: {exc}")
            return LISTING_ONLY.read(cycle, groups, ends)
        finally:
            cycle.requests += client.requests - before
        for gid, message in failed.items():
            cycle.error("group", gid, message)
        by_id = {d["group_id"]: d for d in described}
        return [build_connect_group(cycle, g, by_id.get(g.group_id), found[0].get(g.group_id)) for g in groups]


CONNECT = GroupType(
    name="classic",
    reported=(),
    states=(),  # a classic group's: CLASSIC declares them
    reads=ConnectGroupReads(),
    protocols=("connect",),
    about="Kafka Connect worker groups (classic, protocol type connect): workers, connectors, tasks",
    reset_refused=(
        "A Connect worker group commits no offsets: it only shares connectors and tasks among the workers. "
        "A sink connector reads through a consumer group of its own (connect-<connector name> by default): "
        "stop the connector (PUT /connectors/<name>/stop) and reset its offsets with Connect's REST API "
        "(PATCH or DELETE /connectors/<name>/offsets), or reset that consumer group here while the connector "
        "is stopped. A source connector's offsets live in the workers' offsets topic: use the same REST calls."
    ),
)
