"""The schema registry of a test run: scripts/registry.sh builds it once per machine and starts it
once per session on a free port; serializers that write framed records like real producers do."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from tests.kafka_support import REPO, free_port

REGISTRY_SH = REPO / "scripts" / "registry.sh"


def cannot_build() -> str | None:
    """Why the registry cannot be built or run here (a skip reason), or None."""
    jdk = "openjdk-17-jdk-headless"
    tools = (("java", jdk), ("javac", jdk), ("mvn", "maven"), ("curl", "curl"))
    for tool, package in tools:
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian: apt-get install {package}); the schema registry needs it"
    return None


@dataclass
class RegistryProcess:
    port: int
    data_dir: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/apis/ccompat/v7"

    def env(self) -> dict[str, str]:
        return dict(os.environ, REGISTRY_PORT=str(self.port), REGISTRY_DATA_DIR=str(self.data_dir))

    @classmethod
    def start(cls, data_dir: Path) -> RegistryProcess:
        proc = cls(free_port(), data_dir)
        # The first build on a machine downloads ~250 MB and takes minutes; later ones are cached.
        result = subprocess.run(
            ["bash", str(REGISTRY_SH), "up"], env=proc.env(), capture_output=True, text=True, timeout=1800
        )
        if result.returncode != 0:
            raise RuntimeError(f"registry.sh up failed:\n{result.stdout}\n{result.stderr}")
        return proc

    def down(self) -> None:
        subprocess.run(["bash", str(REGISTRY_SH), "down"], env=self.env(), capture_output=True, text=True, timeout=60)

    def client(self) -> SchemaRegistryClient:
        return SchemaRegistryClient({"url": self.url})


ORDER_V1 = {
    "type": "record",
    "name": "Order",
    "namespace": "demo",
    "fields": [{"name": "id", "type": "long"}, {"name": "item", "type": "string"}],
}
ORDER_V2 = {
    "type": "record",
    "name": "Order",
    "namespace": "demo",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "item", "type": "string"},
        {"name": "qty", "type": "int", "default": 1},
    ],
}
SHIPMENT = {"type": "object", "title": "Shipment", "properties": {"n": {"type": "integer"}}, "required": ["n"]}


def payment_class():
    """A Protobuf message class built at run time (no generated code): demo.Payment, nested demo.Payment.Line."""
    fdp = descriptor_pb2.FileDescriptorProto(name="payment.proto", package="demo", syntax="proto3")
    msg = fdp.message_type.add(name="Payment")
    msg.field.add(name="id", number=1, type=descriptor_pb2.FieldDescriptorProto.TYPE_INT64, label=1)
    msg.field.add(name="amount", number=2, type=descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE, label=1)
    msg.field.add(name="currency", number=3, type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING, label=1)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("demo.Payment"))


def avro_bytes(client: SchemaRegistryClient, topic: str, schema: dict, value: dict, is_key: bool = False) -> bytes:
    field = MessageField.KEY if is_key else MessageField.VALUE
    return AvroSerializer(client, json.dumps(schema))(value, SerializationContext(topic, field))


def json_bytes(client: SchemaRegistryClient, topic: str, value: dict) -> bytes:
    return JSONSerializer(json.dumps(SHIPMENT), client)(value, SerializationContext(topic, MessageField.VALUE))


def protobuf_bytes(client: SchemaRegistryClient, topic: str, **fields) -> bytes:
    cls = payment_class()
    ser = ProtobufSerializer(cls, client, {"use.deprecated.format": False})
    return ser(cls(**fields), SerializationContext(topic, MessageField.VALUE))


# .proto text as Confluent's Java KafkaProtobufSerializer registers it: the file's source, with the
# files it imports registered as subjects of their own and named in its references.
MONEY_PROTO = 'syntax = "proto3";\npackage shared;\n\nmessage Money {\n  string currency = 1;\n  int64 units = 2;\n}\n'
ORDERS_PROTO = """syntax = "proto3";
package shop;

import "shared/money.proto";
import "google/protobuf/timestamp.proto";

message Header {
  string id = 1;
}

message Order {
  message Line {
    string sku = 1;
    shared.Money price = 2;
  }
  string id = 1;
  repeated Line lines = 2;
  google.protobuf.Timestamp placed_at = 3;
}
"""


def proto_pool(files: dict[str, str]):
    """Message classes for .proto text, compiled here with grpc_tools' protoc (test input, trusted),
    independently of the dashboard's own compile path: {full name: class}."""
    import tempfile
    from pathlib import Path

    from grpc_tools import protoc

    with tempfile.TemporaryDirectory() as tmp:
        for name, text in files.items():
            (Path(tmp) / name).parent.mkdir(parents=True, exist_ok=True)
            (Path(tmp) / name).write_text(text)
        include = str(Path(protoc.__file__).parent / "_proto")
        out = Path(tmp) / "set.pb"
        args = ["protoc", f"-I{tmp}", f"-I{include}", f"--descriptor_set_out={out}", "--include_imports", *files]
        assert protoc.main(args) == 0
        fds = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    pool = descriptor_pool.DescriptorPool()
    for proto in fds.file:
        pool.Add(proto)
    return lambda full_name: message_factory.GetMessageClass(pool.FindMessageTypeByName(full_name))


def _zigzag(n: int) -> bytes:
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def confluent_protobuf(schema_id: int, indexes: list[int], message) -> bytes:
    """The Confluent Protobuf wire format: magic byte, schema id, the message-index path (a single 0
    for the first message, as the serializers write it), then the message."""
    path = b"\x00" if indexes == [0] else _zigzag(len(indexes)) + b"".join(_zigzag(i) for i in indexes)
    return b"\x00" + schema_id.to_bytes(4, "big") + path + message.SerializeToString()
