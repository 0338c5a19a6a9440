"""The demo's schema-registry topics (only when the cluster has a registry, docs/schemas.md):
Avro orders and Protobuf payments written with confluent-kafka's serializers, Protobuf shipments
framed as Confluent's Java serializer writes them (a .proto text schema importing another subject,
the second message of its file), and one Avro order in fifty dead-lettered Spring-style, so the
message browser, the DLQ pages and the schemas page have framed records to decode."""

from __future__ import annotations

import json
import random
import time

from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from kafka_admin.demo.clients import ensure_topics, make_producer
from kafka_admin.demo.workload import PRODUCE_TICK_S, Worker
from kafka_admin.dlq import headers as dh
from kafka_admin.schemas.protoc import ROOT_NAME, ProtoFiles, build

ORDERS_AVRO = "orders-avro"
PAYMENTS_PROTO = "payments-proto"
ORDERS_AVRO_DLQ = "orders-avro-dlq"
SHIPMENTS_PROTO = "shipments-proto"
SCHEMA_TOPICS = {ORDERS_AVRO: 3, PAYMENTS_PROTO: 3, ORDERS_AVRO_DLQ: 1, SHIPMENTS_PROTO: 1}
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


ADDRESS_PROTO = """syntax = "proto3";
package demo.common;

message Address {
  string city = 1;
  string country = 2;
}
"""
SHIPMENT_PROTO = """syntax = "proto3";
package demo;

import "demo/common/address.proto";
import "google/protobuf/timestamp.proto";

message Parcel {
  int32 grams = 1;
}

message Shipment {
  string shipment_id = 1;
  string order_id = 2;
  demo.common.Address to = 3;
  repeated Parcel parcels = 4;
  google.protobuf.Timestamp shipped_at = 5;
}
"""


def shipment_sender(client: SchemaRegistryClient) -> tuple[type, bytes]:
    """Register the shipment schema as .proto text with its reference, as the Java serializer does;
    the message class (compiled here, no generated code) and the framing to put before each one."""
    address = "demo/common/address.proto"  # the Java serializer's default reference subject name
    client.register_schema(address, Schema(ADDRESS_PROTO, "PROTOBUF"))
    version = client.get_latest_version(address).version
    refs = [SchemaReference(address, address, version)]
    sid = client.register_schema(f"{SHIPMENTS_PROTO}-value", Schema(SHIPMENT_PROTO, "PROTOBUF", refs))
    _, pool = build(ProtoFiles(ROOT_NAME, {ROOT_NAME: SHIPMENT_PROTO, address: ADDRESS_PROTO}))
    cls = message_factory.GetMessageClass(pool.FindMessageTypeByName("demo.Shipment"))
    return cls, b"\x00" + sid.to_bytes(4, "big") + b"\x02\x02"  # message indexes [1]: Shipment


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
    shipment, framing = shipment_sender(client)
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
                ship = shipment(shipment_id=f"s-{sent:06d}", order_id=order_id)
                ship.to.city, ship.to.country = rng.choice((("Lyon", "FR"), ("Graz", "AT"), ("Porto", "PT")))
                ship.parcels.add(grams=rng.randint(100, 5_000))
                ship.shipped_at.GetCurrentTime()
                producer.produce(SHIPMENTS_PROTO, key=order_id.encode(), value=framing + ship.SerializeToString())
                if sent % DEAD_EVERY == 0:
                    producer.produce(ORDERS_AVRO_DLQ, key=order_id.encode(), value=value, headers=_dead_headers())
                w.stats.produced += 3
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
