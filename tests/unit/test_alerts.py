"""Alert rules over hand-built snapshots: pending -> firing -> resolved, silences, delivery with retries."""

import time
from datetime import timedelta

import pytest

from dashboard.alerts import engine as alerts
from dashboard.models import AlertEvent, AlertRule, AlertState, Silence
from kafka_admin.figures.tracker import EMPTY
from tests.factories import T0, snapshot
from tests.webhook_server import WebhookServer

pytestmark = pytest.mark.django_db


def lagging(lag: int):
    return snapshot(ends={"orders": [100]}, groups={"payments-svc": {("orders", 0): 100 - lag}, "other": {}})


def rule(**kw) -> AlertRule:
    defaults = dict(name="lag", pattern="payments-*", condition="lag_gt", threshold=50, for_seconds=60)
    defaults.update(kw)
    return AlertRule.objects.create(**defaults)


def at(seconds: int):
    return T0 + timedelta(seconds=seconds)


class TestStateMachine:
    def test_fires_only_after_the_duration_then_resolves(self):
        rule()
        assert alerts.evaluate("local", lagging(80), EMPTY, True, at(0)) == []
        assert AlertState.objects.get().firing_since is None  # pending
        assert alerts.evaluate("local", lagging(80), EMPTY, True, at(30)) == []
        [fired] = alerts.evaluate("local", lagging(90), EMPTY, True, at(61))
        assert (fired.kind, fired.subject, fired.value) == ("firing", "payments-svc", 90)
        assert alerts.evaluate("local", lagging(95), EMPTY, True, at(70)) == []  # no storm: one event per change
        [resolved] = alerts.evaluate("local", lagging(10), EMPTY, True, at(80))
        assert resolved.kind == "resolved" and not AlertState.objects.exists()

    def test_a_blip_shorter_than_the_duration_never_fires(self):
        rule()
        alerts.evaluate("local", lagging(80), EMPTY, True, at(0))
        assert alerts.evaluate("local", lagging(0), EMPTY, True, at(30)) == []
        assert not AlertState.objects.exists() and not AlertEvent.objects.exists()

    def test_patterns_glob_and_regex(self):
        assert alerts.matches("payments-*", "payments-svc") and not alerts.matches("payments-*", "orders")
        assert alerts.matches("/^pay.*svc$/", "payments-svc") and not alerts.matches("/[/", "x")
        assert alerts.valid_pattern("/[/") is not None

    def test_a_catastrophic_regex_runs_in_linear_time(self):
        """/^(a+)+$/ backtracks 2^n steps in Python's re; RE2 answers at once, and correctly."""
        hostile = "a" * 26 + "!"
        started = time.monotonic()
        assert not alerts.matches("/^(a+)+$/", hostile)
        assert alerts.matches("/^(a+)+$/", "a" * 26)
        assert time.monotonic() - started < 1.0
        assert type(alerts.compiled_regex("^(a+)+$")).__module__.startswith("re2")

    def test_a_stored_regex_re2_cannot_compile_matches_nothing_logged_once(self, caplog):
        rule(pattern="/^pay(?=ments)/", for_seconds=0)  # valid for Python's re, not for RE2
        alerts.compiled_regex.cache_clear()
        assert alerts.evaluate("local", lagging(80), EMPTY, True, at(0)) == []
        assert alerts.evaluate("local", lagging(80), EMPTY, True, at(10)) == []
        assert not AlertState.objects.exists()
        logged = [r for r in caplog.records if "cannot be compiled by RE2" in r.getMessage()]
        assert len(logged) == 1

    def test_unreachable_rule(self):
        rule(name="down", condition="unreachable", pattern="*", for_seconds=0)
        [fired] = alerts.evaluate("local", None, EMPTY, False, at(0))
        assert fired.kind == "firing" and fired.subject == "local"
        [resolved] = alerts.evaluate("local", lagging(0), EMPTY, True, at(10))
        assert resolved.kind == "resolved"

    def test_stale_data_neither_fires_nor_resolves(self):
        rule(for_seconds=0)
        [_fired] = alerts.evaluate("local", lagging(80), EMPTY, True, at(0))
        assert alerts.evaluate("local", None, EMPTY, False, at(10)) == []  # broker down: no flapping
        assert AlertState.objects.get().firing_since == at(0)
        [resolved] = alerts.evaluate("local", lagging(0), EMPTY, True, at(20))
        assert resolved.kind == "resolved"

    def test_a_deleted_group_resolves(self):
        rule(for_seconds=0)
        alerts.evaluate("local", lagging(80), EMPTY, True, at(0))
        gone = snapshot(ends={"orders": [100]}, groups={"other": {}})
        [resolved] = alerts.evaluate("local", gone, EMPTY, True, at(10))
        assert (resolved.kind, resolved.subject) == ("resolved", "payments-svc")
        assert not AlertState.objects.exists()

    def test_state_survives_a_restart(self):
        rule(for_seconds=0)
        alerts.evaluate("local", lagging(80), EMPTY, True, at(0))
        # a new process evaluates again: still firing, no second firing event
        assert alerts.evaluate("local", lagging(80), EMPTY, True, at(5)) == []
        assert AlertEvent.objects.filter(kind="firing").count() == 1

    def test_silenced_subjects_change_state_but_send_nothing(self):
        r = rule(for_seconds=0, channel="webhook", webhook_url="http://127.0.0.1:9/x")
        Silence.objects.create(rule=r, pattern="payments-*", until=at(3600), reason="deploy", created_by="op")
        [fired] = alerts.evaluate("local", lagging(80), EMPTY, True, at(0))
        assert fired.silenced and fired.delivered_at is not None


