"""Lag status per partition and per group (Burrow's evaluation, adapted to polled samples).

Burrow judges a window of *commits* read from `__consumer_offsets`. We only poll: every cycle gives,
per partition of a group, the committed offset and the log-end offset at one time (a `Sample`).
"The consumer committed" therefore means "the committed offset changed between two samples".
The rules, their order and the reasoning behind each are in docs/lag-status.md; in short:

1. NODATA  fewer than `min_samples` judgeable samples: the window is still filling.
2. OK      the current lag is 0.
3. REWIND  the committed offset went backwards and stayed back: not recovered to where it was, the
           log itself did not shrink, and no reset of the dashboard's own (audit log) explains it.
4. STOP    nobody owns the partition, records wait, and its committed offset has not moved for
           long enough (longer than the window's commit span, `min_stuck_s` and two polls),
           whether or not new records arrive.
5. STALL   the same, but a member owns the partition: someone is there and makes no progress.
6. OK      the lag was 0 at some sample in the window.
7. WARN    the committed offset advances but the lag never decreased and grew beyond noise.
8. OK      otherwise.

Burrow's reported false alarms and the rule that guards each (docs/lag-status.md, "Guards"):

* STOP on slow topics: the no-commit clock starts when records began *waiting* (end beyond the
  committed offset), not at the last commit, so one record after hours of silence is not a STOP.
* Kafka Streams' 30 s commits: records must wait `min_stuck_s` (60 s) and two poll intervals.
* A transaction marker: a lag of `IDLE_LAG` (1) with no record arrived since the offset last
  moved is the commit marker a caught-up transactional consumer leaves, not a backlog.
* REWIND during broker deploys: unreadable offsets (None) are skipped, a drop is ignored when the
  log end went backwards too (truncation after an unclean leader election, a recreated topic) or
  when the old position lies beyond the current log end, and a drop must still be there at the
  next sample, so a one-sample dip is a transient read (also for the STOP clock, see `advance`).
* A rewind that came back to its old position is over; a reset the dashboard made (its audit log,
  passed in as `resets`) is no REWIND at all.

Everything here is pure: the caller keeps a bounded window per (group, topic, partition), e.g. a
deque fed with `push()`, and a `Run` fed with `advance()` (since when the offset stands still, which
outlives the window), and calls `evaluate_partition()` then `evaluate_group()` every cycle.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import pairwise
from typing import Literal

from kafka_admin.figures.durations import (  # noqa: F401  (re-exported: the reasons' durations)
    STEADY_STEPS_S,
    duration_text,
    steady_duration,
    steady_step,
)
from kafka_admin.figures.run import Run, Sample, advance, known, run_of  # noqa: F401  (re-exported)

TP = tuple[str, int]

# Window sizing (docs/lag-status.md, "Window parameters"). At the default 5 s poll interval:
DEFAULT_WINDOW_SAMPLES = 24  # about 2 minutes: at least two commit intervals of a 30 s committer
DEFAULT_MIN_SAMPLES = 12  # about 1 minute of judgeable samples before any verdict
DEFAULT_MIN_STUCK_S = 60.0  # records must wait this long without a commit before STOP / STALL
STUCK_MIN_POLLS = 2  # ... and at least this many poll intervals, whatever the interval
IDLE_LAG = 1  # a static lag this small, no record arrived since the last commit: a transaction marker
# An audit entry is written once the broker confirmed the reset: after the sample that showed the
# drop by up to a collection plus a request timeout.
RESET_AUDIT_DELAY_S = 60.0

# WARN: the lag must grow by more than all of these across the window to count as falling behind.
WARN_MIN_GROWTH_RECORDS = 1  # a lag wobbling by one record (a transaction marker) is noise
WARN_MIN_GROWTH_FRACTION = 0.01  # 1 % of the starting lag: rounding on a large backlog is noise


class LagStatus(StrEnum):
    """One partition's (or, worst-first, one group's) lag status. Values are the display names."""

    NODATA = "NODATA"
    OK = "OK"
    WARN = "WARN"
    REWIND = "REWIND"
    STALL = "STALL"
    STOP = "STOP"


Severity = Literal["unknown", "ok", "warn", "err"]

# Worst wins: a group takes the status of highest rank among its partitions. NODATA ranks lowest,
# so a group shows NODATA only while every partition does. Among the error statuses, STOP (nobody
# consumes, data piles up) outranks STALL (a consumer is there, stuck), which outranks REWIND
# (records are re-read; often deliberate).
RANK: dict[LagStatus, int] = {
    LagStatus.NODATA: 0,
    LagStatus.OK: 1,
    LagStatus.WARN: 2,
    LagStatus.REWIND: 3,
    LagStatus.STALL: 4,
    LagStatus.STOP: 5,
}

# Badge colour: Burrow rolls STOP, STALL and REWIND up to ERR.
SEVERITY: dict[LagStatus, Severity] = {
    LagStatus.NODATA: "unknown",
    LagStatus.OK: "ok",
    LagStatus.WARN: "warn",
    LagStatus.REWIND: "err",
    LagStatus.STALL: "err",
    LagStatus.STOP: "err",
}


@dataclass(frozen=True, slots=True)
class PartitionStatus:
    """One partition's status. reason: exact, for the partition's own row and the API. steady: the
    same with its duration rounded down to a step (STEADY_STEPS_S), for the group's reason that
    lists show: a stopped group's row then changes when the duration passes a step, not every cycle."""

    status: LagStatus
    reason: str
    steady: str | None = field(default=None, compare=False)

    @property
    def severity(self) -> Severity:
        return SEVERITY[self.status]


