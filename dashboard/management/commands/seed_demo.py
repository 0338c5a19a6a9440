"""Run the demo workload (docs/demo.md) against a local cluster until Ctrl-C, SIGTERM or --duration."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from types import FrameType

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dashboard.clusters import UnknownCluster, cluster_names, get_cluster
from kafka_admin.config import ClusterConfig
from kafka_admin.demo import (
    STATE_DIR_ENV,
    WorkerStats,
    is_local_bootstrap,
    resolve_state_dir,
    run_demo,
    summarize,
)

NOT_LOCAL_EXIT = 2


def demo_cluster(name: str | None) -> ClusterConfig:
    """The one place that turns --cluster into a ClusterConfig."""
    try:
        return get_cluster(name)
    except UnknownCluster:
        raise CommandError(f"unknown cluster {name!r}; configured: {', '.join(cluster_names())}") from None


def demo_state_dir() -> Path:
    """$DEMO_STATE_DIR, else <var dir>/demo: where the "bug fixed" switch file lives."""
    if os.environ.get(STATE_DIR_ENV):
        return resolve_state_dir()
    return Path(getattr(settings, "VAR_DIR", Path("var"))) / "demo"


class Command(BaseCommand):
    help = "Produce and consume demo data (orders, payments, shipments, a DLQ) on a LOCAL cluster (docs/demo.md)."
    # The demo needs neither URLs nor models: a half-finished view must not keep it from running.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl-C)")
        parser.add_argument("--rate-scale", type=float, default=1.0, help="multiply every rate (default 1.0)")
        parser.add_argument("--cluster", help="cluster name (default: the first configured)")
        parser.add_argument(
            "--i-know-this-is-not-local",
            action="store_true",
            dest="not_local_ok",
            help="allow bootstrap servers that are not on loopback (the demo writes data and commits offsets)",
        )

    def handle(
        self,
        *args,
        duration: float | None,
        rate_scale: float,
        cluster: str | None,
        not_local_ok: bool,
        **options,
    ) -> None:
        if rate_scale <= 0:
            raise CommandError("--rate-scale must be positive")
        if duration is not None and duration <= 0:
            raise CommandError("--duration must be positive")
        config = demo_cluster(cluster)
        if not is_local_bootstrap(config.bootstrap_servers) and not not_local_ok:
            raise CommandError(
                f"refusing to seed demo data into {config.bootstrap_servers} (cluster {config.name!r}): "
                "it is not on loopback (127.0.0.0/8, localhost, ::1). The demo creates topics, writes records "
                "and commits offsets. Pass --i-know-this-is-not-local if this really is a scratch cluster.",
                returncode=NOT_LOCAL_EXIT,
            )
        state_dir = demo_state_dir()
        self.stdout.write(
            f"demo on cluster {config.name!r} ({config.bootstrap_servers}), rate scale {rate_scale:g}; "
            f"bug-fixed switch: {state_dir / 'bug-fixed'} or DEMO_BUG_FIXED=1. Ctrl-C to stop."
        )
        stop = threading.Event()
        results: list[WorkerStats] = []
        runner = threading.Thread(
            target=lambda: results.extend(run_demo(config, stop, rate_scale, log=self._log, state_dir=state_dir)),
            name="demo",
            daemon=True,
        )
        signalled: list[int] = []

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            signalled.append(signum)  # only a note here; the main loop below sets the event

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        started = time.monotonic()
        try:
            runner.start()
            while runner.is_alive():
                runner.join(0.25)
                timed_out = duration is not None and time.monotonic() - started >= duration
                if (signalled or timed_out) and not stop.is_set():
                    self.stdout.write("stopping: closing every client ...")
                    stop.set()
        finally:
            stop.set()
            runner.join(40)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write(f"demo ran {time.monotonic() - started:.0f} s")
        for line in summarize(results):
            self.stdout.write(f"  {line}")

    def _log(self, line: str) -> None:
        self.stdout.write(line)
