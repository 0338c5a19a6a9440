"""Apply a plan: re-check the group, write the new offsets, read them back."""

from __future__ import annotations

from dataclasses import dataclass, field

from confluent_kafka import KafkaError
from confluent_kafka.admin import AdminClient

from kafka_admin import offset_write
from kafka_admin.config import ClusterConfig
from kafka_admin.offset_reset.plan import ResetPlan, ResetRow, blocked_reason
from kafka_admin.offset_reset.reading import GroupReader
from kafka_admin.offset_reset.spec import InvalidReset
from kafka_admin.offset_write import StoredCheck


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
    reader = GroupReader(config, admin)
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
