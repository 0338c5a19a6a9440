"""DLQ pages, actions and CLI against the real broker: index, triage, reprocess exactly once, audit."""

from __future__ import annotations

import json
import re
import time
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from dashboard.models import AuditEntry, DlqRecord, ReprocessRun
from kafka_admin.dlq import headers as h
from tests.dlq_support import read_all

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


def operator_client() -> Client:
    user = get_user_model().objects.create_user("op", password="pw-operator-123")
    user.groups.add(Group.objects.get(name="operators"))
    client = Client()
    client.force_login(user)
    return client


def viewer_client() -> Client:
    user = get_user_model().objects.create_user("viewer", password="pw-viewer-123")
    user.groups.add(Group.objects.get(name="viewers"))
    client = Client()
    client.force_login(user)
    return client


def wait_run(run_id: str, timeout: float = 60) -> ReprocessRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = ReprocessRun.objects.get(run_id=run_id)
        if run.state != "running":
            return run
        time.sleep(0.2)
    raise TimeoutError("the reprocess run did not finish")


class TestIndexAndPages:
    def test_index_decodes_spring_and_project_headers(self, dlq_setup):
        original, dlq = dlq_setup
        rows = {r.offset: r for r in DlqRecord.objects.filter(topic=dlq)}
        assert len(rows) == 9
        first = rows[0]
        assert (first.original_topic, first.original_partition, first.original_offset) == (original, 0, 100)
        assert first.exception_class == "com.example.PoisonException" and first.exception_message == "bad order 0"
        assert first.target_topic == original and first.target_source == "header"
        assert rows[7].exception_class == "BinaryException" and rows[7].retry_count == 3
        assert rows[7].target_topic == original and rows[7].target_source == "naming"
        assert rows[8].value_size == 5 * 1024 * 1024

    def test_list_topic_and_triage(self, dlq_setup):
        _, dlq = dlq_setup
        client = viewer_client()
        html = client.get(reverse("dlq", args=["test"])).content.decode()
        assert dlq in html and ">9<" in html.replace(" ", "")
        page = client.get(reverse("dlq_topic", args=["test", dlq]), {"exception": "com.example.PoisonException"})
        text = page.content.decode()
        assert page.status_code == 200 and "3 match the filter" in text
        assert "java.lang.IllegalStateException" in text  # the triage table lists every class
        found = client.get(reverse("dlq_topic", args=["test", dlq]), {"q": "bad order 3"}).content.decode()
        assert "1 matches the filter" in found

    def test_hostile_content_is_escaped_everywhere(self, dlq_setup):
        _, dlq = dlq_setup
        client = viewer_client()
        for url in [
            reverse("dlq_topic", args=["test", dlq]),
            reverse("dlq_record", args=["test", dlq, 0, 6]),
            reverse("dlq", args=["test"]),
        ]:
            html = client.get(url).content.decode()
            for raw in ("<script>alert('k')", "<img src=x onerror", "<b>h</b>", "<i>v</i>", "<svg onload"):
                assert raw not in html, (url, raw)
        detail = client.get(reverse("dlq_record", args=["test", dlq, 0, 6])).content.decode()
        assert "&lt;img src=x onerror=alert(1)&gt;" in detail and "&lt;b&gt;h&lt;/b&gt;" in detail

    def test_record_detail_binary_large_and_stacktrace(self, dlq_setup):
        original, dlq = dlq_setup
        client = viewer_client()
        detail = client.get(reverse("dlq_record", args=["test", dlq, 0, 0])).content.decode()
        assert "Handler.java:42" in detail and "<details><summary>Stack trace" in detail
        assert f"{original} / 0 @ 100" in detail
        binary = client.get(reverse("dlq_record", args=["test", dlq, 0, 7])).content.decode()
        assert "00000000  00 01 02 03" in binary
        big = client.get(reverse("dlq_record", args=["test", dlq, 0, 8]))
        assert big.status_code == 200 and len(big.content) < 400_000
        assert "Download all 5242880 bytes" in big.content.decode()
        download = client.get(f"/c/test/topics/{dlq}/messages/0/8/value/")
        assert download.status_code == 200 and len(download.content) == 5 * 1024 * 1024


