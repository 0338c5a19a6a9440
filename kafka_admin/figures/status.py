"""Lag status per partition and per group (Burrow's evaluation, adapted to polled samples).

Burrow judges a window of *commits* read from `__consumer_offsets`. We only poll: every cycle gives,
per partition of a group, the committed offset and the log-end offset at one time (a `Sample`).
"The consumer committed" therefore means "the committed offset changed between two samples".
The rules, their order and the reasoning behind each are in docs/lag-status.md; in short:

1. NODATA  fewer than `min_samples` judgeable samples: the window is still filling.
2. OK      the current lag is 0.
3. REWIND  the committed offset went backwards and stayed back, and the log itself did not.
4. STOP    nobody owns the partition, its committed offset has not moved for longer than the
           window's commit span (and `min_stuck_s`), and new records arrived meanwhile.
5. STALL   the same, but a member owns the partition: someone is there and makes no progress.
6. OK      the lag was 0 at some sample in the window.
7. WARN    the committed offset advances but the lag never decreased and grew beyond noise.
8. OK      otherwise.

Burrow's reported false alarms and how the rules avoid them (REFERENCE.md, "Burrow's lag evaluation"):

* STOP on slow topics: the no-commit clock starts when records were first *waiting* (end beyond
  the committed offset), not at the last commit, so one record after hours of silence is not a
  STOP; a partition with no new records is never STOP or STALL; and `min_stuck_s` (60 s) covers
  clients that commit every 30 s (Kafka Streams) on a topic too slow to give a commit span.
* REWIND during broker deploys: unreadable offsets (None) are skipped, a drop is ignored when the
  log end went backwards too (truncation after an unclean leader election, a recreated topic) or
  when the old position lies beyond the current log end, and a drop must still be there at the
  next sample, so a one-sample dip is a transient read.

Everything here is pure: the caller keeps a bounded window per (group, topic, partition), e.g. a
deque fed with `push()`, and calls `evaluate_partition()` then `evaluate_group()` every cycle.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise
from typing import Literal

TP = tuple[str, int]

# Window sizing (docs/lag-status.md, "Window parameters"). At the default 5 s poll interval:
DEFAULT_WINDOW_SAMPLES = 24  # about 2 minutes: at least two commit intervals of a 30 s committer
DEFAULT_MIN_SAMPLES = 12  # about 1 minute of judgeable samples before any verdict
DEFAULT_MIN_STUCK_S = 60.0  # records must wait this long without a commit before STOP / STALL
STUCK_MIN_POLLS = 2  # ... and at least this many poll intervals, whatever the interval

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
class Sample:
    """One poll's view of one partition of one group at unix time `t`.

    committed: the group's committed offset, None when it could not be read (coordinator moving
    during a broker restart) or the group has none; end: the log-end offset, None when unknown
    (offline partition). Negative offsets (Kafka's -1, "no offset") count as None.
    """

    t: float
    committed: int | None
    end: int | None


@dataclass(frozen=True, slots=True)
class PartitionStatus:
    status: LagStatus
    reason: str

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
) -> PartitionStatus:
    """The status of one partition of one group over `window` (the rules in order, first match wins).

    has_owner: a member of the group is assigned this partition now. It only separates STOP
    (nobody consumes) from STALL (a consumer is assigned but makes no progress).
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
    rewind = _rewind(ordered, points)
    if rewind is not None:
        before, after = rewind
        return PartitionStatus(
            LagStatus.REWIND,
            f"committed offset moved back {before.committed - after.committed} records "
            f"({before.committed} -> {after.committed})",
        )

    # 4 and 5. Commits stopped while new records wait.
    stuck = _stuck(ordered, points, now, min_stuck_s)
    if stuck is not None:
        waited, arrived = stuck
        if not has_owner:
            return PartitionStatus(
                LagStatus.STOP,
                f"no consumer and no commit for {waited:.0f} s while {arrived} new records arrived",
            )
        return PartitionStatus(
            LagStatus.STALL,
            f"committed offset stuck at {last.committed} for {waited:.0f} s while {arrived} new records arrived",
        )

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


def evaluate_group(partitions: Mapping[TP, PartitionStatus]) -> GroupStatus:
    """A group is as bad as its worst partition (RANK); NODATA only when every partition is NODATA."""
    counts = {s.value: 0 for s in LagStatus}
    for ps in partitions.values():
        counts[ps.status.value] += 1
    if not partitions:
        return GroupStatus(LagStatus.NODATA, SEVERITY[LagStatus.NODATA], (), counts, "no partitions")
    worst = max((ps.status for ps in partitions.values()), key=RANK.__getitem__)
    worst_partitions = tuple(sorted(tp for tp, ps in partitions.items() if ps.status == worst))
    topic, partition = worst_partitions[0]
    reason = (
        f"{len(worst_partitions)} of {len(partitions)} partitions {worst.value}; "
        f"{topic}[{partition}]: {partitions[(topic, partition)].reason}"
    )
    return GroupStatus(worst, SEVERITY[worst], worst_partitions, counts, reason)


def worst(statuses: Iterable[LagStatus]) -> LagStatus:
    """The highest-ranked status (NODATA for none), e.g. to roll groups up to a cluster tile."""
    return max(statuses, key=RANK.__getitem__, default=LagStatus.NODATA)


# -- the rules' helpers ----------------------------------------------------------------------------


def _known(offset: int | None) -> int | None:
    return offset if offset is not None and offset >= 0 else None


def _points(ordered: list[Sample]) -> list[_Point]:
    """The judgeable samples: committed known; an unknown end offset keeps the last known one."""
    points = []
    end: int | None = None
    for i, s in enumerate(ordered):
        end = _known(s.end) if _known(s.end) is not None else end
        committed = _known(s.committed)
        if committed is not None and end is not None:
            points.append(_Point(i, s.t, committed, end))
    return points


def _end_fell(ordered: list[Sample], start: int, stop: int) -> bool:
    """Did the log-end offset go backwards anywhere in ordered[start..stop]? Unknown ends are skipped."""
    previous: int | None = None
    for s in ordered[start : stop + 1]:
        end = _known(s.end)
        if end is None:
            continue
        if previous is not None and end < previous:
            return True
        previous = end
    return False


def _rewind(ordered: list[Sample], points: list[_Point]) -> tuple[_Point, _Point] | None:
    """The latest confirmed rewind in the window as (before, after), or None.

    A drop from `before` to `after` counts when the next judgeable sample is still below `before`
    (the consumer is re-reading; a one-sample dip that recovers was a stale read), the log end did
    not go backwards from `before` to that next sample, and `before` is not beyond the log end at
    `after` (then the log was truncated beneath the consumer and the reset was forced on it).
    Samples whose committed offset could not be read are not points, so a gap is compared across.
    A drop at the newest sample waits one cycle for its confirmation.
    """
    found = None
    for before, after, following in zip(points, points[1:], points[2:], strict=False):
        if after.committed >= before.committed or following.committed >= before.committed:
            continue
        if before.committed > after.end or _end_fell(ordered, before.i, following.i):
            continue
        found = (before, after)
    return found


def _poll_interval(ordered: list[Sample]) -> float:
    """The typical time between samples (median, so one slow cycle does not stretch it)."""
    gaps = [b.t - a.t for a, b in pairwise(ordered) if b.t > a.t]
    return statistics.median(gaps) if gaps else 0.0


def _stuck(ordered: list[Sample], points: list[_Point], now: float, min_stuck_s: float) -> tuple[float, int] | None:
    """(seconds records have waited, records arrived) when commits stopped while records arrive, else None.

    Burrow: the time since the last commit exceeds the span from the first to the last commit in
    the window. Adapted: commits are changes of the committed offset between samples, and the clock
    starts at the first sample since the last change at which records were waiting (end beyond the
    committed offset), because a consumer cannot commit what has not been produced yet. The wait
    must also reach `min_stuck_s` and STUCK_MIN_POLLS poll intervals, and the log end must have
    advanced since the last change: a partition without new records is idle, not stopped.
    """
    changes = [k for k in range(1, len(points)) if points[k].committed != points[k - 1].committed]
    run = points[changes[-1] :] if changes else points
    arrived = run[-1].end - run[0].end
    if arrived <= 0:
        return None
    waiting = next((p for p in run if p.end > p.committed), None)
    if waiting is None:
        return None
    waited = now - waiting.t
    span = points[changes[-1]].t - points[changes[0]].t if changes else 0.0
    if waited <= span or waited < max(min_stuck_s, STUCK_MIN_POLLS * _poll_interval(ordered)):
        return None
    return waited, arrived
