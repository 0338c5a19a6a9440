"""Offset reset for one consumer group: plan (a dry run that changes nothing), then apply.

The rules are Kafka's own (kafka-consumer-groups --reset-offsets):
- Offsets can be changed only while the group has no active members (state Empty or Dead). The
  broker enforces it too: a commit from outside the group while it has members is answered with
  UNKNOWN_MEMBER_ID, per partition, so apply re-reads the group right before and reports that.
- A new offset is clamped to [log-start, log-end] of its partition (the broker itself accepts any
  offset, even one far past the end; the tool clamps and so do we, with a note on the row).
- A timestamp after the last record resets to the log end.

Reads per plan: one DescribeGroups, one OffsetFetch, one Metadata, and ListOffsets batched per
leader (earliest, latest, and the timestamp when asked). Apply writes with kafka_admin.offset_write
(retrying what Kafka calls retriable) and reads the offsets back: a partition is reset when Kafka
holds its new offset, not when the write was answered. Every call carries request_timeout.
No Django here: the dashboard's pages and the CLI both call plan_reset and apply_reset.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from kafka_admin import offset_write
from kafka_admin.clients import error_text, make_admin
from kafka_admin.config import ClusterConfig
from kafka_admin.offset_write import StoredCheck
from kafka_admin.snapshot.groups.registry import state_name

MODES = ("earliest", "latest", "timestamp", "offset", "shift")
RESETTABLE_STATES = ("Empty", "Dead")
MAX_OFFSET = 2**63 - 1
MAX_TIMESTAMP_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z: the last moment a datetime can hold
MAX_PARTITIONS = 100_000
TP = tuple[str, int]


class InvalidReset(ValueError):
    """A reset that cannot be planned as asked (bad spec, unknown group, topic or partition).

    The message is for a person; pages turn it into a 400, the CLI into an error line.
    """


class ReadFailed(InvalidReset):
    """The broker could not be read (unreachable, timed out, not authorized): not the caller's fault."""


# --- the pure parts --------------------------------------------------------------------------------


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
    raw = raw.strip()
    if not raw:
        raise InvalidReset("a timestamp is required (ISO-8601 like 2026-01-31T14:05:00Z, or epoch milliseconds)")
    if raw.isascii() and raw.isdigit():
        if len(raw) > 15 or int(raw) > MAX_TIMESTAMP_MS:
            raise InvalidReset("the timestamp in epoch milliseconds is too large")
        return int(raw)
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidReset(
            f"not a timestamp: {raw[:40]!r} (use ISO-8601 like 2026-01-31T14:05:00Z, or epoch milliseconds)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if parsed.year < 1970:
        raise InvalidReset("the timestamp must be after 1970")
    value = int(parsed.timestamp() * 1000)
    if not 0 <= value <= MAX_TIMESTAMP_MS:  # 9999-12-31T23:59-01:00 is in the year 10000 in UTC
        raise InvalidReset("the timestamp must be between 1970 and the year 9999 (UTC)")
    return value


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


# --- the plan --------------------------------------------------------------------------------------


class ResetMember(NamedTuple):
    member_id: str
    client_id: str
    host: str


@dataclass(frozen=True)
class ResetRow:
    topic: str
    partition: int
    current: int | None
    new: int
    log_start: int
    log_end: int
    lag_before: int | None
    lag_after: int
    note: str | None = None

    @property
    def changes(self) -> bool:
        return self.current != self.new

    def as_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "partition": self.partition,
            "current": self.current,
            "new": self.new,
            "log_start": self.log_start,
            "log_end": self.log_end,
            "lag_before": self.lag_before,
            "lag_after": self.lag_after,
            "note": self.note,
        }


@dataclass(frozen=True)
class ResetPlan:
    group_id: str
    state: str
    members: tuple[ResetMember, ...]
    rows: tuple[ResetRow, ...]
    errors: tuple[str, ...] = ()
    blocked_reason: str | None = None
    spec: ResetSpec | None = None
    group_type: str | None = None

    @property
    def can_apply(self) -> bool:
        return self.blocked_reason is None and not self.errors and bool(self.rows)

    @property
    def changed(self) -> int:
        return sum(1 for r in self.rows if r.changes)

    @property
    def lag_before(self) -> int:
        return sum(r.lag_before or 0 for r in self.rows)

    @property
    def lag_after(self) -> int:
        return sum(r.lag_after for r in self.rows)


