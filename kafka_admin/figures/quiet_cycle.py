"""The tracker's side of the quiet groups (quiet.py): when a group is quiet, its figures, waking it.

A mixin of FigureTracker (tracker.py), kept apart because it is one thing: deciding per cycle
whether a group's inputs are those of the last cycle, and keeping the held-back samples right.
It works on the tracker's own windows, runs and rate windows, declared here for the type checker.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Callable

from kafka_admin.figures.group_windows import GroupWindows
from kafka_admin.figures.quiet import (
    REASONS,
    AgedTimeLags,
    QuietGroup,
    QuietStatuses,
    judge,
    quiet_group_status,
)
from kafka_admin.figures.quiet import group_time_lag as quiet_time_lag
from kafka_admin.figures.rates import LazyTrend, catch_up_eta, in_noise_band, rate
from kafka_admin.figures.results import GroupFigures
from kafka_admin.figures.run import known
from kafka_admin.figures.series import LagWindow, PointWindow
from kafka_admin.figures.status import poll_interval
from kafka_admin.figures.timelag import REASON_SINCE_NEWEST, TimeLag
from kafka_admin.snapshot.model import Group

TP = tuple[str, int]
NAN = float("nan")


class QuietCycles:
    """Quiet-group reuse for FigureTracker; see quiet.py for what is reused and why it is equal."""

    status_samples: int
    status_min_samples: int
    rate_window_s: float
    trend_window_s: float
    _groups: dict[str, GroupWindows]
    _progress: dict[str, PointWindow]
    _progress_total: dict[str, int]
    _lags: dict[str, LagWindow]
    _cycle: int
    _recent: deque[float]
    _serial: int
    _topic_serial: dict[str, int]
    _quiet: dict[str, QuietGroup]
    _quiet_intervals: dict[tuple[bytes, int], float]
    _quiet_times: dict[bytes, bytes]
    _tp_canon: dict[TP, TP]
    _add_lag: Callable[[str, float, int], None]
    _estimated: Callable[..., tuple[TimeLag, float | None]]

    @property
    def quiet_groups(self) -> int:
        """How many groups are quiet now (their figures reused at the last cycle)."""
        return len(self._quiet)

    def _quiet_figures(
        self, g: Group, now: float, partition_rates: dict[TP, float | None], exact_tps: set[TP]
    ) -> GroupFigures | None:
        """The figures of a group whose inputs are those of the last cycle, from what was known then;
        None when the group must be judged in full (its held-back samples are pushed first)."""
        gid = g.group_id
        q = self._quiet.get(gid)
        if q is not None:
            if q.cycle == self._cycle - 1 and self._unchanged(q, g, exact_tps):
                q.held += 1
                q.cycle = self._cycle
                q.serial = self._serial
                return self._quiet_group(q, gid, now, partition_rates, self._quiet_commit_rate(gid, now))
            self._wake(gid)
        return None

    def _unchanged(self, q: QuietGroup, g: Group, exact_tps: set[TP]) -> bool:
        if g.share_partitions or g.offsets != q.offsets or g.members != q.members:
            return False
        serials = self._topic_serial
        if any(serials.get(t, 0) > q.serial for t in q.topics):
            return False
        return not exact_tps or not any(tp in exact_tps for tp in q.tps)

    def _enter(self, g: Group, now: float, exact_tps: set[TP]) -> QuietGroup | None:
        """The group's QuietGroup, right after this cycle's samples were pushed, when every partition's
        window is steady (evaluate_steady's case) and its time lag holds while the timeline stands;
        else None (the windows are judged in full)."""
        gw = self._groups.get(g.group_id)
        if gw is None or gw.has_odd():
            return None
        topics = frozenset(o.topic for o in g.offsets)
        owned = {(a.topic, a.partition) for m in g.members for a in m.assignments}
        canon = self._tp_canon
        n = len(g.offsets)
        tps: list[TP] = []
        has_owner = bytearray(n)
        last_lows = array("i", [0]) * n
        lag_seconds = array("d", [NAN]) * n
        lag_kind = bytearray(n)
        aged = array("d", [NAN]) * n
        for k, o in enumerate(g.offsets):
            tp = (o.topic, o.partition)
            run = gw.run_fields(k)
            if run is None or tp in exact_tps:
                return None
            steady = gw.steady(k)
            if steady is None:
                return None
            committed, end, low = steady
            run_committed, _, _, waiting_t, _, run_end, last_t, _ = run
            if committed != run_committed or committed != known(o.committed) or end != known(o.end_offset):
                return None
            if last_t != now or run_end != end or (waiting_t is not None) != (end > committed):
                return None  # e.g. the same time fed twice: the run kept its older sample
            lag, aged_from = self._estimated(o.topic, o.partition, o.committed, o.end_offset, o.lag, now)
            if aged_from is None and lag.reason == REASON_SINCE_NEWEST:
                return None  # counts from the timeline's newest point, which moves every cycle
            if lag.reason not in REASONS:
                return None
            tps.append(canon.setdefault(tp, tp))  # one tuple per partition, shared by the groups
            has_owner[k] = tp in owned
            last_lows[k] = -1 if low > committed else max(i for i, e in enumerate(gw.ends(k)) if e <= committed)
            if lag.seconds is not None:
                lag_seconds[k] = lag.seconds
            lag_kind[k] = 2 * REASONS.index(lag.reason) + lag.lower_bound
            if aged_from is not None:
                aged[k] = aged_from
        q = QuietGroup(
            g.offsets,
            g.members,
            topics,
            tuple(tps),
            gw,
            bytes(has_owner),
            last_lows,
            lag_seconds,
            bytes(lag_kind),
            aged,
            now,
            0,
            self._cycle,
            self._serial,
            g.total_lag,
        )
        if len({gw.length(k) for k in range(n)}) <= 1:  # every window at the same times
            times = gw.window_times(0).tobytes() if n else b""
            q.times = self._quiet_times.setdefault(times, times)  # one bytes object for equal times
        return q

    def _quiet_group(
        self, q: QuietGroup, gid: str, now: float, partition_rates: dict[TP, float | None], commit_rate: float | None
    ) -> GroupFigures:
        min_samples, max_samples = self.status_min_samples, self.status_samples
        verdicts = judge(
            q, now, max_samples=max_samples, min_samples=min_samples, poll_interval=self._quiet_poll_interval
        )
        status = q.status = quiet_group_status(q, verdicts, now, min_samples, max_samples)
        known_rates = [r for r in map(partition_rates.get, q.tps) if r is not None]
        produce_rate = sum(known_rates) if known_rates else None
        self._add_lag(gid, now, q.total_lag)
        history = self._lags[gid].frozen()
        return GroupFigures(
            time_lag=quiet_time_lag(q, now),
            commit_rate=commit_rate,
            produce_rate=produce_rate,
            trend=LazyTrend(history, self.trend_window_s),
            catch_up=catch_up_eta(q.total_lag, commit_rate, produce_rate),
            lag_history=history,
            partition_time_lags=AgedTimeLags(q, now),
            status=status,
            partition_statuses=QuietStatuses(q, verdicts, now, min_samples, max_samples),
            within_noise=q.total_lag > 0 and in_noise_band(q.total_lag, produce_rate),
        )

    def _quiet_commit_rate(self, gid: str, now: float) -> float | None:
        """_commit_rate for a group whose committed offsets stand: nothing moved this cycle."""
        total = self._progress_total[gid]
        window = self._progress[gid]
        window.append(now, total)
        window.drop_before(now - self.rate_window_s - 1)
        if window[0][1] != total:  # progress within the window (totals never decrease)
            return rate(window, self.rate_window_s, now)
        if len(window) >= 2 and now - self.rate_window_s <= window[-2][0] < now:
            return 0.0  # two samples in the window, at different times, of the same total
        inside = [t for t, _ in window if now - self.rate_window_s <= t <= now]
        return 0.0 if len(inside) >= 2 and max(inside) > min(inside) else None

    def _quiet_poll_interval(self, times: bytes, held: int) -> float:
        """The median gap of a window that held `times` and then took the `held` newest cycles' samples."""
        full = self.status_samples
        taken = min(held, full)
        key = (b"" if taken >= full else times, taken)
        found = self._quiet_intervals.get(key)
        if found is None:
            recent = list(self._recent)[-taken:] if taken else []
            if taken < full:
                base = array("d")
                base.frombytes(times)
                recent = (base.tolist() + recent)[-full:]
            found = self._quiet_intervals[key] = poll_interval(recent)
        return found

    def _wake(self, gid: str) -> None:
        """Push a quiet group's held-back samples into its windows and runs, as the cycles would have."""
        q = self._quiet.pop(gid)
        if q.held == 0:
            return  # entered this cycle or the last, after its samples went in: nothing held back
        times = self._times_of(q.cycle, min(q.held, self.status_samples))
        gw = self._groups[gid]
        gw.extend_same(times)
        gw.run_after(q.held, times[-1])

    def _wake_all(self) -> None:
        for gid in list(self._quiet):
            self._wake(gid)

    def _times_of(self, last_cycle: int, count: int) -> list[float]:
        """The times of the `count` cycles up to `last_cycle` (within the last status_samples + 1)."""
        recent = list(self._recent)
        end = len(recent) - (self._cycle - last_cycle)
        return recent[end - count : end]
