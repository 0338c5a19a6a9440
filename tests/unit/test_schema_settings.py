"""Schema registry settings (auth, TLS, subject naming) and the Confluent wire format: pure, no registry."""

import json

import pytest

from kafka_admin.config import ConfigError, clusters_from_file, from_env
from kafka_admin.records.payload import describe_part
from kafka_admin.schemas.settings import RegistryConfig, RegistryConfigError
from kafka_admin.schemas.wire import Decoded, framing, message_indexes, subject_for


class TestRegistryFromEnv:
    def test_basic_auth_and_ca(self):
        c = from_env(
            {
                "KAFKA_SCHEMA_REGISTRY_URL": "https://sr.example:8081/",
                "KAFKA_SCHEMA_REGISTRY_USERNAME": "svc",
                "KAFKA_SCHEMA_REGISTRY_PASSWORD": "pw-s3cr3t",
                "KAFKA_SCHEMA_REGISTRY_SSL_CA_LOCATION": "/etc/sr-ca.pem",
            }
        )
        reg = c.schema_registry
        assert reg is not None and reg.url == "https://sr.example:8081"
        conf = reg.client_config()
        assert conf["basic.auth.user.info"] == "svc:pw-s3cr3t"
        assert conf["ssl.ca.location"] == "/etc/sr-ca.pem"
        assert "pw-s3cr3t" not in repr(c) and "pw-s3cr3t" not in json.dumps(c.describe())
        assert c.describe()["schema_registry"]["auth"] == "basic"

    def test_bearer_token_is_never_shown(self):
        c = from_env({"KAFKA_SCHEMA_REGISTRY_URL": "http://sr:8081", "KAFKA_SCHEMA_REGISTRY_BEARER_TOKEN": "tok-XYZ"})
        assert c.schema_registry.client_config()["bearer.auth.token"] == "tok-XYZ"
        assert "tok-XYZ" not in repr(c) and "tok-XYZ" not in json.dumps(c.describe())
        assert c.describe()["schema_registry"]["auth"] == "bearer"

    def test_no_url_no_registry(self):
        assert from_env({}).schema_registry is None

    @pytest.mark.parametrize(
        "env",
        [
            {"KAFKA_SCHEMA_REGISTRY_URL": "ftp://sr"},
            {"KAFKA_SCHEMA_REGISTRY_URL": "http://u:p@sr"},
            {"KAFKA_SCHEMA_REGISTRY_URL": "http://sr", "KAFKA_SCHEMA_REGISTRY_USERNAME": "u"},
            {"KAFKA_SCHEMA_REGISTRY_URL": "http://sr", "KAFKA_SCHEMA_REGISTRY_SUBJECT_STRATEGY": "weird"},
            {
                "KAFKA_SCHEMA_REGISTRY_URL": "http://sr",
                "KAFKA_SCHEMA_REGISTRY_USERNAME": "u",
                "KAFKA_SCHEMA_REGISTRY_PASSWORD": "hunter2",
                "KAFKA_SCHEMA_REGISTRY_BEARER_TOKEN": "t",
            },
        ],
    )
    def test_bad_settings_name_the_variable_not_the_secret(self, env):
        with pytest.raises(ConfigError) as err:
            from_env(env)
        assert "KAFKA_SCHEMA_REGISTRY_" in str(err.value) and "hunter2" not in str(err.value)


class TestRegistryFromFile:
    def test_password_from_env_and_strategy(self, tmp_path):
        path = tmp_path / "clusters.json"
        entry = {
            "name": "prod",
            "bootstrap_servers": "k:9092",
            "schema_registry": {
                "url": "https://sr",
                "username": "svc",
                "password_env": "SR_PW",
                "subject_strategy": "topic-record",
            },
        }
        path.write_text(json.dumps([entry]))
        [c] = clusters_from_file(path, {"SR_PW": "from-env"})
        assert c.schema_registry.password == "from-env"
        assert c.schema_registry.subject_strategy == "topic-record"

    def test_unknown_key_is_refused(self, tmp_path):
        path = tmp_path / "clusters.json"
        path.write_text(
            json.dumps([{"name": "a", "bootstrap_servers": "k:1", "schema_registry": {"url": "http://x", "pw": 1}}])
        )
        with pytest.raises(ConfigError, match="unknown setting"):
            clusters_from_file(path, {})

    def test_direct_construction_checks(self):
        with pytest.raises(RegistryConfigError):
            RegistryConfig("http://sr", cache_size=0)


