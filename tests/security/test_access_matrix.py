"""The access matrix: every URL pattern x every role, with the answer each cell must give.

Roles: anonymous; anonymous with ALLOW_ANONYMOUS_READ (a wall screen); a viewer; an operator; an
operator while DASHBOARD_READ_ONLY is on; API bearer tokens of a viewer and an operator; a bad token.
No broker: the store holds a hand-built snapshot, and every way to Kafka (the record reader, the
offset reset, the reprocess engine, the client classes themselves) is replaced by a stand-in that
records the call and fails. A refusal (302 to the login, 401, 403, 405) must come before any broker
call; an allowed action must get past the permission check (BROKER: it reached Kafka's stand-in).

test_every_url_pattern_is_in_the_matrix fails when a URL pattern is added without its row here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLResolver, get_resolver
from django.utils import timezone

from dashboard.access import tokens
from dashboard.clusters import default_cluster
from dashboard.models import AlertRule, ReprocessRun, Silence
from dashboard.state import store
from tests.factories import snapshot

pytestmark = pytest.mark.django_db

# --- outcomes ---------------------------------------------------------------------------------------

LOGIN = "302 -> login"  # LoginRequired: redirect to /accounts/login/?next=...
ADMIN_LOGIN = "302 -> admin login"  # the admin's own: logged in, but not staff
LOGGED_OUT = "302 -> logged out"  # LOGOUT_REDIRECT_URL
BROKER = "allowed, reached Kafka"  # past every check; the broker stand-in was called
ALLOWED = "allowed"  # past every check (no 401/403/405, no login redirect); no broker call


@dataclass(frozen=True)
class Redirect:
    to: str

    def __str__(self) -> str:
        return f"302 -> {self.to}"


Outcome = int | str | Redirect

ROLES = ("anonymous", "anon_read", "viewer", "operator", "read_only", "viewer_token", "operator_token", "bad_token")
TOKEN_ROLES = ("viewer_token", "operator_token", "bad_token")


def cells(**by_role: Outcome) -> dict[str, Outcome]:
    """Every role's answer; `tokens=` sets the three token roles at once (before any single one of them)."""
    everyone = by_role.pop("everyone", None)
    tokens_ = by_role.pop("tokens", None)
    out: dict[str, Outcome] = {}
    for role in ROLES:
        value = by_role.get(role, tokens_ if role in TOKEN_ROLES and tokens_ is not None else everyone)
        assert value is not None, f"no expectation for {role}"
        out[role] = value
    return out


# The kinds of cells, by what a URL is.
def page(ok: Outcome = 200) -> dict[str, Outcome]:
    """A monitoring page: login needed (tokens are for the API only); every logged-in role reads."""
    return cells(anonymous=LOGIN, anon_read=ok, viewer=ok, operator=ok, read_only=ok, tokens=LOGIN)


def operator_page(ok: Outcome = 200) -> dict[str, Outcome]:
    """A GET that starts an action (a form): operators only, and not in read-only mode."""
    return cells(anonymous=LOGIN, anon_read=403, viewer=403, operator=ok, read_only=403, tokens=LOGIN)


def action(ok: Outcome = ALLOWED) -> dict[str, Outcome]:
    """A POST that changes something: operators only; anonymous writes never pass the login check."""
    return cells(anonymous=LOGIN, anon_read=LOGIN, viewer=403, operator=ok, read_only=403, tokens=LOGIN)


def wrong_method() -> dict[str, Outcome]:
    """GET on a POST-only action: 405 once past the login check, and nothing happens."""
    return cells(anonymous=LOGIN, anon_read=405, viewer=405, operator=405, read_only=405, tokens=LOGIN)


def api_read(ok: Outcome = 200) -> dict[str, Outcome]:
    return cells(
        anonymous=401,
        anon_read=ok,
        viewer=ok,
        operator=ok,
        read_only=ok,
        viewer_token=ok,
        operator_token=ok,
        bad_token=401,
    )


def api_action(ok: Outcome = BROKER) -> dict[str, Outcome]:
    return cells(
        anonymous=401,
        anon_read=403,
        viewer=403,
        operator=ok,
        read_only=403,
        viewer_token=403,
        operator_token=ok,
        bad_token=401,
    )


