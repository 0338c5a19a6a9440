"""A group's total lag over the trend window, in compact arrays.

Every group keeps about LAG_POINTS points (tracker.py) for its trend and its sparkline. As a deque of
(t, lag) tuples a point cost about 110 bytes (the tuple, a float, an int above 256, the deque's slot)
and every cycle handed the figures a new tuple of them: at 50,000 groups and 60 points that was
about 350 MB once the window filled. Here a point is 16 bytes in the window and 16 in the cycle's
frozen copy (bench/RESULTS.md, "Memory of every process").
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from typing import overload


class LagHistory(Sequence[tuple[float, int]]):
    """One cycle's (t, lag) series, oldest first: immutable, compares equal to the same points in any
    sequence (a tuple of tuples included), and pickles as its two arrays."""

    __slots__ = ("_lags", "_times")

    def __init__(self, times: array, lags: array) -> None:
        self._times = times
        self._lags = lags

    @classmethod
    def of(cls, points: Sequence[tuple[float, int]]) -> LagHistory:
        return cls(array("d", (t for t, _ in points)), array("q", (lag for _, lag in points)))

    def __len__(self) -> int:
        return len(self._times)

    @overload
    def __getitem__(self, i: int) -> tuple[float, int]: ...
    @overload
    def __getitem__(self, i: slice) -> list[tuple[float, int]]: ...
    def __getitem__(self, i: int | slice) -> tuple[float, int] | list[tuple[float, int]]:
        if isinstance(i, slice):
            return list(zip(self._times[i], self._lags[i], strict=True))
        return self._times[i], self._lags[i]

    def __iter__(self) -> Iterator[tuple[float, int]]:
        return zip(self._times, self._lags, strict=True)

    def lags(self) -> array:
        """The lags alone (a copy), for a sparkline."""
        return self._lags[:]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LagHistory):
            return self._times == other._times and self._lags == other._lags
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return len(other) == len(self) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self._times.tobytes(), self._lags.tobytes()))

    def __repr__(self) -> str:
        return f"LagHistory({list(self)!r})"

    def __reduce__(self) -> tuple:
        return LagHistory, (self._times, self._lags)


EMPTY_HISTORY = LagHistory(array("d"), array("q"))


class LagWindow:
    """The tracker's side: points added each cycle, thinned to one per `spacing` seconds (the newest
    always kept, replacing the one before while they are closer than that), older than `window_s`
    dropped. `frozen()` is the cycle's copy for its figures."""

    __slots__ = ("_lags", "_times")

    def __init__(self) -> None:
        self._times = array("d")
        self._lags = array("q")

    def __len__(self) -> int:
        return len(self._times)

    def add(self, t: float, lag: int, spacing: float, window_s: float) -> None:
        times, lags = self._times, self._lags
        if len(times) >= 2 and times[-1] - times[-2] < spacing:
            times[-1], lags[-1] = t, lag
        else:
            times.append(t)
            lags.append(lag)
        cut = 0
        while cut < len(times) and times[cut] < t - window_s:
            cut += 1
        if cut:
            del times[:cut]
            del lags[:cut]

    def frozen(self) -> LagHistory:
        return LagHistory(self._times[:], self._lags[:])
