"""The dry run: per partition the current and the new offset and the lag change, and whether Kafka
will take them now. Changes nothing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka.admin import AdminClient

from kafka_admin.config import ClusterConfig
from kafka_admin.offset_reset.reading import GroupReader, ResetMember
from kafka_admin.offset_reset.spec import (
    MAX_PARTITIONS,
    RESETTABLE_STATES,
    TP,
    InvalidReset,
    ResetSpec,
    lag,
    target_offset,
)


@dataclass(frozen=True)
class ResetRow:
    topic: str
    partition: int
    current: int | None
    new: int
    log_start: int
    log_end: int
    lag_before: int | None
    lag_after: int
    note: str | None = None

    @property
    def changes(self) -> bool:
        return self.current != self.new

    def as_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "partition": self.partition,
            "current": self.current,
            "new": self.new,
            "log_start": self.log_start,
            "log_end": self.log_end,
            "lag_before": self.lag_before,
            "lag_after": self.lag_after,
            "note": self.note,
        }


@dataclass(frozen=True)
class ResetPlan:
    group_id: str
    state: str
    members: tuple[ResetMember, ...]
    rows: tuple[ResetRow, ...]
    errors: tuple[str, ...] = ()
    blocked_reason: str | None = None
    spec: ResetSpec | None = None
    group_type: str | None = None

    @property
    def can_apply(self) -> bool:
        return self.blocked_reason is None and not self.errors and bool(self.rows)

    @property
    def changed(self) -> int:
        return sum(1 for r in self.rows if r.changes)

    @property
    def lag_before(self) -> int:
        return sum(r.lag_before or 0 for r in self.rows)

    @property
    def lag_after(self) -> int:
        return sum(r.lag_after for r in self.rows)


def blocked_reason(state: str, members: Sequence[ResetMember]) -> str | None:
    """Why Kafka will not take new offsets for this group now; None when it will."""
    if members:
        shown = ", ".join(f"{m.client_id or '(no client id)'} on {m.host or '?'}" for m in members[:20])
        more = f" and {len(members) - 20} more" if len(members) > 20 else ""
        noun = "active member" if len(members) == 1 else "active members"
        return (
            f"the group has {len(members)} {noun}: {shown}{more}; stop them first "
            "(Kafka changes a group's offsets only while it has no active members)"
        )
    if state not in RESETTABLE_STATES:
        return (
            f"the group is {state}; Kafka resets offsets only of an Empty or Dead group "
            "(wait until its members have left, then try again)"
        )
    return None


def plan_reset(
    config: ClusterConfig,
    group_id: str,
    partitions: Sequence[TP | tuple[str, None] | str] | None,
    spec: ResetSpec,
    *,
    admin: AdminClient | None = None,
) -> ResetPlan:
    """The dry run: per partition the current and the new offset and the lag change. Changes nothing.

    partitions: None = every partition the group has committed offsets for; a topic name alone (or
    (topic, None)) = every partition of that topic. Raises InvalidReset for an unknown group, an
    unknown topic, a partition that does not exist. Broker read failures land in plan.errors.
    """
    if not group_id or len(group_id) > 1000:
        raise InvalidReset("a consumer group id is required")
    reader = GroupReader(config, admin)
    state, gtype, members, committed = reader.group(group_id)
    if state == "Dead" and not committed and not members:
        raise InvalidReset(f"consumer group {group_id!r} does not exist (no members, no committed offsets)")
    if partitions is None:
        selected = sorted(committed)
        if not selected:
            raise InvalidReset(f"consumer group {group_id!r} has no committed offsets; name the topics to reset")
    else:
        selected = expand_partitions(reader.metadata(), partitions)
    if not selected:
        raise InvalidReset("no partitions selected")
    errors: list[str] = []
    starts, ends = reader.watermarks(selected, errors)
    at_time: dict[TP, int] = {}
    if spec.to == "timestamp":
        at_time = reader.offsets_at(selected, int(spec.value or 0), errors)
    rows = []
    for tp in selected:
        start, end = starts.get(tp), ends.get(tp)
        if start is None or end is None:
            continue  # its error is already in errors
        current = committed.get(tp)
        new, note = target_offset(spec, current, start, end, at_time.get(tp))
        if new is None:
            errors.append(f"{tp[0]}/{tp[1]}: {note}")
            continue
        rows.append(ResetRow(tp[0], tp[1], current, new, start, end, lag(current, end), end - new, note))
    return ResetPlan(
        group_id=group_id,
        state=state,
        members=members,
        rows=tuple(rows),
        errors=tuple(errors),
        blocked_reason=blocked_reason(state, members),
        spec=spec,
        group_type=gtype,
    )


def expand_partitions(metadata: dict[str, int], selection: Iterable[TP | tuple[str, None] | str]) -> list[TP]:
    """Topic names and (topic, partition) pairs -> sorted, unique (topic, partition) pairs, checked
    against metadata (topic -> partition count). Unknown topics and partitions raise InvalidReset."""
    out: set[TP] = set()
    for item in selection:
        topic, partition = (item, None) if isinstance(item, str) else item
        count = metadata.get(topic)
        if count is None:
            raise InvalidReset(f"topic {topic!r} does not exist")
        if partition is None:
            out.update((topic, p) for p in range(count))
        elif not 0 <= partition < count:
            last = f"0-{count - 1}" if count > 1 else "0"
            raise InvalidReset(f"topic {topic!r} has no partition {partition} (it has {count}: {last})")
        else:
            out.add((topic, partition))
        if len(out) > MAX_PARTITIONS:
            raise InvalidReset(f"too many partitions (at most {MAX_PARTITIONS})")
    return sorted(out)


def expand_topics(config: ClusterConfig, selection: Iterable[TP | tuple[str, None] | str]) -> list[TP]:
    """The same expansion against the cluster's current metadata (one Metadata request)."""
    return expand_partitions(GroupReader(config).metadata(), selection)


def read_group(config: ClusterConfig, group_id: str) -> tuple[str, tuple[ResetMember, ...], dict[TP, int]]:
    """(state, members, committed offsets) of a group, read now: what the reset form offers."""
    state, _, members, committed = GroupReader(config).group(group_id)
    return state, members, committed
