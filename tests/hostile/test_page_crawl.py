"""A crawl of every HTML page with malformed values in every query parameter, path segment and form field.

Never a 500, never a stack trace, a 4xx page that says what is wrong, and every reflected value
escaped (`<script>alert(1)</script>` never appears raw). The routes come from config.urls itself,
so a page added without an entry here fails test_every_route_is_crawled.

Pages served from the store need no broker. The few that read from Kafka (message browser,
download, DLQ record, offset reset, reprocess plan) are crawled against the real test broker:
there, a hostile name is answered by Kafka itself, fast.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from dashboard.dlq import service as dlq_service
from dashboard.dlq.queries import DLQ_STATUS_FILTERS
from dashboard.models import AlertRule, Silence
from dashboard.monitor.queries import GROUP_SORTS, SEEKS, TOPIC_SORTS
from dashboard.state import store
from kafka_admin import reprocess as engine
from tests.factories import snapshot
from tests.hostile.conftest import CLUSTER, DLQ, HOSTILE_GROUP, RUN_ID
from tests.hostile.hostile import HOSTILE, IMG, SCRIPT, check_page, segment, warm_up_group_coordinator

# Every other bad value per field keeps each class of input (see hostile.py) at half the requests;
# the escaping probes (SCRIPT, IMG) are always included.
CRAWL = (*HOSTILE[::2], SCRIPT, IMG)

pytestmark = pytest.mark.django_db

# Route name -> the query parameters the page reads.
QUERY_PARAMS: dict[str, tuple[str, ...]] = {
    "home": (),
    "healthz": (),
    "readyz": (),
    "metrics": (),
    "overview": (),
    "brokers": (),
    "search": ("q",),
    "schemas": ("subject",),
    "topics": ("q", "sort", "order", "page", "internal"),
    "topic": (),  # the message browser's parameters read Kafka: TestBrokerPages
    "message_download": (),
    "dlq": (),
    "dlq_run": (),
    "dlq_topic": ("status", "exception", "since", "until", "q", "page"),
    "dlq_plan": (),
    "dlq_reprocess": (),
    "dlq_resolve": (),
    "dlq_record": (),
    "groups": ("q", "state", "status", "sort", "order", "page"),
    "reset_offsets": (),
    "reset_preview": (),
    "reset_apply": (),
    "group": ("range",),
    "audit": ("page",),
    "alerts": (),
    "alert_rule_new": (),
    "alert_rule_edit": (),
    "alert_rule_delete": (),
    "silence_create": (),
    "silence_end": (),
    "login": ("next",),
}
# Pages that read from Kafka on GET (crawled in TestBrokerPages).
BROKER_PAGES = {"message_download", "dlq_record", "reset_offsets"}
SKIPPED_PREFIXES = ("api/", "admin/", "accounts/logout", "accounts/password", "accounts/reset")


def routes(patterns=None, prefix: str = "") -> list[tuple[str, str]]:
    """(route, name) of every page in config.urls; the API has its own tests, the admin is Django's."""
    out = []
    for p in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(p.pattern)
        if route.startswith(SKIPPED_PREFIXES):
            continue
        if isinstance(p, URLResolver):
            out.extend(routes(p.url_patterns, route))
        elif p.name:
            out.append((route, p.name))
    return out


SEGMENT = re.compile(r"<(?:\w+:)?(\w+)>")


def fill(route: str, **values: str) -> str:
    defaults = {
        "cluster": CLUSTER,
        "topic": "orders",
        "group": "g1",
        "run_id": RUN_ID,
        "partition": "0",
        "offset": "1",
        "part": "value",
        "pk": "1",
    }
    if route.startswith("c/<str:cluster>/dlq/<str:topic>"):
        defaults["topic"] = DLQ
    defaults.update(values)
    return "/" + SEGMENT.sub(lambda m: defaults[m.group(1)], route)


@pytest.fixture
def rules(loaded):
    rule = AlertRule.objects.create(pk=1, name=f"rule {SCRIPT}", condition="lag_gt", threshold=10, pattern=IMG)
    Silence.objects.create(
        pk=1, rule=rule, pattern="*", reason=SCRIPT, until=timezone.now() + timedelta(hours=1), created_by=IMG
    )
    return rule


@pytest.fixture
def fake_plan(monkeypatch):
    monkeypatch.setattr(dlq_service, "plan", lambda cluster, topic, selection, force=False: engine.Plan(topic))