@dataclass(frozen=True)
class ApplyResult:
    """What apply did: the rows Kafka answered as written, its refusals, and the read-back of each
    written row (checks). ok only when every planned row was written and reads back as planned."""

    applied: tuple[ResetRow, ...]
    error: str | None = None
    failed: tuple[tuple[str, int, str], ...] = field(default=())
    refused: bool = False  # nothing was written because the group has members (or is not resettable)
    checks: tuple[StoredCheck, ...] = ()

    @property
    def verified(self) -> tuple[ResetRow, ...]:
        """The applied rows whose new offset Kafka was seen to hold."""
        held = {(c.topic, c.partition) for c in self.checks if c.verified}
        return tuple(r for r in self.applied if (r.topic, r.partition) in held)

    @property
    def unverified(self) -> tuple[StoredCheck, ...]:
        return tuple(c for c in self.checks if not c.verified)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failed and len(self.verified) == len(self.applied)


def blocked_reason(state: str, members: Sequence[ResetMember]) -> str | None:
    """Why Kafka will not take new offsets for this group now; None when it will."""
    if members:
        shown = ", ".join(f"{m.client_id or '(no client id)'} on {m.host or '?'}" for m in members[:20])
        more = f" and {len(members) - 20} more" if len(members) > 20 else ""
        noun = "active member" if len(members) == 1 else "active members"
        return (
            f"the group has {len(members)} {noun}: {shown}{more}; stop them first "
            "(Kafka changes a group's offsets only while it has no active members)"
        )
    if state not in RESETTABLE_STATES:
        return (
            f"the group is {state}; Kafka resets offsets only of an Empty or Dead group "
            "(wait until its members have left, then try again)"
        )
    return None


def plan_reset(
    config: ClusterConfig,
    group_id: str,
    partitions: Sequence[TP | tuple[str, None] | str] | None,
    spec: ResetSpec,
    *,
    admin: AdminClient | None = None,
) -> ResetPlan:
    """The dry run: per partition the current and the new offset and the lag change. Changes nothing.

    partitions: None = every partition the group has committed offsets for; a topic name alone (or
    (topic, None)) = every partition of that topic. Raises InvalidReset for an unknown group, an
    unknown topic, a partition that does not exist. Broker read failures land in plan.errors.
    """
    if not group_id or len(group_id) > 1000:
        raise InvalidReset("a consumer group id is required")
    reader = _Reader(config, admin)
    state, gtype, members, committed = reader.group(group_id)
    if state == "Dead" and not committed and not members:
        raise InvalidReset(f"consumer group {group_id!r} does not exist (no members, no committed offsets)")
    if partitions is None:
        selected = sorted(committed)
        if not selected:
            raise InvalidReset(f"consumer group {group_id!r} has no committed offsets; name the topics to reset")
    else:
        selected = expand_partitions(reader.metadata(), partitions)
    if not selected:
        raise InvalidReset("no partitions selected")
    errors: list[str] = []
    starts, ends = reader.watermarks(selected, errors)
    at_time: dict[TP, int] = {}
    if spec.to == "timestamp":
        at_time = reader.offsets_at(selected, int(spec.value or 0), errors)
    rows = []
    for tp in selected:
        start, end = starts.get(tp), ends.get(tp)
        if start is None or end is None:
            continue  # its error is already in errors
        current = committed.get(tp)
        new, note = target_offset(spec, current, start, end, at_time.get(tp))
        if new is None:
            errors.append(f"{tp[0]}/{tp[1]}: {note}")
            continue
        rows.append(ResetRow(tp[0], tp[1], current, new, start, end, lag(current, end), end - new, note))
    return ResetPlan(
        group_id=group_id,
        state=state,
        members=members,
        rows=tuple(rows),
        errors=tuple(errors),
        blocked_reason=blocked_reason(state, members),
        spec=spec,
        group_type=gtype,
    )


