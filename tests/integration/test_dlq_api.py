"""The DLQ endpoints of the JSON API: tokens, roles, CSRF, plan, reprocess, resolve, runs."""

from __future__ import annotations

import json
import time
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client

from dashboard.models import DlqRecord
from tests.dlq_support import read_all

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


def token_for(username: str, group: str) -> str:
    user = get_user_model().objects.create_user(username, password="pw-token-user-1")
    user.groups.add(Group.objects.get(name=group))
    out = StringIO()
    call_command("create_api_token", username, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def post(client: Client, url: str, body: dict, token: str | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def test_dlq_api_roles_plan_reprocess_resolve(kafka, dlq_setup):
    original, dlq = dlq_setup
    base = f"/api/v1/clusters/test/dlq/{dlq}"
    operator, viewer = token_for("api-op", "operators"), token_for("api-viewer", "viewers")
    client = Client()

    listing = client.get("/api/v1/clusters/test/dlq/", HTTP_AUTHORIZATION=f"Bearer {viewer}").json()
    [row] = [r for r in listing["results"] if r["topic"] == dlq]
    assert row["waiting"] == 9 and row["original_topics"] == [original]
    records = client.get(f"{base}/records/?exception=TooBig", HTTP_AUTHORIZATION=f"Bearer {viewer}").json()
    assert records["count"] == 1 and records["results"][0]["value_size"] == 5 * 1024 * 1024

    selection = {"mode": "selected", "records": ["0:3", "0:4"]}
    assert post(client, f"{base}/plan/", selection, viewer).status_code == 403
    assert post(client, f"{base}/plan/", selection).status_code == 401
    plan = post(client, f"{base}/plan/", selection, operator)
    assert plan.status_code == 200 and plan.json()["would_send"] == 2 and plan.json()["per_target"] == {original: 2}

    no_confirm = post(client, f"{base}/reprocess/", selection, operator)
    assert no_confirm.status_code == 400 and "confirm" in no_confirm.json()["error"]
    started = post(client, f"{base}/reprocess/", {**selection, "confirm": True}, operator)
    assert started.status_code == 202
    run_id = started.json()["run_id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run = client.get(f"/api/v1/clusters/test/dlq/runs/{run_id}/", HTTP_AUTHORIZATION=f"Bearer {viewer}").json()
        if run["state"] != "running":
            break
        time.sleep(0.2)
    assert run["state"] == "done" and run["sent"] == 2 and run["actor"] == "api-op"
    assert len(read_all(kafka, original, 2)) == 2

    resolved = post(client, f"{base}/resolve/", {"records": ["0:5"], "reason": "known bad"}, operator)
    assert resolved.json() == {"resolved": 1, "requested": 1}
    assert DlqRecord.objects.get(topic=dlq, offset=5).status == "resolved"
    missing_reason = post(client, f"{base}/resolve/", {"records": ["0:6"]}, operator)
    assert missing_reason.status_code == 400

    for bad in (
        {"mode": "selected", "records": "0:1"},
        {"mode": "range", "partition": 0, "start": 5, "end": 1},
        {"mode": "filter", "filter": []},
        [1, 2],
    ):
        response = post(client, f"{base}/plan/", bad, operator)
        assert response.status_code == 400, bad
    assert client.get(f"{base}/plan/", HTTP_AUTHORIZATION=f"Bearer {operator}").status_code == 405
    unknown = post(client, "/api/v1/clusters/test/dlq/not-a-dlq/plan/", selection, operator)
    assert unknown.status_code == 404
    assert operator not in json.dumps(listing) + json.dumps(run)  # the token is never echoed


def test_session_post_needs_csrf(dlq_setup):
    _, dlq = dlq_setup
    user = get_user_model().objects.create_user("session-op", password="pw-session-op-1")
    user.groups.add(Group.objects.get(name="operators"))
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = post(client, f"/api/v1/clusters/test/dlq/{dlq}/plan/", {"mode": "selected", "records": ["0:1"]})
    assert response.status_code == 403 and "CSRF" in response.json()["error"]
