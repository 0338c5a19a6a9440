"""The alerts page and rule editing: operators edit, viewers read, URLs with tokens stay hidden."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from dashboard.alerts import engine as alerts
from dashboard.models import AlertEvent, AlertRule, AuditEntry, Silence
from kafka_admin.figures.tracker import EMPTY

pytestmark = pytest.mark.django_db


def login(client, group: str):
    user = get_user_model().objects.create_user(f"u-{group}", password="pw-user-12345")
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return client


RULE = {
    "name": "slow payments",
    "enabled": "on",
    "cluster": "",
    "pattern": "payments-*",
    "condition": "lag_gt",
    "threshold": "100",
    "statuses": "",
    "for_seconds": "120",
    "channel": "slack",
    "webhook_url": "https://hooks.slack.com/services/T0/B0/SECRET-TOKEN",
}


class TestRules:
    def test_operator_creates_a_rule_and_the_url_stays_secret(self, client):
        login(client, "operators")
        response = client.post("/alerts/rules/new/", RULE)
        assert response.status_code == 302
        rule = AlertRule.objects.get()
        assert rule.webhook_url.endswith("SECRET-TOKEN")
        page = client.get("/alerts/").content.decode()
        assert "slow payments" in page and "https://hooks.slack.com/…" in page and "SECRET-TOKEN" not in page
        edit = client.get(f"/alerts/rules/{rule.pk}/").content.decode()
        assert "SECRET-TOKEN" not in edit
        assert "SECRET-TOKEN" not in str(AuditEntry.objects.get().details)

    @pytest.mark.parametrize(
        "url",
        [
            "http://hookuser:SECRET-PW@hooks.example.com/services/x",
            "https://hooks.example.com?token=SECRET-Q/x",
            "https://hooks.example.com#SECRET-F",
        ],
    )
    def test_no_part_of_a_secret_url_reaches_viewers(self, client, settings, url):
        """Userinfo, and a query or fragment right after the host, stay off /alerts/ and /audit/."""
        login(client, "operators")
        assert client.post("/alerts/rules/new/", {**RULE, "webhook_url": url}).status_code == 302
        settings.ALLOW_ANONYMOUS_READ = True
        viewer = login(Client(), "viewers")
        for who in (viewer, Client(), client):
            for path in ("/alerts/", "/audit/"):
                response = who.get(path)
                assert response.status_code == 200
                page = response.content.decode()
                assert "hooks.example.com/…" in page or path == "/audit/"
                assert "SECRET" not in page, (path, url)

    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1:8000/hook",
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::1]:9092/",
            "http://localhost:9092/",
            "http://0.0.0.0/",
            "http://169.254.169.254/latest/meta-data/",
            "https://10.0.0.5/hook",
        ],
    )
    def test_internal_webhook_urls_are_refused_when_saved(self, client, url):
        login(client, "operators")
        response = client.post("/alerts/rules/new/", {**RULE, "webhook_url": url})
        assert response.status_code == 400
        assert "this webhook URL is not allowed" in response.content.decode()
        assert not AlertRule.objects.exists()

    def test_the_allow_list_admits_an_internal_webhook(self, client, settings):
        settings.ALERT_WEBHOOK_ALLOWED_NETWORKS = ("127.0.0.0/8",)
        login(client, "operators")
        assert client.post("/alerts/rules/new/", {**RULE, "webhook_url": "http://127.0.0.1:9/x"}).status_code == 302

    def test_delivery_errors_are_shown_to_operators_only(self, client):
        AlertRule.objects.create(
            name="lag",
            pattern="*",
            condition="unreachable",
            for_seconds=0,
            channel="webhook",
            webhook_url="http://127.0.0.1:9/hook",
        )
        alerts.evaluate("local", None, EMPTY, False)
        alerts.deliver()
        assert "loopback" in AlertEvent.objects.get().last_error
        viewer = login(Client(), "viewers").get("/alerts/").content.decode()
        assert "delivery failed" in viewer and "loopback" not in viewer and "not allowed" not in viewer
        operator = login(client, "operators").get("/alerts/").content.decode()
        assert "address 127.0.0.1 is loopback" in operator

    def test_editing_without_a_url_keeps_the_old_one(self, client):
        login(client, "operators")
        client.post("/alerts/rules/new/", RULE)
        rule = AlertRule.objects.get()
        client.post(f"/alerts/rules/{rule.pk}/", {**RULE, "threshold": "500", "webhook_url": ""})
        rule.refresh_from_db()
        assert rule.threshold == 500 and rule.webhook_url.endswith("SECRET-TOKEN")

    @pytest.mark.parametrize(
        "change, message",
        [
            ({"pattern": "/[unclosed/"}, "not a valid regular expression"),
            ({"pattern": "/^pay(?=ments)/"}, "not a valid regular expression (RE2 syntax"),
            ({"pattern": "/(a)\\1/"}, "not a valid regular expression (RE2 syntax"),
            ({"condition": "status_in", "statuses": ""}, "name at least one status"),
            ({"condition": "status_in", "statuses": "BAD"}, "unknown status"),
            ({"webhook_url": "ftp://x"}, "must start with http"),
            ({"channel": "webhook", "webhook_url": ""}, "needs a URL"),
            ({"threshold": "-5"}, "cannot be negative"),
        ],
    )
    def test_bad_rules_are_clear_400s(self, client, change, message):
        login(client, "operators")
        response = client.post("/alerts/rules/new/", {**RULE, **change})
        assert response.status_code == 400 and message in response.content.decode()
        assert not AlertRule.objects.exists()

    def test_viewer_reads_but_cannot_edit(self, client):
        login(client, "viewers")
        assert client.get("/alerts/").status_code == 200
        assert client.post("/alerts/rules/new/", RULE).status_code == 403
        assert client.post("/alerts/silences/", {"pattern": "*", "reason": "x", "minutes": "5"}).status_code == 403
        assert not AlertRule.objects.exists()


class TestSilences:
    def test_silence_with_expiry_and_reason(self, client):
        login(client, "operators")
        response = client.post("/alerts/silences/", {"pattern": "payments-*", "reason": "deploy", "minutes": "30"})
        assert response.status_code == 302
        silence = Silence.objects.get()
        assert silence.reason == "deploy" and silence.created_by == "u-operators"
        client.post(f"/alerts/silences/{silence.pk}/end/")
        silence.refresh_from_db()
        assert silence.until <= timezone.now()
        assert "No active silences" in client.get("/alerts/").content.decode()

    def test_a_silence_with_a_regex_re2_refuses(self, client):
        login(client, "operators")
        response = client.post("/alerts/silences/", {"pattern": "/(?<!x)pay/", "reason": "x", "minutes": "5"})
        assert response.status_code == 400
        assert "not a valid regular expression (RE2 syntax" in response.content.decode()
        assert not Silence.objects.exists()

    def test_bad_silence(self, client):
        login(client, "operators")
        assert client.post("/alerts/silences/", {"pattern": "*", "reason": "", "minutes": "0"}).status_code == 400
