"""Topic settings in plain words and human units: "Keep records for: 1 day" for retention.ms 86400000.

Pure: the topic page shows these, with Kafka's own name and exact value one hover away.
"""

from __future__ import annotations

LABELS = {
    "cleanup.policy": "Old records are",
    "retention.ms": "Keep records for",
    "retention.bytes": "Keep at most, per partition",
    "min.insync.replicas": "Replicas that confirm a write (acks=all)",
    "max.message.bytes": "Largest record batch",
    "segment.bytes": "Log segment size",
    "segment.ms": "Roll a log segment after",
    "compression.type": "Compression",
    "message.timestamp.type": "Record timestamps",
    "delete.retention.ms": "Keep delete markers for",
    "min.compaction.lag.ms": "Compact records older than",
}

WORDS = {
    ("cleanup.policy", "delete"): "deleted after the retention",
    ("cleanup.policy", "compact"): "compacted (the latest per key kept)",
    ("cleanup.policy", "compact,delete"): "compacted, and deleted after the retention",
    ("cleanup.policy", "delete,compact"): "compacted, and deleted after the retention",
    ("compression.type", "producer"): "as the producer sent it",
    ("message.timestamp.type", "CreateTime"): "set by the producer",
    ("message.timestamp.type", "LogAppendTime"): "set by the broker on write",
}

UNLIMITED = {"retention.ms": "forever", "retention.bytes": "no size limit"}

_UNITS_MS = (("day", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1000), ("ms", 1))
_UNITS_BYTES = (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10))


def label(name: str) -> str:
    """The setting in words; Kafka's name when there are none."""
    return LABELS.get(name, name)


def ms_text(ms: int) -> str:
    """86400000 -> "1 day", 90000 -> "1 min 30 s": at most the two largest units, rounded down."""
    if ms == 0:
        return "0 s"
    parts = []
    for unit, size in _UNITS_MS:
        count, ms = divmod(ms, size)
        if count:
            plural = "s" if unit == "day" and count != 1 else ""
            parts.append(f"{count:,} {unit}{plural}")
        if len(parts) == 2:
            break
    return " ".join(parts)


def bytes_text(n: int) -> str:
    """1073741824 -> "1 GiB", 1048588 -> "1.0 MiB"; below 1 KiB in bytes."""
    for unit, size in _UNITS_BYTES:
        if n >= size:
            whole = n % size == 0
            return f"{n // size:,} {unit}" if whole else f"{n / size:,.1f} {unit}"
    return f"{n:,} B"


def value_text(name: str, value: str | None) -> str:
    """The value in words or human units; the value itself when it is not a number we know."""
    if value is None:
        return "—"
    if (name, value) in WORDS:
        return WORDS[(name, value)]
    if not value.lstrip("-").isdigit():
        return value
    number = int(value)
    if number < 0:
        return UNLIMITED.get(name, "no limit")
    if name.endswith(".ms"):
        return ms_text(number)
    if name.endswith(".bytes"):
        return bytes_text(number)
    return f"{number:,}"