@dataclass(frozen=True, slots=True)
class GroupStatus:
    """The worst partition's status, every partition that has it, and how many have each status."""

    status: LagStatus
    severity: Severity
    worst_partitions: tuple[TP, ...]
    counts: dict[str, int]
    reason: str


@dataclass(frozen=True, slots=True)
class _Point:
    """A judgeable sample: committed known, end known or carried forward. `i` indexes the sorted window."""

    i: int
    t: float
    committed: int
    end: int

    @property
    def lag(self) -> int:
        # The end offset may be read a moment before the committed offset, so committed can be ahead.
        return max(0, self.end - self.committed)


def severity(status: LagStatus | str) -> Severity:
    return SEVERITY[LagStatus(status)]


def push(window: deque[Sample], sample: Sample, max_len: int, max_age_s: float | None = None) -> deque[Sample]:
    """Append `sample` to a partition's window, keeping at most `max_len` samples (and none older
    than `max_age_s` before it). Returns the same deque, changed in place.

    A second sample at the same time replaces the first (the same snapshot fed twice). A clock that
    steps backwards clears the window: its older samples would put the new one in the past.
    """
    if max_len < 1:
        raise ValueError("max_len must be at least 1")
    if window and sample.t < window[-1].t:
        window.clear()
    if window and sample.t == window[-1].t:
        window[-1] = sample
    else:
        window.append(sample)
    while len(window) > max_len:
        window.popleft()
    if max_age_s is not None:
        while window and window[0].t < sample.t - max_age_s:
            window.popleft()
    return window


def evaluate_partition(
    window: Sequence[Sample],
    *,
    min_samples: int,
    now: float,
    has_owner: bool,
    min_stuck_s: float = DEFAULT_MIN_STUCK_S,
    run: Run | None = None,
    resets: Collection[float] = (),
) -> PartitionStatus:
    """The status of one partition of one group over `window` (the rules in order, first match wins).

    has_owner: a member of the group is assigned this partition now. It only separates STOP
    (nobody consumes) from STALL (a consumer is assigned but makes no progress).
    run: the caller's `Run` for this partition, fed the same samples as the window and more: how
    long the offset has stood still, beyond the window. Without it, the window's own.
    resets: the times of offset resets of this group that the caller knows it made itself (the
    dashboard's audit log): a drop they explain is not a REWIND.
    """
    if min_samples < 2:
        raise ValueError("min_samples must be at least 2: one sample shows no movement")
    ordered = sorted(window, key=lambda s: s.t)
    points = _points(ordered)

    # 1. Too few samples to tell a pattern from an accident.
    if len(points) < min_samples:
        return PartitionStatus(LagStatus.NODATA, f"window filling: {len(points)} of {min_samples} samples")

    # 2. Nothing to consume: whatever happened before, the consumer is where the log is.
    last = points[-1]
    if last.lag == 0:
        return PartitionStatus(LagStatus.OK, "caught up")

    # 3. Records are being read again.
    rewind = _rewind(ordered, points, resets)
    if rewind is not None:
        before, after = rewind
        return PartitionStatus(
            LagStatus.REWIND,
            f"committed offset moved back {before.committed - after.committed} records "
            f"({before.committed} -> {after.committed})",
        )

    # 4 and 5. Records wait and the committed offset does not move.
    if run is None or run.committed != last.committed:
        run = run_of(ordered)
    stuck = _stuck(ordered, points, run, now, min_stuck_s) if run is not None else None
    if stuck is not None:
        return stuck_status(stuck.seconds, stuck.exact, last.lag, last.committed, has_owner)

    # 6. The consumer reached the end of the log within the window: it keeps up, in bursts.
    if any(p.lag == 0 for p in points):
        return PartitionStatus(LagStatus.OK, f"lag {last.lag}, caught up within the window")

    # 7. Consuming, but slower than the producers.
    first = points[0]
    lags = [p.lag for p in points]
    never_fell = all(b >= a for a, b in pairwise(lags))
    growth = last.lag - first.lag
    floor = max(WARN_MIN_GROWTH_RECORDS, WARN_MIN_GROWTH_FRACTION * first.lag)
    if last.committed > first.committed and never_fell and growth > floor:
        return PartitionStatus(LagStatus.WARN, f"falling behind: lag grew from {first.lag} to {last.lag}")

    # 8.
    return PartitionStatus(LagStatus.OK, f"lag {last.lag}, not growing")


