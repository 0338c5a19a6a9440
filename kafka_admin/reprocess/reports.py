"""What a plan, a run and the settling of earlier runs tell the caller."""

from __future__ import annotations

from dataclasses import dataclass, field

from kafka_admin.reprocess.errors import note
from kafka_admin.reprocess.ledger import PendingEntry, RecordKey


@dataclass
class RecoveryReport:
    """How the pending entries of earlier runs were settled."""

    confirmed: int = 0
    abandoned: int = 0
    undecided: list[PendingEntry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Progress:
    sent: int
    skipped: int
    failed: int
    total_planned: int
    """Offsets selected that lie in the log (an upper bound of the records)."""
    elapsed_s: float


@dataclass
class Plan:
    """What a reprocess of the selection would do now (a dry run; nothing is sent)."""

    dlq_topic: str
    selected: int = 0
    would_send: int = 0
    per_target: dict[str, int] = field(default_factory=dict)
    skipped_done: list[RecordKey] = field(default_factory=list)
    forced: list[RecordKey] = field(default_factory=list)
    skipped_unmapped: list[tuple[RecordKey, str]] = field(default_factory=list)
    skipped_filtered: int = 0
    not_found: int = 0
    not_found_sample: list[RecordKey] = field(default_factory=list)
    missing_targets: dict[str, int] = field(default_factory=dict)
    too_large: list[tuple[RecordKey, str]] = field(default_factory=list)
    unsettled: list[RecordKey] = field(default_factory=list)
    """Records of an interrupted run whose outcome the reprocess settles first (not counted above)."""
    errors: list[str] = field(default_factory=list)
    """Problems: missing target topics, topics that could not be described, a read that failed."""
    notes: list[str] = field(default_factory=list)
    """For information: selected offsets outside the log (deleted, or beyond its end)."""
    schema_ids: dict[str, dict[int, int]] = field(default_factory=dict)
    """Per target topic, how many of the values to send name each schema-registry schema id (the
    Confluent framing); the dashboard asks the registry whether the target still accepts them."""


@dataclass
class ReprocessReport:
    """What a run did. Every selected record that was read is counted once: sent, skipped_done
    (reprocessed before or resolved), skipped_unmapped (no target, with the reason), skipped_filtered
    (the accept filter said no) or failed (with the reason in failed_keys: missing target topic, too
    large, an earlier outcome not settled yet, a transaction that failed twice)."""

    sent: int = 0
    skipped_done: int = 0
    skipped_unmapped: list[tuple[RecordKey, str]] = field(default_factory=list)
    skipped_filtered: int = 0
    failed: int = 0
    not_found: int = 0
    """Selected offsets with no committed record (transaction markers, compaction, outside the log)."""
    per_target: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    """Problems, for a person (at most MAX_ERRORS, then a last line saying there were more)."""
    notes: list[str] = field(default_factory=list)
    """For information: selected offsets outside the log (deleted, or beyond its end)."""
    forced_keys: list[RecordKey] = field(default_factory=list)
    failed_keys: list[tuple[RecordKey, str]] = field(default_factory=list)
    recovery: RecoveryReport = field(default_factory=RecoveryReport)
    stopped: str | None = None
    """Why the run ended before the end of the selection (None: it went through all of it)."""
    elapsed_s: float = 0.0

    @property
    def skipped(self) -> int:
        return self.skipped_done + len(self.skipped_unmapped) + self.skipped_filtered

    def add_failure(self, key: RecordKey, reason: str) -> None:
        """Count one record as failed, with why (listed for a person too)."""
        self.failed += 1
        self.failed_keys.append((key, reason))
        note(self.errors, f"{key[0]} partition {key[1]} offset {key[2]}: {reason}")
