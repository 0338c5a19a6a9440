"""Property-based tests of the JSON API: every endpoint, every parameter, malformed values.

Whatever arrives (negative, huge, non-numeric, empty, very long, unicode, control characters, path
traversal, SQL and HTML fragments, JSON of the wrong type), the answer is JSON, never a 500, never a
stack trace, and every 4xx carries an "error" message. No broker: the data comes from the store,
and the cluster points at a closed port, so an action that gets past validation fails fast.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.dlq import service as dlq_service
from dashboard.dlq.queries import DLQ_STATUS_FILTERS
from dashboard.models import DlqRecord, ReprocessRun
from dashboard.monitor.queries import GROUP_SORTS, GROUP_STATES, LAG_STATUSES, RANGES, TOPIC_SORTS
from kafka_admin import reprocess as engine
from tests.hostile.conftest import CLUSTER, DLQ, HOSTILE_GROUP, RUN_ID
from tests.hostile.hostile import HOSTILE, HOSTILE_TEXT, JSON_VALUES, NUMBERS, TEXT, check_api, segment

pytestmark = pytest.mark.django_db

BOUNDED = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
API = f"/api/v1/clusters/{CLUSTER}"


def value(*valid: str) -> st.SearchStrategy[str]:
    """A query value: usually hostile, sometimes one of the valid ones (so other parameters get their turn)."""
    return st.one_of(HOSTILE_TEXT, st.sampled_from(valid)) if valid else HOSTILE_TEXT


PAGING = {"page": value("1", "2"), "page_size": value("1", "50", "500")}
GET_ENDPOINTS = {
    "/api/v1/clusters/": PAGING,
    f"{API}/": {},
    f"{API}/brokers/": PAGING,
    f"{API}/topics/": {
        **PAGING,
        "q": value("orders"),
        "sort": value(*TOPIC_SORTS),
        "order": value("asc", "desc"),
        "internal": value("0", "1"),
    },
    f"{API}/topics/orders/": {},
    f"{API}/groups/": {
        **PAGING,
        "q": value("g1"),
        "state": value(*GROUP_STATES),
        "status": value(*LAG_STATUSES, "problems"),
        "sort": value(*GROUP_SORTS),
        "order": value("asc", "desc"),
    },
    f"{API}/groups/g1/": {"range": value(*RANGES)},
    f"{API}/groups/{segment(HOSTILE_GROUP)}/": {"range": value(*RANGES)},
    f"{API}/dlq/": {},
    f"{API}/dlq/runs/{RUN_ID}/": {},
    f"{API}/dlq/{DLQ}/records/": {
        **PAGING,
        "status": value(*DLQ_STATUS_FILTERS),
        "exception": value("java.lang.IllegalStateException", "(none)"),
        "since": value("2025-01-01T00:00", "1700000000000"),
        "until": value("2027-01-01T00:00Z", "1800000000000"),
        "q": value("alert"),
    },
}


def query(params: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[dict[str, str]]:
    """Some of the endpoint's parameters, plus now and then one it does not know."""
    known = st.fixed_dictionaries({}, optional=params) if params else st.just({})
    extra = st.dictionaries(TEXT.filter(bool), HOSTILE_TEXT, max_size=1)
    return st.builds(lambda a, b: {**b, **a}, known, extra)


@pytest.mark.parametrize("path", sorted(GET_ENDPOINTS))
def test_every_query_parameter(viewer, path):
    @BOUNDED
    @given(params=query(GET_ENDPOINTS[path]))
    def run(params):
        check_api(viewer.get(path, params))

    run()


# Path segments: cluster, topic, group, run id, DLQ topic.
PATH_TEMPLATES = (
    "/api/v1/clusters/{}/",
    "/api/v1/clusters/{}/brokers/",
    "/api/v1/clusters/{}/topics/",
    "/api/v1/clusters/{}/groups/",
    "/api/v1/clusters/{}/dlq/",
    f"{API}/topics/{{}}/",
    f"{API}/groups/{{}}/",
    f"{API}/dlq/runs/{{}}/",
    f"{API}/dlq/{{}}/records/",
)


@pytest.mark.parametrize("template", PATH_TEMPLATES)
def test_every_path_segment(viewer, template):
    @BOUNDED
    @given(name=HOSTILE_TEXT)
    def run(name):
        # raw: as typed (slashes and dots split the path); quoted: one segment holding everything
        for encoded in (segment(name), name.replace("?", "%3F").replace("#", "%23")):
            body = check_api(viewer.get(template.format(encoded)))
            assert "Traceback" not in json.dumps(body)

    run()


@pytest.mark.parametrize("value", HOSTILE)
def test_every_fixed_hostile_value_in_every_segment(viewer, value):
    for template in PATH_TEMPLATES:
        check_api(viewer.get(template.format(segment(value))))


