"""Schema-aware payloads against the real broker and a real registry (Apicurio, scripts/registry.sh):
records written by confluent-kafka's Avro, Protobuf and JSON Schema serializers decode on every page
that shows them; evolution, unknown ids, garbage and a registry lost mid-session show the bytes and
a reason, never an error page."""

from __future__ import annotations

import html
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from dashboard.poller.loop import Poller
from kafka_admin.schemas.decoder import decoder_for
from tests.dlq_support import spring_headers
from tests.registry_support import ORDER_V1, ORDER_V2, avro_bytes, json_bytes, protobuf_bytes
from tests.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def viewer() -> Client:
    user = get_user_model().objects.create_user("viewer", password="pw-viewer-123")
    user.groups.add(Group.objects.get(name="viewers"))
    client = Client()
    client.force_login(user)
    return client


def produce(kafka, topic: str, records: list[tuple[bytes | None, bytes | None]], headers=None) -> None:
    p = kafka.producer(acks="all")
    for key, value in records:
        p.produce(topic, key=key, value=value, partition=0, headers=headers or [])
    assert p.flush(30) == 0


def browse(client: Client, topic: str, partition: int = 0) -> str:
    response = client.get(reverse("topic", args=["test", topic]), {"partition": str(partition), "seek": "oldest"})
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def sid(data: bytes) -> int:
    return int.from_bytes(data[1:5], "big")


class TestMessageBrowser:
    def test_avro_protobuf_and_json_schema_decode(self, kafka, schema_registry, sr_cluster, viewer):
        client = schema_registry.client()
        orders, payments, shipments = (kafka.create_topic() for _ in range(3))
        key = avro_bytes(client, orders, {"type": "string"}, "order-1", is_key=True)
        value = avro_bytes(client, orders, ORDER_V1, {"id": 41, "item": "lamp"})
        produce(kafka, orders, [(key, value)])
        pb = protobuf_bytes(client, payments, id=7, amount=12.5, currency="EUR")
        produce(kafka, payments, [(None, pb)])
        js = json_bytes(client, shipments, {"n": 3})
        produce(kafka, shipments, [(None, js)])

        page = browse(viewer, orders)
        assert '"item": "lamp"' in page and '"id": 41' in page
        assert f"AVRO · schema id {sid(value)} · subject {orders}-value v1" in page
        assert f"subject {orders}-key v1" in page and '"order-1"' in page
        page = browse(viewer, payments)
        assert '"currency": "EUR"' in page and '"amount": 12.5' in page
        assert f"PROTOBUF · schema id {sid(pb)} · subject {payments}-value v1" in page
        page = browse(viewer, shipments)
        assert '"n": 3' in page and f"JSON · schema id {sid(js)} · subject {shipments}-value v1" in page

    def test_two_versions_of_one_subject(self, kafka, schema_registry, sr_cluster, viewer):
        client = schema_registry.client()
        topic = kafka.create_topic()
        v1 = avro_bytes(client, topic, ORDER_V1, {"id": 1, "item": "old"})
        v2 = avro_bytes(client, topic, ORDER_V2, {"id": 2, "item": "new", "qty": 5})
        assert sid(v1) != sid(v2)
        produce(kafka, topic, [(None, v1), (None, v2)])
        page = browse(viewer, topic)
        assert f"schema id {sid(v1)} · subject {topic}-value v1" in page and '"item": "old"' in page
        assert f"schema id {sid(v2)} · subject {topic}-value v2" in page and '"qty": 5' in page

    def test_unknown_id_and_garbage_show_bytes_and_a_reason(self, kafka, schema_registry, sr_cluster, viewer):
        client = schema_registry.client()
        topic = kafka.create_topic()
        good = avro_bytes(client, topic, ORDER_V1, {"id": 9, "item": "fine"})
        unknown = b"\x00" + (987654).to_bytes(4, "big") + b"\x02\x04ab"
        garbage = good[:5] + b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"
        produce(kafka, topic, [(None, unknown), (None, garbage), (None, good)])
        page = browse(viewer, topic)
        assert "schema id 987654 · not decoded: schema id 987654 is not in the schema registry" in page
        assert f"AVRO · schema id {sid(good)} · not decoded: does not decode with schema id {sid(good)}" in page
        assert '"item": "fine"' in page  # the rest of the page is unaffected
        assert "00000000  00 00 0f 12 06" in page  # the unknown one as its hex dump

    def test_registry_down_mid_session(self, kafka, schema_registry, monkeypatch, dashboard_cluster, viewer):
        from dashboard.clusters import configured_clusters

        with TcpProxy("127.0.0.1", schema_registry.port) as proxy:
            monkeypatch.setenv("KAFKA_SCHEMA_REGISTRY_URL", f"http://{proxy.address}/apis/ccompat/v7")
            configured_clusters.cache_clear()
            decoder_for.cache_clear()
            client = schema_registry.client()
            topic = kafka.create_topic()
            seen = avro_bytes(client, topic, ORDER_V1, {"id": 1, "item": "cached"})
            produce(kafka, topic, [(None, seen)])
            assert '"item": "cached"' in browse(viewer, topic)
            proxy.stop()
            # A schema this process has not met yet: the registry is gone, so the bytes show.
            new = avro_bytes(client, topic, ORDER_V2, {"id": 2, "item": "fresh", "qty": 2})
            produce(kafka, topic, [(None, new)])
            page = browse(viewer, topic)
        decoder_for.cache_clear()
        configured_clusters.cache_clear()
        assert '"item": "cached"' in page  # decoded from the cache
        assert f"schema id {sid(new)} · not decoded: schema registry unreachable" in page


