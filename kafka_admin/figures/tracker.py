"""Derived figures per cycle: produce rates, commit rates, time lag, lag trend, time to catch up.

A FigureTracker is owned by one poller and fed every snapshot in order; it keeps the small
in-memory windows the figures need (end-offset timelines per partition, recent lag per group)
and returns an immutable ClusterFigures that readers take from the store with the snapshot.
Memory stays bounded: timelines hold at most `timeline_points` points, rate windows cover
`rate_window_s`, and the lag window is thinned to at most `LAG_POINTS` points per group.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Iterable

from kafka_admin.figures.group_windows import GroupWindows
from kafka_admin.figures.quiet import (
    QuietGroup,
)
from kafka_admin.figures.quiet_cycle import QuietCycles
from kafka_admin.figures.rates import LazyTrend, catch_up_eta, in_noise_band, rate
from kafka_admin.figures.results import EMPTY, ClusterFigures, GroupFigures, TopicFigures
from kafka_admin.figures.series import LagWindow, PointWindow
from kafka_admin.figures.share_status import ShareSample, evaluate_share_partition, push_share
from kafka_admin.figures.status import (
    DEFAULT_MIN_SAMPLES,
    DEFAULT_WINDOW_SAMPLES,
    PartitionStatus,
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
    aged_time_lag,
    exact_time_lag,
    group_time_lag,
)
from kafka_admin.snapshot.model import ClusterSnapshot, Group, PartitionOffsets, RecordTime

LAG_POINTS = 60
TP = tuple[str, int]


class FigureTracker(QuietCycles):
    """The per-cluster windows behind the derived figures; call update() once per snapshot."""

    def __init__(
        self,
        trend_window_s: float = 900.0,
        rate_window_s: float = 60.0,
        timeline_points: int = 60,
        status_samples: int = DEFAULT_WINDOW_SAMPLES,
        status_min_samples: int = DEFAULT_MIN_SAMPLES,
        reuse_quiet: bool = True,
    ) -> None:
        self.reuse_quiet = reuse_quiet  # False: every group judged in full (the tests' reference)
        self.trend_window_s = trend_window_s
        self.status_samples = status_samples
        self.status_min_samples = status_min_samples
        # Each consumer group's status windows and runs, its partitions in compact arrays.
        self._groups: dict[str, GroupWindows] = {}
        self._intervals: dict[bytes, float] = {}  # a window's median poll interval by its times, this cycle
        self._resets: dict[str, tuple[float, ...]] = {}
        self.rate_window_s = rate_window_s
        self.timeline_points = timeline_points
        self._timelines: dict[TP, OffsetTimeline] = {}
        self._ends: dict[TP, deque[tuple[float, int]]] = {}
        self._committed: dict[str, tuple[PartitionOffsets, ...]] = {}  # each group's offsets last cycle
        self._progress: dict[str, PointWindow] = {}
        self._progress_total: dict[str, int] = {}
        self._lags: dict[str, LagWindow] = {}
        self._share_windows: dict[tuple[str, str, int], deque[ShareSample]] = {}
        # Which (topic, partition) share windows each group has, so forgetting visits the changed groups only.
        self._share_keys: dict[str, set[TP]] = {}
        # The quiet groups' bookkeeping (kafka_admin/figures/quiet.py).
        self._cycle = 0
        self._last_now: float | None = None
        self._recent: deque[float] = deque(maxlen=status_samples + 1)  # the last cycles' times
        self._serial = 0  # counts timeline changes; _topic_serial: each topic's latest
        self._topic_serial: dict[str, int] = {}
        self._quiet: dict[str, QuietGroup] = {}
        self._quiet_intervals: dict[tuple[bytes, int], float] = {}
        self._quiet_times: dict[bytes, bytes] = {}  # this cycle's window times, one object each
        self._tp_canon: dict[TP, TP] = {}  # one (topic, partition) tuple each, for the quiet groups

    # -- seeding from stored history (so a restart does not start from nothing) -----------------
    def seed_topic(self, topic: str, t: float, ends: dict[int, int]) -> None:
        for partition, end in ends.items():
            self._add_end((topic, partition), t, end)

    def seed_group_lag(self, group_id: str, t: float, lag: int) -> None:
        self._add_lag(group_id, t, lag)

    def seed_group_offsets(self, group_id: str, t: float, rows: dict[str, list[list[int | None]]]) -> None:
        """Refill the status windows from a stored sample ({topic: [[partition, committed, end], ...]};
        a share group's rows are [partition, start offset, end, lag])."""
        if group_id in self._quiet:
            self._wake(group_id)
        consumer: list[tuple[str, int, int | None, int | None]] = []
        for topic, parts in rows.items():
            for row in parts:
                if len(row) == 4:
                    window = self._share_window((group_id, topic, row[0]))
                    push_share(window, ShareSample(t, row[1], row[2], row[3]), self.status_samples)
                else:
                    consumer.append((topic, row[0], row[1], row[2]))
        if consumer:
            self._group_windows(group_id).push_rows(t, consumer)

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
        if self._last_now is not None and now <= self._last_now:
            self._wake_all()  # the same time again or a clock stepping back: push() decides, in full
        self._cycle += 1
        self._recent.append(now)
        serial = self._serial
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
            known_rates = [r for r in rates.values() if r is not None]
            topics[topic.name] = TopicFigures(sum(known_rates) if known_rates else None, rates)
        self._forget_partitions(seen, serial)
        self._intervals.clear()
        self._quiet_intervals.clear()
        self._quiet_times.clear()
        exact = {(r.topic, r.partition, r.offset): r for r in snapshot.record_times}
        exact_tps = {(t, p) for t, p, _ in exact}
        groups: dict[str, GroupFigures] = {}
        judged: list[str] = []
        for g in snapshot.groups:
            figures = self._quiet_figures(g, now, partition_rates, exact_tps) if self.reuse_quiet else None
            if figures is None:
                figures = self._group(g, now, partition_rates, exact, exact_tps)
                judged.append(g.group_id)
            groups[g.group_id] = figures
        self._forget_groups(groups, judged)
        self._last_now = now
        return ClusterFigures(now, topics, groups)

    def _group(
        self,
        g: Group,
        now: float,
        partition_rates: dict[TP, float | None],
        exact: dict[tuple[str, int, int], RecordTime],
        exact_tps: set[TP],
    ) -> GroupFigures:
        """A group judged in full, after its samples went in; or, when its windows turn out steady,
        quiet from now on (quiet_cycle.py) and judged as such, which gives the same figures."""
        commit_rate = self._commit_rate(g, now)
        if g.share_partitions:
            statuses = self._share_statuses(g, now)
            gw = self._groups.get(g.group_id)
            if gw is not None:
                gw.keep(statuses)  # a consumer group's windows a share group does not have go
        else:
            gw = self._group_windows(g.group_id)
            gw.push_offsets(now, g.offsets)
            q = self._enter(g, now, exact_tps) if self.reuse_quiet else None
            if q is not None:
                self._quiet[g.group_id] = q
                return self._quiet_group(q, g.group_id, now, partition_rates, commit_rate)
            statuses = self._statuses(g, now, gw)
        per_partition = {
            (t, p): self._time_lag(t, p, offset, end, lag, now, exact) for t, p, offset, end, lag in _next(g)
        }
        produced = [partition_rates.get(tp) for tp in per_partition]
        known = [r for r in produced if r is not None]
        produce_rate = sum(known) if known else None
        self._add_lag(g.group_id, now, g.total_lag)
        history = self._lags[g.group_id].frozen()
        return GroupFigures(
            time_lag=group_time_lag(per_partition.values()),
            commit_rate=commit_rate,
            produce_rate=produce_rate,
            trend=LazyTrend(history, self.trend_window_s),
            catch_up=catch_up_eta(g.total_lag, commit_rate, produce_rate),
            lag_history=history,
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
        return self._estimated(topic, partition, offset, end, lag, now)[0]

    def _estimated(
        self, topic: str, partition: int, offset: int | None, end: int | None, lag: int | None, now: float
    ) -> tuple[TimeLag, float | None]:
        """The timeline's time lag, and the time it counts from while the timeline stands (aged_time_lag)."""
        if offset is None:
            return TimeLag(None, False, REASON_NO_OFFSET), None
        if lag == 0:
            return TimeLag(0.0, False, REASON_CAUGHT_UP), None
        timeline = self._timelines.get((topic, partition))
        if timeline is None:
            return TimeLag(None, False, REASON_NO_HISTORY), None
        return aged_time_lag(timeline, offset, end, now)

    def _statuses(self, g: Group, now: float, gw: GroupWindows) -> dict[TP, PartitionStatus]:
        """Lag status per committed partition over its window of samples (kafka_admin/figures/status.py),
        `gw`'s slots those of g.offsets, in order, with this cycle's sample in."""
        owned = {(a.topic, a.partition) for m in g.members for a in m.assignments}
        resets = self._resets.get(g.group_id, ())
        out = {}
        for k, o in enumerate(g.offsets):
            tp = (o.topic, o.partition)
            steady = gw.steady(k)
            if steady is not None and gw.run_committed(k) == steady[0]:
                # No commit across the window (most partitions, most cycles): judged from a few numbers.
                run = gw.run(k)
                assert run is not None
                out[tp] = evaluate_steady(
                    gw.length(k),
                    *steady,
                    min_samples=self.status_min_samples,
                    now=now,
                    has_owner=tp in owned,
                    run=run,
                    poll_interval=lambda k=k: self._poll_interval(gw.window_times(k)),
                )
                continue
            out[tp] = evaluate_partition(
                gw.window(k),
                min_samples=self.status_min_samples,
                now=now,
                has_owner=tp in owned,
                run=gw.run(k),
                resets=resets,
            )
        return out

    def _poll_interval(self, times: array) -> float:
        """A window's median gap between samples, computed once per cycle for windows of equal times."""
        key = times.tobytes()
        found = self._intervals.get(key)
        if found is None:
            found = self._intervals[key] = poll_interval(times)
        return found

    def _share_statuses(self, g: Group, now: float) -> dict[TP, PartitionStatus]:
        """A share group's partitions judged by their own rules (kafka_admin/figures/share_status.py)."""
        owned = {(a.topic, a.partition) for m in g.members for a in m.assignments}
        out = {}
        for p in g.share_partitions:
            key = (g.group_id, p.topic, p.partition)
            window = push_share(
                self._share_window(key),
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

    def _share_window(self, key: tuple[str, str, int]) -> deque[ShareSample]:
        window = self._share_windows.get(key)
        if window is None:
            window = self._share_windows[key] = deque()
            self._share_keys.setdefault(key[0], set()).add((key[1], key[2]))
        return window

    def _group_windows(self, group_id: str) -> GroupWindows:
        """The group's status windows and runs (the runs remember beyond the windows)."""
        gw = self._groups.get(group_id)
        if gw is None:
            gw = self._groups[group_id] = GroupWindows(self.status_samples)
        return gw

    def _commit_rate(self, g: Group, now: float) -> float | None:
        """Records/s committed: progress summed over partitions present in consecutive cycles."""
        previous = self._committed.get(g.group_id)
        self._committed[g.group_id] = g.offsets  # the snapshot's own objects: no copy per partition
        if previous is None or previous is g.offsets:
            moved = 0
        elif len(previous) == len(g.offsets) and all(
            a.partition == b.partition and a.topic == b.topic for a, b in zip(previous, g.offsets, strict=True)
        ):
            moved = sum(max(0, b.committed - a.committed) for a, b in zip(previous, g.offsets, strict=True))
        else:
            before = {(o.topic, o.partition): o.committed for o in previous}
            current = {(o.topic, o.partition): o.committed for o in g.offsets}
            moved = sum(max(0, c - before[tp]) for tp, c in current.items() if tp in before)
        total = self._progress_total.get(g.group_id, 0) + moved
        self._progress_total[g.group_id] = total
        window = self._progress.get(g.group_id)
        if window is None:
            window = self._progress[g.group_id] = PointWindow()
        window.append(now, total)
        window.drop_before(now - self.rate_window_s - 1)
        return rate(window, self.rate_window_s, now)

    def _add_end(self, tp: TP, t: float, end: int) -> None:
        timeline = self._timelines.get(tp)
        if timeline is None:
            timeline = self._timelines[tp] = OffsetTimeline(self.timeline_points)
        version = timeline.version
        timeline.add(end, t)
        if timeline.version != version:
            self._serial += 1
            self._topic_serial[tp[0]] = self._serial
        ends = self._ends.setdefault(tp, deque())
        ends.append((t, end))
        while ends and ends[0][0] < t - self.rate_window_s - 1:
            ends.popleft()

    def _add_lag(self, group_id: str, t: float, lag: int) -> None:
        """Keep about LAG_POINTS points over the trend window (thinned, newest always kept)."""
        window = self._lags.get(group_id)
        if window is None:
            window = self._lags[group_id] = LagWindow()
        window.add(t, lag, self.trend_window_s / LAG_POINTS, self.trend_window_s)

    def _forget_partitions(self, seen: set[TP], serial: int) -> None:
        """Drop the timelines of partitions gone (a change for their topic's quiet groups), and the
        change serials of topics gone before this cycle."""
        for tp in [tp for tp in self._timelines if tp not in seen]:
            self._timelines.pop(tp, None)
            self._ends.pop(tp, None)
            self._serial += 1
            self._topic_serial[tp[0]] = self._serial
        canon = self._tp_canon
        for tp in [tp for tp in canon if tp not in seen]:
            del canon[tp]  # a quiet group still holding it keeps its own
        names = {t for t, _ in seen}
        for name in [t for t, s in self._topic_serial.items() if s <= serial and t not in names]:
            del self._topic_serial[name]

    def _forget_groups(self, groups: dict[str, GroupFigures], judged: list[str]) -> None:
        """State of groups gone, and the windows of partitions a judged group no longer has (a quiet
        group has the partitions it had)."""
        stores = (self._committed, self._progress, self._progress_total, self._lags, self._quiet, self._groups)
        for store in stores:
            for gid in [gid for gid in store if gid not in groups]:
                del store[gid]
        # A judged consumer group's windows are its partitions' already (GroupWindows.push_offsets).
        keys, windows = self._share_keys, self._share_windows
        for gid in [gid for gid in keys if gid not in groups]:
            for tp in keys.pop(gid):
                windows.pop((gid, *tp), None)
        for gid in judged:
            tps = keys.get(gid)
            if not tps:
                continue
            kept = groups[gid].partition_statuses
            for tp in [tp for tp in tps if tp not in kept]:
                tps.discard(tp)
                windows.pop((gid, *tp), None)


def _next(g: Group) -> list[tuple[str, int, int | None, int | None, int | None]]:
    """(topic, partition, next offset, end offset, lag) per partition: a consumer group's committed
    offsets; a share group's start offsets (its oldest unacknowledged record) with the records
    not yet acknowledged."""
    if g.share_partitions:
        return [(p.topic, p.partition, p.start_offset, p.end_offset, p.waiting) for p in g.share_partitions]
    return [(o.topic, o.partition, o.committed, o.end_offset, o.lag) for o in g.offsets]
