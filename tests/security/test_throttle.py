"""Login throttling (per username, per address) and invalid-token throttling for the API and /metrics."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from django.contrib.auth import aauthenticate, authenticate, get_user_model
from django.test import Client

from dashboard.access import throttle
from dashboard.access import tokens as api_tokens
from dashboard.access.throttle import client_ip

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Throttle-4711"
LOCKED = "Too many failed logins"


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password=PASSWORD)


class HeldClock:
    """The throttle's wall clock held still: it moves only when the test says, however slow the machine."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> HeldClock:
    held = HeldClock()
    monkeypatch.setattr(throttle.logins, "clock", held)
    monkeypatch.setattr(throttle.tokens, "clock", held)
    return held


def attempt(username: str, password: str, ip: str = "10.0.0.1"):
    return Client().post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def fail(times: int, username: str = "alice", ip: str = "10.0.0.1") -> None:
    for _ in range(times):
        response = attempt(username, "wrong-password", ip)
        assert response.status_code in (200, 429)


def page_text(response, username: str) -> str:
    """The page without what differs between any two answers: the username typed, the CSRF token."""
    html = response.content.decode().replace(f'value="{username}"', "")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


class TestLogin:
    def test_five_failures_lock_the_username_even_for_the_right_password(self, alice, clock):
        for i in range(4):
            response = attempt("alice", "wrong", f"10.0.0.{i + 1}")
            assert response.status_code == 200 and "did not match" in response.content.decode()
        fifth = attempt("alice", "wrong", "10.0.0.9")
        assert fifth.status_code == 429 and LOCKED in fifth.content.decode()
        right = attempt("alice", PASSWORD, "10.0.0.10")  # another address: the username is locked
        assert right.status_code == 429 and "sessionid" not in right.cookies
        assert right["Retry-After"] == "900" and "Wait 15 minutes" in right.content.decode()
        clock.advance(61)  # the wait shown follows the clock
        later = attempt("alice", PASSWORD, "10.0.0.11")
        assert later["Retry-After"] == "839" and "Wait 14 minutes" in later.content.decode()

    def test_the_answer_does_not_say_whether_the_username_exists(self, alice, clock):
        # The only part of the answer that moves is the wait (Retry-After and "Wait N minutes"): it
        # counts down from each lock's start. With the clock held, both locks start and are asked
        # about at the same instant, so the answers must be identical, the wait included.
        fail(5, "alice", "10.0.0.1")
        fail(5, "nobody", "10.0.0.2")
        known = attempt("alice", "x", "10.0.0.3")
        unknown = attempt("nobody", "x", "10.0.0.4")
        assert known.status_code == unknown.status_code == 429
        assert known["Retry-After"] == unknown["Retry-After"] == "900"
        assert "Wait 15 minutes" in known.content.decode()
        assert page_text(known, "alice") == page_text(unknown, "nobody")
        get_user_model().objects.create_user("carol", password=PASSWORD)
        wrong_password, no_such_user = attempt("carol", "x", "10.0.1.1"), attempt("bob", "x", "10.0.1.2")
        assert wrong_password.status_code == no_such_user.status_code == 200
        assert page_text(wrong_password, "carol") == page_text(no_such_user, "bob")

    def test_five_failures_from_one_address_lock_the_address(self, alice):
        for name in ("a", "b", "c", "d", "e"):
            attempt(name, "wrong", "10.9.9.9")
        assert attempt("alice", PASSWORD, "10.9.9.9").status_code == 429
        assert attempt("alice", PASSWORD, "10.9.9.8").status_code == 302  # another address, the user is fine

    def test_a_success_resets_the_count(self, alice):
        fail(4)
        assert attempt("alice", PASSWORD).status_code == 302
        fail(4)
        assert attempt("alice", PASSWORD).status_code == 302

    def test_the_lock_ends_after_the_cool_down(self, alice, settings, clock):
        settings.LOGIN_THROTTLE_COOLDOWN_S = 60
        fail(5)
        clock.advance(59)
        assert attempt("alice", PASSWORD).status_code == 429
        clock.advance(1.5)
        assert attempt("alice", PASSWORD).status_code == 302

    def test_failures_outside_the_window_do_not_count(self, alice, settings):
        settings.LOGIN_THROTTLE_WINDOW_S = 1
        fail(4)
        time.sleep(1.2)
        fail(4)
        assert attempt("alice", PASSWORD).status_code == 302

    def test_refusals_while_locked_do_not_extend_the_lock(self, alice, settings, clock):
        settings.LOGIN_THROTTLE_COOLDOWN_S = 60
        fail(5)
        for _ in range(3):
            clock.advance(15)
            assert attempt("alice", "wrong").status_code == 429
        clock.advance(16)  # 61 s after the lock: had a refusal extended it, it would still hold
        assert attempt("alice", PASSWORD).status_code == 302

    def test_after_the_cool_down_the_count_starts_again(self, alice, settings, clock):
        settings.LOGIN_THROTTLE_COOLDOWN_S = 60
        fail(5)
        clock.advance(61)
        fail(4)
        assert attempt("alice", PASSWORD).status_code == 302

    def test_the_limit_is_a_setting(self, alice, settings):
        settings.LOGIN_THROTTLE_FAILURES = 2
        fail(2)
        assert attempt("alice", PASSWORD).status_code == 429

    def test_the_username_is_compared_case_blind(self, alice):
        fail(3, "alice")
        fail(2, "ALICE")
        assert attempt("alice", PASSWORD, "10.0.0.77").status_code == 429

    def test_the_admin_login_is_throttled_too(self, alice):
        alice.is_staff = alice.is_superuser = True
        alice.save()
        for _ in range(5):
            assert Client().post("/admin/login/", {"username": "alice", "password": "x"}).status_code == 200
        client = Client()
        response = client.post("/admin/login/?next=/admin/", {"username": "alice", "password": PASSWORD})
        assert response.status_code == 200  # the form again: the backend refused
        assert client.get("/admin/").status_code == 302

    def test_any_authenticate_with_a_request_is_refused_while_locked(self, alice, rf):
        fail(5)
        request = rf.post("/", REMOTE_ADDR="10.0.0.1")
        assert authenticate(request, username="alice", password=PASSWORD) is None
        assert authenticate(None, username="alice", password=PASSWORD) == alice  # no request: e.g. a command
        assert asyncio.run(aauthenticate(request, username="alice", password=PASSWORD)) is None

    def test_the_locked_form_posts_with_csrf_and_keeps_next(self, alice):
        client = Client(enforce_csrf_checks=True)
        token = (client.get("/accounts/login/"), client.cookies["csrftoken"].value)[1]
        for _ in range(5):
            client.post(
                "/accounts/login/?next=/audit/", {"username": "alice", "password": "x", "csrfmiddlewaretoken": token}
            )
        response = client.post(
            "/accounts/login/?next=/audit/", {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": token}
        )
        html = response.content.decode()
        assert response.status_code == 429 and 'name="csrfmiddlewaretoken"' in html and 'value="/audit/"' in html


class TestClientAddress:
    def test_remote_addr_by_default(self, rf):
        assert client_ip(rf.get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="6.6.6.6")) == "192.0.2.1"

    def test_the_proxys_entry_of_x_forwarded_for(self, rf, settings):
        settings.CLIENT_IP_HEADER = "X-Forwarded-For"
        spoofed = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
        assert client_ip(spoofed) == "198.51.100.7"  # what our proxy appended, not what the client claimed
        settings.CLIENT_IP_PROXIES = 2
        assert client_ip(spoofed) == "6.6.6.6"
        assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"

    def test_behind_a_proxy_each_client_has_its_own_count(self, alice, settings):
        settings.CLIENT_IP_HEADER = "X-Real-IP"
        for name in "abcde":
            Client().post("/accounts/login/", {"username": name, "password": "x"}, HTTP_X_REAL_IP="203.0.113.1")
        other = Client().post(
            "/accounts/login/", {"username": "alice", "password": PASSWORD}, HTTP_X_REAL_IP="203.0.113.2"
        )
        assert other.status_code == 302


