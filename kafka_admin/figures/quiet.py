"""Quiet groups: a group whose inputs did not change since the last cycle is judged from a few numbers.

Why: at 50,000 groups most groups are idle from one cycle to the next (their committed offsets,
their partitions' end offsets and their members stay as they were), yet judging every partition's
window in full cost 20-40 us a group-partition (bench/RESULTS.md, "Downstream at W4"). For such a
group the figures follow from what was known when it went quiet:

* Its status windows would only receive copies of their newest sample. They are not pushed while
  the group stays quiet; the tracker counts the samples held back and pushes them in one step
  (`GroupWindows.extend_same`, the runs in closed form: `GroupWindows.run_after`) when it wakes.
* Every window was steady when the group went quiet (the committed offset the same in every
  sample), so status.evaluate_steady's rules apply, and of its inputs only these move with time:
  the number of samples (NODATA's count), the wait since records began waiting (a STOP/STALL
  reason's duration and its thresholds `min_stuck_s` and two poll intervals), the poll interval of
  the window's times, and which of the old samples are still in the window (rule 6). `verdict`
  computes exactly that; `judge` keeps the verdicts until a count or a wait crosses a threshold;
  the text of a partition's status is made only when it is read (`QuietStatuses`).
* A time lag estimated from the timeline counts from a production time that holds while the
  partition's timeline `version` stands (timelag.aged_time_lag): `AgedTimeLags` gives
  max(0, now - that time), again made when read.

tests/unit/test_figures_quiet.py runs a tracker with this reuse and one without it side by side and
holds every figure equal. The rules themselves stay in status.py; this module mirrors
evaluate_steady, which is why it lists the same steps.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

from kafka_admin.figures.durations import steady_step
from kafka_admin.figures.group_windows import GroupWindows
from kafka_admin.figures.status import (
    DEFAULT_MIN_STUCK_S,
    IDLE_LAG,
    STUCK_MIN_POLLS,
    GroupStatus,
    LagStatus,
    PartitionStatus,
    group_status,
    stuck_status,
)
from kafka_admin.figures.timelag import (
    REASON_CAUGHT_UP,
    REASON_INTERPOLATED,
    REASON_NO_HISTORY,
    REASON_NO_OFFSET,
    REASON_NO_PARTITIONS,
    REASON_OLDER,
    REASON_SINCE_NEWEST,
    TimeLag,
)

TP = tuple[str, int]

# A partition's verdict in a quiet cycle: (status, kind); kind for OK: 0 caught up, 1 caught up
# within the window, 2 not growing. The numbers its text quotes are made from the cycle's time.
Verdict = tuple[LagStatus, int]

OK_CAUGHT_UP = PartitionStatus(LagStatus.OK, "caught up")


# The few verdicts there are, one object each (a quiet group keeps a list of them).
V_NODATA: Verdict = (LagStatus.NODATA, 0)
V_CAUGHT_UP: Verdict = (LagStatus.OK, 0)
V_CAUGHT_UP_WITHIN: Verdict = (LagStatus.OK, 1)
V_NOT_GROWING: Verdict = (LagStatus.OK, 2)
V_STALL: Verdict = (LagStatus.STALL, 0)
V_STOP: Verdict = (LagStatus.STOP, 0)

# A quiet partition's time lag reason, stored as its index here.
REASONS = (
    REASON_CAUGHT_UP,
    REASON_INTERPOLATED,
    REASON_OLDER,
    REASON_SINCE_NEWEST,
    REASON_NO_HISTORY,
    REASON_NO_OFFSET,
    REASON_NO_PARTITIONS,
)


@dataclass(slots=True)
class QuietGroup:
    """A group while it stays quiet: its inputs (to see that they still hold) and its partitions.

    Slot k is the partition tps[k] (the order of `offsets`). Its window and run are those in
    `windows` when the group went quiet (GroupWindows: not pushed while quiet; the samples held back
    go in when it wakes); kept here per slot, in arrays: has_owner; last_low, the index in that
    window of the last sample whose end was at or below the committed offset (-1: none); the time
    lag then (lag_seconds, NaN for None; lag_kind, REASONS index * 2 + lower bound) and the
    production time it counts from when it ages (aged_from, NaN: constant).
    first_t: the cycle's time when it went quiet; held: how many samples are held back (cycles since);
    cycle: the tracker's cycle that saw it last; serial: the tracker's count of timeline changes
    then (a later change to one of its topics wakes it); total_lag: the group's, which stands still too.
    """

    offsets: tuple
    members: tuple
    topics: frozenset[str]
    tps: tuple[TP, ...]
    windows: GroupWindows
    has_owner: bytes
    last_low: array
    lag_seconds: array
    lag_kind: bytes
    aged_from: array
    first_t: float
    held: int
    cycle: int
    serial: int
    total_lag: int
    times: bytes | None = None  # the partitions' window times when all share them, else None
    verdicts: list[Verdict] | None = None
    changed: bool = True  # a partition's verdict changed at the last judge()
    next_held: float = 0.0
    stuck_t: float | None = None
    waiting_t: float | None = None
    status: GroupStatus | None = None
    step: int | None = None

    def lag(self, k: int) -> int:
        committed, end = self.windows.newest(k)
        return max(0, end - committed)

    def waiting(self, k: int) -> float | None:
        """When records began waiting at slot k's offset (its run's waiting_t)."""
        return self.windows.waiting_t(k)

    def can_stick(self, k: int) -> bool:
        """Records wait, and not just a transaction marker with nothing arrived (IDLE_LAG)."""
        run = self.windows.run_fields(k)
        assert run is not None
        _, _, _, waiting_t, start_end, end, _, _ = run
        return waiting_t is not None and not (self.lag(k) <= IDLE_LAG and end - start_end <= 0)

    def slot_times(self, k: int) -> bytes:
        """Slot k's window times when the group went quiet."""
        return self.times if self.times is not None else self.windows.window_times(k).tobytes()

    def time_lag(self, k: int) -> TimeLag:
        """Slot k's time lag when the group went quiet."""
        seconds = self.lag_seconds[k]
        kind = self.lag_kind[k]
        return TimeLag(None if seconds != seconds else seconds, bool(kind & 1), REASONS[kind >> 1])


