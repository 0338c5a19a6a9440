"""The cost of the collector in a supervised child (kafka_admin.isolation), as ratios measured in one run.

Default mode: seeds `--groups` groups on a broker of its own, then, in this process with Django set up,
1. poll cycle wall time (Poller.cycle(): collect, store, history, DLQ index) with the broker reads in a
   child vs in-process, cycles interleaved so that both meet the same machine load;
2. page latency (the groups page through Django's test client) while a poller cycles in a thread,
   in a child vs in-process, in alternating blocks of requests (the in-process collector's
   librdkafka threads and the unpickling of its results compete with the page for the GIL in
   different ways).
Prints one JSON line: the medians and the child/in-process ratios (target <= 1.1).

--flaky N: runs tests/faults/test_flaky_server.py N times in a row (one pytest session, one broker,
a new server each run: FLAKY_SERVER_RUNS=N) and reports how many runs passed and the collector
crashes their servers survived.

Usage: .venv/bin/python bench/bench_isolation.py [--groups 1000] [--cycles 10] [--requests 200]
       .venv/bin/python bench/bench_isolation.py --flaky 20
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def flaky(runs: int) -> dict[str, object]:
    env = dict(os.environ, FLAKY_SERVER_RUNS=str(runs))
    started = time.monotonic()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/faults/test_flaky_server.py",
            "-q",
            "-s",
            "-p",
            "no:cacheprovider",
            "-rA",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    passed = len(re.findall(r"^PASSED ", out.stdout, re.MULTILINE))
    failed = len(re.findall(r"^(FAILED|ERROR) ", out.stdout, re.MULTILINE))
    crashes = re.findall(r"survived (\d+) collector crash", out.stdout)
    return {
        "mode": "flaky",
        "runs": runs,
        "passed": passed,
        "failed": failed,
        "collector_crashes_survived": sum(int(c) for c in crashes),
        "wall_s": round(time.monotonic() - started, 1),
        "tail": out.stdout[-1500:] if failed or passed != runs else "",
    }


def ratios(groups: int, cycles: int, requests: int) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-isolation-"))
    os.environ.update(DASHBOARD_VAR_DIR=str(tmp), SQLITE_PATH=str(tmp / "db.sqlite3"), KAFKA_CLUSTER_NAME="bench")
    sys.path.insert(0, str(REPO / "bench"))
    sys.path.insert(0, str(REPO))
    from common import commit_offsets, create_topics, fill_partitions, machine, start_broker

    broker = start_broker(tmp / "kafka")
    try:
        os.environ["KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap
        topics = {f"iso-t{i}": 10 for i in range(10)}
        create_topics(broker.bootstrap, topics)
        fill_partitions(broker.bootstrap, topics, 10)
        names = list(topics)
        commit_offsets(
            broker.bootstrap,
            [(f"iso-g{i:05d}", [(names[i % 10], p, 5 + (i + p) % 5) for p in range(10)]) for i in range(groups)],
        )
        import django

        django.setup()
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.test import Client

        from dashboard.clusters import default_cluster
        from dashboard.poller.loop import Poller

        settings.ALLOWED_HOSTS = ["*"]
        call_command("migrate", verbosity=0)
        config = default_cluster()
        pollers = {"child": Poller(config, 5.0, isolated=True), "in_process": Poller(config, 5.0, isolated=False)}
        for p in pollers.values():  # warm: the child's start, the first snapshot, the seeded windows
            assert p.cycle() is not None
        snapshot = pollers["in_process"].cycle()
        from multiprocessing.reduction import ForkingPickler

        registered = dict(ForkingPickler._extra_reducers)  # the in-process BrokerSession registered them
        ForkingPickler._extra_reducers.clear()
        handoff = {"default": _pickle_cost(snapshot)}
        ForkingPickler._extra_reducers.update(registered)
        handoff["as_sent"] = _pickle_cost(snapshot)  # what the child's Connection.send does
        cycle_s: dict[str, list[float]] = {k: [] for k in pollers}
        for _ in range(cycles):
            for kind, p in pollers.items():
                started = time.perf_counter()
                assert p.cycle() is not None
                cycle_s[kind].append(time.perf_counter() - started)

        user = get_user_model().objects.create_user("bench-iso", password="x")
        client = Client()
        client.force_login(user)
        page_s: dict[str, list[float]] = {k: [] for k in pollers}
        block = max(1, requests // 5)  # blocks of requests, alternating sides, so both meet the same load
        for _ in range(max(1, requests // block)):
            for kind, p in pollers.items():
                stop = threading.Event()

                def poll(p: Poller = p, stop: threading.Event = stop) -> None:
                    while not stop.is_set():
                        p.cycle()

                thread = threading.Thread(target=poll)
                thread.start()
                try:
                    for _ in range(block):
                        started = time.perf_counter()
                        assert client.get("/c/bench/groups/").status_code == 200
                        page_s[kind].append(time.perf_counter() - started)
                finally:
                    stop.set()
                    thread.join()
        for p in pollers.values():
            p.close()
    finally:
        broker.down()
    med = {
        k: {"cycle_ms": statistics.median(cycle_s[k]) * 1000, "page_ms": statistics.median(page_s[k]) * 1000}
        for k in cycle_s
    }
    return {
        "mode": "ratios",
        "groups": groups,
        "partitions_per_group": 10,
        "cycles": cycles,
        "requests": requests,
        "median": {k: {m: round(v, 1) for m, v in d.items()} for k, d in med.items()},
        "handoff": handoff,
        "cycle_ratio": round(med["child"]["cycle_ms"] / med["in_process"]["cycle_ms"], 3),
        "page_ratio": round(med["child"]["page_ms"] / med["in_process"]["page_ms"], 3),
        "machine": machine(),
    }


def _pickle_cost(snapshot: object, repeat: int = 5) -> dict[str, float]:
    """Bytes and the median time of one dumps + loads as Connection.send/recv do them."""
    from multiprocessing.reduction import ForkingPickler

    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        blob = bytes(ForkingPickler.dumps(snapshot))
        pickle.loads(blob)
        times.append(time.perf_counter() - started)
    return {"bytes": len(blob), "dumps_loads_ms": round(statistics.median(times) * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--flaky", type=int, default=0, help="run the flaky-network server scenario N times instead")
    args = parser.parse_args()
    result = flaky(args.flaky) if args.flaky else ratios(args.groups, args.cycles, args.requests)
    print(json.dumps(result))


if __name__ == "__main__":  # the collector's child is spawned: it imports this file again as __mp_main__
    main()