class TestTokens:
    @pytest.fixture
    def token(self, alice) -> str:
        return api_tokens.create_token(alice, "test")[1]

    def bad(self, times: int, ip: str = "10.1.1.1", path: str = "/api/v1/clusters/", method: str = "get") -> None:
        for _ in range(times):
            response = getattr(Client(), method)(path, headers={"Authorization": "Bearer kd_guess"}, REMOTE_ADDR=ip)
            assert response.status_code == 401

    def test_ten_bad_tokens_lock_the_address(self, token):
        self.bad(10)
        response = Client().get(
            "/api/v1/clusters/", headers={"Authorization": f"Bearer {token}"}, REMOTE_ADDR="10.1.1.1"
        )
        assert response.status_code == 429
        assert set(response.json()) == {"error"} and "too many invalid tokens" in response.json()["error"]
        assert int(response["Retry-After"]) > 0 and response["Cache-Control"] == "no-store"
        assert token not in response.content.decode()
        other = Client().get("/api/v1/clusters/", headers={"Authorization": f"Bearer {token}"}, REMOTE_ADDR="10.1.1.2")
        assert other.status_code == 200

    def test_actions_count_and_are_refused_too(self, token):
        self.bad(10, path="/api/v1/clusters/local/dlq/x-dlq/plan/", method="post")
        response = Client().post(
            "/api/v1/clusters/local/dlq/x-dlq/plan/",
            "{}",
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
            REMOTE_ADDR="10.1.1.1",
        )
        assert response.status_code == 429

    def test_session_users_of_a_locked_address_are_not_affected(self, alice):
        self.bad(10)
        client = Client(REMOTE_ADDR="10.1.1.1")
        client.force_login(alice)
        assert client.get("/api/v1/clusters/", REMOTE_ADDR="10.1.1.1").status_code == 200

    def test_good_tokens_do_not_count(self, token):
        for _ in range(20):
            ok = Client().get("/api/v1/clusters/", headers={"Authorization": f"Bearer {token}"}, REMOTE_ADDR="10.1.1.1")
            assert ok.status_code == 200

    def test_metrics_tokens(self, settings):
        settings.METRICS_TOKEN = "metrics-Secret-token"
        for _ in range(10):
            assert Client().get("/metrics", headers={"Authorization": "Bearer guess"}).status_code == 401
        right = Client().get("/metrics", headers={"Authorization": "Bearer metrics-Secret-token"})
        assert right.status_code == 429 and right["Content-Type"].startswith("text/plain")
        assert "metrics-Secret-token" not in right.content.decode()
