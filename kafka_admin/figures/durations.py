"""Durations as the lag-status reasons and the lists show them (split from status.py, which quotes them).

Why a module of its own: the text of a duration is what changes from cycle to cycle in a stopped
consumer's reason, so the formatting is shared by the full evaluation (status.py) and the quiet
groups' reuse (quiet.py), and cached by whole seconds.
"""

from __future__ import annotations

import bisect
import functools

# The steps a growing duration is rounded down to where it is shown in lists (a stopped group's
# reason here, a time-lag lower bound in dashboard/monitor/rows.py), so that the two move together
# and a row changes only when it passes a step: 10 s, 30 s, 1, 2, 5, 10, 15, 30 min, 1, 2, 3, 6,
# 12 h, 1, 2, 7 d.
STEADY_STEPS_S = (10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800)


def steady_step(seconds: float) -> int:
    """The largest of STEADY_STEPS_S not above `seconds` (0 below the first)."""
    k = bisect.bisect_right(STEADY_STEPS_S, seconds)
    return STEADY_STEPS_S[k - 1] if k else 0


def steady_duration(seconds: float) -> str:
    """A duration rounded down to a step: "at least 5m 00s" (whole seconds below the first step)."""
    step = steady_step(seconds)
    return f"at least {duration_text(step)}" if step else duration_text(seconds)


def duration_text(seconds: float, whole_seconds_below: int = 120) -> str:
    """A duration for a reason: 45 s, 115 s, 9m 05s, 2h 10m, 3d 4h (whole seconds below the bound)."""
    return _duration_text(max(0, round(seconds)), whole_seconds_below)


@functools.lru_cache(maxsize=4096)
def _duration_text(s: int, whole_seconds_below: int) -> str:
    """Cached: the partitions of a stopped group share their durations, and this runs for each in each cycle."""
    if s < whole_seconds_below:
        return f"{s} s"
    m, sec = divmod(s, 60)
    if m < 60:
        return f"{m}m {sec:02d}s"
    h, m = divmod(m, 60)
    if h < 48:
        return f"{h}h {m:02d}m"
    d, h = divmod(h, 24)
    return f"{d}d {h}h"
