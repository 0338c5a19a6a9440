"""Security headers, cookie flags, templates fit for the CSP, and the production settings (check --deploy)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from dashboard.clusters import default_cluster
from dashboard.state import store
from tests.factories import snapshot

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "templates"
PASSWORD = "pw-headers-12345"


def directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


@pytest.fixture
def viewer(client):
    client.force_login(get_user_model().objects.create_user("viewer", password=PASSWORD))
    store.save(snapshot(at=datetime.now(UTC), cluster=default_cluster().name))
    return client


PATHS = [
    "/c/{c}/",
    "/c/{c}/groups/g1/",
    "/accounts/login/",
    "/api/v1/clusters/",
    "/healthz",
    "/metrics",
    "/static/js/app.js",
    "/c/no-such-cluster/",
]


class TestHeaders:
    @pytest.mark.parametrize("path", PATHS)
    def test_every_response_carries_the_policy_and_the_headers(self, viewer, path):
        response = viewer.get(path.format(c=default_cluster().name))
        policy = directives(response["Content-Security-Policy"])
        assert policy["default-src"] == ["'self'"]
        assert policy["script-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'"]
        assert policy["img-src"] == ["'self'", "data:"]
        assert policy["connect-src"] == ["'self'", "ws://testserver"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["base-uri"] == ["'self'"]
        assert policy["form-action"] == ["'self'"]
        assert policy["object-src"] == ["'none'"]
        values = " ".join(v for vs in policy.values() for v in vs)
        assert "unsafe" not in values and "*" not in values
        if not path.startswith("/static/"):  # WhiteNoise answers before XFrameOptionsMiddleware; the CSP covers it
            assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"

    def test_anonymous_redirects_and_errors_carry_the_policy_too(self, client):
        assert "Content-Security-Policy" in client.get("/c/x/")  # 302 to the login
        assert "Content-Security-Policy" in client.get("/api/v1/clusters/")  # 401

    def test_websockets_of_a_https_site_are_wss(self, viewer):
        response = viewer.get("/healthz", secure=True)
        assert directives(response["Content-Security-Policy"])["connect-src"] == ["'self'", "wss://testserver"]

    def test_a_disallowed_host_gets_the_policy_without_a_websocket_origin(self, client):
        response = client.get("/healthz", headers={"host": "evil.example"})
        assert response.status_code == 400
        assert directives(response["Content-Security-Policy"])["connect-src"] == ["'self'"]


class TestCookies:
    def test_session_and_csrf_cookies_are_http_only_and_same_site(self, client):
        get_user_model().objects.create_user("alice", password=PASSWORD)
        client.get("/accounts/login/")
        csrf = client.cookies["csrftoken"]
        assert csrf["httponly"] and csrf["samesite"] == "Lax"
        response = client.post(
            "/accounts/login/", {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": csrf.value}
        )
        assert response.status_code == 302
        session = client.cookies["sessionid"]
        assert session["httponly"] and session["samesite"] == "Lax"
        assert not session["secure"]  # only in production (DJANGO_PRODUCTION), served over HTTPS

    def test_logout_is_a_post(self, client):
        client.force_login(get_user_model().objects.create_user("bob", password=PASSWORD))
        assert client.get("/accounts/logout/").status_code == 405
        assert client.post("/accounts/logout/").status_code == 302
        assert client.get("/c/local/").status_code == 302


class TestTemplatesFitTheCsp:
    """No inline script, style or event handler anywhere: the CSP would block them."""

    INLINE = [
        (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I), "inline <script>"),
        (re.compile(r"<style\b", re.I), "<style> element"),
        (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
        (re.compile(r"\son[a-z]+\s*=", re.I), "on*= event handler"),
        (re.compile(r"javascript:", re.I), "javascript: URL"),
        (re.compile(r"\bhx-on", re.I), "hx-on (eval)"),
    ]

    def test_no_inline_code_or_style_in_templates(self):
        problems = []
        for path in sorted(TEMPLATES.rglob("*.html")):
            text = path.read_text()
            for pattern, what in self.INLINE:
                for match in pattern.finditer(text):
                    line = text.count("\n", 0, match.start()) + 1
                    problems.append(f"{path.relative_to(REPO)}:{line}: {what}")
        assert not problems, "\n".join(problems)

    def test_htmx_does_not_inject_its_indicator_style(self, client):
        page = client.get("/accounts/login/").content.decode()
        assert """<meta name="htmx-config" content='{"includeIndicatorStyles": false""" in page