def test_every_route_is_crawled():
    names = {name for _, name in routes()}
    assert names == set(QUERY_PARAMS), f"crawl these too: {names ^ set(QUERY_PARAMS)}"


# --- GET: query parameters -------------------------------------------------------------------------

HTMX_TARGETS = {"topics": "topics-table", "groups": "groups-table", "dlq_run": "dlq-run"}
QUERY_CASES = [(name, param) for name, params in QUERY_PARAMS.items() for param in params]


@pytest.mark.parametrize(("name", "param"), QUERY_CASES)
def test_every_query_parameter(operator, rules, name, param):
    route = next(route for route, n in routes() if n == name)
    url = fill(route)
    variants = [{}]
    if name in HTMX_TARGETS:  # the same view answers a partial to htmx
        variants.append({"HX-Request": "true", "HX-Target": HTMX_TARGETS[name]})
    for value in CRAWL:
        for headers in variants:
            response = operator.get(url, {param: value}, headers=headers)
            check_page(response, value)


@pytest.mark.parametrize("name", sorted(set(QUERY_PARAMS) - BROKER_PAGES))
def test_unknown_and_repeated_parameters(operator, rules, name):
    route = next(route for route, n in routes() if n == name)
    url = fill(route)
    check_page(operator.get(url + "?" + "&".join(f"page={i}" for i in range(200))))
    check_page(operator.get(url, {SCRIPT: SCRIPT, "": "", "a" * 5000: "b"}), SCRIPT)


# --- GET: path segments ----------------------------------------------------------------------------

SEGMENT_CASES = [
    (route, name, seg) for route, name in routes() for seg in SEGMENT.findall(route) if name not in BROKER_PAGES
]


@pytest.mark.parametrize(("route", "name", "seg"), SEGMENT_CASES, ids=[f"{n}-{s}" for _, n, s in SEGMENT_CASES])
def test_every_path_segment(operator, rules, route, name, seg):
    for value in CRAWL:
        response = operator.get(fill(route, **{seg: segment(value)}))
        text = check_page(response, value)
        if response.status_code == 404:
            assert "Not found" in text


def test_hostile_group_id_and_client_id_are_escaped_everywhere(operator, rules):
    """The snapshot holds a group named <script>... with a member whose client id is an <img onerror>."""
    for url in (
        f"/c/{CLUSTER}/",
        f"/c/{CLUSTER}/groups/",
        f"/c/{CLUSTER}/topics/orders/",
        f"/c/{CLUSTER}/groups/{segment(HOSTILE_GROUP)}/",
        f"/c/{CLUSTER}/dlq/{DLQ}/",
        f"/c/{CLUSTER}/dlq/runs/{RUN_ID}/",
        "/alerts/",
        "/alerts/rules/1/",
    ):
        response = operator.get(url)
        text = check_page(response, SCRIPT, IMG)
        assert response.status_code == 200, url
        assert SCRIPT not in text and IMG not in text


# --- regressions found by this crawl ---------------------------------------------------------------


@pytest.mark.parametrize("group_id", ["line\nbreak", "\n", "a\nb<script>alert(1)</script>"])
def test_group_id_with_a_newline_does_not_break_the_lists(operator, loaded, group_id):
    """<path:group> does not match a newline: {% url %} raised NoReverseMatch, a 500 on every list.
    Then such a group was listed without a link; now it has an address (%0A) and its page opens."""
    store.save(snapshot(cluster=CLUSTER, ends={"orders": [10]}, groups={group_id: {("orders", 0): 1}}))
    for url in (f"/c/{CLUSTER}/", f"/c/{CLUSTER}/groups/", f"/c/{CLUSTER}/topics/orders/"):
        response = operator.get(url)
        check_page(response, SCRIPT)
        assert response.status_code == 200, url
    address = reverse("group", args=[CLUSTER, group_id])
    assert "%0A" in address and address in operator.get(f"/c/{CLUSTER}/groups/").content.decode()
    page = operator.get(address)
    check_page(page, SCRIPT)
    assert page.status_code == 200


