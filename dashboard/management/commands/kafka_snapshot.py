"""Print one cluster snapshot, read from the broker now: JSON (the stable contract) or tables."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dashboard.clusters import UnknownCluster, cluster_names, get_cluster
from dashboard.management import textable
from kafka_admin.snapshot.collect import collect_snapshot
from kafka_admin.snapshot.model import ClusterSnapshot, Group


class Command(BaseCommand):
    help = "Read the cluster's brokers, topics and consumer groups with lag (docs/snapshot.md)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--cluster", help="cluster name (default: the first configured)")
        parser.add_argument("--json", action="store_true", help="print the JSON contract instead of tables")
        parser.add_argument("--include-internal", action="store_true", help="also list Kafka's internal topics")

    def handle(self, *args, cluster: str | None, json: bool, include_internal: bool, **options) -> None:
        try:
            config = get_cluster(cluster)
        except UnknownCluster:
            raise CommandError(f"unknown cluster {cluster!r}; configured: {', '.join(cluster_names())}") from None
        snapshot = collect_snapshot(config)
        if json:
            self.stdout.write(_dumps(snapshot))
        else:
            self.stdout.write(render_tables(snapshot, include_internal))
        if not snapshot.reachable:
            for error in snapshot.errors:
                sys.stderr.write(f"error: {error.message}\n")
            sys.exit(2)


def _dumps(snapshot: ClusterSnapshot) -> str:
    return json.dumps(snapshot.to_dict(), indent=2, ensure_ascii=False)


def render_tables(s: ClusterSnapshot, include_internal: bool = False) -> str:
    parts = [
        f"cluster {s.cluster} (id {textable.cell(s.cluster_id)}), controller {textable.cell(s.controller_id)}, "
        f"collected {s.collected_at:%Y-%m-%d %H:%M:%S} UTC in {s.duration_ms:.0f} ms with {s.requests} requests",
        "",
        "BROKERS",
        textable.render(["ID", "HOST", "PORT", "RACK"], [[b.id, b.host, b.port, b.rack] for b in s.brokers]),
        "",
        "TOPICS",
        textable.render(
            ["TOPIC", "PARTITION", "LEADER", "REPLICAS", "ISR", "START", "END"],
            [
                [
                    t.name,
                    p.partition,
                    p.leader,
                    ",".join(map(str, p.replicas)),
                    ",".join(map(str, p.isr)),
                    p.start_offset,
                    p.end_offset,
                ]
                for t in s.topics
                if include_internal or not t.internal
                for p in t.partitions
            ],
        ),
        "",
        "CONSUMER GROUPS",
    ]
    rows = [row for g in s.groups for row in group_rows(g)]
    parts.append(
        textable.render(
            [
                "GROUP",
                "TYPE",
                "STATE",
                "TOPIC",
                "PARTITION",
                "CURRENT-OFFSET",
                "LOG-END-OFFSET",
                "LAG",
                "CONSUMER-ID",
                "HOST",
                "CLIENT-ID",
            ],
            rows,
        )
    )
    if s.errors:
        parts += [
            "",
            "ERRORS",
            textable.render(["SCOPE", "NAME", "MESSAGE"], [[e.scope, e.name, e.message] for e in s.errors]),
        ]
    return "\n".join(parts)


def type_text(g: Group) -> str | None:
    """consumer, classic, share, streams, or connect (a classic group of Connect workers)."""
    return "connect" if g.protocol == "connect" else g.type


def group_rows(g: Group) -> list[list[Any]]:
    """One row per partition the group commits or is assigned; a share group's CURRENT-OFFSET is its
    share-partition start offset and LAG Kafka's share-partition lag (it commits nothing)."""
    kind = type_text(g)
    if g.share_partitions:
        committed = {(p.topic, p.partition): (p.start_offset, p.end_offset, p.lag) for p in g.share_partitions}
    else:
        committed = {(o.topic, o.partition): (o.committed, o.end_offset, o.lag) for o in g.offsets}
    owners = {(a.topic, a.partition): m for m in g.members for a in m.assignments}
    rows: list[list[Any]] = []
    for key in sorted(set(committed) | set(owners)):
        offsets, m = committed.get(key, (None, None, None)), owners.get(key)
        member = [m.member_id, m.host, m.client_id] if m else [None, None, None]
        rows.append([g.group_id, kind, g.state, key[0], key[1], *offsets, *member])
    if not rows:
        rows.append([g.group_id, kind, g.state, None, None, None, None, None, None, None, None])
    return rows
