"""DLQ reads and actions for pages, the API and the CLI: summaries, filters, triage, plan, reprocess,
resolve. Every action is audited. Reprocessing itself is kafka_admin.reprocess with the DbLedger.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.db import OperationalError, close_old_connections, transaction
from django.db.models import Count, Min, Q, QuerySet, Sum
from django.utils import timezone

from dashboard.audit import audit
from dashboard.clusters import get_cluster
from dashboard.dlq.index import dlq_topics, redrivable_topics
from dashboard.dlq.ledger import DbLedger
from dashboard.dlq.queries import DlqQuery
from dashboard.models import (
    CONFIRMED,
    REPROCESSED,
    RESOLVED,
    WAITING,
    DlqRecord,
    ReprocessBatch,
    ReprocessRun,
)
from dashboard.relations import chains_in
from dashboard.state import store
from kafka_admin import reprocess as engine
from kafka_admin.dlq.chain import RetryChains
from kafka_admin.dlq.routing import FailureInfo, HeaderRouter, header_targets, resolve_target
from kafka_admin.isolation.reprocess_run import reprocess_in_child
from kafka_admin.isolation.supervisor import WorkerFailed
from kafka_admin.snapshot.model import Topic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DlqSummary:
    topic: str
    targets: tuple[str, ...]
    total: int
    indexed: int
    waiting: int
    reprocessed: int
    resolved: int
    oldest_waiting: datetime | None
    top_reasons: tuple[tuple[str, int], ...] = field(default=())
    pending: int | None = None
    """Offsets past where the index has read (None: not known, counted from the totals instead)."""

    @property
    def unindexed(self) -> int:
        """Records in Kafka the index has not listed yet. From the index's read positions when known:
        offsets minus indexed rows would count every transaction marker as a record."""
        if self.pending is not None:
            return self.pending
        return max(0, self.total - self.indexed)

    @property
    def waiting_total(self) -> int:
        """Waiting in the index plus records not indexed yet (they are waiting too)."""
        return self.waiting + self.unindexed


def summaries(cluster: str) -> list[DlqSummary]:
    snap = store.state(cluster).snapshot
    if snap is None:
        return []
    out = []
    scanned = store.dlq_scanned(cluster)
    for topic in dlq_topics(snap):
        rows = DlqRecord.objects.filter(cluster=cluster, topic=topic.name)
        counts = dict(rows.values("status").annotate(n=Count("id")).values_list("status", "n"))
        waiting = rows.filter(status=WAITING)
        reasons = (
            waiting.values("failure_class").annotate(n=Count("id")).order_by("-n").values_list("failure_class", "n")
        )
        targets = rows.exclude(target_topic="").values_list("target_topic", flat=True).distinct()
        out.append(
            DlqSummary(
                topic=topic.name,
                targets=tuple(sorted(set(targets[:20]))) or _default_targets(cluster, topic.name),
                total=topic.records,
                indexed=sum(counts.values()),
                waiting=counts.get(WAITING, 0),
                reprocessed=counts.get(REPROCESSED, 0),
                resolved=counts.get(RESOLVED, 0),
                oldest_waiting=waiting.aggregate(t=Min("timestamp"))["t"],
                top_reasons=tuple((r or "(no exception header)", n) for r, n in reasons[:3]),
                pending=_pending(topic, scanned.get(topic.name, {})),
            )
        )
    return out


def _pending(topic: Topic, scanned: dict[int, int]) -> int | None:
    """Offsets past the index's read position, summed over partitions; None unless all are known."""
    total = 0
    for p in topic.partitions:
        if p.end_offset is None or p.partition not in scanned:
            return None
        total += max(0, p.end_offset - max(scanned[p.partition], p.start_offset or 0))
    return total


def _default_targets(cluster: str, dlq_topic: str) -> tuple[str, ...]:
    target = resolve_target(FailureInfo(), dlq_topic, *routing(cluster))
    return (target.topic,) if target.topic else ()


def is_dlq(cluster: str, topic: str) -> bool:
    snap = store.state(cluster).snapshot
    return snap is not None and any(t.name == topic for t in redrivable_topics(snap))


