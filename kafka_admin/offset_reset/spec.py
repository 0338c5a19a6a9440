"""What a reset asks for (a mode and its value), parsed and checked, and the pure arithmetic of a
new offset: clamping to the log and the lag it leaves. No broker here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kafka_admin.timestamps import parse_timestamp_ms

MODES = ("earliest", "latest", "timestamp", "offset", "shift")
RESETTABLE_STATES = ("Empty", "Dead")
MAX_OFFSET = 2**63 - 1
MAX_PARTITIONS = 100_000
TP = tuple[str, int]


class InvalidReset(ValueError):
    """A reset that cannot be planned as asked (bad spec, unknown group, topic or partition).

    The message is for a person; pages turn it into a 400, the CLI into an error line.
    """


class ReadFailed(InvalidReset):
    """The broker could not be read (unreachable, timed out, not authorized): not the caller's fault."""


@dataclass(frozen=True)
class ResetSpec:
    """Where to move the offsets: to earliest | latest | timestamp (epoch ms) | offset | shift (by N)."""

    to: str
    value: int | None = None

    def __post_init__(self) -> None:
        if self.to not in MODES:
            raise InvalidReset(f"reset target must be one of {', '.join(MODES)}, not {self.to!r}")
        if self.to in ("earliest", "latest"):
            if self.value is not None:
                raise InvalidReset(f"'{self.to}' takes no value")
            return
        if self.value is None:
            raise InvalidReset(f"'{self.to}' needs a value")
        if self.to in ("timestamp", "offset") and self.value < 0:
            raise InvalidReset(f"the {'timestamp' if self.to == 'timestamp' else 'offset'} must not be negative")
        if abs(self.value) > MAX_OFFSET:
            raise InvalidReset("the value is out of range")

    def describe(self) -> str:
        if self.to in ("earliest", "latest"):
            return f"to {self.to}"
        if self.to == "timestamp":
            moment = datetime.fromtimestamp(self.value / 1000, UTC).isoformat(timespec="milliseconds")
            return f"to the first record at or after {moment.replace('+00:00', 'Z')} ({self.value} ms)"
        if self.to == "offset":
            return f"to offset {self.value}"
        return f"shift by {self.value:+d}"

    def as_dict(self) -> dict[str, Any]:
        return {"to": self.to, "value": self.value, "text": self.describe()}


def parse_timestamp(raw: str) -> int:
    """Epoch milliseconds, or an ISO-8601 date-time (UTC unless it names another offset)."""
    if not raw.strip():
        raise InvalidReset("a timestamp is required (ISO-8601 like 2026-01-31T14:05:00Z, or epoch milliseconds)")
    try:
        return parse_timestamp_ms(raw)
    except ValueError as exc:
        raise InvalidReset(str(exc)) from None


def parse_int(raw: str, what: str, *, signed: bool = False) -> int:
    text = raw.strip()
    body = text[1:] if signed and text[:1] in "+-" else text
    if not (body.isascii() and body.isdigit()) or len(body) > 19:
        kind = "a whole number (negative allowed)" if signed else "a whole number, 0 or more"
        raise InvalidReset(f"{what} must be {kind}, not {raw.strip()[:40]!r}")
    value = int(text)
    if abs(value) > MAX_OFFSET:
        raise InvalidReset(f"{what} is out of range")
    return value


def parse_spec(to: str, raw: str | None = None) -> ResetSpec:
    """A spec from text, as typed in a form or on the command line."""
    to = (to or "").strip()
    raw = raw if raw is not None else ""
    if to in ("earliest", "latest"):
        return ResetSpec(to)
    if to == "timestamp":
        return ResetSpec(to, parse_timestamp(raw))
    if to == "offset":
        return ResetSpec(to, parse_int(raw, "the offset"))
    if to == "shift":
        return ResetSpec(to, parse_int(raw, "the shift", signed=True))
    raise InvalidReset(f"choose a reset target: {', '.join(MODES)}")


def parse_selector(text: str) -> tuple[str, tuple[int, ...] | None]:
    """'orders' -> ('orders', None) = every partition; 'orders:0,2' -> ('orders', (0, 2))."""
    text = text.strip()
    topic, sep, parts = text.partition(":")
    topic = topic.strip()
    if not topic or len(topic) > 249 or any(ord(c) < 33 for c in topic):
        raise InvalidReset(f"not a topic name: {text[:60]!r}")
    if not sep:
        return topic, None
    partitions = []
    for part in parts.split(","):
        part = part.strip()
        if not (part.isascii() and part.isdigit()) or len(part) > 9:
            raise InvalidReset(f"partition must be a whole number 0 or more, not {part[:20]!r} (in {text[:60]!r})")
        partitions.append(int(part))
    return topic, tuple(sorted(set(partitions)))


def clamp(offset: int, log_start: int, log_end: int) -> tuple[int, str | None]:
    """Keep an offset within [log_start, log_end], as kafka-consumer-groups does; say when it moved."""
    if offset < log_start:
        return log_start, f"{offset} is before the log start: clamped to {log_start}"
    if offset > log_end:
        return log_end, f"{offset} is after the log end: clamped to {log_end}"
    return offset, None


def target_offset(
    spec: ResetSpec, current: int | None, log_start: int, log_end: int, at_time: int | None = None
) -> tuple[int | None, str | None]:
    """The new offset of one partition and a note; (None, why) when it cannot be computed.

    at_time is the offset ListOffsets found for the timestamp (-1 or None: no record at or after it).
    """
    if spec.to == "earliest":
        return log_start, None
    if spec.to == "latest":
        return log_end, None
    if spec.to == "timestamp":
        if at_time is None or at_time < 0:
            return log_end, "no record at or after the timestamp: log end"
        return clamp(at_time, log_start, log_end)
    if spec.to == "offset":
        return clamp(int(spec.value or 0), log_start, log_end)
    if current is None:
        return None, "no committed offset to shift from"
    return clamp(current + int(spec.value or 0), log_start, log_end)


def lag(offset: int | None, log_end: int) -> int | None:
    return None if offset is None else max(0, log_end - offset)