class TestActions:
    def test_viewer_gets_403_on_every_action(self, dlq_setup):
        _, dlq = dlq_setup
        client = viewer_client()
        for name in ("dlq_plan", "dlq_reprocess", "dlq_resolve"):
            response = client.post(
                reverse(name, args=["test", dlq]), {"mode": "selected", "key": ["0:0"], "confirm": "yes", "reason": "x"}
            )
            assert response.status_code == 403, name
        assert DlqRecord.objects.filter(topic=dlq, status="waiting").count() == 9

    def test_post_without_csrf_token_is_refused(self, dlq_setup):
        _, dlq = dlq_setup
        user = get_user_model().objects.create_user("op2", password="pw-operator-123")
        user.groups.add(Group.objects.get(name="operators"))
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        response = client.post(
            reverse("dlq_reprocess", args=["test", dlq]), {"mode": "selected", "key": ["0:0"], "confirm": "yes"}
        )
        assert response.status_code == 403
        assert not ReprocessRun.objects.exists()

    def test_plan_confirm_reprocess_skip_force_resolve(self, kafka, dlq_setup):
        original, dlq = dlq_setup
        client = operator_client()
        selected = {"mode": "selected", "key": ["0:0", "0:1", "0:7"]}
        plan = client.post(reverse("dlq_plan", args=["test", dlq]), selected)
        assert plan.status_code == 200 and "3</strong> records will be re-published" in plan.content.decode()
        assert not ReprocessRun.objects.exists()  # the plan sends nothing

        run = client.post(reverse("dlq_reprocess", args=["test", dlq]), {**selected, "confirm": "yes"})
        assert run.status_code == 302
        done = wait_run(ReprocessRun.objects.get().run_id)
        assert (done.state, done.sent) == ("done", 3)
        arrived = read_all(kafka, original, 3)
        assert sorted((m.key() for m in arrived), key=lambda k: k or b"") == [None, b"order-0", b"order-1"]
        by_key = {m.key(): m for m in arrived}
        assert by_key[None].value() == bytes(range(256)) * 4
        headers = dict(by_key[b"order-0"].headers())
        assert headers["trace-id"] == b"t-1" and h.SPRING_EXCEPTION_FQCN not in headers
        assert headers["dlq.reprocessed.by"] == b"op"
        assert set(DlqRecord.objects.filter(topic=dlq, offset__in=[0, 1, 7]).values_list("status", flat=True)) == {
            "reprocessed"
        }

        again = client.post(reverse("dlq_plan", args=["test", dlq]), selected).content.decode()
        assert "Nothing would be sent" in again and "will be <strong>skipped</strong>" in again
        client.post(reverse("dlq_reprocess", args=["test", dlq]), {**selected, "confirm": "yes", "force": "1"})
        forced = wait_run(ReprocessRun.objects.order_by("-started_at").first().run_id)
        assert forced.sent == 3
        assert len(read_all(kafka, original, 6)) == 6
        assert AuditEntry.objects.filter(action="force-reprocess", count=3).exists()
        detail = client.get(reverse("dlq_record", args=["test", dlq, 0, 0])).content.decode()
        history = detail[detail.index("Reprocess history") :]
        rows = re.findall(r"<td>op</td><td class=\"mono\">([^<]+)</td><td>(\w+)</td><td>(\w+)</td>", history)
        assert sorted((state, forced) for _, state, forced in rows) == [("confirmed", "no"), ("confirmed", "yes")]
        assert all(target.startswith(f"{original}/") for target, _, _ in rows)

        resolved = client.post(reverse("dlq_resolve", args=["test", dlq]), {"key": ["0:2"], "reason": "duplicate"})
        assert resolved.status_code == 302
        row = DlqRecord.objects.get(topic=dlq, offset=2)
        assert (row.status, row.status_by, row.status_note) == ("resolved", "op", "duplicate")
        audit = client.get(reverse("audit")).content.decode()
        assert "force-reprocess" in audit and "resolve" in audit and "duplicate" in audit

    def test_bad_selections_are_clear_400s(self, dlq_setup):
        _, dlq = dlq_setup
        client = operator_client()
        for data in (
            {"mode": "selected"},
            {"mode": "selected", "key": ["x:y"]},
            {"mode": "range", "partition": "0", "start": "9", "end": "2"},
            {"mode": "weird"},
            {"mode": "filter", "filter": "{not json"},
        ):
            response = client.post(reverse("dlq_plan", args=["test", dlq]), data)
            assert response.status_code == 400, data
            assert "Traceback" not in response.content.decode()


class TestCli:
    def test_dry_run_then_range_reprocess_then_list(self, kafka, dlq_setup):
        original, dlq = dlq_setup
        out = StringIO()
        call_command(
            "dlq_reprocess",
            "--topic",
            dlq,
            "--partition",
            "0",
            "--from-offset",
            "0",
            "--to-offset",
            "5",
            "--dry-run",
            stdout=out,
        )
        assert "6 record(s) to send" in out.getvalue() and "dry run" in out.getvalue()
        assert not ReprocessRun.objects.exists()
        out = StringIO()
        call_command(
            "dlq_reprocess", "--topic", dlq, "--partition", "0", "--from-offset", "0", "--to-offset", "5", stdout=out
        )
        assert "sent 6, skipped 0, failed 0 (done)" in out.getvalue()
        assert len(read_all(kafka, original, 6)) == 6
        out = StringIO()
        call_command("dlq_list", "--json", stdout=out)
        [row] = [r for r in json.loads(out.getvalue()) if r["topic"] == dlq]
        assert row["waiting"] == 3 and row["reprocessed"] == 6 and row["original_topics"] == [original]
