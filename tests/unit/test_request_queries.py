"""What a request costs the database in the embedded default: probes nothing, a logged-in page no
session query (sessions are read from memory, written through to the database)."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

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
