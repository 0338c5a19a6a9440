"""Run the pollers as their own process (scaled-out setup), or one cycle with --once."""

from __future__ import annotations

import asyncio
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dashboard.clusters import UnknownCluster, configured_clusters, get_cluster
from dashboard.poller.loop import Poller


class Command(BaseCommand):
    help = "Poll the configured Kafka clusters every POLL_INTERVAL seconds; --once runs one cycle."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--cluster", help="only this cluster (default: all configured)")
        parser.add_argument("--once", action="store_true", help="run one cycle per cluster and exit")

    def handle(self, *args, cluster: str | None, once: bool, **options) -> None:
        try:
            configs = [get_cluster(cluster)] if cluster else list(configured_clusters().values())
        except UnknownCluster:
            raise CommandError(f"unknown cluster {cluster!r}; configured: {', '.join(configured_clusters())}") from None
        # Polling for good: each poller's broker reads in a supervised child (COLLECTOR_ISOLATED), as in
        # the server. One cycle (--once) is a CLI run: a crash there ends the command alone.
        pollers = [Poller(c, settings.POLL_INTERVAL_S, isolated=False if once else None) for c in configs]
        if once:
            failed = False
            for poller in pollers:
                snap = poller.cycle()
                assert snap is not None  # in-process: no child to lose
                status = "ok" if snap.reachable else "UNREACHABLE"
                self.stdout.write(
                    f"{snap.cluster}: {status}, {len(snap.topics)} topics, {len(snap.groups)} groups, "
                    f"{snap.requests} requests, {snap.duration_ms:.0f} ms"
                )
                failed = failed or not snap.reachable
            if failed:
                raise CommandError("at least one cluster was unreachable", returncode=2)
            return
        asyncio.run(self._run_forever(pollers))

    async def _run_forever(self, pollers: list[Poller]) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await asyncio.gather(*(p.run(stop) for p in pollers))