def expand_partitions(metadata: dict[str, int], selection: Iterable[TP | tuple[str, None] | str]) -> list[TP]:
    """Topic names and (topic, partition) pairs -> sorted, unique (topic, partition) pairs, checked
    against metadata (topic -> partition count). Unknown topics and partitions raise InvalidReset."""
    out: set[TP] = set()
    for item in selection:
        topic, partition = (item, None) if isinstance(item, str) else item
        count = metadata.get(topic)
        if count is None:
            raise InvalidReset(f"topic {topic!r} does not exist")
        if partition is None:
            out.update((topic, p) for p in range(count))
        elif not 0 <= partition < count:
            last = f"0-{count - 1}" if count > 1 else "0"
            raise InvalidReset(f"topic {topic!r} has no partition {partition} (it has {count}: {last})")
        else:
            out.add((topic, partition))
        if len(out) > MAX_PARTITIONS:
            raise InvalidReset(f"too many partitions (at most {MAX_PARTITIONS})")
    return sorted(out)


def expand_topics(config: ClusterConfig, selection: Iterable[TP | tuple[str, None] | str]) -> list[TP]:
    """The same expansion against the cluster's current metadata (one Metadata request)."""
    return expand_partitions(_Reader(config).metadata(), selection)


def read_group(config: ClusterConfig, group_id: str) -> tuple[str, tuple[ResetMember, ...], dict[TP, int]]:
    """(state, members, committed offsets) of a group, read now: what the reset form offers."""
    state, _, members, committed = _Reader(config).group(group_id)
    return state, members, committed


# --- apply -----------------------------------------------------------------------------------------


def apply_reset(config: ClusterConfig, plan: ResetPlan, *, admin: AdminClient | None = None) -> ApplyResult:
    """Write the plan's new offsets, then read them back. Re-reads the group first: members that
    joined since the plan refuse it. Retriable answers are tried again (kafka_admin.offset_write);
    a partition counts as reset only when Kafka holds its new offset. Whatever Kafka answers is
    reported as a message, never raised."""
    if plan.blocked_reason is not None:
        return ApplyResult((), f"refused: {plan.blocked_reason}", refused=True)
    if plan.errors:
        return ApplyResult((), "the plan has errors; fix them and preview again: " + "; ".join(plan.errors[:5]))
    if not plan.rows:
        return ApplyResult((), "nothing to reset")
    reader = _Reader(config, admin)
    try:
        state, _, members, _ = reader.group(plan.group_id)
    except InvalidReset as exc:
        return ApplyResult((), str(exc))
    reason = blocked_reason(state, members)
    if reason is not None:
        return ApplyResult((), f"refused: {reason}", refused=True)
    planned = {(r.topic, r.partition): r.new for r in plan.rows}
    answer = offset_write.write_offsets(reader.admin, plan.group_id, planned, config.request_timeout_s)
    if answer.error is not None:
        err = answer.error
        if isinstance(err, KafkaError):
            return ApplyResult((), f"Kafka refused the new offsets: {offset_write.explain(err)}")
        return ApplyResult((), f"the new offsets could not be written: {offset_write.explain(err)}")
    failures = {tp: offset_write.explain(err) for tp, err in answer.failed.items()}
    applied = tuple(r for r in plan.rows if (r.topic, r.partition) in answer.written)
    checks: tuple[StoredCheck, ...] = ()
    problems: list[str] = []
    if applied:
        written = {(r.topic, r.partition): r.new for r in applied}
        stored, unread = offset_write.read_back(reader.admin, plan.group_id, sorted(written), config.request_timeout_s)
        checks = offset_write.compare(written, stored)
        wrong = [c for c in checks if not c.verified]
        if wrong:
            shown = "; ".join(c.describe() for c in wrong[:10]) + (" …" if len(wrong) > 10 else "")
            why = f" (reading them back failed: {unread})" if unread else ""
            problems.append(
                f"not verified: Kafka answered the write, but {len(wrong)} of {len(plan.rows)} partition(s) "
                f"do not read back as planned{why}: {shown}; preview again to see what the group holds"
            )
    if failures:
        messages = "; ".join(sorted(set(failures.values()))[:3])
        problems.insert(0, f"Kafka refused {len(failures)} of {len(plan.rows)} partition(s): {messages}")
    failed = tuple((t, p, msg) for (t, p), msg in sorted(failures.items()))
    refused = not applied and any("active members" in m for m in failures.values())
    return ApplyResult(applied, "; ".join(problems) or None, failed, refused=refused, checks=checks)


