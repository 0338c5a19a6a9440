"""A partition's window of status samples in two compact arrays instead of a deque of Sample objects.

Why: the tracker keeps one window per (group, topic, partition). At 500,000 group-partitions and
24 samples each, a deque of frozen Sample objects (each with its own int objects) cost about 3 KB a
partition, 1.5 GB in all; two arrays hold the same numbers in about 0.6 KB (bench/RESULTS.md).
The window reads back as a Sequence of Sample, so status.evaluate_partition judges it unchanged, and
it tells (in C, over the arrays) when the committed offset stood still across the whole window, so
the tracker can take status.evaluate_steady for that common partition (an idle or stopped consumer).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from itertools import pairwise
from typing import overload

from kafka_admin.figures.status import Sample

UNKNOWN = -1  # an offset that could not be read (None) or Kafka's -1: status._known treats both alike


class SampleWindow(Sequence[Sample]):
    """Samples oldest first: times in an array of doubles, (committed, end) pairs in an array of int64."""

    __slots__ = ("_offsets", "_times")

    def __init__(self) -> None:
        self._times = array("d")
        self._offsets = array("q")

    @classmethod
    def of(cls, times: array, offsets: array) -> SampleWindow:
        """A window of these arrays (taken, not copied): times, and (committed, end) pairs after each other."""
        window = cls()
        window._times, window._offsets = times, offsets
        return window

    def __len__(self) -> int:
        return len(self._times)

    @overload
    def __getitem__(self, i: int) -> Sample: ...
    @overload
    def __getitem__(self, i: slice) -> list[Sample]: ...
    def __getitem__(self, i: int | slice) -> Sample | list[Sample]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        n = len(self._times)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("window index out of range")
        return Sample(self._times[i], _back(self._offsets[2 * i]), _back(self._offsets[2 * i + 1]))

    def __iter__(self) -> Iterator[Sample]:
        offsets = self._offsets
        for i, t in enumerate(self._times):
            yield Sample(t, _back(offsets[2 * i]), _back(offsets[2 * i + 1]))

    @property
    def times(self) -> array:
        """The sample times (do not change them)."""
        return self._times

    def offsets(self) -> array:
        """The samples' (committed, end) pairs after each other (a copy; UNKNOWN where unknown)."""
        return self._offsets[:]

    def ends(self) -> array:
        """The samples' end offsets (a copy; UNKNOWN where unknown)."""
        return self._offsets[1::2]

    def steady(self) -> tuple[int, int, int] | None:
        """(committed, newest end, lowest end) when every sample shows the same known committed offset
        and a known end offset; else None (the window needs the full evaluation)."""
        offsets = self._offsets
        if not offsets:
            return None
        committed = offsets[-2]
        if committed < 0:
            return None
        n = len(self._times)
        if offsets[0::2].count(committed) != n:
            return None
        ends = offsets[1::2]
        low = min(ends)
        if low < 0:
            return None
        return committed, ends[-1], low

    def append_many(self, times: Sequence[float], committed: int, end: int, max_len: int) -> None:
        """Append samples of the same stored offsets at `times` (increasing, after the newest), then
        keep the newest `max_len`: what push() does one by one. Use extend_same()."""
        self._times.extend(times)
        self._offsets.extend((committed, end) * len(times))
        excess = len(self._times) - max_len
        if excess > 0:
            del self._times[:excess]
            del self._offsets[: 2 * excess]

    def push(self, sample: Sample, max_len: int) -> SampleWindow:
        """status.push's rules: a sample at the newest time replaces it, an older one clears the window;
        at most `max_len` samples are kept. Returns the window, changed in place."""
        if max_len < 1:
            raise ValueError("max_len must be at least 1")
        times, offsets = self._times, self._offsets
        committed, end = _stored(sample.committed), _stored(sample.end)
        if times and sample.t < times[-1]:
            del times[:]
            del offsets[:]
        if times and sample.t == times[-1]:
            offsets[-2], offsets[-1] = committed, end
        else:
            times.append(sample.t)
            offsets.append(committed)
            offsets.append(end)
        excess = len(times) - max_len
        if excess > 0:
            del times[:excess]
            del offsets[: 2 * excess]
        return self


def extend_same(window: SampleWindow, times: Sequence[float], sample: Sample, max_len: int) -> SampleWindow:
    """push() of `sample`'s offsets at each of `times`, in one step when they all follow the newest
    sample in increasing order (a quiet group's samples, pushed when it wakes: quiet.py)."""
    if max_len < 1:
        raise ValueError("max_len must be at least 1")
    own = window.times
    if not times:
        return window
    if (own and times[0] <= own[-1]) or any(b <= a for a, b in pairwise(times)):
        for t in times:
            window.push(Sample(t, sample.committed, sample.end), max_len)
        return window
    window.append_many(times[-max_len:], _stored(sample.committed), _stored(sample.end), max_len)
    return window


def _stored(offset: int | None) -> int:
    return UNKNOWN if offset is None or offset < 0 else offset


def _back(value: int) -> int | None:
    return None if value < 0 else value