def evaluate_steady(
    samples: int,
    committed: int,
    end: int,
    lowest_end: int,
    *,
    min_samples: int,
    now: float,
    has_owner: bool,
    run: Run,
    poll_interval: Callable[[], float],
    min_stuck_s: float = DEFAULT_MIN_STUCK_S,
) -> PartitionStatus:
    """evaluate_partition for a window of `samples` samples at increasing times that all show the
    same known committed offset and a known end offset (`end` the newest, `lowest_end` the lowest),
    judged with the partition's own run (run.committed == committed).

    Why: in a large cluster most consumers do not commit from one cycle to the next, and this gives
    their status from a few numbers instead of building the window's samples. With the committed
    offset standing still there is no rewind, no commit span and no WARN (it needs progress), so the
    rules reduce to: too few samples; caught up; stuck; caught up within the window; else OK.
    poll_interval: the window's median gap, asked for only when the wait is long enough to matter.
    Equal to evaluate_partition on such windows (tests/unit/test_status_steady.py holds them equal).
    """
    if min_samples < 2:
        raise ValueError("min_samples must be at least 2: one sample shows no movement")
    if samples < min_samples:
        return PartitionStatus(LagStatus.NODATA, f"window filling: {samples} of {min_samples} samples")
    lag = max(0, end - committed)
    if lag == 0:
        return PartitionStatus(LagStatus.OK, "caught up")
    stuck = _stuck_after(lag, 0.0, poll_interval, run, now, min_stuck_s)
    if stuck is not None:
        return stuck_status(stuck.seconds, stuck.exact, lag, committed, has_owner)
    if lowest_end <= committed:
        return PartitionStatus(LagStatus.OK, f"lag {lag}, caught up within the window")
    return PartitionStatus(LagStatus.OK, f"lag {lag}, not growing")


def stuck_status(seconds: float, exact: bool, lag: int, committed: int, has_owner: bool) -> PartitionStatus:
    """STOP (nobody owns it) or STALL after `seconds` of waiting; exact False: "more than" (rules 4, 5)."""
    waiting = "1 record waits" if lag == 1 else f"{lag} records wait"
    if has_owner:
        status, text = LagStatus.STALL, f"committed offset stuck at {committed} for {{}} while {waiting}"
    else:
        status, text = LagStatus.STOP, f"no consumer and no commit for {{}} while {waiting}"
    shown = ("" if exact else "more than ") + duration_text(seconds)
    return PartitionStatus(status, text.format(shown), text.format(steady_duration(seconds)))


def evaluate_group(partitions: Mapping[TP, PartitionStatus]) -> GroupStatus:
    """A group is as bad as its worst partition (RANK); NODATA only when every partition is NODATA.
    Its reason quotes the first worst partition's steady reason (see PartitionStatus)."""
    return group_status(
        [(tp, ps.status) for tp, ps in partitions.items()],
        lambda tp: partitions[tp].steady or partitions[tp].reason,
    )


def group_status(statuses: Sequence[tuple[TP, LagStatus]], quote: Callable[[TP], str]) -> GroupStatus:
    """evaluate_group from each partition's status alone (distinct partitions); `quote` gives the
    reason of the one partition the group's reason quotes. Shared with the quiet groups (quiet.py),
    which make that one reason only."""
    counts = {s.value: 0 for s in LagStatus}
    for _, status in statuses:
        counts[status.value] += 1
    if not statuses:
        return GroupStatus(LagStatus.NODATA, SEVERITY[LagStatus.NODATA], (), counts, "no partitions")
    worst = max((status for _, status in statuses), key=RANK.__getitem__)
    worst_partitions = tuple(sorted(tp for tp, status in statuses if status == worst))
    topic, partition = worst_partitions[0]
    reason = (
        f"{len(worst_partitions)} of {len(statuses)} partitions {worst.value}; "
        f"{topic}[{partition}]: {quote((topic, partition))}"
    )
    return GroupStatus(worst, SEVERITY[worst], worst_partitions, counts, reason)