def filtered(cluster: str, topic: str, query: DlqQuery) -> QuerySet[DlqRecord]:
    rows = DlqRecord.objects.filter(cluster=cluster, topic=topic)
    if query.status != "all":
        rows = rows.filter(status=query.status)
    if query.exception:
        rows = rows.filter(failure_class=query.exception if query.exception != "(none)" else "")
    if query.since_ms is not None:
        rows = rows.filter(timestamp__gte=datetime.fromtimestamp(query.since_ms / 1000, UTC))
    if query.until_ms is not None:
        rows = rows.filter(timestamp__lte=datetime.fromtimestamp(query.until_ms / 1000, UTC))
    if query.q:
        rows = rows.filter(
            Q(key_preview__icontains=query.q)
            | Q(value_preview__icontains=query.q)
            | Q(exception_message__icontains=query.q)
            | Q(exception_class__icontains=query.q)
            | Q(failure_class__icontains=query.q)
        )
    return rows.order_by("partition", "offset")


def triage(cluster: str, topic: str, query: DlqQuery) -> list[dict]:
    """Records grouped by the failure's real class (Spring's cause under its listener wrapper) and
    the writer's stage, within the current filter whatever its class filter."""
    base = filtered(cluster, topic, DlqQuery(query.status, "", query.since_ms, query.until_ms, query.q))
    return list(
        base.order_by()
        .values("failure_class", "stage")
        .annotate(n=Count("id"), first=Min("timestamp"))
        .order_by("-n", "failure_class", "stage")
    )


# --- selections ---------------------------------------------------------------------------------


class InvalidSelection(ValueError):
    """A selection that cannot be acted on; the message is for a person."""


MAX_SELECTION = 1_000_000
MAX_PARTITION = 2**31 - 1  # Kafka's partition ids are int32, its offsets int64 (and so are the DB columns)
MAX_OFFSET = 2**63 - 1


def check_position(partition: int | None = None, *offsets: int | None) -> None:
    """Refuse numbers Kafka cannot hold, before they reach the database (OverflowError) or a run.

    The one check behind every way in: the DLQ pages, the API and the dlq_reprocess command."""
    if partition is not None and not 0 <= partition <= MAX_PARTITION:
        raise InvalidSelection(f"partitions are whole numbers from 0 to {MAX_PARTITION:,}")
    if any(o is not None and not 0 <= o <= MAX_OFFSET for o in offsets):
        raise InvalidSelection(f"offsets are whole numbers from 0 to {MAX_OFFSET:,}")


def parse_keys(values: list[str]) -> tuple[tuple[int, int], ...]:
    """'partition:offset' strings from checkboxes -> ((partition, offset), ...)."""
    keys = []
    for value in values:
        partition, _, offset = value.partition(":")
        if not (value.isascii() and partition.isdigit() and offset.isdigit()) or len(value) > 64:
            raise InvalidSelection(f"not a record reference: {value[:40]!r} (expected partition:offset)")
        check_position(int(partition), int(offset))
        keys.append((int(partition), int(offset)))
    if not keys:
        raise InvalidSelection("no records selected")
    return tuple(sorted(set(keys)))


def selection_from(cluster: str, topic: str, data: dict) -> tuple[object, dict]:
    """Build an engine selection from a form or API payload; returns (selection, description for audit)."""
    mode = data.get("mode", "")
    if mode == "selected":
        keys = parse_keys(list(data.get("keys", [])))
        return engine.Offsets(keys), {"mode": mode, "records": len(keys)}
    if mode == "filter":
        query = DlqQuery.parse(data.get("filter", {}))
        keys = tuple(filtered(cluster, topic, query).values_list("partition", "offset")[:MAX_SELECTION])
        if not keys:
            raise InvalidSelection("no records match the filter")
        return engine.Offsets(keys), {"mode": mode, "filter": dict(query.params()), "records": len(keys)}
    if mode == "range":
        try:
            partition, start, end = (int(str(data.get(k, "")).strip()) for k in ("partition", "start", "end"))
        except ValueError:
            raise InvalidSelection("partition, start and end offsets must be whole numbers") from None
        check_position(partition, start, end)
        if end < start:
            raise InvalidSelection("the range needs partition >= 0 and 0 <= start <= end (inclusive)")
        return engine.OffsetRange(partition, start, end), {
            "mode": mode,
            "partition": partition,
            "start": start,
            "end": end,
        }
    raise InvalidSelection("choose what to act on: selected records, the current filter, or an offset range")


