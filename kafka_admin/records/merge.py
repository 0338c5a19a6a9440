"""Merge the partitions of a topic into one stream ordered by time, scanning a bounded number of records.

Pure: the reads are a function passed in (`Fetch`), so the merge is tested without a broker and the
broker side (kafka_admin.records.browse) only fetches windows of offsets.

Each partition is a stream in offset order (descending for ``newest``, ascending for ``oldest``),
read in windows that double in size up to ``MAX_WINDOW``; the streams are merged by timestamp, the
way a k-way merge does: the next record is always the newest (or oldest) head among the partitions,
and a partition's window is read only when its head is needed. Within a partition records keep
their offset order even when producers set timestamps out of order.

A scan stops after `limit` matching records or `cap` records looked at. Its ``positions`` say, per
partition, where the next scan continues (for ``newest`` the exclusive upper offset, for ``oldest``
the next offset), so "older", "newer" and "scan further" are the same call with those positions.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from kafka_admin.records.read import Record

Direction = Literal["newest", "oldest"]
MAX_WINDOW = 1000
FIRST_WINDOW_BUDGET = 2000  # records over all partitions for the first round

# windows {partition: (first, stop)} -> ({partition: records of [first, stop) in offset order}, error or None)
Fetch = Callable[[dict[int, tuple[int, int]]], tuple[dict[int, list[Record]], str | None]]
Predicate = Callable[[Record], bool]


@dataclass(frozen=True)
class Span:
    """A partition's log start, its end, and where the scan begins (see the module docstring)."""

    start: int
    end: int
    position: int


@dataclass
class Scan:
    records: list[Record] = field(default_factory=list)
    scanned: int = 0
    positions: dict[int, int] = field(default_factory=dict)
    exhausted: bool = False
    error: str | None = None


def first_window(limit: int, partitions: int, filtered: bool) -> int:
    """Records to read from each partition at first: with no filter a whole page (one partition may
    hold all of the newest records, and every further window costs a round trip), at most
    FIRST_WINDOW_BUDGET records over all partitions; with a filter a larger window (most records
    will not match)."""
    if partitions <= 0:
        return 1
    budget = max(1, FIRST_WINDOW_BUDGET // partitions)
    if filtered:
        return max(min(200, budget), math.ceil(limit / partitions))
    return max(1, min(limit, max(budget, math.ceil(2 * limit / partitions))))


def scan(
    spans: dict[int, Span],
    direction: Direction,
    limit: int,
    cap: int,
    fetch: Fetch,
    match: Predicate | None = None,
    window: int | None = None,
) -> Scan:
    """The first `limit` records of the merged stream that `match`, looking at no more than `cap`."""
    return _Merge(spans, direction, fetch, window or first_window(limit, len(spans), match is not None)).run(
        limit, cap, match
    )


class _Merge:
    def __init__(self, spans: dict[int, Span], direction: Direction, fetch: Fetch, window: int) -> None:
        self.spans, self.newest, self.fetch = spans, direction == "newest", fetch
        self.bound = {p: s.position for p, s in spans.items()}  # the edge of what was read
        self.buffers: dict[int, deque[Record]] = {p: deque() for p in spans}
        self.window = dict.fromkeys(spans, max(1, window))

    def run(self, limit: int, cap: int, match: Predicate | None) -> Scan:
        out = Scan()
        while len(out.records) < limit and out.scanned < cap:
            out.error = self._fill()
            if out.error:
                break
            heads = [p for p, buf in self.buffers.items() if buf]
            if not heads:
                break
            pick = max(heads, key=self._order) if self.newest else min(heads, key=self._order)
            record = self.buffers[pick].popleft()
            out.scanned += 1
            if match is None or match(record):
                out.records.append(record)
        out.positions = {p: self._position(p) for p in self.spans}
        out.exhausted = not out.error and all(not self.buffers[p] and self._done(p) for p in self.spans)
        return out

    def _order(self, partition: int) -> tuple[int, int]:
        ts = self.buffers[partition][0].timestamp_ms
        return (-1 if ts is None else ts, partition if self.newest else -partition)

    def _done(self, p: int) -> bool:
        span = self.spans[p]
        return self.bound[p] <= span.start if self.newest else self.bound[p] >= span.end

    def _position(self, p: int) -> int:
        buf = self.buffers[p]
        if not buf:
            return self.bound[p]
        return buf[0].offset + 1 if self.newest else buf[0].offset

    def _fill(self) -> str | None:
        """Read the next window of every partition whose buffer ran dry (empty windows: again), and of
        those whose buffer holds less than a quarter of their last window."""
        while need := [p for p, buf in self.buffers.items() if not buf and not self._done(p)]:
            # Partitions about to run dry come along: one round trip instead of one per partition.
            low = [p for p, buf in self.buffers.items() if buf and len(buf) * 4 < self.window[p] and not self._done(p)]
            windows = {p: self._next_window(p) for p in need + low}
            got, error = self.fetch(windows)
            if error:
                return error  # nothing of this round kept: the positions stay where they were
            for p, (first, stop) in windows.items():
                records = got.get(p, [])
                self.buffers[p].extend(reversed(records) if self.newest else records)
                self.bound[p] = first if self.newest else stop
                self.window[p] = min(2 * self.window[p], MAX_WINDOW)
        return None

    def _next_window(self, p: int) -> tuple[int, int]:
        span, bound, size = self.spans[p], self.bound[p], self.window[p]
        if self.newest:
            return max(span.start, bound - size), bound
        return bound, min(span.end, bound + size)


def format_cursor(positions: dict[int, int]) -> str:
    """positions as text for a link: "0:120,1:98"."""
    return ",".join(f"{p}:{o}" for p, o in sorted(positions.items()))


def parse_cursor(text: str, max_partitions: int = 10_000) -> dict[int, int]:
    """The positions of format_cursor(); ValueError with a message for a person."""
    positions: dict[int, int] = {}
    if not text.strip():
        return positions
    parts = text.split(",")
    if len(parts) > max_partitions:
        raise ValueError(f"the cursor names more than {max_partitions} partitions")
    for part in parts:
        p, sep, o = part.strip().partition(":")
        if not sep or not (p.isascii() and p.isdigit() and o.isascii() and o.isdigit()) or len(o) > 19:
            raise ValueError(f"not a cursor: {text[:60]!r} (expected partition:offset pairs, e.g. 0:120,1:98)")
        positions[int(p)] = int(o)
    return positions
