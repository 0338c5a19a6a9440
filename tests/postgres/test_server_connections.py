"""The real server (daphne, `manage.py serve`) on PostgreSQL under concurrent requests: every answer
a 200, and the connections it holds stay within its pool.

Under ASGI every request runs in a thread of its own; with persistent connections (CONN_MAX_AGE)
each finished request left its connection open, until PostgreSQL refused more ("too many clients
already": 122 errors in 10 minutes of bench/bench_load.py). Now a pool per process bounds them.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from tests.faults.support import DashboardServer, HttpSession, prepare_database, server_env, wait_until
from tests.kafka_support import BrokerProcess
from tests.postgres_support import DATABASE, USER, PostgresServer, bin_dir

pytestmark = pytest.mark.broker

POOL_SIZE = 6
CLIENTS, REQUESTS_EACH = 8, 30
PATHS = ("/c/pg/", "/c/pg/groups/", "/c/pg/topics/", "/api/v1/clusters/pg/groups/", "/healthz")


def backends(server: PostgresServer) -> int:
    """Connections to the dashboard's database now (this one not counted)."""
    with psycopg.connect(host="127.0.0.1", port=server.port, user=USER, dbname="postgres") as conn:
        return conn.execute(
            "select count(*) from pg_stat_activity where datname = %s and pid <> pg_backend_pid()", (DATABASE,)
        ).fetchone()[0]


def test_concurrent_requests_stay_within_the_pool(broker: BrokerProcess, tmp_path: Path) -> None:
    if bin_dir() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; .ci/run installs it)")
    postgres = PostgresServer(tmp_path / "postgres").start()
    dashboard = None
    try:
        env = server_env(
            tmp_path,
            tmp_path / "unused.sqlite3",
            **postgres.env,
            POSTGRES_POOL_SIZE=str(POOL_SIZE),
            KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap,
            KAFKA_CLUSTER_NAME="pg",
        )
        account = prepare_database(env, "pg")
        dashboard = DashboardServer(env, tmp_path / "server.log").start()
        # The first snapshot comes from the collector child (a fresh interpreter): until it is stored
        # the API rightly answers 503 "no data yet", which is not what this test measures.
        first = HttpSession(dashboard.url)
        first.login(account)
        wait_until(lambda: first.get(PATHS[3]).status == 200, 120, what="the first snapshot")

        def client(n: int) -> list[int]:
            session = HttpSession(dashboard.url)
            session.login(account)
            return [session.get(PATHS[(n + i) % len(PATHS)]).status for i in range(REQUESTS_EACH)]

        with ThreadPoolExecutor(CLIENTS) as pool:
            statuses = [s for answers in pool.map(client, range(CLIENTS)) for s in answers]
        held = backends(postgres)
    finally:
        if dashboard is not None:
            dashboard.stop()
        postgres.stop()
    assert statuses.count(200) == CLIENTS * REQUESTS_EACH, sorted(set(statuses))
    assert held <= POOL_SIZE, f"{held} connections open after {len(statuses)} requests (pool of {POOL_SIZE})"
