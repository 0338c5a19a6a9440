"""Which groups need somebody's attention: what the overview's "Groups lagging" tile counts (pure).

Not "lag > 0": under continuous production nearly every healthy group is a few records behind,
so that count read 5 of 6 and flapped. A group needs attention when its status says it is not
keeping up (docs/lag-status.md) or when it is further behind its producers, in seconds, than a
threshold (docs/time-lag.md). The threshold is one global setting, `ATTENTION_TIME_LAG` (300 s
by default: five minutes behind is late for most streaming consumers, and far above what a
healthy group's commit interval and poll interval add up to). Alert rules refine it per group.
"""

from __future__ import annotations

ATTENTION_STATUSES = frozenset({"WARN", "STALL", "STOP", "REWIND"})
DEFAULT_ATTENTION_TIME_LAG_S = 300.0


def needs_attention(status: str, time_lag_s: float | None, threshold_s: float = DEFAULT_ATTENTION_TIME_LAG_S) -> bool:
    """WARN, STALL, STOP, REWIND, or a time lag above `threshold_s` (a lower bound counts: it is at least that)."""
    if status in ATTENTION_STATUSES:
        return True
    return time_lag_s is not None and time_lag_s > threshold_s
