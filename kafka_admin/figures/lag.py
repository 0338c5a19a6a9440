"""Pure lag math: no broker, no Django. Time lag and status evaluation grow here."""

from __future__ import annotations


def partition_lag(committed: int | None, end_offset: int | None) -> int | None:
    """Lag as Kafka's kafka-consumer-groups reports it: log-end minus committed.

    None when either side is unknown (no commit yet, or the end offset could not be read):
    an unknown lag is not a zero lag. A committed offset of -1 means "no offset" in Kafka.
    """
    if committed is None or committed < 0 or end_offset is None or end_offset < 0:
        return None
    return end_offset - committed
