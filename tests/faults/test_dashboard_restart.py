"""The dashboard restarts (SIGTERM, then SIGKILL as in a crash) while a broker keeps running.

History, the audit log and alert state live in the database and survive; a firing alert stays
firing without a second "firing" event; a page open in headless Chromium gets its websocket back by
itself (the htmx ws extension retries abnormal closes with a jittered backoff) and live updates
resume without a reload. One test, one server, both restarts: each restart costs seconds; neither
waits for the poller lease (a clean stop releases it, a killed holder's lease is taken at once).
"""

from __future__ import annotations

import re
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import ARTIFACTS
from tests.faults.support import DashboardServer, commit, manage, wait_until
from tests.kafka_support import Kafka

pytestmark = pytest.mark.broker

CLUSTER = "restart"
SETUP = """
from dashboard.models import AlertRule, AuditEntry
AlertRule.objects.create(name="lag of {group}", cluster="{cluster}", pattern="{group}", condition="lag_gt",
                         threshold=5, for_seconds=0, channel="log")
AuditEntry.objects.create(actor="faults", action="resolve", cluster="{cluster}", target="orders-dlq", count=3,
                          result="done", details={{"note": "before the restart"}})
"""


def query(db: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(db, timeout=10) as conn:
        return conn.execute(sql, args).fetchall()


def samples(db: Path, group: str) -> int:
    return query(db, "select count(*) from dashboard_groupsample where group_id = ?", group)[0][0]


def firing(db: Path, group: str) -> list[tuple]:
    return query(
        db, "select firing_since from dashboard_alertstate where subject = ? and firing_since is not null", group
    )


def firing_events(db: Path, group: str) -> int:
    return query(db, "select count(*) from dashboard_alertevent where subject = ? and kind = 'firing'", group)[0][0]


class LivePage:
    """The group page in the browser: login, lag on screen, websocket state, no reload in between."""

    def __init__(self, browser, server: DashboardServer, account, group: str) -> None:
        # bypass_csp: Playwright polls wait_for_function predicates with eval, which the CSP forbids (rightly).
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
        self.page = self.context.new_page()
        self.page.goto(server.url + "/accounts/login/")
        self.page.fill("#id_username", account.username)
        self.page.fill("#id_password", account.password)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(re.compile(rf".*/c/{CLUSTER}/$"))
        self.page.goto(f"{server.url}/c/{CLUSTER}/groups/{group}/")
        self.ws_is("open", 10)
        self.page.evaluate("window.__marker = 'same page'")

    def ws_is(self, state: str, timeout_s: float) -> None:
        self.page.wait_for_function(f"document.body.dataset.ws === '{state}'", timeout=timeout_s * 1000)

    def lag_is(self, value: int, timeout_s: float) -> None:
        self.page.wait_for_function(
            f"document.querySelector('[data-testid=group-lag]')?.textContent.trim() === '{value}'",
            timeout=timeout_s * 1000,
        )

    def not_reloaded(self) -> bool:
        return self.page.evaluate("window.__marker") == "same page"


def test_restart_keeps_history_audit_log_alerts_and_live_pages(kafka: Kafka, make_server, account, browser):
    topic = kafka.create_topic(partitions=1)
    kafka.produce(topic, 20, partition=0)
    group = kafka.unique("restart-group")
    committed = 2
    commit(kafka, group, [(topic, 0, committed)])  # lag 18 > 5: the rule fires (and keeps firing below)

    # Every cycle writes its row (no on-change skipping): the test counts rows to see history grow.
    server = make_server(kafka.bootstrap, cluster=CLUSTER, KAFKA_REQUEST_TIMEOUT="2", HISTORY_HEARTBEAT_SECONDS="0")
    db = Path(server.env["SQLITE_PATH"])
    manage(server.env, "shell", "-c", SETUP.format(group=group, cluster=CLUSTER))
    audit_before = query(db, "select id, actor, action, count, result, details from dashboard_auditentry")

    server.start()
    wait_until(lambda: firing(db, group) and samples(db, group) >= 3, 30, what="alert firing and history written")
    fired_at = firing(db, group)
    live = LivePage(browser, server, account, group) if browser is not None else None
    try:
        if live is not None:
            live.lag_is(18, 10)
        for how in (signal.SIGTERM, signal.SIGKILL):
            # One query: the running server may write a sample between two.
            before, last_id = query(
                db, "select count(*), max(id) from dashboard_groupsample where group_id = ?", group
            )[0]
            assert server.stop(how) is not None, "the server did not exit"
            if live is not None:
                live.ws_is("closed", 10)
                assert "reconnecting" in live.page.locator("[data-ws-state]").inner_text()
            down_at = time.monotonic()
            server.start()

            wait_until(lambda b=before: samples(db, group) >= b + 3, 40, what=f"history grows again after {how.name}")
            kept = query(
                db, "select count(*) from dashboard_groupsample where group_id = ? and id <= ?", group, last_id
            )
            assert kept[0][0] == before, "history written before the restart is all still there"
            assert (
                query(db, "select id, actor, action, count, result, details from dashboard_auditentry") == audit_before
            )
            assert firing(db, group) == fired_at, "the alert is still firing, since the same moment"

            committed += 5
            commit(kafka, group, [(topic, 0, committed)])
            if live is not None:
                # The extension's retries back off (full jitter, doubling up to 64 s): allow a few of them.
                live.ws_is("open", 45)
                print(f"websocket back {time.monotonic() - down_at:.1f} s after the {how.name} stop")
                live.lag_is(20 - committed, 20)  # a live update after the reconnect, without a reload
                assert live.not_reloaded(), f"the page was reloaded after {how.name}"
        wait_until(
            lambda: (
                query(db, "select value from dashboard_alertstate where subject = ?", group)[0][0] == 20 - committed
            ),
            15,
            what="the alert state follows the new lag",
        )
        assert firing_events(db, group) == 1, "no second 'firing' event after the restarts"
        if live is not None:
            ARTIFACTS.mkdir(exist_ok=True)
            live.page.screenshot(path=str(ARTIFACTS / "faults-ws-reconnected.png"), full_page=True)
    finally:
        if live is not None:
            live.context.close()

    log = server.log()
    assert log.count("==== start") == 3
    assert "waiting to take over" not in log  # the killed process's lease was taken at once
