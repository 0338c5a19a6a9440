"""A real dashboard server (daphne, in-process poller) against the test broker, and a headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.kafka_support import REPO, BrokerProcess, free_port

ARTIFACTS = REPO / "test-artifacts"


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@dataclass
class Server:
    url: str
    username: str
    password: str
    env: dict


@contextmanager
def serving(broker: BrokerProcess, var: Path, cluster: str = "e2e", **extra_env: str) -> Iterator[Server]:
    """A dashboard server (`manage.py serve`) on a free port with an operator, until the block ends."""
    port = free_port()
    env = dict(
        os.environ,
        KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap,
        KAFKA_CLUSTER_NAME=cluster,
        POLL_INTERVAL="1",
        DASHBOARD_VAR_DIR=str(var),
        SQLITE_PATH=str(var / "db.sqlite3"),
        DJANGO_SETTINGS_MODULE="config.settings_e2e",  # adds axe-core as /static/axe.min.js
        **extra_env,
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True, timeout=120)
    created = subprocess.run(
        [*manage, "ensure_operator", "--username", "e2e"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    password = re.search(r"with password: (\S+)", created.stdout).group(1)
    log = open(var / "server.log", "w")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [*manage, "serve", "--port", str(port)], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/accounts/login/", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("dashboard server did not start: " + (var / "server.log").read_text())
    try:
        yield Server(url, "e2e", password, env)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def server(broker: BrokerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(broker, tmp_path_factory.mktemp("dashboard-var")) as srv:
        yield srv


def served(page, *urls: str, timeout_s: float = 60) -> None:
    """Wait until the poller's snapshot (and DLQ index) hold what a test shows: each API URL answers 200.

    The API, not the page: before the first snapshot a page answers 200 ("waiting for the first
    snapshot"), and that first snapshot may have listed groups before the test committed its own.
    """
    deadline = time.monotonic() + timeout_s
    for url in urls:
        while (status := page.request.get(url).status) != 200:
            assert time.monotonic() < deadline, (url, status)
            page.wait_for_timeout(250)


def open_when_indexed(page, url: str, *texts: str, timeout_s: float = 60) -> None:
    """The server's poller indexes (and detects) within a few cycles of 1 s, a batch at a time, and
    its snapshot lists new topics on its own cycle: reload until the page holds every text."""
    deadline = time.monotonic() + timeout_s
    while True:
        page.goto(url)
        content = page.content()
        missing = [t for t in texts if t not in content]
        if not missing:
            return
        assert time.monotonic() < deadline, f"{missing!r} never appeared on {url}"
        page.wait_for_timeout(500)


def api(server: Server, cluster: str = "e2e") -> str:
    """The JSON API's root for one cluster of the server (docs/api.md)."""
    return f"{server.url}/api/v1/clusters/{cluster}"


def login(browser, server: Server, landing: str = "e2e"):
    """A new browser context logged in as the server's operator; returns (context, page)."""
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = ctx.new_page()
    pg.goto(server.url + "/accounts/login/")
    pg.fill("#id_username", server.username)
    pg.fill("#id_password", server.password)
    pg.click("button[type=submit]")
    pg.wait_for_url(re.compile(rf".*/c/{landing}/$"))
    return ctx, pg


@pytest.fixture
def page(browser, server):
    if browser is None:
        pytest.skip("no Chromium binary (apt-get install chromium, or set CHROMIUM_PATH); scripts/test.sh installs it")
    ctx, pg = login(browser, server)
    yield pg
    ctx.close()