def verdict(
    q: QuietGroup,
    k: int,
    now: float,
    held: int,
    *,
    max_samples: int,
    min_samples: int,
    poll_interval: Callable[[bytes, int], float],
) -> Verdict:
    """status.evaluate_steady on slot k's window with `held` copies of its newest sample:
    too few samples; caught up; stuck; caught up within the window; else OK. poll_interval(times,
    held): the median gap of the window's times (the slot's, then the `held` newest cycles')."""
    samples = q.windows.length(k)
    if min(max_samples, samples + held) < min_samples:
        return V_NODATA
    if q.lag(k) <= 0:
        return V_CAUGHT_UP
    if q.can_stick(k):
        waiting_t = q.waiting(k)
        assert waiting_t is not None
        if is_stuck(now - waiting_t, poll_interval(q.slot_times(k), held)):
            return V_STALL if q.has_owner[k] else V_STOP
    dropped = max(0, samples + held - max_samples)
    return V_CAUGHT_UP_WITHIN if q.last_low[k] >= dropped else V_NOT_GROWING


def is_stuck(waited: float, poll_interval: float, min_stuck_s: float = DEFAULT_MIN_STUCK_S) -> bool:
    """status._stuck_after's test of the wait, with no commit span (a steady window has none)."""
    return not (waited <= 0.0 or waited < min_stuck_s or waited < STUCK_MIN_POLLS * poll_interval)