class TestDlqPages:
    def test_avro_dead_letter_decodes_on_record_triage_and_api(self, kafka, schema_registry, sr_cluster, viewer):
        client = schema_registry.client()
        original = kafka.create_topic()
        dlq = kafka.create_topic(f"{original}-dlq")
        value = avro_bytes(client, original, ORDER_V1, {"id": 77, "item": "poison-pill"})
        headers = spring_headers(original, 0, 5, "com.example.PoisonException", "bad order")
        produce(kafka, dlq, [(b"k-77", value)], headers=headers)
        Poller(sr_cluster, 1.0).cycle()

        record = viewer.get(reverse("dlq_record", args=["test", dlq, 0, 0]))
        assert record.status_code == 200
        page = html.unescape(record.content.decode())
        assert '"item": "poison-pill"' in page and f"subject {original}-value v1" in page

        # Triage searches the decoded value (the bytes hold "poison-pill" only after a length byte).
        found = viewer.get(reverse("dlq_topic", args=["test", dlq]), {"q": '"item": "poison-pill"'}).content.decode()
        assert "1 matches the filter" in found and "k-77" in found

        api = viewer.get(f"/api/v1/clusters/test/dlq/{dlq}/records/")
        assert api.status_code == 200
        [row] = api.json()["results"]
        assert json.loads(row["value_preview"]) == {"id": 77, "item": "poison-pill"}
        one = viewer.get(f"/api/v1/clusters/test/dlq/{dlq}/records/0/0/").json()
        assert one["value"]["json"] == {"id": 77, "item": "poison-pill"}
        assert one["value"]["schema"]["subject"] == f"{original}-value" and one["value"]["schema"]["version"] == 1
        assert one["value"]["schema"]["id"] == sid(value) and one["value"]["schema"]["format"] == "AVRO"
        assert one["key"]["schema"] is None and one["key"]["text"] == "k-77"


class TestSchemasPage:
    def test_subjects_versions_compatibility_and_topics(self, kafka, schema_registry, sr_cluster, viewer):
        client = schema_registry.client()
        topic = kafka.create_topic()
        avro_bytes(client, topic, ORDER_V1, {"id": 1, "item": "a"})
        avro_bytes(client, topic, ORDER_V2, {"id": 2, "item": "b", "qty": 1})
        client.set_compatibility(f"{topic}-value", "FULL")
        Poller(sr_cluster, 1.0).cycle()  # the topics column comes from the snapshot
        response = viewer.get(reverse("schemas", args=["test"]), {"subject": f"{topic}-value"})
        assert response.status_code == 200
        page = response.content.decode()
        row = page[page.index(f"{topic}-value") :].split("</tr>")[0]
        assert "<td>1, 2</td>" in row and "FULL" in row and f'href="/c/test/topics/{topic}/"' in row

    def test_without_a_registry_the_page_says_how_to_configure_one(self, dashboard_cluster, viewer):
        page = viewer.get(reverse("schemas", args=["test"])).content.decode()
        assert "KAFKA_SCHEMA_REGISTRY_URL" in page

    def test_registry_down_is_a_message_not_an_error_page(self, monkeypatch, dashboard_cluster, viewer):
        from dashboard.clusters import configured_clusters
        from tests.kafka_support import free_port

        monkeypatch.setenv("KAFKA_SCHEMA_REGISTRY_URL", f"http://127.0.0.1:{free_port()}")
        configured_clusters.cache_clear()
        decoder_for.cache_clear()
        response = viewer.get(reverse("schemas", args=["test"]))
        configured_clusters.cache_clear()
        decoder_for.cache_clear()
        assert response.status_code == 200 and "schema registry unreachable" in response.content.decode()


