"""The message browser's page of 100 Avro records, decoded through a real schema registry, as a
ratio to the same page of the same records shown as raw bytes (no registry configured), in the
same process and run; and the registry requests each page costs (target: 0 once cached).

Two clusters point at one broker and one topic: "raw" has no registry, "avro" has the local
Apicurio (scripts/registry.sh). The pages are rendered by Django's test client in this process,
the broker read included (the same for both). Targets: ratio <= 2x; requests per warm page 0.

Then Protobuf (protobuf_costs): the decoder's warm cost per record for the same two-field record as
Avro, JSON Schema, Protobuf registered as .proto text (what Confluent's Java serializer registers)
and Protobuf in its serialized form, as ratios to Avro and JSON; and the first use of a new .proto
text schema id (registry fetch + protoc in its child) against a serialized one's first use and
against protoc alone.

Usage: .venv/bin/python bench/bench_schemas.py [--records 100] [--requests 30] [--decodes 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, percentiles, start_broker, timed

sys.path.insert(0, str(REPO))

from tests.kafka_support import Kafka
from tests.registry_support import ORDER_V1, RegistryProcess, avro_bytes, confluent_protobuf, proto_pool

ORDER_PROTO = 'syntax = "proto3";\npackage bench{n};\nmessage Order {{\n  int64 id = 1;\n  string item = 2;\n}}\n'
ORDER_JSON = {
    "type": "object",
    "title": "Order",
    "properties": {"id": {"type": "integer"}, "item": {"type": "string"}},
    "required": ["id", "item"],
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--decodes", type=int, default=1000)
    parser.add_argument("--first-uses", type=int, default=8)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-schemas-"))
    broker = start_broker(tmp / "kafka")
    registry = RegistryProcess.start(tmp / "registry")
    try:
        result = run(broker, registry, tmp, args.records, args.requests)
        result.update(protobuf_costs(registry, args.decodes, args.first_uses))
    finally:
        registry.down()
        broker.down()
    print(json.dumps(result))


def run(broker, registry: RegistryProcess, tmp: Path, records: int, requests: int) -> dict:
    kafka = Kafka(broker)
    topic = kafka.create_topic()
    client = registry.client()
    producer = kafka.producer(acks="all")
    for i in range(records):
        value = {"id": i, "item": f"item-{i} " + "x" * 80}
        producer.produce(topic, value=avro_bytes(client, topic, ORDER_V1, value), partition=0)
    assert producer.flush(30) == 0

    os.environ.update(
        KAFKA_CLUSTERS="raw,avro",
        KAFKA_RAW_BOOTSTRAP_SERVERS=broker.bootstrap,
        KAFKA_AVRO_BOOTSTRAP_SERVERS=broker.bootstrap,
        KAFKA_AVRO_SCHEMA_REGISTRY_URL=registry.url,
        DASHBOARD_VAR_DIR=str(tmp),
        SQLITE_PATH=str(tmp / "db.sqlite3"),
        POLLER_IN_PROCESS="false",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from dashboard.clusters import schema_decoder

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench", password="pw-bench-12345")
    web = Client(HTTP_HOST="127.0.0.1")
    web.force_login(user)
    query = {"partition": "0", "seek": "oldest", "limit": str(records)}

    def get(cluster: str) -> str:
        response = web.get(f"/c/{cluster}/topics/{topic}/", query)
        assert response.status_code == 200, response.status_code
        return response.content.decode()

    decoder = schema_decoder("avro")
    assert decoder is not None
    http_requests = [0]
    send = decoder.client._rest_client.send_request  # bench-only count of the client's HTTP calls

    def counted(*a, **kw):
        http_requests[0] += 1
        return send(*a, **kw)

    decoder.client._rest_client.send_request = counted
    first = get("avro")
    cold_requests = http_requests[0]
    assert first.count("AVRO · schema id") == records, "every record decodes"
    assert get("raw").count("AVRO · schema id") == 0
    before = http_requests[0]
    raw = timed(lambda: get("raw"), requests)
    avro = timed(lambda: get("avro"), requests)
    warm_requests = (http_requests[0] - before) / requests
    raw_p, avro_p = percentiles(raw), percentiles(avro)
    ratio = avro_p["p50_ms"] / raw_p["p50_ms"]
    return {
        "bench": "schemas",
        "records_per_page": records,
        "raw_page": raw_p,
        "avro_page": avro_p,
        "ratio_p50": round(ratio, 2),
        "target_ratio": 2.0,
        "ratio_met": ratio <= 2.0,
        "registry_requests_first_page": cold_requests,
        "registry_requests_per_warm_page": warm_requests,
        "requests_met": warm_requests == 0,
    }


def protobuf_costs(registry: RegistryProcess, decodes: int, first_uses: int) -> dict:
    """Warm decode cost per record by format, and the first use of a new .proto text schema id."""
    from confluent_kafka.schema_registry import Schema
    from confluent_kafka.schema_registry.avro import AvroSerializer
    from confluent_kafka.schema_registry.json_schema import JSONSerializer
    from confluent_kafka.schema_registry.protobuf import ProtobufSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    from kafka_admin.schemas import protoc
    from kafka_admin.schemas.decoder import SchemaDecoder
    from kafka_admin.schemas.settings import RegistryConfig

    client = registry.client()
    ctx = SerializationContext("bench-pb", MessageField.VALUE)
    records = [{"id": i, "item": f"item-{i} " + "x" * 80} for i in range(decodes)]
    order = proto_pool({"order.proto": ORDER_PROTO.format(n=0)})("bench0.Order")
    text_id = client.register_schema("bench-pb-text-value", Schema(ORDER_PROTO.format(n=0), "PROTOBUF"))
    serialize_pb = ProtobufSerializer(order, client, {"use.deprecated.format": False})
    serialize_js = JSONSerializer(json.dumps(ORDER_JSON), client)
    serialize_avro = AvroSerializer(client, json.dumps(ORDER_V1))
    values = {
        "avro": [serialize_avro(r, ctx) for r in records],
        "json": [serialize_js(r, ctx) for r in records],
        "protobuf_text": [confluent_protobuf(text_id, [0], order(**r)) for r in records],
        "protobuf_serialized": [serialize_pb(order(**r), ctx) for r in records],
    }
    decoder = SchemaDecoder(RegistryConfig(registry.url))
    rounds: dict[str, list[float]] = {name: [] for name in values}
    for name, batch in values.items():
        assert all(decoder.decode("bench-pb", v).text for v in batch[:3]), name  # warm, and it decodes
    for _ in range(7):  # formats take turns, so a busy moment on a shared machine hits them alike
        for name, batch in values.items():
            started = time.perf_counter()
            for v in batch:
                decoder.decode("bench-pb", v)
            rounds[name].append((time.perf_counter() - started) / len(batch) * 1e6)
    per_record_us = {name: round(statistics.median(r), 1) for name, r in rounds.items()}

    # First use of a schema id never met: a fresh decoder each time, a new schema each time.
    text_first, serialized_first, compile_only = [], [], []
    for n in range(1, first_uses + 1):
        source = ORDER_PROTO.format(n=n)
        cls = proto_pool({"order.proto": source})(f"bench{n}.Order")
        sid = client.register_schema(f"bench-pb-text{n}-value", Schema(source, "PROTOBUF"))
        ser = ProtobufSerializer(cls, client, {"use.deprecated.format": False})
        b64 = ser(cls(id=1, item="a"), SerializationContext(f"bench-pb-ser{n}", MessageField.VALUE))
        for value, out in ((confluent_protobuf(sid, [0], cls(id=1, item="a")), text_first), (b64, serialized_first)):
            fresh = SchemaDecoder(RegistryConfig(registry.url))
            started = time.perf_counter()
            assert fresh.decode("bench-pb", value).text
            out.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        protoc.compile_files(protoc.ProtoFiles("order.proto", {"order.proto": source}))
        compile_only.append((time.perf_counter() - started) * 1000)
    avro, js, text = per_record_us["avro"], per_record_us["json"], per_record_us["protobuf_text"]
    first_text, first_ser = statistics.median(text_first), statistics.median(serialized_first)
    return {
        "decode_us_per_record": per_record_us,
        "decodes_per_format": decodes,
        "rounds": 7,
        "protobuf_text_vs_avro": round(text / avro, 2),
        "protobuf_text_vs_json": round(text / js, 2),
        "protobuf_serialized_vs_avro": round(per_record_us["protobuf_serialized"] / avro, 2),
        "first_use_ms": {
            "protobuf_text_p50": round(first_text, 1),
            "protobuf_serialized_p50": round(first_ser, 1),
            "protoc_alone_p50": round(statistics.median(compile_only), 1),
            "n": first_uses,
        },
        "first_use_text_vs_serialized": round(first_text / first_ser, 1),
        "first_use_text_vs_warm_decode": round(first_text * 1000 / text),
    }


if __name__ == "__main__":
    main()
