"""How long after `manage.py serve` starts the first snapshot is served (/readyz answers 200).

Usage: python bench/bench_first_snapshot.py BOOTSTRAP [--runs N] [--interval S]
Prints, per run, seconds from launch to: the server answering, /readyz ready, and the first
cycle's own duration from the server's log line ("first snapshot ... in N ms").
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.kafka_support import free_port  # noqa: E402


def one_run(bootstrap: str, interval: str, var: str) -> tuple[float, float, float]:
    if True:
        port = free_port()
        env = dict(
            os.environ,
            KAFKA_BOOTSTRAP_SERVERS=bootstrap,
            KAFKA_CLUSTER_NAME="bench",
            POLL_INTERVAL=interval,
            DASHBOARD_VAR_DIR=var,
            SQLITE_PATH=f"{var}/db.sqlite3",
        )
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True)
        log = Path(var) / "server.log"
        with log.open("w") as out:
            started = time.monotonic()
            proc = subprocess.Popen(
                [sys.executable, "manage.py", "serve", "--port", str(port)],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            answering = ready = None
            try:
                while time.monotonic() - started < 60 and ready is None:
                    try:
                        urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1)
                        ready = time.monotonic() - started
                    except urllib.error.HTTPError:
                        answering = answering or time.monotonic() - started
                    except OSError:
                        pass
                    time.sleep(0.02)
            finally:
                proc.terminate()
                proc.wait(10)
        found = re.search(r"first snapshot.* in (\d+) ms", log.read_text())
        return answering or float("nan"), ready or float("nan"), float(found.group(1)) / 1000 if found else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("bootstrap")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--interval", default="5")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as var:  # one database: runs after the first are restarts
        rows = [one_run(args.bootstrap, args.interval, var) for _ in range(args.runs)]
    for answering, ready, cycle in rows:
        print(
            f"answering {answering:6.2f} s   first snapshot served {ready:6.2f} s   first cycle {cycle * 1000:5.0f} ms"
        )
    print(
        f"median: answering {statistics.median(r[0] for r in rows):.2f} s, "
        f"served {statistics.median(r[1] for r in rows):.2f} s, "
        f"gap {statistics.median(r[1] - r[0] for r in rows):.2f} s"
    )


if __name__ == "__main__":
    main()