def test_unknown_names_are_404_with_the_name_cut_short(viewer):
    long_name = "<script>" + "x" * 10_000
    for path in (f"{API}/topics/{segment(long_name)}/", f"{API}/groups/{segment(long_name)}/"):
        response = viewer.get(path)
        body = check_api(response)
        assert response.status_code == 404 and len(body["error"]) < 300


def test_methods_other_than_get_are_405_json(viewer, operator):
    for path in GET_ENDPOINTS:
        for method in ("post", "put", "patch", "delete"):
            response = getattr(viewer, method)(path)
            check_api(response)
            assert response.status_code == 405
    for action in ("plan", "reprocess", "resolve"):
        response = operator.get(f"{API}/dlq/{DLQ}/{action}/")
        check_api(response)
        assert response.status_code == 405


@BOUNDED
@given(header=st.one_of(HOSTILE_TEXT, HOSTILE_TEXT.map(lambda t: "Bearer " + t), st.just("Bearer")))
def test_hostile_authorization_header_is_401_or_429_json(loaded, client, header):
    for path in (f"{API}/groups/", f"{API}/dlq/{DLQ}/plan/"):
        method = client.post if path.endswith("plan/") else client.get
        response = method(path, headers={"Authorization": header.replace("\n", " ").replace("\r", " ")})
        check_api(response)
        assert response.status_code in (401, 429), response.content  # 429: too many bad tokens from one address


# --- actions: JSON bodies -----------------------------------------------------------------------

RECORD_KEYS = st.one_of(st.sampled_from(["0:0", "0:1", "0:9", "1:0"]), HOSTILE_TEXT, NUMBERS, JSON_VALUES)
BODY_FIELDS = {
    "mode": st.one_of(st.sampled_from(["selected", "filter", "range"]), JSON_VALUES),
    "records": st.one_of(st.lists(RECORD_KEYS, max_size=5), JSON_VALUES),
    "partition": st.one_of(NUMBERS, HOSTILE_TEXT, JSON_VALUES),
    "start": st.one_of(NUMBERS, HOSTILE_TEXT, JSON_VALUES),
    "end": st.one_of(NUMBERS, HOSTILE_TEXT, JSON_VALUES),
    "filter": st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                "status": value(*DLQ_STATUS_FILTERS),
                "exception": HOSTILE_TEXT,
                "since": HOSTILE_TEXT,
                "until": HOSTILE_TEXT,
                "q": HOSTILE_TEXT,
                "page": st.one_of(HOSTILE_TEXT, NUMBERS),
            },
        ),
        JSON_VALUES,
    ),
    "force": JSON_VALUES,
    "rate_limit": st.one_of(NUMBERS, st.floats(), JSON_VALUES),
    "reason": st.one_of(HOSTILE_TEXT, JSON_VALUES),
    "confirm": st.one_of(st.just(True), JSON_VALUES),
}
BODIES = st.fixed_dictionaries({}, optional=BODY_FIELDS)
RAW_BODIES = st.one_of(
    st.binary(max_size=200),
    JSON_VALUES.map(json.dumps).map(str.encode),
    st.sampled_from(
        [
            b"",
            b"\xff\xfe\x00",
            b"[" * 100_000,
            b'{"mode": ' + b"[" * 100_000,
            b"null",
            b"NaN",
            b'{"mode": "selected", "records": ["0:1"]' + b" " * 10,
            json.dumps({"mode": "range", "partition": 0, "start": 0, "end": 10**30}).encode(),
        ]
    ),
)


@pytest.fixture
def fake_plan(monkeypatch):
    """The plan's broker read is replaced for these property tests only (validation is what they test;
    test_plan_that_reaches_the_unreachable_broker below runs the real one once)."""
    reached = []

    def plan(cluster, topic, selection, force=False):
        reached.append(selection)
        return engine.Plan(topic)

    monkeypatch.setattr(dlq_service, "plan", plan)
    return reached


@pytest.mark.parametrize("action", ["plan", "reprocess", "resolve"])
def test_action_bodies(operator, fake_plan, no_background_runs, action):
    path = f"{API}/dlq/{DLQ}/{action}/"

    @BOUNDED
    @given(body=BODIES)
    def run(body):
        response = operator.post(path, json.dumps(body), content_type="application/json")
        check_api(response)
        if action == "reprocess" and body.get("confirm") is not True:
            assert response.status_code == 400
        if action == "resolve" and response.status_code == 200:
            assert str(body.get("reason", "")).strip()

    run()


@pytest.mark.parametrize("action", ["plan", "reprocess", "resolve"])
def test_action_raw_bodies(operator, fake_plan, no_background_runs, action):
    path = f"{API}/dlq/{DLQ}/{action}/"

    @BOUNDED
    @given(raw=RAW_BODIES, content_type=st.sampled_from(["application/json", "text/plain", "text/html"]))
    def run(raw, content_type):
        check_api(operator.post(path, raw, content_type=content_type))

    run()


