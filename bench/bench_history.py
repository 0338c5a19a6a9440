"""History storage: bytes per group-partition-day, measured on SQLite with the real record() path.

Writes N cycles of samples for G groups x P partitions, VACUUMs, and divides the database growth by
the rows written; then applies the tier schedule (every cycle for 1 h, per minute for 23 h, per
10 minutes for 29 days) to give steady-state bytes per group-partition and per group-partition-day.
Usage: .venv/bin/python bench/bench_history.py [--groups 200] [--partitions 10] [--cycles 50]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import tempfile
from datetime import timedelta
from pathlib import Path

tmp = Path(tempfile.mkdtemp(prefix="bench-history-"))
os.environ["SQLITE_PATH"] = str(tmp / "db.sqlite3")
os.environ["DASHBOARD_VAR_DIR"] = str(tmp)

import django  # noqa: E402
from common import REPO  # noqa: E402, F401 - sets sys.path and DJANGO_SETTINGS_MODULE

django.setup()

from django.core.management import call_command  # noqa: E402

from dashboard.state import history  # noqa: E402
from tests.factories import T0, snapshot  # noqa: E402


def db_bytes(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        conn.execute("VACUUM")
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--partitions", type=int, default=10)
    parser.add_argument("--cycles", type=int, default=50)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    path = tmp / "db.sqlite3"
    before = db_bytes(path)
    topics = {f"topic-{i}": [1_000_000 + i] * args.partitions for i in range(10)}
    for c in range(args.cycles):
        groups = {
            f"group-{g:05d}": {(f"topic-{g % 10}", p): 900_000 + c * 37 + g for p in range(args.partitions)}
            for g in range(args.groups)
        }
        history.record(snapshot(T0 + timedelta(seconds=5 * c), ends=topics, groups=groups))
    after = db_bytes(path)
    group_rows = args.groups * args.cycles
    topic_rows = 10 * args.cycles
    per_group_row = (after - before) / (group_rows + topic_rows * 0.5)  # topic rows are ~half a group row
    per_gp_sample = per_group_row / args.partitions
    rows_retained = 720 + 60 * 23 + 6 * 24 * 29  # tiers at a 5 s poll interval, 30 days retention
    result = {
        "bench": "history",
        "groups": args.groups,
        "partitions_per_group": args.partitions,
        "cycles": args.cycles,
        "bytes_per_group_row": round(per_group_row, 1),
        "bytes_per_group_partition_sample": round(per_gp_sample, 1),
        "rows_per_group_retained_30d": rows_retained,
        "bytes_per_group_partition_steady_state": round(per_gp_sample * rows_retained),
        "bytes_per_group_partition_day": {
            "first day (raw 1 h + minute tier)": round(per_gp_sample * (720 + 60 * 23)),
            "each older day (10-minute tier)": round(per_gp_sample * 144),
            "average over 30 days": round(per_gp_sample * rows_retained / 30),
        },
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
