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

from kafka_admin import dlq_headers as h
from tests.dlq_support import read_all
from tests.kafka_support import REPO

pytestmark = pytest.mark.broker

RECORDS = 10_000


def confirmed(db: str) -> int:
    with sqlite3.connect(db, timeout=10) as conn:
        try:
            return conn.execute(
                "select count(*) from dashboard_reprocessentry e"
                " join dashboard_reprocessbatch b on e.batch_id = b.id where b.state='confirmed'"
            ).fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def test_killed_reprocess_resumes_exactly_once(kafka, broker, tmp_path):
    original = kafka.create_topic(partitions=3)
    dlq = kafka.create_topic(f"{original}-dlq", partitions=1)
    p = kafka.producer(acks="all")
    for i in range(RECORDS):
        p.produce(
            dlq,
            key=f"k{i}".encode(),
            value=f'{{"i": {i}}}'.encode(),
            partition=0,
            headers=[(h.DLQ_ORIGINAL_TOPIC, original.encode()), (h.DLQ_EXCEPTION_CLASS, b"Boom")],
        )
        if i % 1000 == 0:
            p.poll(0)
    assert p.flush(60) == 0
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
    while confirmed(db) < 2_000 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.05)
    assert first.poll() is None, "the first run ended before it could be killed"
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    before = confirmed(db)
    assert 2_000 <= before < RECORDS

    second = subprocess.run(command[:-2], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "(done)" in second.stdout

    got = read_all(kafka, original, RECORDS, timeout=60)
    sources = [dict(m.headers())[h.REPROCESSED_FROM_OFFSET] for m in got]
    assert len(sources) == RECORDS and len(set(sources)) == RECORDS  # every record once, none twice
    with sqlite3.connect(db) as conn:
        assert (
            conn.execute(
                "select count(distinct e.offset) from dashboard_reprocessentry e"
                " join dashboard_reprocessbatch b on e.batch_id = b.id where b.state='confirmed'"
            ).fetchone()[0]
            == RECORDS
        )
        audit = conn.execute("select result, count from dashboard_auditentry where action='reprocess'").fetchall()
        runs = conn.execute("select state, sent from dashboard_reprocessrun").fetchall()
    assert sorted(r for r, _ in audit) == ["done", "interrupted"]
    assert sum(c for _, c in audit) == RECORDS  # what the killed run sent + what the re-run sent
    assert sorted(s for s, _ in runs) == ["done", "interrupted"] and sum(n for _, n in runs) == RECORDS
