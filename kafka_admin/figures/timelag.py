"""Time lag per partition: how many seconds behind the producers a consumer is.

Kafka only reports lag in records. To turn it into seconds we remember, per partition, when the
log-end offset passed each value (an `OffsetTimeline` of (end_offset, unix_time_s) points, one per
poll) and look up when the record at the committed offset was produced. This is kafka-lag-exporter's
method; the rules below avoid each failure mode its users reported (REFERENCE.md, "Time lag"):

* Spikes during bursts: we never extrapolate. The caller adds the current (end_offset, now) point
  before asking, so the committed offset is always bracketed by two real observations and the answer
  lies between their times. A burst only makes one segment steep; it cannot push the estimate
  outside that segment.
* Inflated lag on idle topics: a consumer that has read everything (end - committed <= 0) has a
  time lag of exactly 0, whatever the age of the last record. And a flat stretch keeps both its first
  and its latest point, so when production resumes after a long pause the first new record is dated
  after the pause, not at its start.
* Flapping between 0 and the poll interval: a consumer a few records behind under continuous
  production is dated by interpolation inside the last segment, giving a fraction of a second
  (10 records at 100 msg/s = 0.1 s), not the whole poll interval.
* Huge values while a consumer re-reads from the start: a committed offset older than the oldest
  point is reported as "at least now - oldest point" (`lower_bound=True`), bounded by the history we
  actually have, instead of an extrapolation towards the epoch.

Beyond the timeline the collector reads the timestamp of the record at the committed offset
(kafka_admin/snapshot/record_times.py, `ClusterSnapshot.record_times`); `exact_time_lag` turns it
into the exact figure, which replaces the lower bound (docs/time-lag.md).

`OffsetTimeline` is a small mutable class: one poller owns one per partition and appends to it in
place every poll, which avoids copying 60 points per partition per poll. Everything else is pure.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from kafka_admin.snapshot.model import RecordTime

DEFAULT_MAX_POINTS = 60

REASON_CAUGHT_UP = "caught up"
REASON_INTERPOLATED = "interpolated"
REASON_OLDER = "older than history"
REASON_SINCE_NEWEST = "since last point"
REASON_NO_HISTORY = "no history"
REASON_NO_OFFSET = "no offset"
REASON_NO_PARTITIONS = "no partitions"
REASON_RECORD = "record timestamp"
REASON_NOTHING_WAITING = "only transaction markers after the offset"
REASON_BELOW_START = "offset below the log start: records deleted"

# How a TimeEstimate relates to the true production time.
Precision = Literal["interpolated", "at_or_before", "at_or_after", "unknown"]


@dataclass(frozen=True, slots=True)
class OffsetPoint:
    """The log-end offset observed at one poll: every offset below `offset` existed at time `t`."""

    offset: int
    t: float


@dataclass(frozen=True, slots=True)
class TimeEstimate:
    """When a record was produced, as far as the timeline can tell.

    precision: "interpolated" (about `t`), "at_or_before" (older than the history, so `t` is the
    latest it can have been), "at_or_after" (newer than the last point), "unknown" (`t` is None).
    """

    t: float | None
    precision: Precision


@dataclass(frozen=True, slots=True)
class TimeLag:
    """Seconds behind for one partition or group; `lower_bound` means "at least this many"."""

    seconds: float | None
    lower_bound: bool
    reason: str


class OffsetTimeline:
    """Bounded history of (end_offset, time) points for one partition, owned and mutated by one poller.

    Flat stretches keep only their first and latest point; a shrinking end offset (topic recreated,
    truncation) or a clock stepping backwards resets the history, since old points no longer
    describe this log.
    """

    __slots__ = ("_points", "version")

    def __init__(self, max_points: int = DEFAULT_MAX_POINTS) -> None:
        if max_points < 2:
            raise ValueError("max_points must be at least 2 to interpolate")
        self._points: deque[OffsetPoint] = deque(maxlen=max_points)
        # Counts the changes that can move `time_of` for an offset below the newest point: a new
        # end offset, a point dropped or the history cleared. Moving the latest point of a flat
        # stretch forward does not (no offset below it lies in that stretch), so a quiet group's
        # estimates stay valid while it is unchanged (kafka_admin/figures/quiet.py).
        self.version = 0

    @property
    def max_points(self) -> int:
        assert self._points.maxlen is not None
        return self._points.maxlen

    @property
    def points(self) -> tuple[OffsetPoint, ...]:
        return tuple(self._points)

    def __len__(self) -> int:
        return len(self._points)

    def add(self, end_offset: int, t: float) -> None:
        """Record the log-end offset seen at unix time `t` (call once per poll, before `time_lag`)."""
        point = OffsetPoint(end_offset, t)
        pts = self._points
        if not pts:
            pts.append(point)
            self.version += 1
            return
        last = pts[-1]
        if end_offset < last.offset or t < last.t:
            pts.clear()
            pts.append(point)
            self.version += 1
            return
        if end_offset == last.offset and len(pts) >= 2 and pts[-2].offset == end_offset:
            # Still flat: move the "latest" end of the stretch forward, keep its first point.
            pts[-1] = point
            return
        if end_offset != last.offset or len(pts) == pts.maxlen:
            self.version += 1
        pts.append(point)

    def time_of(self, offset: int) -> TimeEstimate:
        """When the log-end offset passed `offset`, i.e. (about) when the record at `offset` was produced."""
        pts = self._points
        if not pts:
            return TimeEstimate(None, "unknown")
        if offset < pts[0].offset:
            return TimeEstimate(pts[0].t, "at_or_before")
        if offset >= pts[-1].offset:
            return TimeEstimate(pts[-1].t, "at_or_after")
        return TimeEstimate(_interpolate(pts, offset), "interpolated")


def _interpolate(pts: deque[OffsetPoint], offset: int) -> float:
    """Linear time between the consecutive points with p_i.offset <= offset < p_{i+1}.offset."""
    for prev, nxt in pairwise(pts):
        if prev.offset <= offset < nxt.offset:
            fraction = (offset - prev.offset) / (nxt.offset - prev.offset)
            return prev.t + fraction * (nxt.t - prev.t)
    raise ValueError(f"offset {offset} is not inside the timeline")  # callers check the range first


def time_lag(timeline: OffsetTimeline, committed: int | None, end_offset: int | None, now: float) -> TimeLag:
    """Seconds between now and when the record at `committed` (the next one to consume) was produced.

    An unknown or negative (-1, "no offset") committed or end offset gives no answer rather than a guess.
    """
    return aged_time_lag(timeline, committed, end_offset, now)[0]


def aged_time_lag(
    timeline: OffsetTimeline, committed: int | None, end_offset: int | None, now: float
) -> tuple[TimeLag, float | None]:
    """time_lag, and the estimated production time it counts from when that holds while the timeline's
    `version` does not change (interpolated or older than the history): the lag is then
    max(0, now - that time) at any later `now`. None: the answer is constant, or moves otherwise."""
    if committed is None or committed < 0 or end_offset is None or end_offset < 0:
        return TimeLag(None, False, REASON_NO_OFFSET), None
    if end_offset - committed <= 0:
        return TimeLag(0.0, False, REASON_CAUGHT_UP), None
    estimate = timeline.time_of(committed)
    if estimate.t is None:
        return TimeLag(None, False, REASON_NO_HISTORY), None
    seconds = max(0.0, now - estimate.t)
    if estimate.precision == "at_or_before":
        return TimeLag(seconds, True, REASON_OLDER), estimate.t
    if estimate.precision == "at_or_after":
        return TimeLag(seconds, False, REASON_SINCE_NEWEST), None
    return TimeLag(seconds, False, REASON_INTERPOLATED), estimate.t


def exact_time_lag(record: RecordTime, now: float) -> TimeLag | None:
    """Now minus the timestamp of the record the group consumes next; None when the record has none.

    Nothing to consume (only markers up to the end) is 0. Below the log start the deleted records
    were older than the oldest one left, so that one's age is a lower bound. A CreateTime from a
    producer whose clock runs ahead gives no negative lag.
    """
    if record.record_offset is None:
        return TimeLag(0.0, False, REASON_NOTHING_WAITING)
    if record.timestamp_ms is None:
        return None
    seconds = max(0.0, now - record.timestamp_ms / 1000)
    if record.below_start:
        return TimeLag(seconds, True, REASON_BELOW_START)
    kind = f" ({record.timestamp_type})" if record.timestamp_type else ""
    return TimeLag(seconds, False, REASON_RECORD + kind)


def group_time_lag(values: Iterable[TimeLag]) -> TimeLag:
    """The worst partition's time lag: a group is as late as its slowest partition (as in Burrow).

    On a tie the lower-bound value wins, since its true value may be larger.
    """
    values = list(values)
    if not values:
        return TimeLag(None, False, REASON_NO_PARTITIONS)
    known = [v for v in values if v.seconds is not None]
    if not known:
        return TimeLag(None, False, REASON_NO_HISTORY)
    return max(known, key=lambda v: (v.seconds, v.lower_bound))
