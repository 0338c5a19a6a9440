"""What a request costs the database in the embedded default: probes nothing, a logged-in page no
session query (sessions are read from memory, written through to the database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard.models import AlertRule, AlertState

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]


def test_a_probe_touches_no_session_and_no_user(client) -> None:
    client.cookies["sessionid"] = "not-a-session"  # even with a session cookie
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/healthz").status_code == 200
    assert [q["sql"] for q in queries] == []


def test_a_logged_in_page_reads_its_session_from_memory(viewer) -> None:
    viewer.get("/api/v1/clusters/")  # the first request may read the session from the database
    with CaptureQueriesContext(connection) as queries:
        assert viewer.get("/api/v1/clusters/").status_code == 200
    assert not [q for q in queries if Session._meta.db_table in q["sql"]]
    assert Session.objects.count() == 1  # and it is in the database, for a restart


@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's query plan")
def test_the_firing_alerts_lookup_reads_only_firing_states() -> None:
    """Every page asks what is firing; a rule over many groups holds a pending state per group, and
    the lookup read them all. The partial index holds the firing ones alone."""
    rule = AlertRule.objects.create(name="lagging", condition="lag_gt", threshold=1, pattern="*")
    now = datetime.now(UTC)
    AlertState.objects.bulk_create(
        [AlertState(rule=rule, cluster="c1", subject=f"g{i}", pending_since=now) for i in range(50)]
        + [AlertState(rule=rule, cluster="c1", subject="hot", pending_since=now, firing_since=now)]
    )
    for cluster in ("c1", None):
        query = AlertState.firing(cluster)[:50]
        sql, params = query.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = " ".join(str(row) for row in cursor.fetchall())
        assert "alertstate_firing" in plan, plan
        assert [s.subject for s in query] == ["hot"]
