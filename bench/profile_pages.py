"""Profile the server side of the pages bench_pages.py measures, in-process, with pyinstrument
(a profiling aid, not a benchmark; pyinstrument is not a project dependency:
`.venv/bin/pip install pyinstrument`).

Seeds W1 (1,000 groups x 10 partitions) on a broker of its own, runs a few poll cycles in this
process (so the store and figures are what a running server holds), then requests each page
with Django's test client, `--requests` times under the profiler, and prints the profiles.

Usage: .venv/bin/python bench/profile_pages.py [--groups 1000] [--requests 50] [--cycles 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--cycles", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-profile-pages-"))
    os.environ.update(DASHBOARD_VAR_DIR=str(tmp), SQLITE_PATH=str(tmp / "db.sqlite3"), KAFKA_CLUSTER_NAME="bench")

    from common import commit_offsets, create_topics, fill_partitions, start_broker

    broker = start_broker(tmp / "kafka")
    try:
        os.environ["KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap
        topics = {f"pp-t{i}": 10 for i in range(10)}
        create_topics(broker.bootstrap, topics)
        fill_partitions(broker.bootstrap, topics, 10)
        names = list(topics)
        commit_offsets(
            broker.bootstrap,
            [(f"pp-g{i:05d}", [(names[i % 10], p, 5 + (i + p) % 5) for p in range(10)]) for i in range(args.groups)],
        )
        import django

        django.setup()
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.test import Client
        from pyinstrument import Profiler

        from dashboard.clusters import default_cluster
        from dashboard.poller.loop import Poller

        settings.ALLOWED_HOSTS = ["*"]
        call_command("migrate", verbosity=0)
        poller = Poller(default_cluster(), 5.0)
        for _ in range(args.cycles):
            poller.cycle()
            time.sleep(1)
        user = get_user_model().objects.create_user("profiler", password="x" * 20)
        client = Client()
        client.force_login(user)
        pages = {
            "trivial": "/healthz",
            "groups list sorted by lag": "/c/bench/groups/?sort=lag",
            "group detail": f"/c/bench/groups/pp-g{args.groups // 2:05d}/",
        }
        for label, path in pages.items():
            for _ in range(5):
                assert client.get(path).status_code == 200, path
            profiler = Profiler(interval=0.0005)
            started = time.perf_counter()
            with profiler:
                for _ in range(args.requests):
                    client.get(path)
            per = (time.perf_counter() - started) / args.requests * 1000
            print(f"\n===== {label} ({path}): {per:.1f} ms per request in-process, {args.requests} requests")
            print(profiler.output_text(unicode=False, color=False, show_all=False))
    finally:
        broker.down()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
