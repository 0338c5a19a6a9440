"""The broker restarts in the middle of `manage.py dlq_reprocess` of 5,000 records.

The run either rides out the restart or fails clearly; re-running the command until it says
"(done)" leaves every record in the original topic exactly once (read_committed), and the audit
log accounts for all of them, the interrupted or failed run included.
"""

from __future__ import annotations

import sqlite3
import subprocess
import time

import pytest

from kafka_admin.dlq import headers as h
from tests.dlq_support import confirmed_in_ledger, fill_dlq, read_all
from tests.faults.support import MANAGE, ProxiedBroker, copy_database, server_env
from tests.kafka_support import REPO, Kafka

pytestmark = pytest.mark.broker

RECORDS = 5_000


def test_broker_restart_mid_reprocess_then_rerun_exactly_once(fault_broker: ProxiedBroker, dashboard_db, tmp_path):
    kafka = Kafka(fault_broker.broker)
    original = kafka.create_topic(partitions=3)
    dlq = kafka.create_topic(f"{original}-dlq", partitions=1)
    fill_dlq(kafka, dlq, original, RECORDS)
    db = str(copy_database(dashboard_db[0], tmp_path))
    env = server_env(
        tmp_path, tmp_path / "db.sqlite3", KAFKA_BOOTSTRAP_SERVERS=fault_broker.direct, KAFKA_CLUSTER_NAME="restart"
    )
    command = [*MANAGE, "dlq_reprocess", "--topic", dlq, "--partition", "0", "--actor", "restart-test"]

    log = (tmp_path / "first-run.log").open("w")
    # 500 records/s: transactions of 2,500 (5 s of records), so the restart lands after the first
    first = subprocess.Popen([*command, "--rate-limit", "500"], cwd=REPO, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 120
    while confirmed_in_ledger(db) < 1_000 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.05)
    assert first.poll() is None, "the first run ended before the broker could be restarted"
    at_restart = confirmed_in_ledger(db)
    assert 1_000 <= at_restart < RECORDS
    fault_broker.restart()  # down (SIGTERM, a clean shutdown) and up again: same data, same ports

    try:
        first_rc = first.wait(180)
    finally:
        if first.poll() is None:  # a hang is this test's failure; the run must not outlive it
            first.kill()
            first.wait(10)
        log.close()
    first_out = (tmp_path / "first-run.log").read_text()
    # Completed, or failed with a message saying why (never a silent hang or a traceback alone).
    assert (first_rc == 0 and "(done)" in first_out) or (first_rc != 0 and "reprocess " in first_out), first_out

    runs = 1
    output = first_out
    while "(done)" not in output:
        runs += 1
        assert runs <= 4, f"still not done after {runs - 1} runs:\n{output}"
        rerun = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
        output = rerun.stdout + rerun.stderr
        assert rerun.returncode == 0 or "(done)" not in output, output

    got = read_all(kafka, original, RECORDS, timeout=60)
    sources = [int(dict(m.headers())[h.REPROCESSED_FROM_OFFSET]) for m in got]
    assert len(sources) == RECORDS, f"{len(sources)} records in {original}, expected {RECORDS}"
    assert sorted(sources) == list(range(RECORDS)), "every record exactly once"
    assert confirmed_in_ledger(db, distinct_offsets=True) == RECORDS
    with sqlite3.connect(db) as conn:
        audit = conn.execute(
            "select result, count from dashboard_auditentry where action='reprocess' order by id"
        ).fetchall()
        run_states = conn.execute("select state, sent from dashboard_reprocessrun order by id").fetchall()
    assert sum(count for _, count in audit) == RECORDS, audit  # what each run sent adds up to all records
    assert audit[-1][0] == "done" and run_states[-1][0] == "done"
    assert len(run_states) == runs and sum(sent for _, sent in run_states) == RECORDS, run_states
    if runs > 1:  # the run the restart broke is in the audit log, with what it did send
        assert audit[0][0] in ("failed", "partial", "interrupted") and audit[0][1] >= at_restart, audit