# --- production settings: a fresh process with the production environment ----------------------------------


def production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DASHBOARD_READ_ONLY"))}
    env.update(
        DJANGO_PRODUCTION="true",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="dash.example.com",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


PROBE = """
import django
django.setup()
from django.conf import settings
from django.test import Client
names = ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
         "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SECURE_PROXY_SSL_HEADER", "DEBUG"]
for name in names:
    print(name, repr(getattr(settings, name)))
client = Client(headers={"host": "dash.example.com"})
plain = client.get("/healthz")
print("plain", plain.status_code, plain.get("Location"))
tls = client.get("/healthz", secure=True)
print("tls", tls.status_code, tls.get("Strict-Transport-Security"))
proxied = client.get("/healthz", headers={"x-forwarded-proto": "https"})
print("proxied", proxied.status_code)
"""


class TestProduction:
    def test_check_deploy_is_clean(self):
        result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())
        assert result.returncode == 0, result.stdout + result.stderr
        assert "System check identified no issues (0 silenced)." in result.stdout

    def test_without_production_check_deploy_complains(self):
        env = production_env(DJANGO_PRODUCTION="false")
        result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
        assert result.returncode != 0 and "security.W012" in result.stderr + result.stdout

    def test_the_settings_and_the_answers(self):
        result = run([sys.executable, "-c", PROBE], production_env())
        assert result.returncode == 0, result.stderr
        out = dict(line.split(" ", 1) for line in result.stdout.strip().splitlines())
        assert out["SESSION_COOKIE_SECURE"] == "True" and out["CSRF_COOKIE_SECURE"] == "True"
        assert out["SECURE_SSL_REDIRECT"] == "True" and out["DEBUG"] == "False"
        assert out["SECURE_HSTS_SECONDS"] == "31536000"
        assert out["SECURE_HSTS_INCLUDE_SUBDOMAINS"] == "True" and out["SECURE_HSTS_PRELOAD"] == "True"
        assert out["SECURE_PROXY_SSL_HEADER"] == "None"
        assert out["plain"] == "301 https://dash.example.com/healthz"
        assert out["tls"] == "200 max-age=31536000; includeSubDomains; preload"
        assert out["proxied"] == "301"  # no proxy configured: the header is not trusted

    def test_behind_a_tls_proxy(self):
        env = production_env(
            DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
            DJANGO_SECURE_HSTS_PRELOAD="false",
            DJANGO_SECURE_HSTS_SECONDS="3600",
        )
        result = run([sys.executable, "-c", PROBE], env)
        assert result.returncode == 0, result.stderr
        out = dict(line.split(" ", 1) for line in result.stdout.strip().splitlines())
        assert out["SECURE_PROXY_SSL_HEADER"] == "('HTTP_X_FORWARDED_PROTO', 'https')"
        assert out["proxied"] == "200"
        assert out["tls"] == "200 max-age=3600; includeSubDomains"

    @pytest.mark.parametrize(
        ("extra", "message"),
        [
            ({"DJANGO_DEBUG": "true"}, "DJANGO_DEBUG=true cannot be combined with DJANGO_PRODUCTION=true"),
            ({"DJANGO_SECRET_KEY": ""}, "DJANGO_PRODUCTION=true needs DJANGO_SECRET_KEY"),
            ({"DJANGO_SECRET_KEY": "short-key"}, "at least 50 characters"),
            ({"DJANGO_SECRET_KEY": "a" * 60}, "DJANGO_PRODUCTION=true needs DJANGO_SECRET_KEY"),
            ({"DJANGO_SECRET_KEY": "django-insecure-" + secrets.token_urlsafe(50)}, "needs DJANGO_SECRET_KEY"),
        ],
        ids=["debug", "no key", "short key", "one character", "insecure key"],
    )
    def test_refuses_to_start_unsafe(self, extra, message):
        result = run([sys.executable, "manage.py", "check"], production_env(**extra))
        assert result.returncode != 0
        assert message in result.stderr
        if extra.get("DJANGO_SECRET_KEY"):
            assert extra["DJANGO_SECRET_KEY"] not in result.stderr + result.stdout  # the key is never echoed

    def test_django_secure_is_an_alias(self):
        env = production_env()
        del env["DJANGO_PRODUCTION"]
        env["DJANGO_SECURE"] = "true"
        result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
        assert result.returncode == 0, result.stdout + result.stderr
