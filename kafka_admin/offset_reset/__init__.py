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

Modules: spec (what is asked, pure), reading (the broker reads), plan (the dry run), apply.
"""

from kafka_admin.offset_reset.apply import ApplyResult, apply_reset
from kafka_admin.offset_reset.plan import (
    ResetPlan,
    ResetRow,
    blocked_reason,
    expand_partitions,
    expand_topics,
    plan_reset,
    read_group,
)
from kafka_admin.offset_reset.reading import GroupReader, ResetMember, type_refusal
from kafka_admin.offset_reset.spec import (
    MAX_OFFSET,
    MAX_PARTITIONS,
    MODES,
    RESETTABLE_STATES,
    TP,
    InvalidReset,
    ReadFailed,
    ResetSpec,
    clamp,
    lag,
    parse_int,
    parse_selector,
    parse_spec,
    parse_timestamp,
    target_offset,
)

__all__ = [
    "MAX_OFFSET",
    "MAX_PARTITIONS",
    "MODES",
    "RESETTABLE_STATES",
    "TP",
    "ApplyResult",
    "GroupReader",
    "InvalidReset",
    "ReadFailed",
    "ResetMember",
    "ResetPlan",
    "ResetRow",
    "ResetSpec",
    "apply_reset",
    "blocked_reason",
    "clamp",
    "expand_partitions",
    "expand_topics",
    "lag",
    "parse_int",
    "parse_selector",
    "parse_spec",
    "parse_timestamp",
    "plan_reset",
    "read_group",
    "target_offset",
    "type_refusal",
]
