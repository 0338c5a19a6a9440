"""alerts.evaluate alone at W4 (50,000 groups x 10 partitions), no broker: the poller's way (states kept
in an AlertMemory between cycles) against reading every state from the database each cycle.

The synthetic cluster (bench/synthetic.py) with unchanged groups handed on as last cycle's objects,
as the collector does; the rule is bench_scale_downstream.py's (most groups breach, pending for the
run, so their states are written whenever their lag moves). `--figures` runs the FigureTracker too
(for time-lag and status rules: `--rules all`), untimed. `--profile` prints cProfile's top entries
of the kept memory's steady cycles.

Usage: .venv/bin/python bench/bench_alerts.py [--groups 50000] [--cycles 6] [--rules lag|all] [--figures]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# Its import sets up Django on a database of its own in a temporary directory, as it runs.
from bench_scale_downstream import baseline_loop_s, handed_on
from django.core.management import call_command
from synthetic import SyntheticCluster, add_size_arguments

from dashboard.alerts import engine as alerts
from dashboard.alerts.states import AlertMemory
from dashboard.models import AlertEvent, AlertRule, AlertState
from kafka_admin.figures.results import EMPTY
from kafka_admin.figures.tracker import FigureTracker

RULES = {
    "lag": [dict(name="lagging", condition="lag_gt", threshold=45, pattern="*", for_seconds=86400)],
    "all": [
        dict(name="lagging", condition="lag_gt", threshold=45, pattern="*", for_seconds=86400),
        dict(name="time lag", condition="time_lag_gt", threshold=30, pattern="*", for_seconds=60),
        dict(name="stopped", condition="status_in", statuses="STOP,STALL", pattern="group-0*", for_seconds=0),
    ],
}


def run(args: argparse.Namespace, keep: bool) -> list[float]:
    """Per cycle CPU seconds of alerts.evaluate; the database starts without states each run."""
    AlertState.objects.all().delete()
    AlertEvent.objects.all().delete()
    cluster = SyntheticCluster(groups=args.groups, partitions=args.partitions, topics=args.topics)
    tracker = FigureTracker() if args.figures else None
    memory = AlertMemory() if keep else None
    profile = cProfile.Profile() if args.profile and keep else None
    out, collected = [], None
    for c in range(args.cycles):
        cluster.advance()
        collected = handed_on(collected, cluster.snapshot(c))
        figures = tracker.update(collected) if tracker is not None else EMPTY
        if profile is not None and c > 0:
            profile.enable()
        started = time.process_time()
        alerts.evaluate(cluster.cluster, collected, figures, True, collected.collected_at, memory=memory)
        out.append(time.process_time() - started)
        if profile is not None:
            profile.disable()
        print(f"{'kept' if keep else 'from scratch'} cycle {c}: {out[-1] * 1000:.0f} ms", file=sys.stderr)
    if profile is not None:
        pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(15)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    add_size_arguments(parser)
    parser.add_argument("--cycles", type=int, default=6)
    parser.add_argument("--rules", choices=sorted(RULES), default="lag")
    parser.add_argument("--figures", action="store_true", help="run the FigureTracker (needed by --rules all)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--scratch", action="store_true", help="also time the evaluation without a memory")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    for kw in RULES[args.rules]:
        AlertRule.objects.create(**kw)
    result: dict = {"bench": "alerts", "baseline_loop_cpu_s": round(baseline_loop_s(), 3), "rules": args.rules}
    kinds = [("kept", True), ("from scratch", False)] if args.scratch else [("kept", True)]
    for label, keep in kinds:
        times = run(args, keep)
        steady = times[1:] or times
        result[label] = {
            "first_ms": round(times[0] * 1000, 1),
            "steady_p50_ms": round(statistics.median(steady) * 1000, 1),
            "steady_max_ms": round(max(steady) * 1000, 1),
        }
    result["states"] = AlertState.objects.count()
    result["baseline_loop_cpu_s_after"] = round(baseline_loop_s(), 3)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