def routing(cluster: str) -> tuple[list[str], dict[str, str], RetryChains]:
    """header_targets' (patterns, mapping, chains): the settings' and the cluster's retry chains in the
    latest snapshot; what a reprocess child builds its router of."""
    return settings.DLQ_PATTERNS, settings.DLQ_MAPPING, chains_in(store.state(cluster).snapshot)


def targets_for(cluster: str, dlq_topic: str) -> HeaderRouter:
    """Routing by the record's headers, the DLQ's name or the settings' mapping (resolve_target),
    refusing loops through the cluster's retry chains."""
    return header_targets(dlq_topic, *routing(cluster))


def plan(cluster: str, topic: str, selection: object, force: bool = False):
    return engine.plan(
        get_cluster(cluster),
        topic,
        selection,
        targets=targets_for(cluster, topic),
        ledger=DbLedger(cluster, topic),
        force=force,
    )


# --- runs -------------------------------------------------------------------------------------------

_run_lock = threading.Lock()


def start_run(
    cluster: str,
    topic: str,
    selection: object,
    described: dict,
    actor: str,
    *,
    force: bool = False,
    rate_limit: float | None = None,
    background: bool = True,
    on_progress: Callable[[object], None] | None = None,
) -> ReprocessRun:
    """Record a run and execute it (in a thread for the web, inline for the CLI)."""
    run = ReprocessRun.objects.create(
        run_id=uuid.uuid4().hex,
        cluster=cluster,
        dlq_topic=topic,
        actor=actor,
        selection={**described, "force": force, "rate_limit": rate_limit},
    )
    isolated = background and settings.BROKER_ACTIONS_ISOLATED
    args = (run.run_id, cluster, topic, selection, actor, force, rate_limit, on_progress, isolated)
    if background:
        threading.Thread(target=_execute, args=args, name=f"reprocess-{run.run_id[:8]}", daemon=True).start()
    else:
        _execute(*args)
        run.refresh_from_db()
    return run


def _execute(
    run_id: str,
    cluster: str,
    topic: str,
    selection: object,
    actor: str,
    force: bool,
    rate_limit: float | None,
    on_progress: Callable[[object], None] | None,
    isolated: bool = False,
) -> None:
    close_old_connections()
    run = ReprocessRun.objects.get(run_id=run_id)
    interrupted = _take_over_interrupted(cluster, topic, run_id)
    last_saved = [0.0]

    def progress(p) -> None:
        if on_progress is not None:
            on_progress(p)
        if p.elapsed_s - last_saved[0] >= 0.5:
            last_saved[0] = p.elapsed_s
            try:
                ReprocessRun.objects.filter(run_id=run_id).update(
                    planned=p.total_planned, sent=p.sent, skipped=p.skipped, failed=p.failed
                )
            except OperationalError as exc:
                # A counter for the page, not the run's outcome (the ledger is): a locked table
                # must not end an exactly-once run halfway. The next tick writes newer counts.
                log.warning("reprocess run %s: progress not saved this time (%s)", run_id, exc)

    try:
        options = {
            "actor": actor,
            "run_id": run_id,
            "force": force,
            "rate_limit": rate_limit,
            "range_group": reprocessor_group(topic) if isinstance(selection, engine.OffsetRange) else None,
        }
        ledger = DbLedger(cluster, topic, actor=actor, forced=force)
        with _run_lock:  # one run per process at a time: runs of one DLQ share a transactional.id
            if isolated:  # a librdkafka crash ends the child; pending batches are settled by the next run
                report = reprocess_in_child(
                    get_cluster(cluster),
                    topic,
                    selection,
                    routing=routing(cluster),
                    ledger=ledger,
                    on_progress=progress,
                    **options,
                )
            else:
                report = engine.reprocess(
                    get_cluster(cluster),
                    topic,
                    selection,
                    targets=targets_for(cluster, topic),
                    ledger=ledger,
                    on_progress=progress,
                    **options,
                )
        state = "done" if not report.failed and not report.errors else "failed" if not report.sent else "partial"
        message = "; ".join(report.errors[:5])
        ReprocessRun.objects.filter(run_id=run_id).update(
            sent=report.sent,
            skipped=report.skipped_done + len(report.skipped_unmapped),
            failed=report.failed,
            state=state,
            message=message,
            finished_at=timezone.now(),
            planned=report.sent + report.skipped_done + len(report.skipped_unmapped) + report.failed,
        )
        audit(
            actor,
            "force-reprocess" if force else "reprocess",
            cluster,
            topic,
            report.sent,
            state,
            {
                "run_id": run_id,
                "selection": run.selection,
                "sent": report.sent,
                "skipped_done": report.skipped_done,
                "skipped_unmapped": len(report.skipped_unmapped),
                "failed": report.failed,
                "per_target": report.per_target,
                "forced": [f"{p}:{o}" for _, p, o in report.forced_keys][:1000],
                "errors": report.errors[:20],
            },
        )
        _audit_interrupted(interrupted, cluster, topic, run_id)
    except WorkerFailed as exc:  # logged once with its cause by the isolation layer
        message = f"{exc}; what it sent is settled by the next run of this DLQ (nothing is sent twice)"
        ReprocessRun.objects.filter(run_id=run_id).update(
            state="failed", message=message[:500], finished_at=timezone.now()
        )
        audit(actor, "reprocess", cluster, topic, 0, "failed", {"run_id": run_id, "error": message[:500]})
    except Exception as exc:  # the run's outcome must be recorded whatever failed
        log.exception("reprocess run %s failed", run_id)
        ReprocessRun.objects.filter(run_id=run_id).update(
            state="failed", message=str(exc)[:500], finished_at=timezone.now()
        )
        audit(actor, "reprocess", cluster, topic, 0, "failed", {"run_id": run_id, "error": str(exc)[:500]})
    finally:
        close_old_connections()


