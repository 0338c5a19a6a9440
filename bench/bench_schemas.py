"""The message browser's page of 100 Avro records, decoded through a real schema registry, as a
ratio to the same page of the same records shown as raw bytes (no registry configured), in the
same process and run; and the registry requests each page costs (target: 0 once cached).

Two clusters point at one broker and one topic: "raw" has no registry, "avro" has the local
Apicurio (scripts/registry.sh). The pages are rendered by Django's test client in this process,
the broker read included (the same for both). Targets: ratio <= 2x; requests per warm page 0.

Usage: .venv/bin/python bench/bench_schemas.py [--records 100] [--requests 30]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from common import REPO, percentiles, start_broker, timed

sys.path.insert(0, str(REPO))

from tests.kafka_support import Kafka
from tests.registry_support import ORDER_V1, RegistryProcess, avro_bytes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-schemas-"))
    broker = start_broker(tmp / "kafka")
    registry = RegistryProcess.start(tmp / "registry")
    try:
        result = run(broker, registry, tmp, args.records, args.requests)
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


if __name__ == "__main__":
    main()
