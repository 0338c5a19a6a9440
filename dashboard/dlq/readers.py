"""Who else will see a reprocess: the groups that read each target topic, for the dry run.

Why: a reprocessed record is a new record on the original topic, so every group reading that topic
receives it, not only the one it failed in. The dry run names them from the latest snapshot (no
broker call), and tells apart the groups the records failed in (their DLQ headers say which).
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.models import DlqRecord
from dashboard.relations import groups_reading
from dashboard.state import store

MAX_NAMED = 20  # groups named per target; the rest are counted


@dataclass(frozen=True)
class TargetReaders:
    """The groups reading one target topic: those the records failed in, and the others."""

    target: str
    records: int
    failed_in: tuple[str, ...]
    others: tuple[str, ...]

    @property
    def named_others(self) -> tuple[str, ...]:
        return self.others[:MAX_NAMED]

    @property
    def unnamed(self) -> int:
        return max(0, len(self.others) - MAX_NAMED)


def target_readers(cluster: str, dlq_topic: str, per_target: dict[str, int]) -> list[TargetReaders]:
    """Per target topic of a plan, the groups that will receive its reprocessed records."""
    snapshot = store.state(cluster).snapshot
    out = []
    for target, records in sorted(per_target.items()):
        readers = groups_reading(snapshot, target)
        failed = set(
            DlqRecord.objects.filter(cluster=cluster, topic=dlq_topic, target_topic=target)
            .exclude(consumer_group="")
            .order_by()
            .values_list("consumer_group", flat=True)
            .distinct()[:100]
        )
        out.append(
            TargetReaders(
                target=target,
                records=records,
                failed_in=tuple(g for g in readers if g in failed),
                others=tuple(g for g in readers if g not in failed),
            )
        )
    return out
