"""Helper process for the benchmarks: real consumers that join groups and keep polling.

Usage: live_members.py BOOTSTRAP '[{"group": "g", "topic": "t", "protocol": "classic"}, ...]'

Every entry is one consumer (several entries with the same group make a group of several members).
Prints "ready" once every consumer holds an assignment, then polls until stdin is closed.
Offsets are never committed, so the committed offsets the benchmark seeded stay as they are.
"""

from __future__ import annotations

import json
import sys
import threading
import time

from confluent_kafka import Consumer


def main() -> None:
    bootstrap, members = sys.argv[1], json.loads(sys.argv[2])
    stop = threading.Event()
    consumers = []
    for i, m in enumerate(members):
        conf = {
            "bootstrap.servers": bootstrap,
            "group.id": m["group"],
            "client.id": f"bench-live-{i}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "log_level": 3,
        }
        if m.get("protocol", "classic") == "consumer":
            conf["group.protocol"] = "consumer"
        else:
            conf.update({"session.timeout.ms": 30000, "heartbeat.interval.ms": 3000})
        c = Consumer(conf)
        c.subscribe([m["topic"]])
        consumers.append(c)

    assigned = [threading.Event() for _ in consumers]

    def run(i: int, c: Consumer) -> None:
        while not stop.is_set():
            c.poll(0.5)
            if c.assignment():
                assigned[i].set()
        c.close()

    threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(consumers)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 90
    for event in assigned:
        if not event.wait(max(0.0, deadline - time.monotonic())):
            print("timeout: a consumer got no assignment", flush=True)
            stop.set()
            return
    # Let the last rebalance settle: every member of a group holds its share.
    time.sleep(2)
    print("ready", flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
    stop.set()
    for t in threads:
        t.join(15)


if __name__ == "__main__":
    main()
