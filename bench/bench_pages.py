"""Pages at W1 (1,000 groups x 10 partitions): groups list sorted by lag and group detail,
p50/p95 server time as a ratio to a trivial page (/healthz) on the same server, same run, the
pages requested in turn (one of each, `--requests` times) while the server's poller keeps polling.

Usage: .venv/bin/python bench/bench_pages.py [--groups 1000] [--partitions 10] [--requests 200]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from common import REPO, percentiles, prepare_database, seed_groups, start_broker, timed

from tests.kafka_support import Kafka, free_port


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--partitions", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    broker = start_broker(tmp / "kafka")
    try:
        kafka = Kafka(broker)
        started = time.monotonic()
        groups = seed_groups(kafka, "bp", args.groups, args.partitions, topics=10)
        seed_s = time.monotonic() - started
        env = {
            **__import__("os").environ,
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
            "KAFKA_CLUSTER_NAME": "bench",
            "POLL_INTERVAL": "5",
            "DASHBOARD_VAR_DIR": str(tmp),
            "SQLITE_PATH": str(tmp / "db.sqlite3"),
        }
        manage = [sys.executable, "manage.py"]
        password = prepare_database(env)
        port = free_port()
        server = subprocess.Popen(
            [*manage, "serve", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=(tmp / "server.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            opener = login(base, password)
            wait_for_groups(opener, base, args.groups)
            results = {}
            pages = {
                "trivial (/healthz)": "/healthz",
                "groups list sorted by lag": "/c/bench/groups/?sort=lag",
                "group detail": f"/c/bench/groups/{groups[len(groups) // 2]}/",
            }
            for _ in range(10):  # warm up
                for path in pages.values():
                    opener.open(base + path).read()
            # Round-robin, one request of each page in turn: the poller's cycles run in the same process
            # and take the GIL for a while every 5 s, so pages timed in blocks of their own met them by
            # luck (a block that missed a cycle had a low p95); in turn, every page meets them alike.
            samples: dict[str, list[float]] = {label: [] for label in pages}
            for _ in range(args.requests):
                for label, path in pages.items():
                    samples[label] += timed(lambda p=path: opener.open(base + p).read(), 1)
            for label, taken in samples.items():
                results[label] = percentiles(taken)
            trivial = results["trivial (/healthz)"]
            for label in list(results)[1:]:
                results[label]["ratio_p50"] = round(results[label]["p50_ms"] / trivial["p50_ms"], 2)
                results[label]["ratio_p95"] = round(results[label]["p95_ms"] / trivial["p95_ms"], 2)
            print(
                json.dumps(
                    {
                        "bench": "pages",
                        "groups": args.groups,
                        "partitions_per_group": args.partitions,
                        "seed_s": round(seed_s, 1),
                        "results": results,
                    },
                    indent=2,
                )
            )
        finally:
            server.terminate()
            server.wait(10)
    finally:
        broker.down()


def login(base: str, password: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    for _ in range(100):
        try:
            html = opener.open(base + "/accounts/login/").read().decode()
            break
        except OSError:
            time.sleep(0.2)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    data = urllib.parse.urlencode({"username": "bench", "password": password, "csrfmiddlewaretoken": token}).encode()
    opener.open(urllib.request.Request(base + "/accounts/login/", data=data, headers={"Referer": base}))
    return opener


def wait_for_groups(opener, base: str, count: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        html = opener.open(base + "/c/bench/groups/").read().decode()
        found = re.search(r"(\d+) items?, page", html)
        if found and int(found.group(1)) >= count:
            return
        time.sleep(1)
    raise RuntimeError("the poller never showed all groups")


if __name__ == "__main__":
    main()
