"""SIGKILL `manage.py dlq_reprocess` in the middle of 10,000 records, run it again: every record
arrives exactly once (read_committed) and the audit log adds up."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from kafka_admin.dlq import headers as h
from tests.dlq_support import confirmed_in_ledger, fill_dlq, read_all
from tests.kafka_support import REPO

pytestmark = pytest.mark.broker

RECORDS = 10_000


def test_killed_reprocess_resumes_exactly_once(kafka, broker, tmp_path):
    original = kafka.create_topic(partitions=3)
    dlq = kafka.create_topic(f"{original}-dlq", partitions=1)
    fill_dlq(kafka, dlq, original, RECORDS)
    db = str(tmp_path / "db.sqlite3")
    env = dict(
        os.environ,
        KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap,
        KAFKA_CLUSTER_NAME="crash",
        DASHBOARD_VAR_DIR=str(tmp_path),
        SQLITE_PATH=db,
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v", "0"], cwd=REPO, env=env, check=True, timeout=120)
    command = [
        *manage,
        "dlq_reprocess",
        "--topic",
        dlq,
        "--partition",
        "0",
        "--actor",
        "crash-test",
        "--rate-limit",  # transactions of 5,000 records (5 s of them), the kill lands in the second
        "1000",
    ]

    first = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while confirmed_in_ledger(db) < 2_000 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.05)
    assert first.poll() is None, "the first run ended before it could be killed"
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    before = confirmed_in_ledger(db)
    assert 2_000 <= before < RECORDS

    second = subprocess.run(command[:-2], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "(done)" in second.stdout

    got = read_all(kafka, original, RECORDS, timeout=60)
    sources = [dict(m.headers())[h.REPROCESSED_FROM_OFFSET] for m in got]
    assert len(sources) == RECORDS and len(set(sources)) == RECORDS  # every record once, none twice
    assert confirmed_in_ledger(db, distinct_offsets=True) == RECORDS
    with sqlite3.connect(db) as conn:
        audit = conn.execute("select result, count from dashboard_auditentry where action='reprocess'").fetchall()
        runs = conn.execute("select state, sent from dashboard_reprocessrun").fetchall()
    assert sorted(r for r, _ in audit) == ["done", "interrupted"]
    assert sum(c for _, c in audit) == RECORDS  # what the killed run sent + what the re-run sent
    assert sorted(s for s, _ in runs) == ["done", "interrupted"] and sum(n for _, n in runs) == RECORDS
