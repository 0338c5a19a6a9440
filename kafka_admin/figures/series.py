"""(t, value) series kept per group in compact arrays: the lag history and the commit-progress window.

Every group keeps about LAG_POINTS lag points over the trend window (tracker.py), for its trend and
sparkline, and its commit progress over the rate window. As deques of (t, value) tuples a point cost
about 110 bytes (the tuple, a float, an int above 256, the deque's slot), a deque at least one
64-slot block, and every cycle handed the figures a new tuple of the lag points: at 50,000 groups
that was about 350 MB for the lag history alone once its window filled. Here a point is 16 bytes
(bench/RESULTS.md, "Memory of every process").
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from typing import overload


class _Points(Sequence[tuple[float, int]]):
    """Times in an array of doubles, values in an array of int64, oldest first; read as tuples."""

    __slots__ = ("_times", "_values")

    def __init__(self, times: array | None = None, values: array | None = None) -> None:
        self._times = array("d") if times is None else times
        self._values = array("q") if values is None else values

    def __len__(self) -> int:
        return len(self._times)

    @overload
    def __getitem__(self, i: int) -> tuple[float, int]: ...
    @overload
    def __getitem__(self, i: slice) -> list[tuple[float, int]]: ...
    def __getitem__(self, i: int | slice) -> tuple[float, int] | list[tuple[float, int]]:
        if isinstance(i, slice):
            return list(zip(self._times[i], self._values[i], strict=True))
        return self._times[i], self._values[i]

    def __iter__(self) -> Iterator[tuple[float, int]]:
        return zip(self._times, self._values, strict=True)


class LagHistory(_Points):
    """One cycle's (t, lag) series: immutable, equal to the same points in any sequence (a tuple of
    tuples included), pickled as its two arrays."""

    __slots__ = ()

    @classmethod
    def of(cls, points: Sequence[tuple[float, int]]) -> LagHistory:
        return cls(array("d", (t for t, _ in points)), array("q", (v for _, v in points)))

    def lags(self) -> array:
        """The lags alone (a copy), for a sparkline."""
        return self._values[:]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LagHistory):
            return self._times == other._times and self._values == other._values
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return len(other) == len(self) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self._times.tobytes(), self._values.tobytes()))

    def __repr__(self) -> str:
        return f"LagHistory({list(self)!r})"

    def __reduce__(self) -> tuple:
        return LagHistory, (self._times, self._values)


class PointWindow(_Points):
    """A window the tracker appends to and drops old points from (the commit progress of a group)."""

    __slots__ = ()

    def append(self, t: float, value: int) -> None:
        self._times.append(t)
        self._values.append(value)

    def drop_before(self, t: float) -> None:
        """Drop the points older than `t` (from the oldest: the times are in order)."""
        times, cut = self._times, 0
        while cut < len(times) and times[cut] < t:
            cut += 1
        if cut:
            del times[:cut]
            del self._values[:cut]


class LagWindow(PointWindow):
    """A group's lag window: thinned to one point per `spacing` seconds (the newest always kept,
    replacing the one before while they are closer than that), points older than `window_s` before
    the newest dropped. `frozen()` is the cycle's copy for its figures."""

    __slots__ = ()

    def add(self, t: float, lag: int, spacing: float, window_s: float) -> None:
        times = self._times
        if len(times) >= 2 and times[-1] - times[-2] < spacing:
            times[-1], self._values[-1] = t, lag
        else:
            self.append(t, lag)
        self.drop_before(t - window_s)

    def frozen(self) -> LagHistory:
        return LagHistory(self._times[:], self._values[:])
