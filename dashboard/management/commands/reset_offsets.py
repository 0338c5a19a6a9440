"""Reset a consumer group's committed offsets from the command line, audited (docs/offset-reset.md).

    python manage.py reset_offsets --group G (--topic T[:P[,P...]] ... | --all-topics)
        (--to-earliest | --to-latest | --to-datetime ISO | --to-offset N | --shift-by N)
        [--dry-run] [--cluster NAME] [--actor NAME]

Exit codes: 0 done (or dry run), 1 refused (active members, or a group type that gets no reset),
Kafka refused the write, or a partition does not read back its new offset; 2 bad input or the
cluster could not be read.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from dashboard.clusters import UnknownCluster, cluster_names, get_cluster
from dashboard.management import textable
from dashboard.offsets.views import audit_reset, outcome_of
from kafka_admin import offset_reset as offsets
from kafka_admin.offset_reset import InvalidReset, ResetPlan

HEADERS = ("TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET", "LAG-BEFORE", "LAG-AFTER", "NOTE")


def plan_table(plan: ResetPlan) -> str:
    return textable.render(
        HEADERS,
        ((r.topic, r.partition, r.current, r.new, r.lag_before, r.lag_after, r.note) for r in plan.rows),
    )


class Command(BaseCommand):
    help = "Reset a consumer group's offsets (the group must have no active members). Dry run with --dry-run."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--group", required=True, help="the consumer group id")
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument(
            "--topic",
            action="append",
            metavar="TOPIC[:P[,P...]]",
            help="a topic (every partition) or some of its partitions; repeat for more",
        )
        scope.add_argument(
            "--all-topics", action="store_true", help="every partition the group has committed offsets for"
        )
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--to-earliest", action="store_true", help="the log start")
        target.add_argument("--to-latest", action="store_true", help="the log end (skip everything waiting)")
        target.add_argument("--to-datetime", metavar="ISO", help="ISO-8601 (UTC unless it says) or epoch ms")
        target.add_argument("--to-offset", metavar="N", help="an offset (clamped to the log start/end)")
        target.add_argument("--shift-by", metavar="N", help="move by N from the committed offset (negative = back)")
        parser.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
        parser.add_argument("--cluster")
        parser.add_argument("--actor", default="cli", help="name recorded in the audit log (default: cli)")

    def handle(self, *args, **o) -> None:
        try:
            config = get_cluster(o["cluster"])
        except UnknownCluster:
            raise CommandError(f"unknown cluster {o['cluster']!r}; configured: {', '.join(cluster_names())}") from None
        try:
            spec = self.spec(o)
            partitions = None if o["all_topics"] else self.partitions(o["topic"])
            refused = offsets.type_refusal(config)(o["group"])
        except InvalidReset as exc:
            raise CommandError(str(exc), returncode=2) from None
        if refused:  # streams, share, Connect groups: as on the group page, before any offset read
            raise CommandError(f"refused: {refused}", returncode=1)
        try:
            plan = offsets.plan_reset(config, o["group"], partitions, spec)
        except InvalidReset as exc:
            raise CommandError(str(exc), returncode=2) from None
        self.stdout.write(f"group {plan.group_id} ({plan.state}): {spec.describe()}")
        self.stdout.write(plan_table(plan))
        for error in plan.errors:
            self.stderr.write(f"error: {error}")
        if plan.blocked_reason is not None:
            members = "\n".join(f"  {m.client_id}  {m.host}  {m.member_id}" for m in plan.members)
            detail = f"\nactive members (CLIENT-ID HOST MEMBER-ID):\n{members}" if members else ""
            if not o["dry_run"]:
                audit_reset(o["actor"], config.name, plan, None, "refused", f"refused: {plan.blocked_reason}")
            raise CommandError(f"refused: {plan.blocked_reason}{detail}", returncode=1)
        if plan.errors:
            raise CommandError("the plan has errors: nothing changed", returncode=2)
        if o["dry_run"]:
            self.stdout.write(f"dry run: nothing changed ({plan.changed} of {len(plan.rows)} partition(s) would move)")
            return
        result = offsets.apply_reset(config, plan)
        outcome = outcome_of(result)
        audit_reset(o["actor"], config.name, plan, result, outcome, result.error)
        total = len(plan.rows)
        noun = "partition" if total == 1 else "partitions"
        checked = f"verified {len(result.verified)} of {total} {noun} (read back from Kafka)"
        if not result.ok:
            self.stdout.write(checked)
            raise CommandError(f"{result.error or 'the reset failed'}\n{checked}", returncode=1)
        self.stdout.write(f"reset {len(result.applied)} partition(s) of {plan.group_id}")
        self.stdout.write(checked)

    @staticmethod
    def spec(o: dict) -> offsets.ResetSpec:
        if o["to_earliest"]:
            return offsets.ResetSpec("earliest")
        if o["to_latest"]:
            return offsets.ResetSpec("latest")
        if o["to_datetime"] is not None:
            return offsets.parse_spec("timestamp", o["to_datetime"])
        if o["to_offset"] is not None:
            return offsets.parse_spec("offset", o["to_offset"])
        return offsets.parse_spec("shift", o["shift_by"])

    @staticmethod
    def partitions(topics: list[str]) -> list[tuple[str, int | None]]:
        out: list[tuple[str, int | None]] = []
        for text in topics:
            topic, numbers = offsets.parse_selector(text)
            out.extend([(topic, None)] if numbers is None else [(topic, n) for n in numbers])
        return out
