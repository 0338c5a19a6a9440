"""Protobuf schemas registered as .proto text (what Confluent's Java serializer registers), with
references to other subjects, nested messages, message indexes other than [0] and well-known types,
against the real registry and broker: the record pages and the API show the decoded fields. Hostile
schemas (invalid, huge, an import cycle, a missing reference) show the bytes and why, never a 500."""

from __future__ import annotations

import html
import json

import pytest
from confluent_kafka.schema_registry import Schema, SchemaReference
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from dashboard.poller.loop import Poller
from kafka_admin.schemas import protoc
from tests.dlq_support import spring_headers
from tests.integration.test_schemas import browse, produce
from tests.registry_support import MONEY_PROTO, ORDERS_PROTO, confluent_protobuf, proto_pool

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def viewer() -> Client:
    user = get_user_model().objects.create_user("pb-viewer", password="pw-viewer-123")
    user.groups.add(Group.objects.get(name="viewers"))
    client = Client()
    client.force_login(user)
    return client


def register_orders(client, topic: str) -> int:
    """shared/money.proto as its own subject, then the orders schema referencing it, as text."""
    money = f"{topic}-shared-money"
    client.register_schema(money, Schema(MONEY_PROTO, "PROTOBUF"))
    refs = [SchemaReference("shared/money.proto", money, 1)]
    return client.register_schema(f"{topic}-value", Schema(ORDERS_PROTO, "PROTOBUF", refs))


def classes():
    return proto_pool({"shared/money.proto": MONEY_PROTO, "orders.proto": ORDERS_PROTO})


def an_order(cls):
    order = cls("shop.Order")(id="o-1")
    line = order.lines.add(sku="lamp")
    line.price.currency, line.price.units = "EUR", 12
    order.placed_at.seconds = 1_700_000_000
    return order


ORDER_JSON = {
    "id": "o-1",
    "lines": [{"sku": "lamp", "price": {"currency": "EUR", "units": "12"}}],
    "placed_at": "2023-11-14T22:13:20Z",
}


class TestTextSchemas:
    def test_reference_nested_message_index_and_timestamp_decode(self, kafka, schema_registry, sr_cluster, viewer):
        client = schema_registry.client()
        topic = kafka.create_topic()
        sid = register_orders(client, topic)
        assert not client.get_schema(sid).schema_str.startswith("Cg")  # held as text, not base64
        cls = classes()
        header = confluent_protobuf(sid, [0], cls("shop.Header")(id="h-9"))
        order = confluent_protobuf(sid, [1], an_order(cls))
        line = confluent_protobuf(sid, [1, 0], cls("shop.Order.Line")(sku="nested-only"))
        produce(kafka, topic, [(None, header), (None, order), (None, line)])

        page = browse(viewer, topic)
        assert page.count(f"PROTOBUF · schema id {sid} · subject {topic}-value v1") == 3
        assert '"id": "h-9"' in page and '"sku": "nested-only"' in page
        assert '"placed_at": "2023-11-14T22:13:20Z"' in page  # the well-known type, as its JSON form
        assert '"currency": "EUR"' in page and '"units": "12"' in page  # from the referenced subject
        assert "not decoded" not in page

    def test_dead_letter_record_page_and_api(self, kafka, schema_registry, sr_cluster, viewer):
        client = schema_registry.client()
        original = kafka.create_topic()
        dlq = kafka.create_topic(f"{original}-dlq")
        sid = register_orders(client, original)
        value = confluent_protobuf(sid, [1], an_order(classes()))
        headers = spring_headers(original, 0, 3, "com.example.PoisonException", "bad order")
        produce(kafka, dlq, [(b"o-1", value)], headers=headers)
        Poller(sr_cluster, 1.0).cycle()

        record = viewer.get(reverse("dlq_record", args=["test", dlq, 0, 0]))
        assert record.status_code == 200
        page = html.unescape(record.content.decode())
        assert f"PROTOBUF · schema id {sid} · subject {original}-value v1" in page and '"sku": "lamp"' in page
        # Triage: the index's preview (decoded in the poll cycle) and its search read the JSON.
        [row] = viewer.get(f"/api/v1/clusters/test/dlq/{dlq}/records/").json()["results"]
        assert json.loads(row["value_preview"]) == ORDER_JSON
        found = viewer.get(reverse("dlq_topic", args=["test", dlq]), {"q": '"sku": "lamp"'}).content.decode()
        assert "1 matches the filter" in found
        one = viewer.get(f"/api/v1/clusters/test/dlq/{dlq}/records/0/0/").json()
        assert one["value"]["json"] == ORDER_JSON
        assert one["value"]["schema"] | {"note": None} == {
            "id": sid,
            "format": "PROTOBUF",
            "subject": f"{original}-value",
            "version": 1,
            "decoded": True,
            "reason": None,
            "note": None,
        }

    def test_compiled_once_per_schema_id(self, kafka, schema_registry, sr_cluster, viewer, monkeypatch):
        from dashboard.clusters import schema_decoder

        client = schema_registry.client()
        topic = kafka.create_topic()
        sid = register_orders(client, topic)
        cls = classes()
        produce(kafka, topic, [(None, confluent_protobuf(sid, [1], an_order(cls))) for _ in range(5)])
        runs = []
        real = protoc.compile_files
        monkeypatch.setattr(protoc, "compile_files", lambda *a, **k: runs.append(1) or real(*a, **k))
        # Twice a record: the browser's one-line preview and the row's opened body.
        assert browse(viewer, topic).count('"sku": "lamp"') == 2 * 5
        assert browse(viewer, topic).count('"sku": "lamp"') == 2 * 5
        decoder = schema_decoder("test")
        assert len(runs) == 1 and decoder.record_name(sid) == "shop.Header" and len(runs) == 1


