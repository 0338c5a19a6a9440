"""Profile the pages bench_scale_downstream.py measures, at W4 and without a broker (a profiling
aid, not a benchmark): its synthetic cluster is fed through its own poll-cycle steps, then each
page is requested in-process (Django's test client) under cProfile (stdlib: no extra dependency).

Prints, per page: the time per request, the SQL queries one request makes, and the profile's
top functions by cumulative and by own time. `--pages` picks pages by a word of their label.

Usage: .venv/bin/python bench/profile_scale_pages.py [--groups 50000] [--cycles 3] [--requests 50]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_scale_downstream as scale
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from synthetic import SyntheticCluster, add_size_arguments


class Recorder:
    """An execute wrapper that keeps each query's SQL."""

    def __init__(self, into: list[str]) -> None:
        self.into = into

    def __call__(self, execute, sql, params, many, context):
        self.into.append(sql)
        return execute(sql, params, many, context)


def main() -> None:
    parser = argparse.ArgumentParser()
    add_size_arguments(parser)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument(
        "--default-gc", action="store_true", help="CPython's own collection schedule, not the poller's (a comparison)"
    )
    parser.add_argument("--pages", default="", help="comma-separated words: profile only pages whose label has one")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench", password="bench-password-1")
    scale.create_pending_rule()  # as the bench: its alert states are in the database the pages read
    cluster = SyntheticCluster(groups=args.groups, partitions=args.partitions, topics=args.topics)
    scale.run_cycles(args, cluster)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    paths = scale.page_paths(cluster, args.groups)
    wanted = [w for w in args.pages.split(",") if w]
    for label, path in paths.items():
        if wanted and not any(w in label for w in wanted):
            continue
        for _ in range(3):  # warm: the first request per cycle builds the derived rows
            assert client.get(path).status_code == 200, path
        queries: list[str] = []  # CaptureQueriesContext sees none: request_started resets the log
        with connection.execute_wrapper(Recorder(queries)):
            client.get(path)
        started = time.perf_counter()
        for _ in range(args.requests):
            client.get(path)
        plain = (time.perf_counter() - started) / args.requests * 1000
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        for _ in range(args.requests):
            client.get(path)
        profile.disable()
        per = (time.perf_counter() - started) / args.requests * 1000
        print(f"\n===== {label} ({path}): {plain:.2f} ms per request, {per:.2f} under cProfile, {len(queries)} queries")
        for sql in queries:
            print("   SQL:", sql[:200])
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats(order).print_stats(args.top)
            print(out.getvalue())


if __name__ == "__main__":
    main()