def public(ok: Outcome = 200) -> dict[str, Outcome]:
    return cells(everyone=ok)


def account_page() -> dict[str, Outcome]:
    """The user's own account (password change): any logged-in user, read-only mode or not."""
    return cells(anonymous=LOGIN, anon_read=LOGIN, viewer=200, operator=200, read_only=200, tokens=LOGIN)


def admin_page(anonymous: Outcome = LOGIN, anon_read: Outcome = ADMIN_LOGIN) -> dict[str, Outcome]:
    """The Django admin: staff only; our users are not staff, so the admin sends them to its login."""
    return cells(anonymous=anonymous, anon_read=anon_read, everyone=ADMIN_LOGIN, tokens=anonymous)


# --- the matrix ---------------------------------------------------------------------------------------

C = "c/<str:cluster>/"
API = "api/v1/clusters/<str:cluster>/"
RANGE = {"mode": "range", "partition": "0", "start": "0", "end": "4"}
RESET = {"scope": "all", "to": "earliest", "value": ""}
RULE = {
    "name": "matrix rule",
    "enabled": "on",
    "cluster": "",
    "pattern": "*",
    "condition": "lag_gt",
    "threshold": "10",
    "statuses": "",
    "for_seconds": "60",
    "channel": "log",
    "webhook_url": "",
}


@dataclass(frozen=True)
class Row:
    route: str | None  # the URL pattern as get_resolver() lists it; None: not a URL pattern (static files)
    method: str
    path: str  # {c}: the cluster; {rule}, {silence}, {run}: objects made by the fixture
    expect: dict[str, Outcome]
    data: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] | None = None  # a JSON body (the API's actions)
    note: str = ""

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}{' ' + self.note if self.note else ''}"


