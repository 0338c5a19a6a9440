"""Share groups' delivery count limits, read at most once a minute per group.

The limit (`share.delivery.count.limit`, the group's own config or the broker's default
`group.share.delivery.count.limit`) changes when an operator changes it, not from cycle to cycle:
reading it each cycle cost one DescribeConfigs of every share group's configs (34 ms for 102
groups, docs/group-types.md). The collector keeps one DeliveryLimits across cycles (GroupCycle.memo);
a group met for the first time is read at once, every other one again when its answer is older
than `ttl_s`. A failed read is not kept: it is tried again the next cycle.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from confluent_kafka.admin import ConfigResource, ResourceType

from kafka_admin.snapshot.groups.base import GroupCycle

DELIVERY_COUNT_LIMIT = "share.delivery.count.limit"
TTL_S = 60.0
MEMO_KEY = "share.delivery_count_limits"


@dataclass
class DeliveryLimits:
    """Per group: (the limit or None when the broker names none, when it was read)."""

    ttl_s: float = TTL_S
    clock: Callable[[], float] = time.monotonic
    reads: int = 0  # DescribeConfigs requests sent (the tests and the bench count them)
    _known: dict[str, tuple[int | None, float]] = field(default_factory=dict)

    def limits(self, cycle: GroupCycle, ids: Sequence[str]) -> dict[str, int]:
        """The limit of each group in `ids` that has one; stale or unknown groups read in one request."""
        now = self.clock()
        due = [gid for gid in ids if gid not in self._known or now - self._known[gid][1] >= self.ttl_s]
        if due:
            self._known.update({gid: (limit, now) for gid, limit in self._read(cycle, due).items()})
        wanted = set(ids)
        self._known = {gid: v for gid, v in self._known.items() if gid in wanted}  # gone groups forgotten
        return {gid: limit for gid, (limit, _) in self._known.items() if limit is not None}

    def _read(self, cycle: GroupCycle, ids: list[str]) -> dict[str, int | None]:
        """One DescribeConfigs for `ids`; a group left out of the answer is read again next cycle."""
        self.reads += 1
        cycle.requests += 1
        out: dict[str, int | None] = {}
        try:
            futures = cycle.admin.describe_configs(
                [ConfigResource(ResourceType.GROUP, gid) for gid in ids], request_timeout=cycle.remaining()
            )
            for resource, future in futures.items():
                entry = future.result(timeout=cycle.remaining()).get(DELIVERY_COUNT_LIMIT)
                out[resource.name] = int(entry.value) if entry is not None and entry.value is not None else None
        except Exception as exc:  # noqa: BLE001 - a missing limit is shown as unknown, said once
            cycle.error("groups", "share", f"delivery count limits not read: {exc}")
        return out


class HasMemo(Protocol):
    memo: dict[str, Any]


def delivery_limits(holder: HasMemo) -> DeliveryLimits:
    """The DeliveryLimits kept in a cycle's (or its collector's) memo, made on first use."""
    found = holder.memo.get(MEMO_KEY)
    if not isinstance(found, DeliveryLimits):
        found = holder.memo[MEMO_KEY] = DeliveryLimits()
    return found
