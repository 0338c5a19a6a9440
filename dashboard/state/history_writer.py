"""The poller's history writes: a group's or topic's row only when its offsets changed, or as a heartbeat.

Why: writing every group every cycle is 50,000 rows per 5 s cycle at 50,000 groups, nearly all of
them equal to the row before (an idle or stopped consumer commits nothing), and the minute tier then
keeps one of them per minute for a day. A value that did not change adds nothing a reader cannot
get from the previous row: the chart draws it as a flat line up to the next row (or to the latest
snapshot, dashboard.monitor.fragments.chart_context). A heartbeat row every HISTORY_HEARTBEAT_S
keeps time lag (which grows while the offsets stand still) on the chart and tells an outage
(no rows at all) from a quiet group. Figures per hour: bench/RESULTS.md ("Downstream at W4").

The writer remembers, per group and topic, the object it was last handed (the current snapshot's,
which the store holds anyway) and when it last wrote it. A new writer (a restart) writes everything once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import TypeVar

from dashboard.state import history
from kafka_admin.figures.results import ClusterFigures, GroupFigures
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
    """One per poller: decides which rows of a cycle are worth writing, then writes them in one transaction.

    What it compares is what it was handed last cycle: the collector hands an unchanged group or
    topic on as the same object (describe_cache.BuiltGroups, isolation/delta.py), so a cycle costs
    an identity check per group plus the work of the rows written; an object built anew is
    compared by value."""

    def __init__(self, heartbeat_s: float) -> None:
        self.heartbeat_s = heartbeat_s
        self._groups: dict[str, tuple[Group, float]] = {}  # group id -> (the group last seen, unix time written)
        self._topics: dict[str, tuple[Topic, float]] = {}

    def record(self, snapshot: ClusterSnapshot, time_lags: Mapping[str, float | None]) -> Written:
        """Write the groups and topics whose offsets changed or whose heartbeat is due; `time_lags`
        (group id -> seconds) is read only for the groups written (time_lags_of: no dict per cycle)."""
        if not snapshot.reachable:
            return Written(0, 0, 0)
        now = snapshot.collected_at.timestamp()
        groups = _due(self._groups, snapshot.groups, _group_id, _same_offsets, now, self.heartbeat_s)
        own_topics = [t for t in snapshot.topics if not t.internal]
        topics = _due(self._topics, own_topics, _topic_name, _same_ends, now, self.heartbeat_s)
        history.write(snapshot, groups, topics, time_lags)
        return Written(len(groups), len(topics), len(snapshot.groups) - len(groups))

    def forget(self) -> None:
        """Write everything again next cycle (e.g. after the rows written may have been lost)."""
        self._groups.clear()
        self._topics.clear()


class TimeLagSeconds(Mapping[str, "float | None"]):
    """Group id -> time lag seconds, read from the figures when asked: the writer asks only for the
    groups it writes, where a dict of every group cost a pass over all of them each cycle."""

    __slots__ = ("_groups",)

    def __init__(self, groups: Mapping[str, GroupFigures]) -> None:
        self._groups = groups

    def __getitem__(self, group_id: str) -> float | None:
        return self._groups[group_id].time_lag.seconds

    def __iter__(self) -> Iterator[str]:
        return iter(self._groups)

    def __len__(self) -> int:
        return len(self._groups)


def time_lags_of(figures: ClusterFigures) -> TimeLagSeconds:
    return TimeLagSeconds(figures.groups)


_group_id: Callable[[Group], str] = attrgetter("group_id")
_topic_name: Callable[[Topic], str] = attrgetter("name")


def _due(
    last: dict[str, tuple[T, float]],
    items: Sequence[T],
    name_of: Callable[[T], str],
    same: Callable[[T, T], bool],
    now: float,
    heartbeat_s: float,
) -> list[T]:
    """The items that changed since their last row (`same` says not), or whose last row is a heartbeat
    old; updates `last`. Names are unique within a snapshot (the collector keys groups and topics by them)."""
    out = []
    for item in items:
        name = name_of(item)
        previous = last.get(name)
        if previous is not None:
            seen, written_at = previous
            if now - written_at < heartbeat_s and (seen is item or same(seen, item)):
                if seen is not item:  # hold this cycle's object, not the one it replaced
                    last[name] = (item, written_at)
                continue
        last[name] = (item, now)
        out.append(item)
    if len(last) > len(items):  # deleted groups and topics: only then a pass over every name
        names = set(map(name_of, items))
        for name in [n for n in last if n not in names]:
            del last[name]
    return out


def _same_offsets(a: Group, b: Group) -> bool:
    # Frozen dataclasses compare by value; tuples compare an element to itself by identity first.
    return a.offsets == b.offsets and a.share_partitions == b.share_partitions


def _same_ends(a: Topic, b: Topic) -> bool:
    return a.partitions is b.partitions or _ends(a) == _ends(b)


def _ends(t: Topic) -> tuple[tuple[int, int | None], ...]:
    return tuple((p.partition, p.end_offset) for p in t.partitions)


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