def judge(
    q: QuietGroup,
    now: float,
    *,
    max_samples: int,
    min_samples: int,
    poll_interval: Callable[[bytes, int], float],
) -> list[Verdict]:
    """The group's verdicts this cycle: the last cycle's while nothing can have changed them.

    What can: a held-sample count (NODATA's end, an old caught-up sample leaving the window:
    `next_held`), or a wait crossing the stuck thresholds. All partitions of a group usually share
    their window times, hence one poll interval; then, as the test is monotonic in the wait, the
    stuck partition that waited least and the waiting one that waited most tell for all."""
    held = q.held
    if q.verdicts is not None and held < q.next_held and q.times is not None:
        if q.stuck_t is None and q.waiting_t is None:
            q.changed = False
            return q.verdicts
        pi = poll_interval(q.times, held)
        if (q.stuck_t is None or is_stuck(now - q.stuck_t, pi)) and (
            q.waiting_t is None or not is_stuck(now - q.waiting_t, pi)
        ):
            q.changed = False
            return q.verdicts
    verdicts = [
        verdict(q, k, now, held, max_samples=max_samples, min_samples=min_samples, poll_interval=poll_interval)
        for k in range(len(q.tps))
    ]
    q.changed = q.verdicts != verdicts  # a status or an OK's kind (its text) moved
    next_held, stuck_t, waiting_t = _events(q, verdicts, max_samples, min_samples)
    q.verdicts, q.next_held, q.stuck_t, q.waiting_t = verdicts, next_held, stuck_t, waiting_t
    return verdicts


def _events(
    q: QuietGroup, verdicts: list[Verdict], max_samples: int, min_samples: int
) -> tuple[float, float | None, float | None]:
    """(the held count at which a verdict changes by counting, the latest start of a stuck wait,
    the earliest start of a wait not stuck yet)."""
    next_held = float("inf")
    stuck_t: float | None = None
    waiting_t: float | None = None
    for k, (status, kind) in enumerate(verdicts):
        if status is LagStatus.NODATA:
            next_held = min(next_held, min_samples - q.windows.length(k))
        elif status is LagStatus.STOP or status is LagStatus.STALL:
            t = q.waiting(k)
            assert t is not None
            stuck_t = t if stuck_t is None else max(stuck_t, t)
        elif kind != 0:
            if q.can_stick(k):
                t = q.waiting(k)
                assert t is not None
                waiting_t = t if waiting_t is None else min(waiting_t, t)
            if kind == 1:
                next_held = min(next_held, q.last_low[k] + max_samples - q.windows.length(k) + 1)
    return next_held, stuck_t, waiting_t


def partition_status(
    q: QuietGroup, k: int, v: Verdict, now: float, held: int, min_samples: int, max_samples: int
) -> PartitionStatus:
    """The PartitionStatus a verdict stands for at `now` after `held` samples (evaluate_steady's texts)."""
    status, kind = v
    if status is LagStatus.NODATA:
        samples = min(max_samples, q.windows.length(k) + held)
        return PartitionStatus(LagStatus.NODATA, f"window filling: {samples} of {min_samples} samples")
    lag = q.lag(k)
    if status is LagStatus.OK:
        if kind == 0:
            return OK_CAUGHT_UP
        if kind == 1:
            return PartitionStatus(LagStatus.OK, f"lag {lag}, caught up within the window")
        return PartitionStatus(LagStatus.OK, f"lag {lag}, not growing")
    run = q.windows.run_fields(k)
    assert run is not None
    committed, run_t, moved, waiting_t, _, _, _, _ = run
    assert waiting_t is not None
    exact = moved or waiting_t > run_t
    return stuck_status(now - waiting_t, exact, lag, committed, bool(q.has_owner[k]))


def quiet_group_status(
    q: QuietGroup, verdicts: list[Verdict], now: float, min_samples: int, max_samples: int
) -> GroupStatus:
    """status.evaluate_group from the verdicts. While no partition's status changed, the counts and
    the worst partitions stay, and the quoted reason is made again only when its text can have
    moved: a NODATA count, or a STOP/STALL duration passing a step (durations.steady_step)."""
    previous = q.status

    def quote(tp: TP) -> str:
        k = q.tps.index(tp)
        ps = partition_status(q, k, verdicts[k], now, q.held, min_samples, max_samples)
        return ps.steady or ps.reason

    if previous is None or q.changed or not previous.worst_partitions:
        status = group_status(list(zip(q.tps, (v[0] for v in verdicts), strict=True)), quote)
        q.step = _step(q, status, now)
        return status
    worst = previous.status
    if worst is not LagStatus.NODATA and worst is not LagStatus.STOP and worst is not LagStatus.STALL:
        return previous
    step = _step(q, previous, now)
    if step is not None and step == q.step:
        return previous
    q.step = step
    tp = previous.worst_partitions[0]
    reason = f"{len(previous.worst_partitions)} of {len(q.tps)} partitions {worst.value}; {tp[0]}[{tp[1]}]: {quote(tp)}"
    return GroupStatus(worst, previous.severity, previous.worst_partitions, previous.counts, reason)