def worst(statuses: Iterable[LagStatus]) -> LagStatus:
    """The highest-ranked status (NODATA for none), e.g. to roll groups up to a cluster tile."""
    return max(statuses, key=RANK.__getitem__, default=LagStatus.NODATA)


# -- the rules' helpers ----------------------------------------------------------------------------


def _points(ordered: list[Sample]) -> list[_Point]:
    """The judgeable samples: committed known; an unknown end offset keeps the last known one."""
    points = []
    end: int | None = None
    for i, s in enumerate(ordered):
        end = known(s.end) if known(s.end) is not None else end
        committed = known(s.committed)
        if committed is not None and end is not None:
            points.append(_Point(i, s.t, committed, end))
    return points


def _end_fell(ordered: list[Sample], start: int, stop: int) -> bool:
    """Did the log-end offset go backwards anywhere in ordered[start..stop]? Unknown ends are skipped."""
    previous: int | None = None
    for s in ordered[start : stop + 1]:
        end = known(s.end)
        if end is None:
            continue
        if previous is not None and end < previous:
            return True
        previous = end
    return False


def _rewind(ordered: list[Sample], points: list[_Point], resets: Collection[float]) -> tuple[_Point, _Point] | None:
    """The latest rewind in the window that still stands, as (before, after), or None.

    A drop from `before` to `after` counts when all of these hold:
    - confirmed: a later judgeable sample exists, and neither it nor any after it is back at
      `before` (a rewind that has come back to its old position is over; a one-sample dip that
      comes straight back was a stale read). A drop at the newest sample waits one cycle.
    - not forced by the log: the log end did not go backwards from `before` to the sample after
      `after` (the end is read before the committed offsets, so a truncation may show one poll
      late), and `before` is not beyond the log end at `after`.
    - not the dashboard's own: no reset in `resets` between `before` and RESET_AUDIT_DELAY_S
      after `after`.
    Samples whose committed offset could not be read are not points, so a gap is compared across.
    """
    found = None
    for k, (before, after) in enumerate(pairwise(points[:-1])):
        if after.committed >= before.committed:
            continue
        if any(p.committed >= before.committed for p in points[k + 2 :]):
            continue
        if before.committed > after.end or _end_fell(ordered, before.i, points[k + 2].i):
            continue
        if any(before.t < r <= after.t + RESET_AUDIT_DELAY_S for r in resets):
            continue
        found = (before, after)
    return found


def _poll_interval(ordered: list[Sample]) -> float:
    return poll_interval([s.t for s in ordered])


def poll_interval(times: Sequence[float]) -> float:
    """The typical time between samples (median, so one slow cycle does not stretch it)."""
    gaps = [b - a for a, b in pairwise(times) if b > a]
    return statistics.median(gaps) if gaps else 0.0


@dataclass(frozen=True, slots=True)
class _Stuck:
    seconds: float  # how long records have waited without the committed offset moving
    exact: bool  # False when they already waited at the first sample held: "more than"


def _stuck(ordered: list[Sample], points: list[_Point], run: Run, now: float, min_stuck_s: float) -> _Stuck | None:
    """How long records have waited at an unmoving committed offset, when that is long enough; else None.

    Burrow: the time since the last commit exceeds the span from the first to the last commit in
    the window. Adapted: commits are changes of the committed offset between samples (the span
    runs from the window's first sample to the last change), and the clock starts when records
    began waiting at this offset (the run's `waiting_t`), because a consumer cannot commit what has
    not been produced yet. The wait must also reach `min_stuck_s` and STUCK_MIN_POLLS poll
    intervals. A lag of IDLE_LAG with no record arrived since the offset moved is a transaction
    marker. New records are not needed: a backlog nobody works off is stuck on a quiet topic too.
    """
    changes = [k for k in range(1, len(points)) if points[k].committed != points[k - 1].committed]
    span = points[changes[-1]].t - points[0].t if changes else 0.0
    return _stuck_after(points[-1].lag, span, lambda: _poll_interval(ordered), run, now, min_stuck_s)


def _stuck_after(
    lag: int, span: float, poll_interval: Callable[[], float], run: Run, now: float, min_stuck_s: float
) -> _Stuck | None:
    """_stuck's test once the newest lag and the window's commit span are known."""
    if run.waiting_t is None:
        return None
    if lag <= IDLE_LAG and run.arrived <= 0:
        return None
    waited = now - run.waiting_t
    if waited <= span or waited < min_stuck_s or waited < STUCK_MIN_POLLS * poll_interval():
        return None
    return _Stuck(waited, run.moved or run.waiting_t > run.t)
