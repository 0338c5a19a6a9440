"""Sample windows for the lag-status tests: rows of (committed, end) taken every STEP seconds."""

from __future__ import annotations

from kafka_admin.figures.status import DEFAULT_MIN_SAMPLES, DEFAULT_WINDOW_SAMPLES, Sample

T0 = 1_700_000_000.0
STEP = 5.0
MIN = DEFAULT_MIN_SAMPLES
FULL = DEFAULT_WINDOW_SAMPLES


def window(*rows: tuple[int | None, int | None], t0: float = T0) -> list[Sample]:
    """Rows of (committed, end); sample i is taken at t0 + 5 s * i."""
    return [Sample(t0 + i * STEP, c, e) for i, (c, e) in enumerate(rows)]
