"""Derived figures per cycle: produce rates, commit rates, time lag, lag trend, time to catch up.

A FigureTracker is owned by one poller and fed every snapshot in order; it keeps the small
in-memory windows the figures need (end-offset timelines per partition, recent lag per group)
and returns an immutable ClusterFigures that readers take from the store with the snapshot.
Memory stays bounded: timelines hold at most `timeline_points` points, rate windows cover
`rate_window_s`, and the lag window is thinned to at most `LAG_POINTS` points per group.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from kafka_admin.figures.rates import CatchUp, Trend, catch_up_eta, in_noise_band, rate, trend
from kafka_admin.figures.share_status import ShareSample, evaluate_share_partition, push_share
from kafka_admin.figures.status import (
    DEFAULT_MIN_SAMPLES,
    DEFAULT_WINDOW_SAMPLES,
    GroupStatus,
    PartitionStatus,
    Run,
    Sample,
    advance,
    evaluate_group,
    evaluate_partition,
    evaluate_steady,
    poll_interval,
)
from kafka_admin.figures.timelag import (
    REASON_CAUGHT_UP,
    REASON_NO_HISTORY,
    REASON_NO_OFFSET,
    OffsetTimeline,
    TimeLag,
    exact_time_lag,
    group_time_lag,
    time_lag,
)
from kafka_admin.figures.window import SampleWindow
from kafka_admin.snapshot.model import ClusterSnapshot, Group, RecordTime

LAG_POINTS = 60
TP = tuple[str, int]


@dataclass(frozen=True, slots=True)
class TopicFigures:
    produce_rate: float | None
    partition_rates: dict[int, float | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GroupFigures:
    time_lag: TimeLag
    commit_rate: float | None
    produce_rate: float | None
    trend: Trend
    catch_up: CatchUp
    lag_history: tuple[tuple[float, int], ...]
    partition_time_lags: dict[TP, TimeLag] = field(default_factory=dict)
    status: GroupStatus | None = None
    partition_statuses: dict[TP, PartitionStatus] = field(default_factory=dict)
    # A few records (or seconds of production) behind: healthy, drawn neutral (rates.in_noise_band).
    within_noise: bool = False


@dataclass(frozen=True, slots=True)
class ClusterFigures:
    at: float
    topics: dict[str, TopicFigures]
    groups: dict[str, GroupFigures]

    @property
    def produce_rate(self) -> float | None:
        """Records/s into the cluster's own topics: Kafka's (`__consumer_offsets`, ...) are bookkeeping."""
        own = [t for name, t in self.topics.items() if not name.startswith("__")]
        rates = [t.produce_rate for t in own if t.produce_rate is not None]
        return sum(rates) if rates else None

    @property
    def produce_rate_with_internal(self) -> float | None:
        rates = [t.produce_rate for t in self.topics.values() if t.produce_rate is not None]
        return sum(rates) if rates else None


EMPTY = ClusterFigures(0.0, {}, {})


class FigureTracker:
    """The per-cluster windows behind the derived figures; call update() once per snapshot."""

    def __init__(
        self,
        trend_window_s: float = 900.0,
        rate_window_s: float = 60.0,
        timeline_points: int = 60,
        status_samples: int = DEFAULT_WINDOW_SAMPLES,
        status_min_samples: int = DEFAULT_MIN_SAMPLES,
    ) -> None:
        self.trend_window_s = trend_window_s
        self.status_samples = status_samples
        self.status_min_samples = status_min_samples
        self._windows: dict[tuple[str, str, int], SampleWindow] = {}
        self._intervals: dict[bytes, float] = {}  # a window's median poll interval by its times, this cycle
        self._runs: dict[tuple[str, str, int], Run] = {}
        self._resets: dict[str, tuple[float, ...]] = {}
        self.rate_window_s = rate_window_s
        self.timeline_points = timeline_points
        self._timelines: dict[TP, OffsetTimeline] = {}
        self._ends: dict[TP, deque[tuple[float, int]]] = {}
        self._committed: dict[str, dict[TP, int]] = {}
        self._progress: dict[str, deque[tuple[float, int]]] = {}
        self._progress_total: dict[str, int] = {}
        self._lags: dict[str, deque[tuple[float, int]]] = {}
        self._share_windows: dict[tuple[str, str, int], deque[ShareSample]] = {}

    # -- seeding from stored history (so a restart does not start from nothing) -----------------
    def seed_topic(self, topic: str, t: float, ends: dict[int, int]) -> None:
        for partition, end in ends.items():
            self._add_end((topic, partition), t, end)

    def seed_group_lag(self, group_id: str, t: float, lag: int) -> None:
        self._add_lag(group_id, t, lag)

    def seed_group_offsets(self, group_id: str, t: float, rows: dict[str, list[list[int | None]]]) -> None:
        """Refill the status windows from a stored sample ({topic: [[partition, committed, end], ...]};
        a share group's rows are [partition, start offset, end, lag])."""
        for topic, parts in rows.items():
            for row in parts:
                key = (group_id, topic, row[0])
                if len(row) == 4:
                    window = self._share_windows.setdefault(key, deque())
                    push_share(window, ShareSample(t, row[1], row[2], row[3]), self.status_samples)
                else:
                    self._add_sample(key, Sample(t, row[1], row[2]))

    def note_resets(self, resets: Iterable[tuple[str, float]]) -> None:
        """The offset resets the dashboard made itself, as (group, unix time): their drops are no REWIND.
        Replaces the previous set; call it before update() with the resets of the last hour or so."""
        by_group: dict[str, list[float]] = {}
        for group_id, t in resets:
            by_group.setdefault(group_id, []).append(t)
        self._resets = {gid: tuple(sorted(ts)) for gid, ts in by_group.items()}

    # -- the cycle -------------------------------------------------------------------------------
    def update(self, snapshot: ClusterSnapshot) -> ClusterFigures:
        if not snapshot.reachable:
            return EMPTY
        now = snapshot.collected_at.timestamp()
        topics = {}
        partition_rates: dict[TP, float | None] = {}
        seen: set[TP] = set()
        for topic in snapshot.topics:
            rates: dict[int, float | None] = {}
            for p in topic.partitions:
                if p.end_offset is None:
                    continue
                tp = (topic.name, p.partition)
                seen.add(tp)
                self._add_end(tp, now, p.end_offset)
                rates[p.partition] = partition_rates[tp] = rate(self._ends[tp], self.rate_window_s, now)
            known = [r for r in rates.values() if r is not None]
            topics[topic.name] = TopicFigures(sum(known) if known else None, rates)
        self._forget_partitions(seen)
        self._intervals.clear()
        exact = {(r.topic, r.partition, r.offset): r for r in snapshot.record_times}
        groups = {g.group_id: self._group(g, now, partition_rates, exact) for g in snapshot.groups}
        self._forget_groups(groups)
        return ClusterFigures(now, topics, groups)

    def _group(
        self,
        g: Group,
        now: float,
        partition_rates: dict[TP, float | None],
        exact: dict[tuple[str, int, int], RecordTime],
    ) -> GroupFigures:
        per_partition = {
            (t, p): self._time_lag(t, p, offset, end, lag, now, exact) for t, p, offset, end, lag in _next(g)
        }
        commit_rate = self._commit_rate(g, now)
        produced = [partition_rates.get(tp) for tp in per_partition]
        known = [r for r in produced if r is not None]
        produce_rate = sum(known) if known else None
        statuses = self._share_statuses(g, now) if g.share_partitions else self._statuses(g, now)
        self._add_lag(g.group_id, now, g.total_lag)
        lags = self._lags[g.group_id]
        return GroupFigures(
            time_lag=group_time_lag(per_partition.values()),
            commit_rate=commit_rate,
            produce_rate=produce_rate,
            trend=trend(list(lags), self.trend_window_s),
            catch_up=catch_up_eta(g.total_lag, commit_rate, produce_rate),
            lag_history=tuple(lags),
            partition_time_lags=per_partition,
            status=evaluate_group(statuses),
            partition_statuses=statuses,
            within_noise=g.total_lag > 0 and in_noise_band(g.total_lag, produce_rate),
        )

    def _time_lag(
        self,
        topic: str,
        partition: int,
        offset: int | None,
        end: int | None,
        lag: int | None,
        now: float,
        exact: dict[tuple[str, int, int], RecordTime],
    ) -> TimeLag:
        """Seconds behind at `offset` (committed, or a share partition's start offset): the record's
        own timestamp when the collector read it, else the timeline's estimate."""
        if offset is None:
            return TimeLag(None, False, REASON_NO_OFFSET)
        record = exact.get((topic, partition, offset))
        exact_lag = exact_time_lag(record, now) if record is not None and (lag or 0) > 0 else None
        if exact_lag is not None:
            return exact_lag  # the record's own timestamp beats any estimate
        if lag == 0:
            return TimeLag(0.0, False, REASON_CAUGHT_UP)
        timeline = self._timelines.get((topic, partition))
        if timeline is None:
            return TimeLag(None, False, REASON_NO_HISTORY)
        return time_lag(timeline, offset, end, now)

    def _statuses(self, g: Group, now: float) -> dict[TP, PartitionStatus]:
        """Lag status per committed partition over its window of samples (kafka_admin/figures/status.py)."""
        owned = {(a.topic, a.partition) for m in g.members for a in m.assignments}
        resets = self._resets.get(g.group_id, ())
        out = {}
        for o in g.offsets:
            key = (g.group_id, o.topic, o.partition)
            window = self._add_sample(key, Sample(now, o.committed, o.end_offset))
            run = self._runs.get(key)
            steady = window.steady()
            if steady is not None and run is not None and run.committed == steady[0]:
                # No commit across the window (most partitions, most cycles): judged from a few numbers.
                out[(o.topic, o.partition)] = evaluate_steady(
                    len(window),
                    *steady,
                    min_samples=self.status_min_samples,
                    now=now,
                    has_owner=(o.topic, o.partition) in owned,
                    run=run,
                    poll_interval=lambda w=window: self._poll_interval(w),
                )
                continue
            out[(o.topic, o.partition)] = evaluate_partition(
                window,
                min_samples=self.status_min_samples,
                now=now,
                has_owner=(o.topic, o.partition) in owned,
                run=run,
                resets=resets,
            )
        return out

    def _poll_interval(self, window: SampleWindow) -> float:
        """The window's median gap between samples, computed once per cycle for windows of equal times."""
        key = window.times.tobytes()
        found = self._intervals.get(key)
        if found is None:
            found = self._intervals[key] = poll_interval(window.times)
        return found

    def _share_statuses(self, g: Group, now: float) -> dict[TP, PartitionStatus]:
        """A share group's partitions judged by their own rules (kafka_admin/figures/share_status.py)."""
        owned = {(a.topic, a.partition) for m in g.members for a in m.assignments}
        out = {}
        for p in g.share_partitions:
            key = (g.group_id, p.topic, p.partition)
            window = push_share(
                self._share_windows.setdefault(key, deque()),
                ShareSample(now, p.start_offset, p.end_offset, p.lag),
                self.status_samples,
            )
            out[(p.topic, p.partition)] = evaluate_share_partition(
                window,
                min_samples=self.status_min_samples,
                has_owner=(p.topic, p.partition) in owned,
                delivery_limit=g.delivery_count_limit,
            )
        return out

    def _add_sample(self, key: tuple[str, str, int], sample: Sample) -> SampleWindow:
        """Into the partition's status window and its run (which remembers beyond the window)."""
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = SampleWindow()
        window.push(sample, self.status_samples)
        run = advance(self._runs.get(key), sample)
        if run is not None:
            self._runs[key] = run
        return window

    def _commit_rate(self, g: Group, now: float) -> float | None:
        """Records/s committed: progress summed over partitions present in consecutive cycles."""
        current = {(o.topic, o.partition): o.committed for o in g.offsets}
        previous = self._committed.get(g.group_id, {})
        moved = sum(max(0, c - previous[tp]) for tp, c in current.items() if tp in previous)
        total = self._progress_total.get(g.group_id, 0) + moved
        self._progress_total[g.group_id] = total
        self._committed[g.group_id] = current
        window = self._progress.setdefault(g.group_id, deque())
        window.append((now, total))
        while window and window[0][0] < now - self.rate_window_s - 1:
            window.popleft()
        return rate(window, self.rate_window_s, now)

    def _add_end(self, tp: TP, t: float, end: int) -> None:
        timeline = self._timelines.get(tp)
        if timeline is None:
            timeline = self._timelines[tp] = OffsetTimeline(self.timeline_points)
        timeline.add(end, t)
        ends = self._ends.setdefault(tp, deque())
        ends.append((t, end))
        while ends and ends[0][0] < t - self.rate_window_s - 1:
            ends.popleft()

    def _add_lag(self, group_id: str, t: float, lag: int) -> None:
        """Keep about LAG_POINTS points over the trend window (thinned, newest always kept)."""
        lags = self._lags.setdefault(group_id, deque())
        spacing = self.trend_window_s / LAG_POINTS
        if len(lags) >= 2 and lags[-1][0] - lags[-2][0] < spacing:
            lags[-1] = (t, lag)
        else:
            lags.append((t, lag))
        while lags and lags[0][0] < t - self.trend_window_s:
            lags.popleft()

    def _forget_partitions(self, seen: set[TP]) -> None:
        for tp in [tp for tp in self._timelines if tp not in seen]:
            self._timelines.pop(tp, None)
            self._ends.pop(tp, None)

    def _forget_groups(self, groups: dict[str, GroupFigures]) -> None:
        def kept(gid: str) -> dict[TP, PartitionStatus]:
            return groups.get(gid, _NO_GROUP).partition_statuses

        for store in (self._committed, self._progress, self._progress_total, self._lags):
            for gid in [gid for gid in store if gid not in groups]:
                del store[gid]
        for key in [k for k in self._windows if (k[1], k[2]) not in kept(k[0])]:
            del self._windows[key]
            self._runs.pop(key, None)
        for key in [k for k in self._share_windows if (k[1], k[2]) not in kept(k[0])]:
            del self._share_windows[key]


def _next(g: Group) -> list[tuple[str, int, int | None, int | None, int | None]]:
    """(topic, partition, next offset, end offset, lag) per partition: a consumer group's committed
    offsets; a share group's start offsets (its oldest unacknowledged record) with the records
    not yet acknowledged."""
    if g.share_partitions:
        return [(p.topic, p.partition, p.start_offset, p.end_offset, p.waiting) for p in g.share_partitions]
    return [(o.topic, o.partition, o.committed, o.end_offset, o.lag) for o in g.offsets]


_NO_GROUP = GroupFigures(TimeLag(None, False, ""), None, None, Trend(None, "unknown", 0), CatchUp(None, ""), ())