ROWS: tuple[Row, ...] = (
    # -- public: probes, metrics (open while METRICS_TOKEN is empty), the login page, static files
    Row("healthz", "GET", "/healthz", public()),
    Row("readyz", "GET", "/readyz", public()),
    Row("metrics", "GET", "/metrics", public()),
    Row(None, "GET", "/static/css/app.css", public()),
    Row("accounts/login/", "GET", "/accounts/login/", public()),
    Row("accounts/login/", "POST", "/accounts/login/", public(), {"username": "nobody", "password": "wrong"}),
    Row(
        "accounts/logout/",
        "POST",
        "/accounts/logout/",
        cells(anonymous=LOGIN, anon_read=LOGIN, everyone=LOGGED_OUT, tokens=LOGIN),
    ),
    Row(
        "accounts/logout/",
        "GET",
        "/accounts/logout/",
        cells(anonymous=LOGIN, anon_read=405, everyone=405, tokens=LOGIN),
    ),
    # -- the user's own password (Django's views; open to every logged-in user)
    Row("accounts/password_change/", "GET", "/accounts/password_change/", account_page()),
    Row(
        "accounts/password_change/",
        "POST",
        "/accounts/password_change/",
        cells(anonymous=LOGIN, anon_read=LOGIN, everyone=200, tokens=LOGIN),
        {"old_password": "x"},
        note="(invalid)",
    ),
    Row("accounts/password_change/done/", "GET", "/accounts/password_change/done/", account_page()),
    # -- monitoring pages
    Row("", "GET", "/", page(Redirect("/c/{c}/"))),
    Row(C, "GET", "/c/{c}/", page()),
    Row(C, "GET", "/c/nope/", page(404), note="(unknown cluster)"),
    Row(C + "brokers/", "GET", "/c/{c}/brokers/", page()),
    Row(C + "search/", "GET", "/c/{c}/search/?q=orders", page()),
    Row(C + "schemas/", "GET", "/c/{c}/schemas/", page()),
    Row(C + "topics/", "GET", "/c/{c}/topics/", page()),
    Row(
        C + "topics/<str:topic>/",
        "GET",
        "/c/{c}/topics/orders/",
        page(BROKER),
        note="(the message browser reads the newest records on open)",
    ),
    Row(
        C + "topics/<str:topic>/",
        "GET",
        "/c/{c}/topics/orders/?partition=0&seek=newest",
        page(BROKER),
        note="(message browser)",
    ),
    Row(
        C + "topics/<str:topic>/messages/<int:partition>/<int:offset>/<str:part>/",
        "GET",
        "/c/{c}/topics/orders/messages/0/5/value/",
        page(BROKER),
    ),
    Row(C + "groups/", "GET", "/c/{c}/groups/", page()),
    Row(C + "groups/<group_id:group>/", "GET", "/c/{c}/groups/g1/", page()),
    Row(C + "dlq/", "GET", "/c/{c}/dlq/", page()),
    Row(C + "dlq/<str:topic>/", "GET", "/c/{c}/dlq/orders-dlq/", page()),
    Row(C + "dlq/<str:topic>/<int:partition>/<int:offset>/", "GET", "/c/{c}/dlq/orders-dlq/0/1/", page(BROKER)),
    Row(C + "dlq/runs/<str:run_id>/", "GET", "/c/{c}/dlq/runs/{run}/", page()),
    Row("audit/", "GET", "/audit/", page()),
    Row("alerts/", "GET", "/alerts/", page()),
    # -- actions: DLQ reprocess (plan -> confirm), resolve
    Row(C + "dlq/<str:topic>/plan/", "POST", "/c/{c}/dlq/orders-dlq/plan/", action(BROKER), RANGE),
    Row(C + "dlq/<str:topic>/plan/", "GET", "/c/{c}/dlq/orders-dlq/plan/", wrong_method()),
    Row(
        C + "dlq/<str:topic>/reprocess/",
        "POST",
        "/c/{c}/dlq/orders-dlq/reprocess/",
        action(BROKER),
        {**RANGE, "confirm": "yes"},
    ),
    Row(C + "dlq/<str:topic>/reprocess/", "GET", "/c/{c}/dlq/orders-dlq/reprocess/", wrong_method()),
    Row(
        C + "dlq/<str:topic>/resolve/",
        "POST",
        "/c/{c}/dlq/orders-dlq/resolve/",
        action(Redirect("/c/{c}/dlq/orders-dlq/?status=resolved")),
        {"key": ["0:1"], "reason": "matrix"},
    ),
    Row(C + "dlq/<str:topic>/resolve/", "GET", "/c/{c}/dlq/orders-dlq/resolve/", wrong_method()),
    # -- actions: offset reset (form -> preview -> apply); the form reads the group from Kafka
    Row(C + "reset/<group_id:group>/", "GET", "/c/{c}/reset/g1/", operator_page(BROKER)),
    Row(
        C + "reset/<group_id:group>/",
        "POST",
        "/c/{c}/reset/g1/",
        cells(anonymous=LOGIN, anon_read=LOGIN, everyone=405, tokens=LOGIN),
        RESET,
        note="(the form is GET only)",
    ),
    Row(C + "reset-preview/<group_id:group>/", "POST", "/c/{c}/reset-preview/g1/", action(BROKER), RESET),
    Row(C + "reset-preview/<group_id:group>/", "GET", "/c/{c}/reset-preview/g1/", wrong_method()),
    Row(
        C + "reset-apply/<group_id:group>/",
        "POST",
        "/c/{c}/reset-apply/g1/",
        action(BROKER),
        {**RESET, "confirm": "yes"},
    ),
    Row(C + "reset-apply/<group_id:group>/", "GET", "/c/{c}/reset-apply/g1/", wrong_method()),
    # -- actions: alert rules and silences
    Row("alerts/rules/new/", "GET", "/alerts/rules/new/", operator_page()),
    Row("alerts/rules/new/", "POST", "/alerts/rules/new/", action(Redirect("/alerts/")), RULE),
    Row("alerts/rules/<int:pk>/", "GET", "/alerts/rules/{rule}/", operator_page()),
    Row(
        "alerts/rules/<int:pk>/",
        "POST",
        "/alerts/rules/{rule}/",
        action(Redirect("/alerts/")),
        {**RULE, "name": "renamed"},
    ),
    Row("alerts/rules/<int:pk>/delete/", "POST", "/alerts/rules/{rule}/delete/", action(Redirect("/alerts/"))),
    Row("alerts/rules/<int:pk>/delete/", "GET", "/alerts/rules/{rule}/delete/", wrong_method()),
    Row(
        "alerts/silences/",
        "POST",
        "/alerts/silences/",
        action(Redirect("/alerts/")),
        {"rule": "", "pattern": "*", "reason": "matrix", "minutes": "30"},
    ),
    Row("alerts/silences/", "GET", "/alerts/silences/", wrong_method()),
    Row("alerts/silences/<int:pk>/end/", "POST", "/alerts/silences/{silence}/end/", action(Redirect("/alerts/"))),
    Row("alerts/silences/<int:pk>/end/", "GET", "/alerts/silences/{silence}/end/", wrong_method()),
    # -- the JSON API: reads
    Row("api/v1/clusters/", "GET", "/api/v1/clusters/", api_read()),
    Row(API, "GET", "/api/v1/clusters/{c}/", api_read()),
    Row(API, "GET", "/api/v1/clusters/nope/", api_read(404), note="(unknown cluster)"),
    Row(API + "brokers/", "GET", "/api/v1/clusters/{c}/brokers/", api_read()),
    Row(API + "topics/", "GET", "/api/v1/clusters/{c}/topics/", api_read()),
    Row(API + "topics/<path:topic>/", "GET", "/api/v1/clusters/{c}/topics/orders/", api_read()),
    Row(API + "groups/", "GET", "/api/v1/clusters/{c}/groups/", api_read()),
    Row(API + "groups/<group_id:group>/", "GET", "/api/v1/clusters/{c}/groups/g1/", api_read()),
    Row(API + "dlq/", "GET", "/api/v1/clusters/{c}/dlq/", api_read()),
    Row(API + "dlq/runs/<str:run_id>/", "GET", "/api/v1/clusters/{c}/dlq/runs/{run}/", api_read()),
    Row(API + "dlq/<str:topic>/records/", "GET", "/api/v1/clusters/{c}/dlq/orders-dlq/records/", api_read()),
    Row(
        API + "dlq/<str:topic>/records/<int:partition>/<int:offset>/",
        "GET",
        "/api/v1/clusters/{c}/dlq/orders-dlq/records/0/1/",
        api_read(BROKER),
    ),
    Row(API + "groups/", "POST", "/api/v1/clusters/{c}/groups/", public(405), body={}, note="(the API reads only)"),
    Row("api/", "GET", "/api/v1/nothing-here/", public(404)),
    # -- the JSON API: actions (token or session + CSRF; operators only)
    Row(
        API + "dlq/<str:topic>/plan/",
        "POST",
        "/api/v1/clusters/{c}/dlq/orders-dlq/plan/",
        api_action(),
        body={"mode": "range", "partition": 0, "start": 0, "end": 4},
    ),
    Row(API + "dlq/<str:topic>/plan/", "GET", "/api/v1/clusters/{c}/dlq/orders-dlq/plan/", public(405)),
    Row(
        API + "dlq/<str:topic>/reprocess/",
        "POST",
        "/api/v1/clusters/{c}/dlq/orders-dlq/reprocess/",
        api_action(),
        body={"mode": "range", "partition": 0, "start": 0, "end": 4, "confirm": True},
    ),
    Row(API + "dlq/<str:topic>/reprocess/", "GET", "/api/v1/clusters/{c}/dlq/orders-dlq/reprocess/", public(405)),
    Row(
        API + "dlq/<str:topic>/resolve/",
        "POST",
        "/api/v1/clusters/{c}/dlq/orders-dlq/resolve/",
        api_action(200),
        body={"records": ["0:1"], "reason": "matrix"},
    ),
    # -- the Django admin (every admin URL: staff only)
    Row("admin/", "GET", "/admin/", admin_page(anonymous=ADMIN_LOGIN), note="(the index: the admin's own redirect)"),
    Row("admin/", "GET", "/admin/dashboard/alertrule/", admin_page()),
    Row("admin/", "GET", "/admin/dashboard/apitoken/", admin_page()),
    Row("admin/", "GET", "/admin/auth/user/1/change/", admin_page()),
    Row("admin/", "POST", "/admin/dashboard/alertrule/add/", admin_page(anon_read=LOGIN), RULE),
    Row("admin/", "GET", "/admin/login/", public()),
)