class TestWire:
    def test_framing(self):
        assert framing(b"\x00\x00\x00\x01\x02rest") == (258, 5)
        assert framing(b"\x01\x00\x00\x00\x01") is None
        assert framing(b"\x00\x00") is None
        assert framing(None) is None

    def test_message_indexes(self):
        assert message_indexes(b"\x00\x00\x00\x00\x01\x00rest") == ([0], 6)
        # count 2 (zigzag 4), then 1 (zigzag 2) and 0
        assert message_indexes(b"\x00\x00\x00\x00\x01\x04\x02\x00") == ([1, 0], 8)
        assert message_indexes(b"\x00\x00\x00\x00\x01\x04\x02") is None  # cut
        assert message_indexes(b"\x00\x00\x00\x00\x01\xff\xff") is None

    def test_subject_strategies(self):
        assert subject_for("topic", "orders", False, "demo.Order") == "orders-value"
        assert subject_for("topic", "orders", True, None) == "orders-key"
        assert subject_for("record", "orders", False, "demo.Order") == "demo.Order"
        assert subject_for("topic-record", "orders", False, "demo.Order") == "orders-demo.Order"
        assert subject_for("record", "orders", False, None) is None


class _Fixed:
    def __init__(self, result):
        self.result, self.calls = result, 0

    def decode(self, topic, data, is_key=False):
        self.calls += 1
        return self.result


class TestDescribeWithDecoder:
    def test_decoded_payload_is_json_with_its_schema(self):
        dec = _Fixed(Decoded(7, '{\n  "a": 1\n}', "AVRO", "t-value", 2))
        p = describe_part(b"\x00\x00\x00\x00\x07\x02", 6, decoder=dec, topic="t")
        assert p.kind == "json" and p.schema.subject == "t-value" and p.schema.version == 2

    def test_failure_keeps_the_bytes_and_says_why(self):
        dec = _Fixed(Decoded(7, reason="schema id 7 is not in the schema registry"))
        p = describe_part(b"\x00\x00\x00\x00\x07\x02", 6, decoder=dec, topic="t")
        assert p.kind == "binary" and "not in the schema registry" in p.schema.reason

    def test_cut_payload_is_not_decoded(self):
        dec = _Fixed(Decoded(7, "{}"))
        p = describe_part(b"\x00\x00\x00\x00\x07\x02", 100, decoder=dec, topic="t")
        assert dec.calls == 0 and p.truncated and "not decoded" in p.schema.reason

    def test_unframed_payload_skips_the_decoder(self):
        dec = _Fixed(Decoded(7, "{}"))
        assert describe_part(b'{"a": 1}', 8, decoder=dec).kind == "json" and dec.calls == 0


class TestDecoderHelpers:
    def test_to_json_writes_what_avro_gives(self):
        import datetime as dt
        import decimal
        import uuid

        from kafka_admin.schemas.decoder import to_json

        value = {
            "b": b"\x00\xff",
            "d": decimal.Decimal("1.10"),
            "t": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            "u": uuid.UUID(int=1),
            "s": "<script>",
        }
        assert json.loads(to_json(value)) == {
            "b": "0x00ff",
            "d": "1.10",
            "t": "2026-01-02T03:04:05+00:00",
            "u": "00000000-0000-0000-0000-000000000001",
            "s": "<script>",
        }

    def test_record_names(self):
        import base64

        from confluent_kafka.schema_registry import Schema
        from google.protobuf import descriptor_pb2

        from kafka_admin.schemas.decoder import record_name

        avro = Schema(json.dumps({"type": "record", "name": "Order", "namespace": "demo", "fields": []}), "AVRO")
        assert record_name(avro) == "demo.Order"
        assert record_name(Schema(json.dumps({"title": "Ship"}), "JSON")) == "Ship"
        fdp = descriptor_pb2.FileDescriptorProto(name="p.proto", package="demo")
        fdp.message_type.add(name="Payment")
        proto = Schema(base64.b64encode(fdp.SerializeToString()).decode(), "PROTOBUF")
        assert record_name(proto) == "demo.Payment"
        assert record_name(Schema("syntax = 'proto3'; message X {}", "PROTOBUF")) is None
