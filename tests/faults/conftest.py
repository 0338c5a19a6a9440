"""Fixtures of the fault tests: a broker of their own behind the tests' proxy, dashboard servers on copies of
one migrated database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.faults.support import (
    Account,
    DashboardServer,
    ProxiedBroker,
    copy_database,
    migrated_database,
    server_env,
)


@pytest.fixture(scope="session")
def fault_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxiedBroker]:
    """One broker for the fault tests that stop, restart or slow it down (never the session broker).

    Every test that changes it leaves it running with a clean proxy again."""
    broker = ProxiedBroker.start(tmp_path_factory.mktemp("faults-kafka"))
    try:
        yield broker
    finally:
        broker.close()


@pytest.fixture(scope="session")
def dashboard_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Account]:
    return migrated_database(tmp_path_factory.mktemp("faults-db-template"))


@pytest.fixture
def make_server(dashboard_db, tmp_path: Path) -> Iterator[Callable[..., DashboardServer]]:
    """make_server(bootstrap, cluster=..., **settings): a stopped server with its own copy of the database."""
    servers: list[DashboardServer] = []
    template, _ = dashboard_db

    def make(bootstrap: str, cluster: str = "faults", name: str = "server", **settings: str) -> DashboardServer:
        var = tmp_path / name
        db = copy_database(template, var)
        env = server_env(var, db, KAFKA_BOOTSTRAP_SERVERS=bootstrap, KAFKA_CLUSTER_NAME=cluster, **settings)
        server = DashboardServer(env, var / "server.log")
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def account(dashboard_db) -> Account:
    return dashboard_db[1]
