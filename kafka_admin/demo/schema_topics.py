"""The demo's schema-registry topics (only when the cluster has a registry, docs/schemas.md):
Avro orders and Protobuf payments written with confluent-kafka's serializers, and one Avro order
in fifty dead-lettered Spring-style, so the message browser, the DLQ pages and the schemas page
have framed records to decode."""

from __future__ import annotations

import json
import random
import time

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from kafka_admin.demo.clients import ensure_topics, make_producer
from kafka_admin.demo.workload import PRODUCE_TICK_S, Worker
from kafka_admin.dlq import headers as dh

ORDERS_AVRO = "orders-avro"
PAYMENTS_PROTO = "payments-proto"
ORDERS_AVRO_DLQ = "orders-avro-dlq"
SCHEMA_TOPICS = {ORDERS_AVRO: 3, PAYMENTS_PROTO: 3, ORDERS_AVRO_DLQ: 1}
RATE = 2.0  # records a second to each topic
DEAD_EVERY = 50

ORDER_SCHEMA = {
    "type": "record",
    "name": "Order",
    "namespace": "demo",
    "fields": [
        {"name": "order_id", "type": "string"},
        {"name": "customer", "type": "string"},
        {"name": "amount_cents", "type": "long"},
        {"name": "express", "type": "boolean", "default": False},
    ],
}


def payment_class() -> type:
    """demo.Payment, built at run time from a descriptor: the repository holds no generated code."""
    fdp = descriptor_pb2.FileDescriptorProto(name="demo_payment.proto", package="demo", syntax="proto3")
    msg = fdp.message_type.add(name="Payment")
    types = descriptor_pb2.FieldDescriptorProto
    for number, (name, kind) in enumerate(
        (("payment_id", types.TYPE_STRING), ("order_id", types.TYPE_STRING), ("amount", types.TYPE_DOUBLE)), 1
    ):
        msg.field.add(name=name, number=number, type=kind, label=types.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("demo.Payment"))


def produce_schema_topics(w: Worker) -> None:
    """Write framed records to the schema topics until stopped (needs the cluster's registry)."""
    registry = w.config.schema_registry
    if registry is None:
        return
    ensure_topics(w.config, SCHEMA_TOPICS)
    client = SchemaRegistryClient(registry.client_config())
    to_avro = AvroSerializer(client, json.dumps(ORDER_SCHEMA))
    payment = payment_class()
    to_proto = ProtobufSerializer(payment, client, {"use.deprecated.format": False})
    producer = make_producer(w.config, "demo-schema-producer")
    rng = random.Random()
    try:
        start, sent = time.monotonic(), 0
        while not w.stop.is_set():
            due = int((time.monotonic() - start) * RATE)
            while sent < due:
                order_id = f"o-{sent:06d}"
                order = {
                    "order_id": order_id,
                    "customer": rng.choice(("ada", "grace", "linus", "margaret")),
                    "amount_cents": rng.randint(100, 50_000),
                    "express": rng.random() < 0.2,
                }
                value = to_avro(order, SerializationContext(ORDERS_AVRO, MessageField.VALUE))
                producer.produce(ORDERS_AVRO, key=order_id.encode(), value=value)
                pay = payment(payment_id=f"p-{sent:06d}", order_id=order_id, amount=order["amount_cents"] / 100)
                producer.produce(
                    PAYMENTS_PROTO,
                    key=order_id.encode(),
                    value=to_proto(pay, SerializationContext(PAYMENTS_PROTO, MessageField.VALUE)),
                )
                if sent % DEAD_EVERY == 0:
                    producer.produce(ORDERS_AVRO_DLQ, key=order_id.encode(), value=value, headers=_dead_headers())
                w.stats.produced += 2
                sent += 1
            producer.poll(0)
            w.stop.wait(PRODUCE_TICK_S)
    finally:
        producer.flush(5.0)


def _dead_headers() -> list[tuple[str, bytes]]:
    return [
        (dh.SPRING_ORIGINAL_TOPIC, ORDERS_AVRO.encode()),
        (dh.SPRING_EXCEPTION_FQCN, b"org.springframework.kafka.listener.ListenerExecutionFailedException"),
        (dh.SPRING_EXCEPTION_CAUSE_FQCN, b"com.example.orders.InvalidCustomerException"),
        (dh.SPRING_EXCEPTION_MESSAGE, b"Listener failed; customer is on the blocked list"),
    ]
