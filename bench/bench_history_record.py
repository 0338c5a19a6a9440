"""HistoryWriter.record alone at W4, as bench_scale_downstream.py feeds it, without the other steps.

The synthetic cluster (bench/synthetic.py) advances each cycle and its snapshot is handed on as the
collector builds it (an unchanged group or topic is last cycle's object); the time lags are a
figures-shaped dict (group id -> an object with .time_lag.seconds), since FigureTracker.update is
not what is measured. Each cycle times the poller's call: the time-lag argument and record().
--profile prints cProfile's top functions over the steady cycles; --postgres runs on a throwaway
PostgreSQL server (tests/postgres_support.py) instead of SQLite.

Usage: .venv/bin/python bench/bench_history_record.py [--groups 50000] [--cycles 8] [--produce-fraction 0.1]
       [--profile] [--postgres]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import statistics
import sys
import time

from offline import offline_settings

tmp = offline_settings("bench-history-record-")
POSTGRES = "--postgres" in sys.argv
if POSTGRES:
    from tests.postgres_support import PostgresServer

    server = PostgresServer(tmp / "postgres").start()
    os.environ.update(server.env)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from synthetic import SyntheticCluster, add_size_arguments  # noqa: E402

from dashboard.models import GroupSample, TopicSample  # noqa: E402
from dashboard.state.history_writer import HistoryWriter, time_lags_of  # noqa: E402
from kafka_admin.figures.results import ClusterFigures  # noqa: E402
from kafka_admin.figures.timelag import TimeLag  # noqa: E402
from kafka_admin.snapshot.model import ClusterSnapshot  # noqa: E402


class Figures:
    """What the writer reads of a GroupFigures: its time lag."""

    __slots__ = ("time_lag",)

    def __init__(self, seconds: float) -> None:
        self.time_lag = TimeLag(seconds, False, "")


def handed_on(previous: ClusterSnapshot | None, snapshot: ClusterSnapshot) -> ClusterSnapshot:
    """bench_scale_downstream.handed_on: unchanged groups and topics are last cycle's objects."""
    from dataclasses import replace

    if previous is None:
        return snapshot
    groups = {g.group_id: g for g in previous.groups}
    topics = {t.name: t for t in previous.topics}
    return replace(
        snapshot,
        groups=tuple([old if (old := groups.get(g.group_id)) == g else g for g in snapshot.groups]),
        topics=tuple([old if (old := topics.get(t.name)) == t else t for t in snapshot.topics]),
    )


class GcTime:
    """CPU seconds spent in the garbage collector: a full collection over the snapshot's objects
    falls on whichever step allocates when the threshold is crossed."""

    def __init__(self) -> None:
        self.seconds, self._started = 0.0, 0.0
        gc.callbacks.append(self)

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            self.seconds += time.process_time() - self._started


def main() -> None:
    parser = argparse.ArgumentParser()
    add_size_arguments(parser)
    parser.add_argument("--cycles", type=int, default=8)
    parser.add_argument("--produce-fraction", type=float, default=None, help="topics written per cycle (0.1)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--postgres", action="store_true", help="on a throwaway PostgreSQL server")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    cluster = SyntheticCluster(groups=args.groups, partitions=args.partitions, topics=args.topics)
    if args.produce_fraction is not None:  # the rows a cycle writes: every group of a topic written to
        cluster.produce_fraction = args.produce_fraction
    writer = HistoryWriter(heartbeat_s=settings.HISTORY_HEARTBEAT_S)
    profile = cProfile.Profile() if args.profile else None
    times, walls, gcs, rows, snapshot = [], [], [], [], None
    gc_time = GcTime()
    for c in range(args.cycles):
        cluster.advance()
        snapshot = handed_on(snapshot, cluster.snapshot(c))
        lags = {g.group_id: Figures(float(c + i % 7)) for i, g in enumerate(snapshot.groups)}
        figures = ClusterFigures(0.0, {}, lags)  # type: ignore[arg-type]
        if profile is not None and c > 0:
            profile.enable()
        started, wall, in_gc = time.process_time(), time.perf_counter(), gc_time.seconds
        written = writer.record(snapshot, time_lags_of(figures))
        times.append(time.process_time() - started)
        walls.append(time.perf_counter() - wall)
        gcs.append(gc_time.seconds - in_gc)
        if profile is not None:
            profile.disable()
        rows.append(written.rows)
        ms = f"{times[-1] * 1000:.0f} ms cpu ({gcs[-1] * 1000:.0f} in gc), {walls[-1] * 1000:.0f} ms wall"
        print(f"cycle {c}: {ms}, {written.rows} rows", file=sys.stderr)
    steady = times[1:] or times
    result = {
        "bench": "history-record",
        "database": connection.vendor,
        "group_partition_rows": args.groups * args.partitions,
        "cycles": args.cycles,
        "produce_fraction": cluster.produce_fraction,
        "first_cycle_ms": round(times[0] * 1000, 1),
        "steady_p50_ms": round(statistics.median(steady) * 1000, 1),
        "steady_max_ms": round(max(steady) * 1000, 1),
        "steady_wall_p50_ms": round(statistics.median(walls[1:] or walls) * 1000, 1),
        "steady_gc_p50_ms": round(statistics.median(gcs[1:] or gcs) * 1000, 1),
        "steady_gc_max_ms": round(max(gcs[1:] or gcs) * 1000, 1),
        "rows_first_cycle": rows[0],
        "rows_per_steady_cycle": round(statistics.mean(rows[1:] or rows), 1),
        "group_sample_rows": GroupSample.objects.count(),
        "topic_sample_rows": TopicSample.objects.count(),
        "load_average": os.getloadavg(),
    }
    print(json.dumps(result, indent=2))
    if profile is not None:
        pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
    if POSTGRES:
        connection.close()
        server.stop()


if __name__ == "__main__":
    main()