@pytest.mark.parametrize("action", ["plan", "reprocess", "resolve"])
@pytest.mark.parametrize("topic", ["orders", "nope-dlq", "", "..", "<script>-dlq", "x" * 300])
def test_actions_on_what_is_not_a_dlq_are_404(operator, action, topic):
    response = operator.post(f"{API}/dlq/{segment(topic)}/{action}/", "{}", content_type="application/json")
    check_api(response)
    assert response.status_code == 404


def test_actions_need_an_operator(viewer):
    for action in ("plan", "reprocess", "resolve"):
        response = viewer.post(f"{API}/dlq/{DLQ}/{action}/", "{}", content_type="application/json")
        check_api(response)
        assert response.status_code == 403


# --- regressions found by these tests ----------------------------------------------------------


@pytest.mark.parametrize("digits", ["²", "¹²", "\u0663"])
def test_unicode_digits_are_a_400_not_a_500(viewer, operator, fake_plan, digits):
    """str.isdigit() accepts '²', int() does not: every number parser must refuse it with a 400."""
    for path, params in (
        (f"{API}/groups/", {"page": digits}),
        (f"{API}/topics/", {"page_size": digits}),
        (f"{API}/dlq/{DLQ}/records/", {"since": digits}),
    ):
        response = viewer.get(path, params)
        check_api(response)
        assert response.status_code == 400
    for body in ({"mode": "selected", "records": [f"{digits}:1"]}, {"mode": "filter", "filter": {"page": digits}}):
        response = operator.post(f"{API}/dlq/{DLQ}/plan/", json.dumps(body), content_type="application/json")
        check_api(response)
        assert response.status_code == 400


@pytest.mark.parametrize("moment", ["999999999999999", "9999-12-31T23:59:59-23:59", "253402300800000"])
def test_timestamps_beyond_the_year_9999_are_a_400(viewer, moment):
    for name in ("since", "until"):
        response = viewer.get(f"{API}/dlq/{DLQ}/records/", {name: moment})
        body = check_api(response)
        assert response.status_code == 400 and "timestamp" in body["error"]


def test_deeply_nested_json_is_a_400(operator):
    response = operator.post(f"{API}/dlq/{DLQ}/plan/", b"[" * 100_000, content_type="application/json")
    check_api(response)
    assert response.status_code == 400


def test_body_beyond_the_upload_limit_is_413(operator):
    body = json.dumps({"records": ["0:1"], "reason": "x" * (3 * 1024 * 1024)})
    response = operator.post(f"{API}/dlq/{DLQ}/resolve/", body, content_type="application/json")
    check_api(response)
    assert response.status_code == 413


def test_resolving_thousands_of_records_at_once(operator):
    """Used to build one OR per key: SQLite refused beyond ~1000 ("Expression tree is too large")."""
    records = [f"{p}:{o}" for p in range(3) for o in range(15_000)]
    body = json.dumps({"records": records, "reason": "bulk"})
    response = operator.post(f"{API}/dlq/{DLQ}/resolve/", body, content_type="application/json")
    assert check_api(response) == {"resolved": 10, "requested": 45_000}
    assert DlqRecord.objects.filter(topic=DLQ, status="resolved").count() == 10


def test_resolving_partitions_and_offsets_beyond_64_bits(operator):
    """Beyond Kafka's int32 partitions and int64 offsets: a clear 400, nothing resolved."""
    before = DlqRecord.objects.filter(status="resolved").count()
    for records, message in (
        (["0:" + "9" * 19], "offsets are whole numbers from 0 to 9,223,372,036,854,775,807"),
        (["2147483648:0"], "partitions are whole numbers from 0 to 2,147,483,647"),
    ):
        body = json.dumps({"records": records, "reason": "x"})
        response = operator.post(f"{API}/dlq/{DLQ}/resolve/", body, content_type="application/json")
        assert response.status_code == 400
        assert check_api(response) == {"error": message}
    assert DlqRecord.objects.filter(status="resolved").count() == before


def test_plan_that_reaches_the_unreachable_broker(operator):
    """The real plan, once: the broker cannot be reached, and the answer says so (no 500)."""
    body = {"mode": "selected", "records": ["0:1"]}
    response = operator.post(f"{API}/dlq/{DLQ}/plan/", json.dumps(body), content_type="application/json")
    answer = check_api(response, allow_unavailable=True)
    if response.status_code == 200:
        assert answer["errors"] and answer["would_send"] == 0


def test_reprocess_is_recorded_only_when_valid(operator, no_background_runs):
    before = ReprocessRun.objects.count()
    body = {"mode": "range", "partition": 0, "start": 5, "end": 1, "confirm": True}
    check_api(operator.post(f"{API}/dlq/{DLQ}/reprocess/", json.dumps(body), content_type="application/json"))
    assert ReprocessRun.objects.count() == before
    body = {"mode": "range", "partition": 0, "start": 1, "end": 5, "confirm": True, "rate_limit": 10}
    response = operator.post(f"{API}/dlq/{DLQ}/reprocess/", json.dumps(body), content_type="application/json")
    assert check_api(response)["state"] == "running" and response.status_code == 202
    assert ReprocessRun.objects.count() == before + 1