class TestCompatibilityDryRun:
    def test_records_whose_schema_the_subject_no_longer_accepts(self, kafka, schema_registry, sr_cluster):
        from dashboard.clusters import schema_decoder
        from kafka_admin.schemas.catalog import refused_schemas, schema_counts

        client = schema_registry.client()
        topic = kafka.create_topic()
        old = avro_bytes(client, topic, ORDER_V1, {"id": 1, "item": "a"})
        client.set_compatibility(f"{topic}-value", "NONE")
        changed = dict(ORDER_V1, fields=[{"name": "id", "type": "long"}, {"name": "item", "type": "int"}])
        new = avro_bytes(client, topic, changed, {"id": 2, "item": 5})
        client.set_compatibility(f"{topic}-value", "BACKWARD")
        decoder = schema_decoder("test")
        refusals, error = refused_schemas(decoder, topic, schema_counts([old, old, new, b"plain", None]))
        assert error is None
        assert [r.line() for r in refusals] == [
            f"2 records use schema id {sid(old)}, which {topic}-value no longer accepts"
        ]

    def test_plan_page_says_so_and_reprocess_keeps_the_bytes(self, kafka, schema_registry, sr_cluster):
        client = schema_registry.client()
        original = kafka.create_topic()
        dlq = kafka.create_topic(f"{original}-dlq")
        old = avro_bytes(client, original, ORDER_V1, {"id": 1, "item": "a"})
        client.set_compatibility(f"{original}-value", "NONE")
        changed = dict(ORDER_V1, fields=[{"name": "id", "type": "long"}, {"name": "item", "type": "int"}])
        avro_bytes(client, original, changed, {"id": 2, "item": 5})
        client.set_compatibility(f"{original}-value", "BACKWARD")
        headers = spring_headers(original, 0, 5, "com.example.PoisonException", "bad order")
        produce(kafka, dlq, [(b"k1", old), (b"k2", old)], headers=headers)
        Poller(sr_cluster, 1.0).cycle()
        user = get_user_model().objects.create_user("op", password="pw-operator-123")
        user.groups.add(Group.objects.get(name="operators"))
        operator = Client()
        operator.force_login(user)
        selected = {"mode": "selected", "key": ["0:0", "0:1"]}
        plan = operator.post(reverse("dlq_plan", args=["test", dlq]), selected).content.decode()
        assert f"2 records use schema id {sid(old)}, which {original}-value no longer accepts" in html.unescape(plan)

        run = operator.post(reverse("dlq_reprocess", args=["test", dlq]), {**selected, "confirm": "yes"})
        assert run.status_code == 302
        from tests.dlq_support import read_all

        sent = read_all(kafka, original, 2)
        assert [m.value() for m in sent] == [old, old]  # byte for byte: nothing re-serialized


class TestDemo:
    def test_demo_writes_avro_protobuf_and_avro_dead_letters(self, kafka, sr_cluster, viewer, tmp_path):
        import threading
        import time

        from kafka_admin.demo.schema_topics import (
            ORDERS_AVRO,
            ORDERS_AVRO_DLQ,
            PAYMENTS_PROTO,
            SHIPMENTS_PROTO,
            produce_schema_topics,
        )
        from kafka_admin.demo.workload import Worker, WorkerStats

        w = Worker("schemas", sr_cluster, threading.Event(), lambda _m: None, tmp_path, WorkerStats("schemas"))
        thread = threading.Thread(target=produce_schema_topics, args=(w,), daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + 60
            while w.stats.produced < 6 and time.monotonic() < deadline:
                time.sleep(0.2)  # waiting for a condition (records delivered), bounded
        finally:
            w.stop.set()
            thread.join(30)
        assert w.stats.produced >= 6
        page = "".join(browse(viewer, ORDERS_AVRO, p) for p in range(3))
        assert "AVRO · schema id" in page and '"customer":' in page
        assert "PROTOBUF · schema id" in "".join(browse(viewer, PAYMENTS_PROTO, p) for p in range(3))
        shipments = browse(viewer, SHIPMENTS_PROTO)  # .proto text with a reference, message index [1]
        assert f"subject {SHIPMENTS_PROTO}-value v1" in shipments and '"shipped_at": "' in shipments
        assert '"to": {' in shipments and "not decoded" not in shipments
        Poller(sr_cluster, 1.0).cycle()
        record = html.unescape(viewer.get(reverse("dlq_record", args=["test", ORDERS_AVRO_DLQ, 0, 0])).content.decode())
        assert f"subject {ORDERS_AVRO}-value v1" in record and '"order_id": "o-000000"' in record


class TestSubjectStrategies:
    @pytest.mark.parametrize("strategy", ["record", "topic-record"])
    def test_record_strategies_name_the_subject(
        self, kafka, schema_registry, monkeypatch, sr_cluster, viewer, strategy
    ):
        from confluent_kafka.schema_registry import record_subject_name_strategy, topic_record_subject_name_strategy
        from confluent_kafka.schema_registry.avro import AvroSerializer
        from confluent_kafka.serialization import MessageField, SerializationContext

        from dashboard.clusters import configured_clusters

        name = "demo.Strategy" + strategy.replace("-", "")
        schema = dict(ORDER_V1, name=name.split(".")[1])
        func = record_subject_name_strategy if strategy == "record" else topic_record_subject_name_strategy
        topic = kafka.create_topic()
        ser = AvroSerializer(schema_registry.client(), json.dumps(schema), conf={"subject.name.strategy": func})
        value = ser({"id": 3, "item": "named"}, SerializationContext(topic, MessageField.VALUE))
        produce(kafka, topic, [(None, value)])
        monkeypatch.setenv("KAFKA_SCHEMA_REGISTRY_SUBJECT_STRATEGY", strategy)
        configured_clusters.cache_clear()
        decoder_for.cache_clear()
        page = browse(viewer, topic)
        subject = name if strategy == "record" else f"{topic}-{name}"
        assert f"schema id {sid(value)} · subject {subject} v1" in page and '"item": "named"' in page
