"""Rates, trends and chart helpers derived from sampled counters: pure functions, no broker, no I/O.

Samples are (unix_time_s, value) pairs. Offsets are monotonic counters, so a rate is just the
difference between two samples; a counter that goes down was reset (topic recreated, offsets
reset), and only samples after the reset describe the current counter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from kafka_admin.figures.series import LagHistory

T = TypeVar("T")

# trend(): the fitted line must move by more than all of these over the window to count as a trend.
STEADY_FRACTION = 0.05  # 5 % of the mean lag level: small drift on a big lag is not news
STEADY_NOISE_K = 2.0  # 2 standard errors: commit sawtooth noise is not a trend
STEADY_FLOOR = 1.0  # one record over the whole window is noise whatever the level

# The noise band: a consumer this close to the end under continuous production is keeping up
# (it commits every few seconds, so the lag between commits is the production of those seconds).
NOISE_FLOOR_RECORDS = 10
NOISE_WINDOW_S = 10.0
# Beyond this a catch-up time means nothing (rates drift long before): say so instead of a number.
CATCH_UP_HORIZON_S = 30 * 86400.0

GROWING = "growing"
SHRINKING = "shrinking"
STEADY = "steady"
UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Trend:
    """Least-squares slope (units/s) of a series over a window; slope None with fewer than 3 samples."""

    slope: float | None
    direction: str
    samples: int


@dataclass(frozen=True, slots=True)
class CatchUp:
    """Seconds until the lag is cleared at current rates, or None with the reason why not."""

    seconds: float | None
    reason: str


def _by_time(samples: Sequence[tuple[float, T]]) -> list[tuple[float, T]]:
    """Samples in time order; stable so equal times keep their arrival order."""
    return sorted(samples, key=lambda s: s[0])


def _in_window(samples: list[tuple[float, T]], window_s: float, now: float) -> list[tuple[float, T]]:
    return [s for s in samples if now - window_s <= s[0] <= now]


def _after_last_reset(samples: list[tuple[float, int]]) -> list[tuple[float, int]]:
    """The samples from the last counter decrease on: earlier values belong to an older counter."""
    start = 0
    for i in range(1, len(samples)):
        if samples[i][1] < samples[i - 1][1]:
            start = i
    return samples[start:]


def rate(samples: Sequence[tuple[float, int]], window_s: float, now: float | None = None) -> float | None:
    """Counter increase per second over the last `window_s` seconds (default: ending at the newest sample).

    Uses the oldest and newest sample inside the window; None when fewer than 2 remain or no time passed.
    """
    ordered = _by_time(samples)
    if not ordered:
        return None
    end = ordered[-1][0] if now is None else now
    window = _after_last_reset(_in_window(ordered, window_s, end))
    if len(window) < 2:
        return None
    (t0, v0), (t1, v1) = window[0], window[-1]
    if t1 <= t0:
        return None
    return (v1 - v0) / (t1 - t0)


def _least_squares(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    """(slope, standard error of the slope), or None when all times are equal."""
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    sxx = sum((t - mean_t) ** 2 for t, _ in points)
    if sxx == 0:
        return None
    slope = sum((t - mean_t) * (v - mean_v) for t, v in points) / sxx
    intercept = mean_v - slope * mean_t
    ssr = sum((v - (intercept + slope * t)) ** 2 for t, v in points)
    return slope, math.sqrt(ssr / (n - 2) / sxx)


def trend(samples: Sequence[tuple[float, float]], window_s: float) -> Trend:
    """Is the lag growing, shrinking or steady over the last `window_s` seconds (ending at the newest sample)?

    "steady" when the fitted change over the window, |slope| * span, is within the largest of
    5 % of the mean lag, two standard errors of that change (sawtooth noise from periodic commits),
    or one record. Fewer than 3 samples (no way to tell a trend from noise) or no time span: "unknown".
    """
    ordered = _by_time(samples)
    if not ordered:
        return Trend(None, UNKNOWN, 0)
    window = _in_window(ordered, window_s, ordered[-1][0])
    if len(window) < 3:
        return Trend(None, UNKNOWN, len(window))
    fit = _least_squares(window)
    if fit is None:
        return Trend(None, UNKNOWN, len(window))
    slope, slope_error = fit
    span = window[-1][0] - window[0][0]
    level = sum(abs(v) for _, v in window) / len(window)
    threshold = max(STEADY_FRACTION * level, STEADY_NOISE_K * slope_error * span, STEADY_FLOOR)
    return Trend(slope, _direction(slope * span, threshold), len(window))


class LazyTrend(Trend):
    """trend() of a series, worked out when first read: a group's trend is read by its page and the
    API, not every cycle, and fitting 60 points for each of 50,000 groups every cycle cost more than
    the rest of its figures. Equal to the Trend it stands for."""

    __slots__ = ("_samples", "_value", "_window_s")

    def __init__(self, samples: Sequence[tuple[float, float]], window_s: float) -> None:
        kept = samples if isinstance(samples, tuple | LagHistory) else tuple(samples)  # both immutable
        object.__setattr__(self, "_samples", kept)
        object.__setattr__(self, "_window_s", window_s)
        object.__setattr__(self, "_value", None)

    def value(self) -> Trend:
        found = self._value
        if found is None:
            found = trend(self._samples, self._window_s)
            object.__setattr__(self, "_value", found)
            object.__setattr__(self, "_samples", ())
        return found

    @property  # type: ignore[override]
    def slope(self) -> float | None:
        return self.value().slope

    @property  # type: ignore[override]
    def direction(self) -> str:
        return self.value().direction

    @property  # type: ignore[override]
    def samples(self) -> int:
        return self.value().samples

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Trend):
            return (self.slope, self.direction, self.samples) == (other.slope, other.direction, other.samples)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.value())

    def __repr__(self) -> str:
        return f"LazyTrend({self.value()!r})"

    def __reduce__(self) -> tuple:
        return (Trend, (self.slope, self.direction, self.samples))


def _direction(change: float, threshold: float) -> str:
    if abs(change) <= threshold:
        return STEADY
    return GROWING if change > 0 else SHRINKING


def in_noise_band(lag: int, produce_rate: float | None) -> bool:
    """A lag of a few records, or of a few seconds of production: healthy, drawn neutral, no alarm."""
    return lag <= max(NOISE_FLOOR_RECORDS, (produce_rate or 0.0) * NOISE_WINDOW_S)


def catch_up_eta(lag: int, consume_rate: float | None, produce_rate: float | None) -> CatchUp:
    """Time to clear `lag` records: lag / (consume - produce), only while consumers outpace producers.

    Inside the noise band the consumer is keeping up, whatever the rates' noise says; an answer
    beyond CATCH_UP_HORIZON_S (a net rate of nearly 0) is "more than 30 days", not a number.
    """
    if lag <= 0:
        return CatchUp(0.0, "caught up")
    if in_noise_band(lag, produce_rate):
        return CatchUp(None, "keeping up")
    if consume_rate is None or produce_rate is None:
        return CatchUp(None, "no rate yet")
    net = consume_rate - produce_rate
    if net <= 0:
        return CatchUp(None, "not catching up")
    if lag / net > CATCH_UP_HORIZON_S:
        return CatchUp(None, "more than 30 days")
    return CatchUp(lag / net, "at current rates")


def downsample(points: Sequence[tuple[float, T]], bucket_s: float) -> list[tuple[float, T]]:
    """The last point of each `bucket_s`-wide time bucket, in time order.

    For counters the last value in a bucket is exact at its own time, so nothing is averaged away.
    """
    if bucket_s <= 0:
        raise ValueError("bucket_s must be positive")
    kept: list[tuple[float, T]] = []
    last_bucket: int | None = None
    for point in _by_time(points):
        bucket = math.floor(point[0] / bucket_s)
        if bucket == last_bucket:
            kept[-1] = point
        else:
            kept.append(point)
            last_bucket = bucket
    return kept


def _num(x: float) -> str:
    """Compact SVG number: two decimals at most, no trailing zeros, no "-0"."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def sparkline_points(values: Sequence[float], width: int, height: int, *, pad: float = 0.0) -> str:
    """SVG polyline `points` ("x,y x,y ...") for `values` scaled into a width x height box.

    SVG y grows downwards, so the largest value is at the top. A constant series is a flat line in
    the middle. `pad` keeps the line that far from the top and bottom edges so a thick stroke is not clipped.
    """
    n = len(values)
    if n < 2:
        return ""
    lo, hi = min(values), max(values)
    step = width / (n - 1)
    usable = max(0.0, height - 2 * pad)
    coords = []
    for i, v in enumerate(values):
        y = height / 2 if hi == lo else pad + (hi - v) / (hi - lo) * usable
        coords.append(f"{_num(i * step)},{_num(y)}")
    return " ".join(coords)