class TestHostileSchemas:
    def test_each_shows_its_bytes_and_why_and_the_rest_of_the_page_decodes(
        self, kafka, schema_registry, sr_cluster, viewer
    ):
        client = schema_registry.client()
        topic = kafka.create_topic()
        n = topic.replace(".", "-")

        def text(subject: str, source: str, refs=()) -> int:
            return client.register_schema(f"{n}-{subject}", Schema(source, "PROTOBUF", list(refs)))

        invalid = text("invalid", 'syntax = "proto3"; message M { Undefined u = 1; }')
        fields = "".join(f"  int32 field_{i} = {i + 1};\n" for i in range(12_000))
        huge = text("huge", f'syntax = "proto3";\nmessage Big {{\n{fields}}}\n')
        # A cycle the registry accepts: a.proto imports b.proto without a reference; b.proto
        # references a.proto; the root references b.proto, so b -> a -> b.
        text("a", 'syntax = "proto3"; package cy; import "b.proto"; message A { int32 a = 1; }')
        text(
            "b",
            'syntax = "proto3"; package cy; import "a.proto"; message B {}',
            [SchemaReference("a.proto", f"{n}-a", 1)],
        )
        cycle = text(
            "c",
            'syntax = "proto3"; package cy; import "b.proto"; message C {}',
            [SchemaReference("b.proto", f"{n}-b", 1)],
        )
        missing = text("missing", 'syntax = "proto3"; import "nowhere.proto"; message M { int32 a = 1; }')
        escape = text("escape", 'syntax = "proto3"; message M {}', [SchemaReference("../../etc/x.proto", f"{n}-a", 1)])
        good = register_orders(client, topic)
        body = b"\x08\x01"  # field 1 = 1
        ids = [invalid, huge, cycle, missing, escape]
        produce(kafka, topic, [(None, b"\x00" + i.to_bytes(4, "big") + b"\x00" + body) for i in ids])
        produce(kafka, topic, [(None, confluent_protobuf(good, [1], an_order(classes())))])

        page = browse(viewer, topic)
        reasons = {
            invalid: '"Undefined" is not defined',
            huge: "characters, over the 262,144 this dashboard compiles",
            cycle: "File recursively imports itself: b.proto -> a.proto -> b.proto",
            missing: "nowhere.proto: File not found",
            escape: "'../../etc/x.proto' is not a plain relative file name",
        }
        for i, reason in reasons.items():
            line = page[page.index(f"PROTOBUF · schema id {i} · not decoded") :].split("</p>")[0]
            assert f"schema id {i} gives no Protobuf descriptors" in line and reason in line, line
        assert page.count("00 00 00 00") >= 1 and '"sku": "lamp"' in page  # hex dumps, and the good one
        assert "/tmp/" not in page

    def test_hostile_dead_letter_api_answers_with_the_reason(self, kafka, schema_registry, sr_cluster, viewer):
        client = schema_registry.client()
        original = kafka.create_topic()
        dlq = kafka.create_topic(f"{original}-dlq")
        sid = client.register_schema(
            f"{original}-value", Schema('syntax = "proto3"; message M { Nope n = 1; }', "PROTOBUF")
        )
        headers = spring_headers(original, 0, 3, "com.example.PoisonException", "bad")
        produce(kafka, dlq, [(b"k", b"\x00" + sid.to_bytes(4, "big") + b"\x00\x08\x01")], headers=headers)
        Poller(sr_cluster, 1.0).cycle()
        response = viewer.get(f"/api/v1/clusters/test/dlq/{dlq}/records/0/0/")
        assert response.status_code == 200
        value = response.json()["value"]
        assert value["schema"]["decoded"] is False and '"Nope" is not defined' in value["schema"]["reason"]
        assert value["kind"] == "binary" and "json" not in value
        assert viewer.get(reverse("dlq_record", args=["test", dlq, 0, 0])).status_code == 200