def _step(q: QuietGroup, status: GroupStatus, now: float) -> int | None:
    """The step of the quoted STOP/STALL duration (its steady text depends on it alone); else None."""
    if status.status is not LagStatus.STOP and status.status is not LagStatus.STALL:
        return None
    waiting_t = q.waiting(q.tps.index(status.worst_partitions[0]))
    assert waiting_t is not None
    return steady_step(now - waiting_t) or None


def group_time_lag(q: QuietGroup, now: float) -> TimeLag:
    """timelag.group_time_lag over the quiet partitions' time lags at `now`, without making them:
    the largest (seconds, lower bound), the first of equals."""
    if not q.tps:
        return TimeLag(None, False, REASON_NO_PARTITIONS)
    best: int | None = None
    best_key: tuple[float, bool] = (0.0, False)
    lag_seconds, lag_kind = q.lag_seconds, q.lag_kind
    for k, aged_from in enumerate(q.aged_from):
        if aged_from != aged_from:  # NaN: constant
            seconds = lag_seconds[k]
            if seconds != seconds:
                continue
        else:
            seconds = max(0.0, now - aged_from)
        key = (seconds, bool(lag_kind[k] & 1))
        if best is None or key > best_key:
            best, best_key = k, key
    if best is None:
        return TimeLag(None, False, REASON_NO_HISTORY)
    return aged(q, best, now)


def aged(q: QuietGroup, k: int, now: float) -> TimeLag:
    aged_from = q.aged_from[k]
    if aged_from != aged_from:
        return q.time_lag(k)
    kind = q.lag_kind[k]
    return TimeLag(max(0.0, now - aged_from), bool(kind & 1), REASONS[kind >> 1])


V = TypeVar("V")


class _QuietMapping(Mapping[TP, V]):
    """A read-only view over a quiet group's partitions, in their order; subclasses make the values."""

    __slots__ = ("_index", "_q")
    _q: QuietGroup
    _index: dict[TP, int] | None

    def _slot(self, tp: object) -> int | None:
        if self._index is None:
            self._index = {tp: k for k, tp in enumerate(self._q.tps)}
        return self._index.get(tp)  # type: ignore[call-overload]

    def __iter__(self) -> Iterator[TP]:
        return iter(self._q.tps)

    def __len__(self) -> int:
        return len(self._q.tps)

    def __contains__(self, tp: object) -> bool:
        return self._slot(tp) is not None

    def __reduce__(self) -> tuple:
        """Pickled (a shared cache such as Redis) as the plain dict it stands for."""
        return (dict, (dict(self.items()),))


class AgedTimeLags(_QuietMapping[TimeLag]):
    """A quiet group's time lag per partition at one cycle's `now`, each made when it is read."""

    __slots__ = ("_now",)

    def __init__(self, q: QuietGroup, now: float) -> None:
        self._q = q
        self._index = None
        self._now = now

    def __getitem__(self, tp: TP) -> TimeLag:
        k = self._slot(tp)
        if k is None:
            raise KeyError(tp)
        return aged(self._q, k, self._now)


class QuietStatuses(_QuietMapping[PartitionStatus]):
    """A quiet group's status per partition at one cycle, from its verdicts, each made when it is read."""

    __slots__ = ("_held", "_max_samples", "_min_samples", "_now", "_verdicts")

    def __init__(self, q: QuietGroup, verdicts: list[Verdict], now: float, min_samples: int, max_samples: int) -> None:
        self._q = q
        self._index = None
        self._verdicts = verdicts
        self._now = now
        self._held = q.held
        self._min_samples = min_samples
        self._max_samples = max_samples

    def __getitem__(self, tp: TP) -> PartitionStatus:
        k = self._slot(tp)
        if k is None:
            raise KeyError(tp)
        return partition_status(
            self._q, k, self._verdicts[k], self._now, self._held, self._min_samples, self._max_samples
        )
