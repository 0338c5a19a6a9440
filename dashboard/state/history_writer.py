"""The poller's history writes: a group's or topic's row only when its offsets changed, or as a heartbeat.

Why: writing every group every cycle is 50,000 rows per 5 s cycle at 50,000 groups, nearly all of
them equal to the row before (an idle or stopped consumer commits nothing), and the minute tier then
keeps one of them per minute for a day. A value that did not change adds nothing a reader cannot
get from the previous row: the chart draws it as a flat line up to the next row (or to the latest
snapshot, dashboard.monitor.fragments.chart_context). A heartbeat row every HISTORY_HEARTBEAT_S
keeps time lag (which grows while the offsets stand still) on the chart and tells an outage
(no rows at all) from a quiet group. Figures per hour: bench/RESULTS.md ("Downstream at W4").

The writer remembers, per group and topic, the hash of what it last wrote and when: a few dozen
bytes per group. A new writer (a restart) writes everything once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from dashboard.state import history
from kafka_admin.snapshot.model import ClusterSnapshot, Group, Topic

T = TypeVar("T")


@dataclass(frozen=True)
class Written:
    groups: int
    topics: int
    groups_unchanged: int

    @property
    def rows(self) -> int:
        return self.groups + self.topics


class HistoryWriter:
    """One per poller: decides which rows of a cycle are worth writing, then writes them in batches."""

    def __init__(self, heartbeat_s: float) -> None:
        self.heartbeat_s = heartbeat_s
        self._groups: dict[str, tuple[int, float]] = {}  # group id -> (hash of its offsets, unix time written)
        self._topics: dict[str, tuple[int, float]] = {}

    def record(self, snapshot: ClusterSnapshot, time_lags: dict[str, float | None]) -> Written:
        if not snapshot.reachable:
            return Written(0, 0, 0)
        now = snapshot.collected_at.timestamp()
        groups = _due(self._groups, ((g.group_id, _group_key(g), g) for g in snapshot.groups), now, self.heartbeat_s)
        topics = _due(
            self._topics,
            ((t.name, _topic_key(t), t) for t in snapshot.topics if not t.internal),
            now,
            self.heartbeat_s,
        )
        history.write(snapshot, groups, topics, time_lags)
        return Written(len(groups), len(topics), len(snapshot.groups) - len(groups))

    def forget(self) -> None:
        """Write everything again next cycle (e.g. after the rows written may have been lost)."""
        self._groups.clear()
        self._topics.clear()


def _due(
    last: dict[str, tuple[int, float]], items: Iterable[tuple[str, int, T]], now: float, heartbeat_s: float
) -> list[T]:
    """The items whose key changed since their last row, or whose last row is a heartbeat old; updates `last`."""
    out = []
    seen = set()
    for name, key, item in items:
        seen.add(name)
        previous = last.get(name)
        if previous is not None and previous[0] == key and now - previous[1] < heartbeat_s:
            continue
        last[name] = (key, now)
        out.append(item)
    for name in [n for n in last if n not in seen]:  # deleted groups and topics
        del last[name]
    return out


def _group_key(g: Group) -> int:
    # PartitionOffsets and SharePartition are frozen dataclasses: hashable by value, in C for the tuple.
    return hash((g.offsets, g.share_partitions))


def _topic_key(t: Topic) -> int:
    return hash(tuple((p.partition, p.end_offset) for p in t.partitions))


def held(
    points: list[tuple[float, T]], *, interval_s: float, heartbeat_s: float, until: float, keep: int
) -> list[tuple[float, T]]:
    """Stored rows (oldest first) as the cycles saw them: each value repeated every interval until the
    next row, the last one until `until` (a restart's now), at most the last `keep` points.

    A gap longer than a heartbeat (plus two intervals of slack) is an outage, not a quiet group: it
    is left empty, as is the time after the last row once that gap has passed."""
    if not points or interval_s <= 0:
        return points[-keep:] if keep > 0 else []
    longest = (heartbeat_s if heartbeat_s > 0 else interval_s) + 2 * interval_s
    earliest = until - (keep + 1) * interval_s  # older copies fall out of the window anyway
    out: list[tuple[float, T]] = []
    for i, (t, value) in enumerate(points):
        out.append((t, value))
        end = points[i + 1][0] if i + 1 < len(points) else until
        if end - t > longest:
            continue
        step = t + interval_s
        if step < earliest:  # skip to the window without building what would be dropped
            step += ((earliest - step) // interval_s) * interval_s
        # A copy within half an interval of the next row would be one cycle seen twice.
        while step < end - interval_s / 2:
            out.append((step, value))
            step += interval_s
    return out[-keep:] if keep > 0 else []
