"""Reprocess dead-letter records from the command line, exactly once, audited (docs/dlq.md)."""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from dashboard.clusters import UnknownCluster, cluster_names, get_cluster
from dashboard.dlq import service as dlq_service
from dashboard.poller.loop import Poller
from kafka_admin import reprocess as engine


class Command(BaseCommand):
    help = "Re-publish DLQ records to their original topics (offsets inclusive). Dry run with --dry-run."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--topic", required=True, help="the DLQ topic")
        parser.add_argument("--partition", type=int)
        parser.add_argument("--from-offset", type=int)
        parser.add_argument("--to-offset", type=int)
        parser.add_argument("--exception-class", help="only records whose exception class is exactly this")
        parser.add_argument("--dry-run", action="store_true", help="say what would happen, send nothing")
        parser.add_argument("--force", action="store_true", help="send records that were already reprocessed again")
        parser.add_argument("--rate-limit", type=float, help="records per second")
        parser.add_argument("--cluster")
        parser.add_argument("--actor", default="cli", help="name recorded in the audit log (default: cli)")

    def handle(self, *args, **o) -> None:
        try:  # before anything talks to the broker: numbers Kafka cannot hold
            dlq_service.check_position(o["partition"], o["from_offset"], o["to_offset"])
        except dlq_service.InvalidSelection as exc:
            raise CommandError(str(exc)) from None
        try:
            config = get_cluster(o["cluster"])
        except UnknownCluster:
            raise CommandError(f"unknown cluster {o['cluster']!r}; configured: {', '.join(cluster_names())}") from None
        snapshot = Poller(config, 5.0, isolated=False).cycle()
        if not snapshot.reachable:
            raise CommandError(snapshot.errors[0].message if snapshot.errors else "cluster unreachable", returncode=2)
        topic = snapshot.topic(o["topic"])
        if topic is None:
            raise CommandError(f"topic {o['topic']!r} does not exist")
        if not dlq_service.is_dlq(config.name, topic.name):
            raise CommandError(f"{topic.name} is not a DLQ topic (see DLQ_PATTERNS / DLQ_MAPPING)")
        parts = self.selections(o, topic)
        if not parts:
            self.stdout.write("0 record(s) to send: every selected partition is empty")
            return
        plans = [dlq_service.plan(config.name, topic.name, selection, force=o["force"]) for selection, _ in parts]
        self.report(plans, o["force"])
        if o["dry_run"]:
            self.stdout.write("dry run: nothing sent")
            return
        failed_states = []
        for selection, described in parts:
            bar = ProgressBar(self.stderr if sys.stderr.isatty() else None)
            run = dlq_service.start_run(
                config.name,
                topic.name,
                selection,
                described,
                o["actor"],
                force=o["force"],
                rate_limit=o["rate_limit"],
                background=False,
                on_progress=bar.update,
            )
            bar.finish()
            where = f"partition {described['partition']}: " if len(parts) > 1 and "partition" in described else ""
            self.stdout.write(f"{where}sent {run.sent}, skipped {run.skipped}, failed {run.failed} ({run.state})")
            if run.message:
                self.stdout.write(run.message)
            if run.state not in ("done",):
                failed_states.append(run.state)
        if failed_states:
            raise CommandError(f"reprocess {failed_states[0]}", returncode=1)

    def report(self, plans: list, force: bool) -> None:
        """One summary over every partition's plan: counts per target topic, what is skipped and why."""
        per_target: dict[str, int] = {}
        for plan in plans:
            for target, n in plan.per_target.items():
                per_target[target] = per_target.get(target, 0) + n
        would_send = sum(p.would_send for p in plans)
        targets = ", ".join(f"{t}: {n}" for t, n in sorted(per_target.items())) or "no target"
        self.stdout.write(f"{would_send} record(s) to send ({targets})")
        done = sum(len(p.skipped_done) for p in plans)
        if done:
            verb = "will be sent again (--force)" if force else "skipped (already reprocessed or resolved)"
            self.stdout.write(f"{done} already handled: {verb}")
        unmapped = sum(len(p.skipped_unmapped) for p in plans)
        if unmapped:
            self.stdout.write(f"{unmapped} without a known original topic: skipped")
        missing = sorted({t for p in plans for t in p.missing_targets})
        if missing:
            self.stdout.write(f"missing target topics: {', '.join(missing)}")
        for line in dict.fromkeys(line for p in plans for line in [*p.errors, *p.notes]):
            self.stdout.write(line)

    def selections(self, o: dict, topic) -> list[tuple[object, dict]]:
        """The selection per partition: one, or with neither --partition nor --exception-class every
        partition that holds records in the range (an empty one is no error, just nothing to do)."""
        if o["exception_class"] is not None or o["partition"] is not None:
            selection = self.selection(o, topic)
            return [] if selection is None else [selection]
        out = []
        for info in topic.partitions:
            selection = self.selection({**o, "partition": info.partition}, topic)
            if selection is not None:
                out.append(selection)
        return out

    def selection(self, o: dict, topic) -> tuple[object, dict] | None:
        partition, start, end = o["partition"], o["from_offset"], o["to_offset"]
        if o["exception_class"] is not None:
            data = {
                "mode": "filter",
                "filter": {"status": "all" if o["force"] else "waiting", "exception": o["exception_class"]},
            }
            selection, described = dlq_service.selection_from(topic_cluster(o), topic.name, data)
            if partition is not None or start is not None or end is not None:
                keys = tuple(k for k in selection.keys if _in(k, partition, start, end))
                selection, described = engine.Offsets(keys), {**described, "records": len(keys)}
            if not selection.keys:
                raise CommandError("no indexed record matches")
            return selection, described
        info = next((p for p in topic.partitions if p.partition == partition), None)
        if info is None:
            raise CommandError(f"partition {partition} does not exist (0-{len(topic.partitions) - 1})")
        start = info.start_offset if start is None else start
        end = (info.end_offset or 0) - 1 if end is None else end
        if start is None or end < start:
            return None  # an empty partition (or range): nothing to do
        return engine.OffsetRange(partition, start, end), {
            "mode": "range",
            "partition": partition,
            "start": start,
            "end": end,
        }


def topic_cluster(o: dict) -> str:
    return get_cluster(o["cluster"]).name


def _in(key: tuple[int, int], partition: int | None, start: int | None, end: int | None) -> bool:
    p, offset = key
    return (
        (partition is None or p == partition) and (start is None or offset >= start) and (end is None or offset <= end)
    )


class ProgressBar:
    """A one-line progress bar on a terminal; silent when output is not a terminal."""

    def __init__(self, out) -> None:
        self.out = out
        self.last = 0.0

    def update(self, p) -> None:
        if self.out is None or time.monotonic() - self.last < 0.2:
            return
        self.last = time.monotonic()
        total = max(p.total_planned, 1)
        done = p.sent + p.skipped + p.failed
        filled = int(30 * min(done, total) / total)
        self.out.write(
            f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{p.total_planned} "
            f"sent {p.sent} skipped {p.skipped} failed {p.failed} ({p.elapsed_s:.0f}s)"
        )
        self.out.flush()

    def finish(self) -> None:
        if self.out is not None:
            self.out.write("\n")
