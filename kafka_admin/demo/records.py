"""The demo's records: orders (some of them poison), payments, shipments, and the order parser
that the consumers and the DLQ writer share."""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from confluent_kafka import Message

from kafka_admin.demo.workload import ORDERS, PAYMENTS, POISON_EVERY, SHIPMENTS
from kafka_admin.dlq import headers as dh

Headers = list[tuple[str, bytes]]


class InvalidOrderError(ValueError):
    """An order the processor cannot handle: the demo's poison."""

    # Its DLQ records name it kafka_admin.demo.InvalidOrderError (exception-fqcn), as before the split.
    __module__ = "kafka_admin.demo"


class Record(NamedTuple):
    key: str
    value: bytes
    headers: Headers


def utc_iso(epoch_s: float) -> str:
    """1700000000.123 -> "2023-11-14T22:13:20.123Z", the failure headers' and records' timestamps."""
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _business_headers(rng: random.Random, event_type: str, content_type: str = "application/json") -> Headers:
    return [
        ("trace-id", f"{rng.getrandbits(128):032x}".encode()),
        ("content-type", content_type.encode()),
        ("event-type", event_type.encode()),
    ]


def to_json(value: Mapping[str, Any]) -> bytes:
    """Compact JSON bytes, as the demo's producers write them."""
    return json.dumps(value, separators=(",", ":")).encode()


def order_record(seq: int, rng: random.Random, run: str) -> Record:
    """Order number `seq`; every POISON_EVERY-th is poison, alternately a NaN amount and raw bytes."""
    order_id = f"{run}-{seq:07d}"
    key = f"customer-{seq % 40:02d}"
    headers = _business_headers(rng, "OrderCreated")
    if seq % POISON_EVERY == POISON_EVERY - 1:
        if (seq // POISON_EVERY) % 2 == 0:
            return Record(key, to_json({"order_id": order_id, "amount": "NaN", "currency": "EUR"}), headers)
        # A producer that claims JSON and sends something else (a stray protobuf, say).
        return Record(key, b"\x08\x96\x01\x12\x04\xff\xfeord" + order_id.encode(), headers)
    value = {
        "order_id": order_id,
        "customer": key,
        "amount": round(rng.uniform(5, 500), 2),
        "currency": rng.choice(("EUR", "USD", "GBP")),
        "items": rng.randint(1, 5),
        "created_at": utc_iso(time.time()),
    }
    return Record(key, to_json(value), headers)


def payment_record(seq: int, rng: random.Random, run: str) -> Record:
    """A payment for every second order (orders are produced twice as fast)."""
    order_id = f"{run}-{seq * 2:07d}"
    value = {
        "payment_id": f"pay-{run}-{seq:07d}",
        "order_id": order_id,
        "amount": round(rng.uniform(5, 500), 2),
        "method": rng.choice(("card", "paypal", "invoice")),
    }
    return Record(order_id, to_json(value), _business_headers(rng, "PaymentReceived"))


def shipment_record(seq: int, rng: random.Random, run: str) -> Record:
    """A shipment for every fourth order."""
    order_id = f"{run}-{seq * 4:07d}"
    value = {
        "shipment_id": f"shp-{run}-{seq:07d}",
        "order_id": order_id,
        "carrier": rng.choice(("DHL", "UPS", "PostNL")),
        "status": "dispatched",
    }
    return Record(order_id, to_json(value), _business_headers(rng, "ShipmentDispatched"))


BUILDERS: dict[str, Callable[[int, random.Random, str], Record]] = {
    ORDERS: order_record,
    PAYMENTS: payment_record,
    SHIPMENTS: shipment_record,
}


def parse_order(value: bytes | None, *, lenient: bool = False) -> dict[str, Any]:
    """The order processor's business logic: JSON with a finite amount.

    Poison raises (UnicodeDecodeError, JSONDecodeError, InvalidOrderError, all ValueErrors) unless
    `lenient` (the bug is fixed): then it is accepted and marked for a human to review.
    """
    try:
        if value is None:
            raise InvalidOrderError("order has no value (tombstone)")
        order = json.loads(value.decode("utf-8"))
        if not isinstance(order, dict):
            raise InvalidOrderError(f"order is not a JSON object: {type(order).__name__}")
        if "amount" not in order:
            raise InvalidOrderError("order has no amount")
        amount = float(order["amount"])  # "NaN" parses; a list or null raises TypeError
        if not math.isfinite(amount):
            raise InvalidOrderError(f"amount is not a finite number: {order.get('amount')!r}")
        return order
    except (ValueError, TypeError):
        if lenient:
            return {"status": "needs-review", "raw": (value or b"").hex()}
        raise


def business_headers(msg: Message) -> Headers:
    """The record's own headers without failure headers from an earlier trip through the DLQ."""
    return [(k, v) for k, v in (msg.headers() or []) if k not in dh.FAILURE_HEADERS]