WEBSOCKET_ROUTES = {
    "^ws/live/(?P<page>[a-z-]+)/$",
    "^ws/tail/(?P<cluster>[^/]{1,255})/(?P<topic>[a-zA-Z0-9._-]{1,249})/$",  # the message browser's live tail
}


# --- the world of the test: data, users, Kafka's stand-in ---------------------------------------------


class BrokerTouched(RuntimeError):
    """Raised by the stand-in for every way to Kafka."""


BROKER_FUNCTIONS = {
    "kafka_admin.records.read": ("read_records", "read_one"),
    "kafka_admin.records.browse": ("browse",),
    # the pages' ways into the broker-work children (kafka_admin.isolation), stopped before a child starts
    "kafka_admin.isolation.reads": ("read_records", "read_one", "browse"),
    "dashboard.offsets.views": ("run_in_child",),
    "kafka_admin.isolation.reprocess_run": ("reprocess_in_child",),
    "kafka_admin.offset_reset": ("read_group", "plan_reset", "apply_reset"),
    "dashboard.dlq.service": ("plan", "start_run"),
}
BROKER_CLIENTS = {
    module: ("Consumer", "Producer", "AdminClient")
    for module in (
        "kafka_admin.records.read",
        "kafka_admin.records.browse",
        "kafka_admin.records.tail",
        "kafka_admin.offset_reset",
        "kafka_admin.snapshot.collect",
        "kafka_admin.reprocess.reading",
        "kafka_admin.reprocess.run",
        "kafka_admin.reprocess.sender",
        "kafka_admin.reprocess.topics",
        "kafka_admin.snapshot.offsets_topic",
        "kafka_admin.snapshot.topic_configs",
    )
}


