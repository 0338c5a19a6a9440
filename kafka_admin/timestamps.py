"""A timestamp a person typed (a seek, a reset, a filter), as Kafka's epoch milliseconds.

One parser for every input, so the pages, the API and the CLI accept and refuse the same texts.
"""

from __future__ import annotations

from datetime import UTC, datetime

MAX_TIMESTAMP_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z: the last moment a datetime can hold


def parse_timestamp_ms(raw: str) -> int:
    """Epoch milliseconds, or an ISO-8601 date-time (UTC unless it names another offset).

    Raises ValueError with a message for a person. The caller says what an empty input means.
    """
    raw = raw.strip()
    if raw.isascii() and raw.isdigit():
        if len(raw) > 15 or int(raw) > MAX_TIMESTAMP_MS:
            raise ValueError("the timestamp must be before the year 10000")
        return int(raw)
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(
            f"not a timestamp: {raw[:40]!r}; the timestamp must be an ISO-8601 date-time "
            "(e.g. 2026-01-31T14:05:00Z) or epoch milliseconds"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if parsed.year < 1970:
        raise ValueError("the timestamp must be after 1970")
    value = int(parsed.timestamp() * 1000)
    if not 0 <= value <= MAX_TIMESTAMP_MS:  # 9999-12-31T23:59-01:00 is in the year 10000 in UTC
        raise ValueError("the timestamp must be between 1970 and the year 9999 (UTC)")
    return value
