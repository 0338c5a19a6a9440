"""The JSON API over a hand-built snapshot in the store: shapes, values, paging, errors, auth."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from io import StringIO
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from dashboard.clusters import configured_clusters, default_cluster
from dashboard.management.commands.create_api_token import Command as CreateApiToken
from dashboard.models import ApiToken, GroupSample
from dashboard.state import store
from kafka_admin.figures.tracker import FigureTracker
from kafka_admin.snapshot.model import (
    Broker,
    ClusterSnapshot,
    Group,
    Member,
    PartitionInfo,
    PartitionOffsets,
    SnapshotError,
    Topic,
    TopicPartitionRef,
)

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Secret-4711"
WEIRD_GROUP = '<script>alert("x")</script>/a b?c#d%2F&\'é'
WEIRD_TOPIC = "<b>\"q'&amp;</b> x?y#z%41"
ENVELOPE = {"cluster", "stale", "age_s", "stale_reason", "stale_since", "collected_at"}
PAGING = {"count", "page", "pages", "page_size", "results"}
GROUP_FIELDS = {
    "group_id",
    "state",
    "type",
    "protocol",
    "coordinator",
    "assignor",
    "members",
    "offsets",
    "share_partitions",
    "delivery_count_limit",
    "streams",
    "connect",
    "total_lag",
}
GROUP_FIGURES = {
    "time_lag_s",
    "time_lag_lower_bound",
    "commit_rate",
    "produce_rate",
    "trend",
    "catch_up_s",
    "catch_up_reason",
    "status",
    "status_severity",
}


def cluster_name() -> str:
    return default_cluster().name


def cycle(at: datetime, i: int) -> ClusterSnapshot:
    """Cycle i (20 s apart): orders grows 200 per partition per cycle, billing commits 100 per partition."""

    def part(p, leader, replicas, isr, start, end):
        return PartitionInfo(p, leader, replicas, isr, start, end)

    orders = Topic(
        "orders",
        False,
        (part(0, 1, (1, 2), (1, 2), 0, 1000 + 200 * i), part(1, 2, (2, 1), (2,), 100, 2000 + 200 * i)),
    )
    payments = Topic("payments", False, (part(0, None, (1,), (), 0, 500),))
    weird = Topic(WEIRD_TOPIC, False, (part(0, 1, (1,), (1,), 0, 10),))
    internal = Topic("__consumer_offsets", True, (part(0, 1, (1,), (1,), 0, 7),))
    c0, c1 = 900 + 100 * i, 1900 + 100 * i
    billing = Group(
        "billing",
        "Stable",
        "classic",
        1,
        "range",
        members=(
            Member("m-1", "billing-1", "/10.0.0.1", (TopicPartitionRef("orders", 0),)),
            Member("m-2", "billing-2", "/10.0.0.2", (TopicPartitionRef("orders", 1),)),
        ),
        offsets=(
            PartitionOffsets("orders", 0, c0, 1000 + 200 * i, 1000 + 200 * i - c0),
            PartitionOffsets("orders", 1, c1, 2000 + 200 * i, 2000 + 200 * i - c1),
        ),
    )
    audit = Group("audit", "Empty", "classic", 2, None, offsets=(PartitionOffsets("payments", 0, 500, 500, 0),))
    odd = Group(
        WEIRD_GROUP,
        "Stable",
        "consumer",
        1,
        "uniform",
        members=(Member("m-<x>", "cli\"'", "/10.0.0.3", (TopicPartitionRef(WEIRD_TOPIC, 0),)),),
        offsets=(PartitionOffsets(WEIRD_TOPIC, 0, 5, 10, 5),),
    )
    return ClusterSnapshot(
        cluster=cluster_name(),
        collected_at=at,
        duration_ms=12.0,
        requests=9,
        cluster_id="abc-123",
        controller_id=1,
        brokers=(Broker(1, "kafka-1", 9092, "r1"), Broker(2, "kafka-2", 9093, None)),
        topics=(internal, orders, payments, weird),
        groups=(billing, audit, odd),
        errors=(SnapshotError("partition", "payments/0", "offline partition"),),
    )


@pytest.fixture(autouse=True)
def isolated(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def loaded(now):
    """Three cycles, 20 s apart, through a real FigureTracker; the last one (now) is in the store."""
    tracker = FigureTracker()
    for i in range(3):
        snap = cycle(now - timedelta(seconds=40 - 20 * i), i)
        figures = tracker.update(snap)
    store.save(snap, figures)
    return snap, figures


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("alice", password=PASSWORD)


def make_token(username: str = "alice", *extra: str) -> str:
    out = StringIO()
    call_command("create_api_token", username, *extra, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


@pytest.fixture
def token(user) -> str:
    return make_token()


class Api:
    """A test client that checks what every API answer must be: JSON, not cached, free of secrets."""

    def __init__(self, client: Client, secrets: tuple[str, ...] = ()) -> None:
        self.client = client
        self.secrets = secrets

    def request(self, method: str, path: str, params=None, **headers):
        response = getattr(self.client, method)(path, params or {}, headers=headers)
        assert response["Content-Type"] == "application/json", (path, response.status_code)
        assert response["Cache-Control"] == "no-store"
        text = response.content.decode()
        for secret in (*self.secrets, PASSWORD):
            assert secret not in text
        body = json.loads(text)
        if response.status_code >= 400:
            assert set(body) == {"error"} and body["error"]
        return response, body

    def get(self, path: str, params=None, status: int = 200, **headers) -> dict:
        response, body = self.request("get", path, params, **headers)
        assert response.status_code == status, body
        return body


@pytest.fixture
def api(token) -> Api:
    return Api(Client(headers={"Authorization": f"Bearer {token}"}), (token,))


@pytest.fixture
def anon() -> Api:
    return Api(Client())


def base() -> str:
    return f"/api/v1/clusters/{cluster_name()}/"


def group_url(group_id: str) -> str:
    return f"{base()}groups/{quote(group_id, safe='')}/"


def topic_url(name: str) -> str:
    return f"{base()}topics/{quote(name, safe='')}/"


ALL_PATHS = [
    "/api/v1/clusters/",
    "{base}",
    "{base}brokers/",
    "{base}topics/",
    "{base}topics/orders/",
    "{base}groups/",
    "{base}groups/billing/",
]


def paths() -> list[str]:
    return [p.format(base=base()) for p in ALL_PATHS]


# --- authentication -------------------------------------------------------------------------------


class TestAuthentication:
    @pytest.mark.parametrize("path", ALL_PATHS)
    def test_401_without_credentials(self, anon, loaded, path):
        body = anon.get(path.format(base=base()), status=401)
        assert "authentication required" in body["error"]

    def test_401_with_a_wrong_token(self, anon, loaded, token):
        response, body = anon.request("get", "/api/v1/clusters/", Authorization="Bearer kd_wrong")
        assert response.status_code == 401
        assert body == {"error": "invalid token"}
        assert "invalid_token" in response["WWW-Authenticate"]

    def test_401_with_a_wrong_token_even_when_anonymous_reads_are_allowed(self, anon, loaded, settings):
        settings.ALLOW_ANONYMOUS_READ = True
        assert anon.get("/api/v1/clusters/", status=401, Authorization="Bearer nope") == {"error": "invalid token"}

    def test_401_with_an_empty_or_oversized_bearer_token(self, anon, loaded):
        assert anon.get("/api/v1/clusters/", status=401, Authorization="Bearer ")["error"] == "invalid token"
        assert anon.get("/api/v1/clusters/", status=401, Authorization="Bearer " + "x" * 5000)["error"] == (
            "invalid token"
        )

    def test_401_with_another_scheme(self, anon, loaded):
        body = anon.get("/api/v1/clusters/", status=401, Authorization="Basic YWxpY2U6cHc=")
        assert "Bearer" in body["error"]

    @pytest.mark.parametrize("path", ALL_PATHS)
    def test_200_with_a_token_from_create_api_token(self, api, loaded, path):
        api.get(path.format(base=base()))

    def test_scheme_is_case_insensitive(self, anon, loaded, token):
        anon.secrets = (token,)
        anon.get("/api/v1/clusters/", Authorization=f"bearer {token}")

    def test_token_of_an_inactive_user_is_refused(self, anon, loaded, user, token):
        user.is_active = False
        user.save()
        assert anon.get("/api/v1/clusters/", status=401, Authorization=f"Bearer {token}")["error"] == "invalid token"

    def test_last_used_is_recorded_at_most_once_a_minute(self, api, loaded, token):
        row = ApiToken.objects.get()
        assert row.last_used_at is None
        api.get("/api/v1/clusters/")
        row.refresh_from_db()
        first = row.last_used_at
        assert first is not None
        api.get("/api/v1/clusters/")
        row.refresh_from_db()
        assert row.last_used_at == first
        ApiToken.objects.update(last_used_at=first - timedelta(minutes=2))
        api.get("/api/v1/clusters/")
        row.refresh_from_db()
        assert row.last_used_at > first - timedelta(minutes=1)

    def test_session_login_works(self, loaded, user):
        client = Client()
        assert client.login(username="alice", password=PASSWORD)
        body = Api(client).get(base() + "groups/")
        assert body["count"] == 3

    def test_anonymous_reads_when_allowed(self, anon, loaded, settings):
        settings.ALLOW_ANONYMOUS_READ = True
        assert anon.get(base() + "topics/")["count"] == 3


class TestCreateApiToken:
    def test_prints_the_token_once_and_stores_only_digest_and_prefix(self, user):
        out, err = StringIO(), StringIO()
        call_command("create_api_token", "alice", "--name", "grafana", stdout=out, stderr=err)
        token = out.getvalue().strip()
        assert token.startswith("kd_") and len(token) > 40
        assert token not in err.getvalue()
        row = ApiToken.objects.get()
        assert (row.user, row.name, row.prefix) == (user, "grafana", token[:8])
        assert row.digest == hashlib.sha256(token.encode()).hexdigest()
        assert token not in {row.name, row.prefix, row.digest}

    def test_each_call_makes_a_new_token(self, user):
        assert make_token() != make_token()
        assert ApiToken.objects.count() == 2

    def test_unknown_user_is_a_clear_error(self, db):
        with pytest.raises(CommandError, match="no user named 'nobody'"):
            call_command("create_api_token", "nobody", stdout=StringIO())
        assert not ApiToken.objects.exists()

    def test_unknown_user_exits_with_status_1(self, db, capsys):
        with pytest.raises(SystemExit) as exit_info:
            CreateApiToken().run_from_argv(["manage.py", "create_api_token", "nobody"])
        assert exit_info.value.code == 1
        assert "no user named 'nobody'" in capsys.readouterr().err

    def test_inactive_user_is_refused(self, user):
        user.is_active = False
        user.save()
        with pytest.raises(CommandError, match="inactive"):
            make_token()


# --- errors ---------------------------------------------------------------------------------------


class TestErrors:
    @pytest.mark.parametrize("suffix", ["", "brokers/", "topics/", "topics/orders/", "groups/", "groups/billing/"])
    def test_unknown_cluster_is_404_json(self, api, loaded, suffix):
        body = api.get(f"/api/v1/clusters/nope/{suffix}", status=404)
        assert body == {"error": "unknown cluster: nope"}

    def test_unknown_topic_and_group_are_404_json(self, api, loaded):
        assert api.get(topic_url("missing"), status=404) == {"error": "unknown topic: missing"}
        assert api.get(group_url("missing"), status=404) == {"error": "unknown consumer group: missing"}

    def test_unmatched_api_path_is_404_json(self, api, anon):
        assert "no such API endpoint" in api.get("/api/v2/whatever/", status=404)["error"]
        assert "no such API endpoint" in anon.get("/api/", status=404)["error"]

    def test_missing_slash_gets_a_hint(self, api):
        body = api.get("/api/v1/clusters", status=404)
        assert "end with a slash" in body["error"]

    @pytest.mark.parametrize(
        ("path", "params", "message"),
        [
            ("groups/", {"sort": "bogus"}, "sort must be one of lag, time_lag, name, members, state"),
            ("groups/", {"order": "up"}, "order must be one of asc, desc"),
            ("groups/", {"state": "Sleepy"}, "state must be one of"),
            ("groups/", {"page": "0"}, "page must be a whole number from 1 to"),
            ("groups/", {"page": "abc"}, "page must be a whole number from 1 to"),
            ("groups/", {"page_size": "0"}, "page_size must be a whole number from 1 to 500"),
            ("groups/", {"page_size": "501"}, "page_size must be a whole number from 1 to 500"),
            ("groups/", {"q": "x" * 201}, "q is too long"),
            ("topics/", {"sort": "size"}, "sort must be one of name, partitions, records, rate, groups"),
            ("topics/", {"internal": "yes"}, "internal must be one of 0, 1"),
            ("brokers/", {"page": "-1"}, "page must be a whole number"),
            ("groups/billing/", {"range": "1y"}, "range must be one of 1h, 24h, 7d"),
        ],
    )
    def test_bad_parameters_are_400_json(self, api, loaded, path, params, message):
        assert message in api.get(base() + path, params, status=400)["error"]

    def test_clusters_list_checks_paging_too(self, api, loaded):
        assert "page_size" in api.get("/api/v1/clusters/", {"page_size": "x"}, status=400)["error"]

    @pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
    def test_other_methods_are_405_json_even_without_a_csrf_token(self, loaded, user, method):
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        response, body = Api(client).request(method, base() + "groups/")
        assert response.status_code == 405
        assert "read-only" in body["error"]
        assert response["Allow"] == "GET, HEAD"

    def test_head_is_allowed(self, api, loaded):
        response = api.client.head(base() + "groups/")
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"

    def test_no_data_yet_is_503_json(self, api):
        body = api.get(base() + "groups/", status=503)
        assert "no data" in body["error"]
        api.get(group_url("billing"), status=503)

    def test_a_bug_is_a_json_500_not_an_html_page(self, api, loaded, monkeypatch):
        def boom(*args, **kwargs):
            raise RuntimeError("secret detail")

        monkeypatch.setattr("dashboard.monitor.api.filtered_groups", boom)
        body = api.get(base() + "groups/", status=500)
        assert "secret detail" not in body["error"]


# --- endpoints ------------------------------------------------------------------------------------


class TestClusters:
    def test_list(self, api, loaded):
        snap, figures = loaded
        body = api.get("/api/v1/clusters/")
        assert (body["count"], body["page"], body["pages"], body["page_size"]) == (1, 1, 1, 50)
        [c] = body["results"]
        assert c["name"] == cluster_name()
        assert c["bootstrap_servers"] == default_cluster().bootstrap_servers
        assert (c["reachable"], c["stale"], c["stale_reason"]) == (True, False, None)
        assert 0 <= c["age_s"] < 60
        assert c["collected_at"] == snap.collected_at.isoformat()
        assert c["cluster_id"] == "abc-123"
        assert (c["broker_count"], c["topic_count"], c["partition_count"], c["group_count"]) == (2, 3, 5, 3)
        assert (c["under_replicated_partitions"], c["offline_partitions"]) == (2, 1)
        assert c["produce_rate"] == pytest.approx(figures.produce_rate)

    def test_before_the_first_cycle(self, api):
        [c] = api.get("/api/v1/clusters/")["results"]
        assert (c["reachable"], c["stale"], c["age_s"], c["collected_at"], c["group_count"]) == (
            None,
            False,
            None,
            None,
            None,
        )

    def test_detail(self, api, loaded):
        body = api.get(base())
        assert set(body) >= ENVELOPE
        assert body["cluster"] == body["name"] == cluster_name()
        assert body["controller_id"] == 1
        assert body["errors"] == [{"scope": "partition", "name": "payments/0", "message": "offline partition"}]


class TestBrokers:
    def test_list(self, api, loaded):
        body = api.get(base() + "brokers/")
        assert set(body) == ENVELOPE | PAGING
        assert body["results"] == [
            {"id": 1, "host": "kafka-1", "port": 9092, "rack": "r1", "controller": True, "leader_partitions": 3},
            {"id": 2, "host": "kafka-2", "port": 9093, "rack": None, "controller": False, "leader_partitions": 1},
        ]

    def test_paging(self, api, loaded):
        body = api.get(base() + "brokers/", {"page": "2", "page_size": "1"})
        assert (body["count"], body["page"], body["pages"]) == (2, 2, 2)
        assert [b["id"] for b in body["results"]] == [2]


class TestTopics:
    def test_list_has_snapshot_fields_and_figures(self, api, loaded):
        _, figures = loaded
        body = api.get(base() + "topics/")
        assert set(body) == ENVELOPE | PAGING
        assert body["stale"] is False
        assert [t["name"] for t in body["results"]] == [WEIRD_TOPIC, "orders", "payments"]
        orders = body["results"][1]
        assert {"name", "internal", "partitions", "produce_rate", "consumer_groups"} <= set(orders)
        assert orders["internal"] is False
        assert orders["produce_rate"] == pytest.approx(20.0)
        assert orders["produce_rate"] == figures.topics["orders"].produce_rate
        assert orders["consumer_groups"] == ["billing"]
        assert orders["records"] == 1400 + 2300
        assert orders["partitions"][1] == {
            "partition": 1,
            "leader": 2,
            "replicas": [2, 1],
            "isr": [2],
            "start_offset": 100,
            "end_offset": 2400,
            "produce_rate": pytest.approx(10.0),
            "records": 2300,
            "under_replicated": True,
            "offline": False,
        }

    def test_internal_topics_on_request(self, api, loaded):
        names = [t["name"] for t in api.get(base() + "topics/", {"internal": "1"})["results"]]
        assert "__consumer_offsets" in names

    def test_filter_sort_and_paging(self, api, loaded):
        assert [t["name"] for t in api.get(base() + "topics/", {"q": "ORD"})["results"]] == ["orders"]
        body = api.get(base() + "topics/", {"sort": "partitions", "page_size": "1"})
        assert (body["count"], body["pages"], body["results"][0]["name"]) == (3, 3, "orders")
        body = api.get(base() + "topics/", {"sort": "name", "order": "desc", "page": "2", "page_size": "2"})
        assert [t["name"] for t in body["results"]] == [WEIRD_TOPIC]

    def test_page_past_the_end_is_the_last_page(self, api, loaded):
        body = api.get(base() + "topics/", {"page": "9", "page_size": "2"})
        assert (body["page"], len(body["results"])) == (2, 1)

    def test_detail(self, api, loaded):
        body = api.get(topic_url("orders"))
        assert set(body) >= ENVELOPE
        assert body["name"] == "orders"
        assert [p["produce_rate"] for p in body["partitions"]] == [pytest.approx(10.0), pytest.approx(10.0)]
        assert body["consumer_groups"] == ["billing"]
        [consumer] = body["consumers"]
        assert (consumer["group_id"], consumer["state"], consumer["lag"]) == ("billing", "Stable", 600)
        assert consumer["time_lag_s"] == pytest.approx(30.0, abs=1.0)


class TestGroups:
    def test_list_has_snapshot_fields_and_figures(self, api, loaded):
        body = api.get(base() + "groups/")
        assert set(body) == ENVELOPE | PAGING
        assert [g["group_id"] for g in body["results"]] == ["billing", WEIRD_GROUP, "audit"]  # lag, descending
        billing = body["results"][0]
        assert set(billing) == GROUP_FIELDS | GROUP_FIGURES
        assert billing["total_lag"] == 600
        assert billing["members"][0] == {
            "member_id": "m-1",
            "client_id": "billing-1",
            "host": "/10.0.0.1",
            "group_instance_id": None,
            "assignments": [{"topic": "orders", "partition": 0}],
        }

    def test_figures_match_the_tracker(self, api, loaded):
        _, figures = loaded
        f = figures.groups["billing"]
        billing = api.get(base() + "groups/")["results"][0]
        assert billing["commit_rate"] == pytest.approx(10.0) == f.commit_rate
        assert billing["produce_rate"] == pytest.approx(20.0) == f.produce_rate
        assert billing["time_lag_s"] == f.time_lag.seconds == pytest.approx(30.0, abs=1.0)
        assert billing["time_lag_lower_bound"] is False
        assert billing["trend"] == {"direction": "growing", "slope": pytest.approx(f.trend.slope)}
        assert (billing["catch_up_s"], billing["catch_up_reason"]) == (None, "not catching up")
        row = billing["offsets"][0]
        assert {k: row[k] for k in ("topic", "partition", "committed", "end_offset", "lag")} == {
            "topic": "orders",
            "partition": 0,
            "committed": 1100,
            "end_offset": 1400,
            "lag": 300,
        }
        assert row["time_lag_s"] == pytest.approx(f.partition_time_lags[("orders", 0)].seconds)

    def test_caught_up_group(self, api, loaded):
        audit = api.get(base() + "groups/", {"q": "audit"})["results"][0]
        assert (audit["total_lag"], audit["catch_up_s"], audit["catch_up_reason"]) == (0, 0.0, "caught up")

    def test_filter_sort_and_paging(self, api, loaded):
        def ids(**params):
            return [g["group_id"] for g in api.get(base() + "groups/", params)["results"]]

        assert ids(sort="name") == [WEIRD_GROUP, "audit", "billing"]
        assert ids(sort="lag", order="asc") == ["audit", WEIRD_GROUP, "billing"]
        assert ids(state="Empty") == ["audit"]
        assert ids(q="payments") == ["audit"]  # q matches topics too
        body = api.get(base() + "groups/", {"page_size": "2", "page": "2"})
        assert (body["count"], body["page"], body["pages"]) == (3, 2, 2)
        assert [g["group_id"] for g in body["results"]] == ["audit"]

    def test_detail(self, api, loaded):
        body = api.get(group_url("billing"))
        assert set(body) == ENVELOPE | GROUP_FIELDS | GROUP_FIGURES | {"partitions"}
        assert (body["cluster"], body["group_id"], body["state"]) == (cluster_name(), "billing", "Stable")
        assert body["partitions"][1]["member_id"] == "m-2"
        assert body["partitions"][1]["client_id"] == "billing-2"
        assert body["partitions"][1]["lag"] == 300

    def test_history_by_range(self, api, loaded, now):
        def sample(ago: timedelta, lag: int, time_lag: float | None) -> GroupSample:
            return GroupSample(
                cluster=cluster_name(), group_id="billing", ts=now - ago, total_lag=lag, time_lag_s=time_lag
            )

        GroupSample.objects.bulk_create(
            [
                sample(timedelta(days=2), 30, None),
                sample(timedelta(hours=3), 20, 4.5),
                sample(timedelta(minutes=30), 10, 1.5),
                sample(timedelta(days=30), 99, None),
            ]
        )
        GroupSample.objects.create(cluster=cluster_name(), group_id="audit", ts=now, total_lag=1)
        assert "history" not in api.get(group_url("billing"))
        one_hour = api.get(group_url("billing"), {"range": "1h"})
        assert one_hour["range"] == "1h"
        assert one_hour["history"] == [
            {"t": (now - timedelta(minutes=30)).isoformat(), "total_lag": 10, "time_lag_s": 1.5}
        ]
        assert [p["total_lag"] for p in api.get(group_url("billing"), {"range": "24h"})["history"]] == [20, 10]
        assert [p["total_lag"] for p in api.get(group_url("billing"), {"range": "7d"})["history"]] == [30, 20, 10]


class TestOddNames:
    def test_group_id_round_trips(self, api, loaded):
        body = api.get(group_url(WEIRD_GROUP))
        assert body["group_id"] == WEIRD_GROUP
        assert body["members"][0]["member_id"] == "m-<x>"
        assert body["members"][0]["client_id"] == "cli\"'"
        assert body["offsets"][0]["topic"] == WEIRD_TOPIC
        listed = api.get(base() + "groups/", {"q": "<script>"})["results"]
        assert [g["group_id"] for g in listed] == [WEIRD_GROUP]

    def test_topic_name_round_trips(self, api, loaded):
        body = api.get(topic_url(WEIRD_TOPIC))
        assert body["name"] == WEIRD_TOPIC
        assert body["consumer_groups"] == [WEIRD_GROUP]

    def test_unknown_odd_group_is_404(self, api, loaded):
        assert api.get(group_url(WEIRD_GROUP + "x"), status=404)["error"] == f"unknown consumer group: {WEIRD_GROUP}x"

    def test_group_id_ending_in_a_slash(self, api, now):
        snap = cycle(now, 0)
        store.save(replace(snap, groups=(Group("g/", "Empty"),)))
        assert api.get(group_url("g/"))["group_id"] == "g/"


# --- stale data ----------------------------------------------------------------------------------


class TestStale:
    def unreachable(self, at: datetime, message: str) -> ClusterSnapshot:
        return ClusterSnapshot(
            cluster=cluster_name(),
            collected_at=at,
            duration_ms=2000.0,
            requests=1,
            reachable=False,
            errors=(SnapshotError("cluster", cluster_name(), message),),
        )

    def test_unreachable_cycle_keeps_the_last_good_data_and_says_stale(self, api, loaded, now):
        snap, _ = loaded
        store.save(self.unreachable(now, "cluster unreachable at kafka-1:9092: connection refused"))
        for path in paths()[1:]:
            body = api.get(path)
            assert body["stale"] is True, path
            assert body["stale_reason"] == "cluster unreachable at kafka-1:9092: connection refused"
            assert body["stale_since"] == now.isoformat()
            assert body["collected_at"] == snap.collected_at.isoformat()
            assert 0 <= body["age_s"] < 60
        assert api.get(base() + "groups/")["count"] == 3
        assert api.get(group_url("billing"))["total_lag"] == 600
        [c] = api.get("/api/v1/clusters/")["results"]
        assert (c["reachable"], c["stale"], c["group_count"]) == (False, True, 3)

    def test_unreachable_before_any_data(self, api, now):
        store.save(self.unreachable(now, "cluster unreachable: no brokers"))
        [c] = api.get("/api/v1/clusters/")["results"]
        assert (c["reachable"], c["stale"], c["stale_reason"], c["collected_at"]) == (
            False,
            True,
            "cluster unreachable: no brokers",
            None,
        )
        assert "no brokers" in api.get(base() + "topics/", status=503)["error"]

    def test_a_configured_password_never_leaks_through_a_reason(self, token, monkeypatch, now):
        secret = "kafka-Pa55word"
        for key, value in {
            "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "KAFKA_SASL_MECHANISM": "PLAIN",
            "KAFKA_SASL_USERNAME": "dash",
            "KAFKA_SASL_PASSWORD": secret,
        }.items():
            monkeypatch.setenv(key, value)
        configured_clusters.cache_clear()
        try:
            client = Api(Client(headers={"Authorization": f"Bearer {token}"}), (token, secret))
            store.save(cycle(now, 0))
            store.save(self.unreachable(now, f"SASL authentication failed for dash/{secret}"))
            assert client.get(base())["stale_reason"] == "SASL authentication failed for dash/***"
            client.get("/api/v1/clusters/")
        finally:
            monkeypatch.undo()
            configured_clusters.cache_clear()
