"""Screenshots, looked at: a decoded Avro dead letter and the schemas page, in headless Chromium
against a real server, broker and registry (test-artifacts/schema-*.png)."""

from __future__ import annotations

import pytest

from tests.dlq_support import spring_headers
from tests.e2e.conftest import ARTIFACTS, login, serving
from tests.registry_support import ORDER_V1, ORDER_V2, avro_bytes

pytestmark = [pytest.mark.broker, pytest.mark.e2e]


def test_decoded_avro_dead_letter_and_schemas_page(browser, broker, kafka, schema_registry, tmp_path_factory):
    if browser is None:
        pytest.skip("no Chromium binary (apt-get install chromium, or set CHROMIUM_PATH)")
    client = schema_registry.client()
    original = kafka.create_topic()
    dlq = kafka.create_topic(f"{original}-dlq")
    avro_bytes(client, original, ORDER_V1, {"id": 1, "item": "first"})
    value = avro_bytes(client, original, ORDER_V2, {"id": 42, "item": "<b>desk lamp</b>", "qty": 3})
    p = kafka.producer(acks="all")
    p.produce(
        dlq,
        key=b"order-42",
        value=value,
        partition=0,
        headers=spring_headers(original, 0, 7, "com.example.Poison", "bad"),
    )
    assert p.flush(30) == 0
    var = tmp_path_factory.mktemp("schema-var")
    with serving(broker, var, cluster="sr", KAFKA_SCHEMA_REGISTRY_URL=schema_registry.url) as srv:
        ctx, page = login(browser, srv, landing="sr")
        try:
            page.goto(f"{srv.url}/c/sr/dlq/{dlq}/0/0/")
            text = page.inner_text("main")
            assert "subject " + original + "-value v2" in text and '"item": "<b>desk lamp</b>"' in text
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "schema-dlq-record.png"), full_page=True)
            page.goto(f"{srv.url}/c/sr/schemas/")
            page.wait_for_selector(f"text={original}-value")
            assert "1, 2" in page.inner_text("main")
            page.screenshot(path=str(ARTIFACTS / "schema-subjects.png"), full_page=True)
        finally:
            ctx.close()


def test_decoded_protobuf_text_dead_letter(browser, broker, kafka, schema_registry, tmp_path_factory):
    """A .proto text schema with a reference, as Confluent's Java serializer registers it."""
    from confluent_kafka.schema_registry import Schema, SchemaReference

    from tests.registry_support import MONEY_PROTO, ORDERS_PROTO, confluent_protobuf, proto_pool

    if browser is None:
        pytest.skip("no Chromium binary (apt-get install chromium, or set CHROMIUM_PATH)")
    client = schema_registry.client()
    original = kafka.create_topic()
    dlq = kafka.create_topic(f"{original}-dlq")
    client.register_schema(f"{original}-money", Schema(MONEY_PROTO, "PROTOBUF"))
    refs = [SchemaReference("shared/money.proto", f"{original}-money", 1)]
    sid = client.register_schema(f"{original}-value", Schema(ORDERS_PROTO, "PROTOBUF", refs))
    order = proto_pool({"shared/money.proto": MONEY_PROTO, "orders.proto": ORDERS_PROTO})("shop.Order")(id="o-7")
    line = order.lines.add(sku="<i>desk lamp</i>")
    line.price.currency, line.price.units = "EUR", 49
    order.placed_at.seconds = 1_764_700_000
    p = kafka.producer(acks="all")
    headers = spring_headers(original, 0, 7, "com.example.Poison", "bad")
    p.produce(dlq, key=b"o-7", value=confluent_protobuf(sid, [1], order), partition=0, headers=headers)
    assert p.flush(30) == 0
    var = tmp_path_factory.mktemp("schema-var")
    with serving(broker, var, cluster="sr", KAFKA_SCHEMA_REGISTRY_URL=schema_registry.url) as srv:
        ctx, page = login(browser, srv, landing="sr")
        try:
            page.goto(f"{srv.url}/c/sr/dlq/{dlq}/0/0/")
            text = page.inner_text("main")
            assert f"PROTOBUF · schema id {sid} · subject {original}-value v1" in text
            assert '"sku": "<i>desk lamp</i>"' in text and '"placed_at": "2025-12-02T18:26:40Z"' in text
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "schema-dlq-protobuf-text.png"), full_page=True)
        finally:
            ctx.close()