def test_original_topic_header_that_is_not_a_topic_name(operator, loaded):
    """The original topic comes from a record header: 'a/b' has no URL and made the DLQ page a 500."""
    from dashboard.models import DlqRecord

    DlqRecord.objects.filter(offset=3).update(original_topic=f"a/b{SCRIPT}")
    response = operator.get(f"/c/{CLUSTER}/dlq/{DLQ}/")
    text = check_page(response, SCRIPT)
    assert response.status_code == 200 and "a/b&lt;script&gt;" in text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page": "²"}, "page must be a whole number"),
        ({"since": "999999999999999"}, "timestamp must be before the year 10000"),
        ({"until": "9999-12-31T23:59:59-23:59"}, "timestamp must be between 1970 and the year 9999"),
    ],
)
def test_number_and_time_edge_cases_are_clear_400s(operator, loaded, params, message):
    response = operator.get(f"/c/{CLUSTER}/dlq/{DLQ}/", params)
    assert response.status_code == 400 and message in check_page(response)


# --- POST forms (operator) -------------------------------------------------------------------------

DLQ_FORM = {
    "mode": "selected",
    "key": ["0:1", "0:2"],
    "partition": "0",
    "start": "0",
    "end": "3",
    "filter": json.dumps({"status": "waiting"}),
    "force": "",
    "rate_limit": "",
    "action": "",
    "confirm": "yes",
    "reason": "checked",
}
RULE_FORM = {
    "name": "lag",
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
SILENCE_FORM = {"rule": "1", "pattern": "*", "reason": "maintenance", "minutes": "60"}
FORMS = [
    (f"/c/{CLUSTER}/dlq/{DLQ}/plan/", DLQ_FORM),
    (f"/c/{CLUSTER}/dlq/{DLQ}/reprocess/", DLQ_FORM),
    (f"/c/{CLUSTER}/dlq/{DLQ}/resolve/", DLQ_FORM),
    ("/alerts/rules/new/", RULE_FORM),
    ("/alerts/rules/1/", RULE_FORM),
    ("/alerts/silences/", SILENCE_FORM),
]
# The selection mode that reads each field (every other field is tried with one mode).
DLQ_MODES = {"mode": (None,), "key": ("selected",), "filter": ("filter",), "action": ("selected", "range")}
FORM_CASES = [(url, form, field) for url, form in FORMS for field in form]


@pytest.mark.parametrize(("url", "form", "field"), FORM_CASES, ids=[f"{u}-{f}" for u, _, f in FORM_CASES])
def test_every_form_field(operator, rules, fake_plan, no_background_runs, url, form, field):
    for value in CRAWL:
        for mode in DLQ_MODES.get(field, ("range",)) if "/dlq/" in url else (None,):
            data = {**form, field: value}
            if mode:
                data["mode"] = mode
            response = operator.post(url, data)
            check_page(response, value)
            if response.status_code == 302:
                assert "Traceback" not in response["Location"]


@pytest.mark.parametrize("url", [u for u, _ in FORMS])
def test_forms_with_junk_bodies(operator, rules, fake_plan, no_background_runs, url):
    for body, content_type in (
        (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
        (b"[" * 10_000, "application/json"),
        (b"key=" + b"0:1&key=" * 900, "application/x-www-form-urlencoded"),
        (b"key=" + b"0:1&key=" * 1200, "application/x-www-form-urlencoded"),  # over Django's field limit: a 400
        (b"", "multipart/form-data; boundary=x"),
    ):
        check_page(operator.post(url, body, content_type=content_type))


def test_deeply_nested_filter_is_a_400(operator, loaded, fake_plan):
    response = operator.post(f"/c/{CLUSTER}/dlq/{DLQ}/plan/", {"mode": "filter", "filter": "[" * 100_000})
    assert response.status_code == 400 and "filter could not be read" in check_page(response)


@pytest.mark.parametrize("filter_json", ['{"q": 5}', '{"page": ["1"]}', '{"status": null}', '{"since": {}}'])
def test_filter_values_that_are_not_strings(operator, loaded, fake_plan, filter_json):
    response = operator.post(f"/c/{CLUSTER}/dlq/{DLQ}/plan/", {"mode": "filter", "filter": filter_json})
    check_page(response)
    assert response.status_code in (200, 400)


def test_viewers_get_a_clear_403_on_every_form(viewer, rules):
    for url, form in FORMS:
        response = viewer.post(url, form)
        assert response.status_code == 403 and "operator" in check_page(response)


# --- pages that read from Kafka --------------------------------------------------------------------


# Each of these reaches the broker once it passes validation: a sample of every kind keeps the crawl short.
BROKER_HOSTILE = (*HOSTILE[::2], SCRIPT, IMG, "x" * 100_000, "\x00")


@pytest.mark.broker
class TestBrokerPages:
    """Against the real broker; the store names topics that do not exist there, so reads fail fast and clearly."""

    @pytest.fixture
    def on_broker(self, kafka, dashboard_cluster, db, django_user_model, client):
        from django.contrib.auth.models import Group

        from dashboard.access.permissions import ensure_roles
        from dashboard.models import DlqRecord

        # The group coordinator must be up before group ids are thrown at it: on a broker a few seconds
        # old, describe_consumer_groups fails, and librdkafka has crashed (SIGSEGV) in that state.
        warm_up_group_coordinator(kafka)
        cache.clear()
        store.save(snapshot(cluster="test", ends={"orders": [100], DLQ: [10]}, groups={"g1": {("orders", 0): 9}}))
        DlqRecord.objects.create(cluster="test", topic=DLQ, partition=0, offset=1, key_preview=SCRIPT)
        ensure_roles()
        user = django_user_model.objects.create_user("op")
        user.groups.add(Group.objects.get(name="operators"))
        client.force_login(user)
        return client

    def test_message_browser_parameters(self, on_broker):
        for param in ("partition", "seek", "offset", "timestamp", "limit"):
            for value in BROKER_HOSTILE:
                params = {"partition": "0", "seek": "offset", "offset": "0", param: value}
                if param == "timestamp":
                    params["seek"] = "timestamp"
                response = on_broker.get("/c/test/topics/orders/", params)
                check_page(response, value)
                assert response.status_code == 200  # problems are shown in the browser, the page stays
        for seek in SEEKS:
            check_page(on_broker.get("/c/test/topics/orders/", {"seek": seek, "offset": "1", "timestamp": "1"}))

    @pytest.mark.parametrize("name", sorted(BROKER_PAGES))
    def test_path_segments(self, on_broker, name):
        route = next(route for route, n in routes() if n == name)
        for seg in SEGMENT.findall(route):
            for value in BROKER_HOSTILE:
                url = fill(route, **{seg: segment(value)}).replace(f"/c/{CLUSTER}/", "/c/test/", 1)
                if seg == "cluster":
                    url = fill(route, cluster=segment(value))
                check_page(on_broker.get(url), value)

    def test_reset_forms(self, on_broker):
        form = {
            "scope": "selected",
            "tp": ["orders:0"],
            "more": "",
            "to": "earliest",
            "value": "",
            "confirm": "yes",
            "expect": ["orders:0:9"],
        }
        for action in ("reset-preview", "reset-apply"):
            # the apply view parses the same form as the preview: its own fields are confirm and expect
            for field in form if action == "reset-preview" else ("confirm", "expect"):
                for value in BROKER_HOSTILE:
                    data = {**form, field: value}
                    if field == "value":
                        data["to"] = "timestamp"
                    response = on_broker.post(f"/c/test/{action}/g1/", data)
                    check_page(response, value)
                    assert response.status_code in (200, 400, 404, 409), (action, field, value, response.status_code)

    @pytest.mark.parametrize("value", ["999999999999999", "9999-12-31T23:59:59-23:59", "²"])
    def test_reset_timestamp_edge_cases_are_400(self, on_broker, value):
        data = {"scope": "all", "to": "timestamp", "value": value}
        response = on_broker.post("/c/test/reset-preview/g1/", data)
        assert response.status_code == 400, response.content[:500]
        check_page(response)

    def test_real_plan_of_a_topic_missing_on_the_broker(self, on_broker):
        for mode in ("selected", "range", "filter"):
            data = {"mode": mode, "key": "0:1", "partition": "0", "start": "0", "end": "5", "filter": "{}"}
            data["filter"] = json.dumps({"status": "all"})
            response = on_broker.post(f"/c/test/dlq/{DLQ}/plan/", data)
            check_page(response)
            assert response.status_code == 200


def test_dlq_status_filters_and_sorts_still_work(operator, loaded):
    """The crawl must not pass only because everything is refused: valid values still answer 200."""
    for status in DLQ_STATUS_FILTERS:
        assert operator.get(f"/c/{CLUSTER}/dlq/{DLQ}/", {"status": status}).status_code == 200
    for sort in GROUP_SORTS:
        assert operator.get(f"/c/{CLUSTER}/groups/", {"sort": sort}).status_code == 200
    for sort in TOPIC_SORTS:
        assert operator.get(f"/c/{CLUSTER}/topics/", {"sort": sort}).status_code == 200
