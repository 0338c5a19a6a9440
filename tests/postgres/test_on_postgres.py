"""The dashboard on PostgreSQL, the scaled-out setup's database (POSTGRES_* in the README).

The modules that work the database hardest (the reprocess ledger and its migration, the DLQ index,
history, alerts, the DLQ pages and API with real reprocess runs against the broker) run again in a
second pytest, with POSTGRES_* pointing at a throwaway PostgreSQL server of Debian's binaries and
the session's broker. SQLite forgives what PostgreSQL does not (types, reserved words such as
"offset" in hand-written SQL, transactions), so this is where those mistakes show.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kafka_support import BrokerProcess
from tests.postgres_support import PostgresServer, bin_dir

pytestmark = pytest.mark.broker

REPO = Path(__file__).resolve().parents[2]
MODULES = (
    "tests/postgres/vendor_check.py",
    "tests/unit/test_ledger.py",
    "tests/unit/test_migration_reprocess_batches.py",
    "tests/unit/test_migration_reprocess_packed.py",
    "tests/unit/test_dlq_index.py",
    "tests/unit/test_history.py",
    "tests/unit/test_history_writer.py",
    "tests/unit/test_history_rows.py",
    "tests/unit/test_alerts.py",
    "tests/unit/test_api.py",
    "tests/integration/test_dlq_dashboard.py",
    "tests/integration/test_dlq_api.py",
)


def test_the_database_heavy_modules_pass_on_postgresql(broker: BrokerProcess, tmp_path: Path) -> None:
    if bin_dir() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; .ci/run installs it)")
    server = PostgresServer(tmp_path / "postgres").start()
    try:
        env = {
            **os.environ,
            **server.env,
            "TEST_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
            "EXPECT_DATABASE_VENDOR": "postgresql",
        }
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *MODULES],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
    finally:
        server.stop()
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert re.search(r"\d+ passed", summary) and "skipped" not in summary, summary