class TestDelivery:
    @pytest.fixture(autouse=True)
    def loopback_allowed(self, settings):
        """The test webhook server listens on 127.0.0.1, which deliveries refuse unless allowed."""
        settings.ALERT_WEBHOOK_ALLOWED_NETWORKS = ("127.0.0.0/8", "::1")

    def test_webhook_grouped_and_retried_with_backoff(self):
        with WebhookServer() as hook:
            r = rule(pattern="*", for_seconds=0, threshold=5, channel="webhook", webhook_url=hook.url)
            two = snapshot(ends={"orders": [100]}, groups={"a": {("orders", 0): 10}, "b": {("orders", 0): 20}})
            hook.fail = True
            events = alerts.evaluate("local", two, EMPTY, True, at(0))
            assert len(events) == 2
            assert alerts.deliver(at(0)) == 0
            pending = AlertEvent.objects.filter(rule=r)
            assert all(e.attempts == 1 and e.next_attempt_at == at(5) for e in pending)
            assert "secret-token" not in pending[0].last_error and "HTTP 503" in pending[0].last_error
            assert alerts.deliver(at(3)) == 0  # not due yet: backoff
            hook.fail = False
            assert alerts.deliver(at(6)) == 2
            [message] = hook.received  # one message for both subjects of the rule
            assert {a["subject"] for a in message["body"]["alerts"]} == {"a", "b"}
            assert message["body"]["alerts"][0]["status"] == "firing"

    def test_slack_format(self):
        with WebhookServer() as hook:
            rule(for_seconds=0, channel="slack", webhook_url=hook.url)
            alerts.evaluate("local", lagging(80), EMPTY, True, at(0))
            alerts.deliver(at(0))
            assert hook.received[0]["body"]["text"].startswith("[FIRING] lag: payments-svc: lag 80")

    def test_slack_text_is_escaped(self):
        """Kafka allows any group id: `<!channel>` must not ping a channel, `<url|x>` must not become a link."""
        with WebhookServer() as hook:
            rule(name="lag & <b>", pattern="*", for_seconds=0, channel="slack", webhook_url=hook.url)
            hostile = snapshot(ends={"orders": [100]}, groups={"<!channel> <http://x|y>": {("orders", 0): 10}})
            alerts.evaluate("local", hostile, EMPTY, True, at(0))
            assert alerts.deliver(at(0)) == 1
            text = hook.received[0]["body"]["text"]
            assert text == (
                "[FIRING] lag &amp; &lt;b&gt;: &lt;!channel&gt; &lt;http://x|y&gt;: lag 90 &gt; 50 messages"
            )
            assert "<" not in text and ">" not in text

    def test_internal_addresses_are_refused_by_default(self, settings):
        """Without the allow-list a rule pointing at loopback (here in decimal) never reaches it."""
        settings.ALERT_WEBHOOK_ALLOWED_NETWORKS = ()
        with WebhookServer() as hook:
            rule(for_seconds=0, channel="webhook", webhook_url=f"http://2130706433:{hook.port}/internal")
            alerts.evaluate("local", lagging(80), EMPTY, True, at(0))
            assert alerts.deliver(at(0)) == 0
            assert hook.requests == []
            assert "127.0.0.1 is loopback: not allowed" in AlertEvent.objects.get().last_error

    def test_a_redirect_is_not_followed(self):
        with WebhookServer() as internal, WebhookServer() as hook:
            hook.redirect_to = f"http://127.0.0.1:{internal.port}/admin"
            rule(for_seconds=0, channel="webhook", webhook_url=hook.url)
            alerts.evaluate("local", lagging(80), EMPTY, True, at(0))
            assert alerts.deliver(at(0)) == 0
            assert internal.requests == []  # urllib had turned the POST into a GET to it
            assert "HTTP 302: redirects are not followed" in AlertEvent.objects.get().last_error

    def test_masked_url_hides_the_token(self):
        assert alerts.masked_url("https://hooks.slack.com/services/T000/B000/XYZ") == "https://hooks.slack.com/…"


@pytest.mark.parametrize(
    "url, shown",
    [
        ("http://hookuser:SECRET@hooks.example.com/x", "http://hooks.example.com/…"),
        ("https://hooks.example.com?token=SECRET/x", "https://hooks.example.com/…"),
        ("https://hooks.example.com?token=SECRET", "https://hooks.example.com/…"),
        ("https://hooks.example.com#SECRET", "https://hooks.example.com/…"),
        ("https://hooks.example.com:8443/p/SECRET?k=SECRET#SECRET", "https://hooks.example.com:8443/…"),
        ("http://SECRET@hooks.example.com", "http://hooks.example.com/…"),
        ("http://u:p@SECRET@hooks.example.com/", "http://hooks.example.com/…"),
        ("HTTPS://Hooks.Example.COM/SECRET", "https://hooks.example.com/…"),
        ("http://user:SECRET@[::1]:9000/x", "http://[::1]:9000/…"),
        ("http://hooks.example.com:SECRET/x", "http://hooks.example.com/…"),  # not a port: left out
        ("http://[SECRET/x", "(set)/…"),  # unparseable
        ("ftp://SECRET", "(set)/…"),
        ("SECRET", "(set)/…"),
        ("", ""),
    ],
)
def test_masked_url_keeps_only_scheme_host_and_port(url, shown):
    """Userinfo, path, query and fragment can each hold a token: none of them is shown."""
    assert alerts.masked_url(url) == shown
    assert "SECRET" not in alerts.masked_url(url)