def _take_over_interrupted(cluster: str, topic: str, run_id: str) -> list[ReprocessRun]:
    """Runs of this DLQ still marked running belong to a process that died (or will be fenced now:
    runs of one DLQ share a transactional.id). Mark them interrupted; their count comes after recovery."""
    old = list(ReprocessRun.objects.filter(cluster=cluster, dlq_topic=topic, state="running").exclude(run_id=run_id))
    for run in old:
        run.state = "interrupted"
        run.message = f"interrupted; taken over by run {run_id}"
        run.finished_at = timezone.now()
        run.save(update_fields=["state", "message", "finished_at"])
    return old


def _audit_interrupted(runs: list[ReprocessRun], cluster: str, topic: str, by_run: str) -> None:
    """After the new run's recovery settled their pending records, say what the dead runs did send."""
    for run in runs:
        confirmed = ReprocessBatch.objects.filter(
            cluster=cluster, dlq_topic=topic, run_id=run.run_id, state=CONFIRMED
        ).aggregate(records=Sum("count"))
        sent = confirmed["records"] or 0
        ReprocessRun.objects.filter(run_id=run.run_id).update(sent=sent)
        audit(
            run.actor,
            "reprocess",
            cluster,
            topic,
            sent,
            "interrupted",
            {"run_id": run.run_id, "selection": run.selection, "sent": sent, "taken_over_by": by_run},
        )


def reprocessor_group(dlq_topic: str) -> str:
    return f"kafka-dashboard-reprocessor.{dlq_topic}"[:249]


RESOLVE_CHUNK = 400  # keys per UPDATE: within SQLite's 999 query parameters


def resolve(cluster: str, topic: str, keys: tuple[tuple[int, int], ...], actor: str, reason: str) -> int:
    """Mark waiting records handled without re-publishing them."""
    if not reason.strip():
        raise InvalidSelection("say why these records are resolved")
    updated = 0
    now = timezone.now()
    with transaction.atomic():
        # In chunks, each a flat OR of (partition, offsets IN ...): one OR per key nests too deep for
        # SQLite ("Expression tree is too large") beyond about a thousand keys, and took seconds to build.
        for i in range(0, len(keys), RESOLVE_CHUNK):
            by_partition: dict[int, list[int]] = {}
            for partition, offset in keys[i : i + RESOLVE_CHUNK]:
                by_partition.setdefault(partition, []).append(offset)
            q = Q(*(Q(partition=p, offset__in=o) for p, o in by_partition.items()), _connector=Q.OR)
            updated += DlqRecord.objects.filter(q, cluster=cluster, topic=topic, status=WAITING).update(
                status=RESOLVED, status_at=now, status_by=actor, status_note=reason[:500]
            )
    audit(
        actor,
        "resolve",
        cluster,
        topic,
        updated,
        "done",
        {"records": [f"{p}:{o}" for p, o in keys][:1000], "reason": reason[:500], "requested": len(keys)},
    )
    return updated