# --- reading the broker ----------------------------------------------------------------------------


class _Reader:
    def __init__(self, config: ClusterConfig, admin: AdminClient | None = None) -> None:
        self.config = config
        self.timeout = config.request_timeout_s
        self.admin = admin if admin is not None else make_admin(config)

    def _wait(self, future: Any) -> Any:
        return future.result(timeout=self.timeout + 5)

    def group(self, group_id: str) -> tuple[str, str | None, tuple[ResetMember, ...], dict[TP, int]]:
        """state, type, members, committed offsets (only partitions with a committed offset)."""
        try:
            desc_f = self.admin.describe_consumer_groups([group_id], request_timeout=self.timeout)[group_id]
            offs_f = self.admin.list_consumer_group_offsets(
                [ConsumerGroupTopicPartitions(group_id)], request_timeout=self.timeout
            )[group_id]
            desc = self._wait(desc_f)
            offsets = self._wait(offs_f)
        except Exception as exc:  # noqa: BLE001 - Kafka errors, timeouts, local errors: a clear message
            raise ReadFailed(f"consumer group {group_id!r} could not be read: {error_text(exc)}") from None
        members = tuple(ResetMember(m.member_id, m.client_id, m.host) for m in desc.members or [])
        gtype = getattr(getattr(desc, "type", None), "name", None)
        committed = {
            (tp.topic, tp.partition): tp.offset
            for tp in offsets.topic_partitions or []
            if tp.error is None and tp.offset >= 0
        }
        return state_name(desc.state), gtype.lower() if gtype else None, members, committed

    def metadata(self) -> dict[str, int]:
        """topic -> partition count, from one Metadata request for all topics (never auto-creates)."""
        try:
            md = self.admin.list_topics(timeout=self.timeout)
        except KafkaException as exc:
            raise ReadFailed(f"the topic list could not be read: {error_text(exc)}") from None
        return {name: len(t.partitions) for name, t in md.topics.items() if t.error is None or t.partitions}

    def _list_offsets(self, tps: Sequence[TP], spec: OffsetSpec, what: str, errors: list[str]) -> dict[TP, int]:
        out: dict[TP, int] = {}
        try:
            futures = self.admin.list_offsets(
                {TopicPartition(t, p): spec for t, p in tps}, request_timeout=self.timeout
            )
        except KafkaException as exc:
            errors.append(f"{what} offsets could not be read: {error_text(exc)}")
            return out
        failed: dict[str, list[str]] = {}
        for tp, fut in futures.items():
            try:
                out[(tp.topic, tp.partition)] = self._wait(fut).offset
            except Exception as exc:  # noqa: BLE001 - every partition's error is reported, whatever it is
                failed.setdefault(error_text(exc), []).append(f"{tp.topic}/{tp.partition}")
        for message, names in failed.items():
            shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
            errors.append(f"{what} offsets of {shown} could not be read: {message}")
        return out

    def watermarks(self, tps: Sequence[TP], errors: list[str]) -> tuple[dict[TP, int], dict[TP, int]]:
        starts = self._list_offsets(tps, OffsetSpec.earliest(), "log-start", errors)
        ends = self._list_offsets(tps, OffsetSpec.latest(), "log-end", errors)
        return starts, ends

    def offsets_at(self, tps: Sequence[TP], timestamp_ms: int, errors: list[str]) -> dict[TP, int]:
        return self._list_offsets(tps, OffsetSpec.for_timestamp(timestamp_ms), "timestamp", errors)
