"""List the dead letter topics with their waiting counts (from the DLQ index the poller keeps)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from dashboard.clusters import UnknownCluster, cluster_names, get_cluster
from dashboard.dlq import service as dlq_service
from dashboard.management import textable
from dashboard.poller.loop import Poller


class Command(BaseCommand):
    help = "List DLQ topics: original topic, waiting, oldest waiting, top failure reasons."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--cluster")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, cluster: str | None, json: bool, **options) -> None:
        try:
            config = get_cluster(cluster)
        except UnknownCluster:
            raise CommandError(f"unknown cluster {cluster!r}; configured: {', '.join(cluster_names())}") from None
        snapshot = Poller(
            config, 5.0, isolated=False
        ).cycle()  # fresh numbers: read the cluster and index new DLQ records
        if not snapshot.reachable:
            raise CommandError(snapshot.errors[0].message if snapshot.errors else "cluster unreachable", returncode=2)
        rows = dlq_service.summaries(config.name)
        if json:
            self.stdout.write(
                _json(
                    [
                        {
                            "topic": r.topic,
                            "original_topics": list(r.targets),
                            "records": r.total,
                            "waiting": r.waiting_total,
                            "reprocessed": r.reprocessed,
                            "resolved": r.resolved,
                            "oldest_waiting": r.oldest_waiting.isoformat() if r.oldest_waiting else None,
                            "top_reasons": [{"exception_class": c, "count": n} for c, n in r.top_reasons],
                        }
                        for r in rows
                    ]
                )
            )
            return
        self.stdout.write(
            textable.render(
                ["DLQ", "ORIGINAL", "WAITING", "OLDEST-WAITING", "REPROCESSED", "RESOLVED", "TOP-REASON"],
                [
                    [
                        r.topic,
                        ",".join(r.targets),
                        r.waiting_total,
                        r.oldest_waiting.strftime("%Y-%m-%d %H:%M:%S") if r.oldest_waiting else None,
                        r.reprocessed,
                        r.resolved,
                        r.top_reasons[0][0] if r.top_reasons else None,
                    ]
                    for r in rows
                ],
            )
        )


def _json(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