@pytest.fixture
def touched(monkeypatch) -> list[str]:
    """Every way to Kafka records its name here and raises (no broker in these tests)."""
    import importlib

    calls: list[str] = []

    def stand_in(name: str):
        def refuse(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            raise BrokerTouched(name)

        return refuse

    for module_name, names in {**BROKER_CLIENTS, **BROKER_FUNCTIONS}.items():
        module = importlib.import_module(module_name)
        for name in names:
            if hasattr(module, name):
                monkeypatch.setattr(module, name, stand_in(f"{module_name}.{name}"))
    return calls


@dataclass
class World:
    cluster: str
    viewer: Any
    operator: Any
    viewer_token: str
    operator_token: str
    rule: int
    silence: int
    run: str

    def path(self, template: str) -> str:
        return template.format(c=self.cluster, rule=self.rule, silence=self.silence, run=self.run)

    def client(self, role: str, settings, **kwargs: Any) -> Client:
        settings.ALLOW_ANONYMOUS_READ = role == "anon_read"
        settings.READ_ONLY = role == "read_only"
        bearer = {
            "viewer_token": self.viewer_token,
            "operator_token": self.operator_token,
            "bad_token": "kd_" + "x" * 43,
        }.get(role)
        client = Client(headers={"Authorization": f"Bearer {bearer}"} if bearer else {}, **kwargs)
        if role == "viewer":
            client.force_login(self.viewer)
        elif role in ("operator", "read_only"):
            client.force_login(self.operator)
        return client


def make_user(name: str, group: str) -> Any:
    user = get_user_model().objects.create_user(name, password=f"pw-{name}-12345")
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def world(touched) -> World:
    cluster = default_cluster().name
    store.save(
        snapshot(
            at=datetime.now(UTC),
            cluster=cluster,
            ends={"orders": [100, 100], "orders-dlq": [5]},
            groups={"g1": {("orders", 0): 90, ("orders", 1): 100}},
        )
    )
    viewer, operator = make_user("viewer", "viewers"), make_user("operator", "operators")
    rule = AlertRule.objects.create(name="lagging", condition="lag_gt", threshold=10)
    silence = Silence.objects.create(rule=rule, pattern="*", until=timezone.now() + timedelta(hours=1), reason="x")
    run = ReprocessRun.objects.create(run_id="run-1", cluster=cluster, dlq_topic="orders-dlq", actor="operator")
    return World(
        cluster=cluster,
        viewer=viewer,
        operator=operator,
        viewer_token=tokens.create_token(viewer, "matrix")[1],
        operator_token=tokens.create_token(operator, "matrix")[1],
        rule=rule.pk,
        silence=silence.pk,
        run=run.run_id,
    )


def send(client: Client, world: World, row: Row):
    path = world.path(row.path)
    if row.body is not None:
        return client.generic(row.method, path, json.dumps(row.body), content_type="application/json")
    if row.method == "GET":
        return client.get(path)
    return client.post(path, row.data)


def mismatch(expected: Outcome, response, touched: list[str], world: World) -> str | None:
    """None when the answer is the expected one; else what was wrong."""
    status = response.status_code
    location = response.get("Location", "")
    got = f"{status}{' -> ' + location if location else ''}{' (broker: ' + ', '.join(touched) + ')' if touched else ''}"
    login_redirect = status == 302 and location.startswith("/accounts/login/?next=")
    if expected == BROKER:
        ok = bool(touched) and status not in (401, 403, 405) and not login_redirect
    elif expected == ALLOWED:
        ok = not touched and status not in (401, 403, 405) and not login_redirect
    elif touched:
        ok = False  # a refusal, or a page that reads the store: never a broker call
    elif expected == LOGIN:
        ok = login_redirect
    elif expected == ADMIN_LOGIN:
        ok = status == 302 and location.startswith("/admin/login/?next=")
    elif expected == LOGGED_OUT:
        ok = status == 302 and location == "/accounts/login/"
    elif isinstance(expected, Redirect):
        ok = status == 302 and location.startswith(world.path(expected.to))
    else:
        ok = status == expected
    return None if ok else f"expected {expected}, got {got}"


CELLS = [(row, role) for row in ROWS for role in ROLES]


@pytest.mark.parametrize(("row", "role"), CELLS, ids=[f"{row.id} [{role}]" for row, role in CELLS])
def test_cell(row: Row, role: str, world: World, touched: list[str], settings):
    client = world.client(role, settings, raise_request_exception=False)
    response = send(client, world, row)
    problem = mismatch(row.expect[role], response, touched, world)
    assert problem is None, f"{row.id} as {role}: {problem}"


# --- the matrix stays complete ------------------------------------------------------------------------


def url_routes() -> set[str]:
    """Every URL pattern of config.urls as a route string; the admin site (staff only) as one entry."""
    found: set[str] = set()

    def walk(patterns: list, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver) and pattern.app_name != "admin":
                walk(pattern.url_patterns, route)
            else:
                found.add(route)

    walk(get_resolver().url_patterns, "")
    return found


def test_every_url_pattern_is_in_the_matrix():
    covered = {row.route for row in ROWS if row.route is not None}
    missing = url_routes() - covered
    assert not missing, f"URL patterns without rows in the access matrix (add them to ROWS): {sorted(missing)}"
    assert not covered - url_routes(), f"rows for URL patterns that no longer exist: {sorted(covered - url_routes())}"


def test_every_websocket_route_is_covered():
    from dashboard.live.routing import websocket_urlpatterns
    from dashboard.monitor.routing import websocket_urlpatterns as tail_urlpatterns

    assert {str(p.pattern) for p in websocket_urlpatterns + tail_urlpatterns} == WEBSOCKET_ROUTES


def test_every_row_names_every_role():
    for row in ROWS:
        assert set(row.expect) == set(ROLES), row.id


# --- CSRF: every state-changing request of a browser session needs the token ---------------------------

POSTS = [
    row for row in ROWS if row.method == "POST" and not row.path.startswith("/admin/") and row.expect["operator"] != 405
]


def csrf_token(client: Client) -> str:
    client.get("/accounts/login/")
    return client.cookies["csrftoken"].value


@pytest.mark.parametrize("row", POSTS, ids=[row.id for row in POSTS])
def test_session_posts_without_the_csrf_token_are_refused(row: Row, world: World, touched: list[str], settings):
    client = world.client("operator", settings, enforce_csrf_checks=True, raise_request_exception=False)
    response = send(client, world, row)
    assert response.status_code == 403, f"{row.id}: {response.status_code}"
    assert not touched
    if row.body is not None:
        assert "CSRF" in response.json()["error"]


@pytest.mark.parametrize("row", POSTS, ids=[row.id for row in POSTS])
def test_session_posts_with_the_csrf_token_get_the_operators_answer(row: Row, world: World, touched, settings):
    client = world.client("operator", settings, enforce_csrf_checks=True, raise_request_exception=False)
    token = csrf_token(client)
    path = world.path(row.path)
    if row.body is not None:
        response = client.post(
            path, json.dumps(row.body), content_type="application/json", headers={"X-CSRFToken": token}
        )
    else:
        response = client.post(path, {**row.data, "csrfmiddlewaretoken": token})
    assert mismatch(row.expect["operator"], response, touched, world) is None, (row.id, response.status_code)


def test_admin_posts_need_the_csrf_token_too(world: World, settings):
    admin = get_user_model().objects.create_superuser("root", password="pw-root-12345")
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    assert client.post("/admin/dashboard/alertrule/add/", RULE).status_code == 403
    assert client.get("/admin/").status_code == 200  # and the admin itself works for staff


API_ACTIONS = [row for row in POSTS if row.body is not None]


@pytest.mark.parametrize("row", API_ACTIONS, ids=[row.id for row in API_ACTIONS])
def test_token_posts_need_no_csrf_token(row: Row, world: World, touched: list[str], settings):
    """A bearer token is not an ambient credential: a browser never sends it on its own."""
    client = world.client("operator_token", settings, enforce_csrf_checks=True, raise_request_exception=False)
    response = send(client, world, row)
    assert mismatch(row.expect["operator_token"], response, touched, world) is None, response.status_code


# --- the websocket ----------------------------------------------------------------------------------------


def _session_cookie(user: Any) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def _ws_connect(path: str, cookie: bytes | None, origin: bytes | None) -> tuple[bool, int | None]:
    import asyncio

    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    headers = [(b"host", b"localhost")]
    if origin is not None:
        headers.append((b"origin", origin))
    if cookie:
        headers.append((b"cookie", cookie))

    async def go() -> tuple[bool, int | None]:
        comm = WebsocketCommunicator(application, path, headers=headers)
        connected, code = await comm.connect(timeout=5)
        if connected:
            await comm.receive_from(timeout=5)  # the current fragments, sent on connect
            await comm.disconnect()
        return connected, code

    return asyncio.run(go())


WS_CASES = {
    # name: (role, origin, accepted)
    "anonymous": ("anonymous", b"http://localhost", False),
    "anonymous, ALLOW_ANONYMOUS_READ": ("anon_read", b"http://localhost", True),
    "viewer": ("viewer", b"http://localhost", True),
    "operator, read-only mode": ("read_only", b"http://localhost", True),
    "viewer, foreign Origin": ("viewer", b"http://evil.example", False),
    "viewer, no Origin": ("viewer", None, False),
    "viewer, Origin of another port": ("viewer", b"http://localhost.evil.example", False),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", list(WS_CASES))
def test_websocket(case: str, settings):
    role, origin, accepted = WS_CASES[case]
    cluster = default_cluster().name
    store.save(snapshot(at=datetime.now(UTC), cluster=cluster))
    settings.ALLOW_ANONYMOUS_READ = role == "anon_read"
    settings.READ_ONLY = role == "read_only"
    cookie = None
    if role in ("viewer", "read_only"):
        cookie = _session_cookie(make_user(role, "viewers" if role == "viewer" else "operators"))
    connected, code = _ws_connect(f"/ws/live/overview/?cluster={cluster}", cookie, origin)
    assert connected is accepted, (case, code)
    if role == "anonymous":
        assert code == 4401  # refused by the consumer's login check (the origin was fine)


TAIL_REFUSED = {
    # name: (role, origin, close code or None when the Origin check refuses before the consumer)
    "anonymous": ("anonymous", b"http://localhost", 4401),
    "viewer, foreign Origin": ("viewer", b"http://evil.example", None),
    "viewer, no Origin": ("viewer", None, None),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", list(TAIL_REFUSED))
def test_live_tail_websocket_refusals(case: str):
    """The live tail reads the broker: refused like the live pages (accepted viewers: test_live_tail.py)."""
    role, origin, code = TAIL_REFUSED[case]
    cookie = _session_cookie(make_user(role, "viewers")) if role == "viewer" else None
    connected, got = _ws_connect(f"/ws/tail/{default_cluster().name}/orders/", cookie, origin)
    assert not connected, case
    if code is not None:
        assert got == code
