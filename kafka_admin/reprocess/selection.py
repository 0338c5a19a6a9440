"""What a run or plan is asked to read: a range of one DLQ partition, or individual records."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OffsetRange:
    """Offsets start..end (inclusive) of one DLQ partition."""

    partition: int
    start: int
    end: int


@dataclass(frozen=True)
class Offsets:
    """Individual DLQ records as (partition, offset) pairs."""

    keys: tuple[tuple[int, int], ...]


Selection = OffsetRange | Offsets


def check_arguments(selection: object, batch_size: int, rate_limit: float | None) -> str | None:
    if batch_size < 1:
        return f"batch size must be at least 1, got {batch_size}"
    if rate_limit is not None and not rate_limit > 0:
        return f"rate limit must be positive, got {rate_limit}"
    if isinstance(selection, OffsetRange):
        if selection.partition < 0 or selection.start < 0 or selection.end < selection.start:
            return f"invalid range {selection}: needs partition >= 0 and 0 <= start <= end"
        return None
    if isinstance(selection, Offsets):
        if any(p < 0 or o < 0 for p, o in selection.keys):
            return "partitions and offsets must not be negative"
        return None
    return f"unknown selection {selection!r}"
