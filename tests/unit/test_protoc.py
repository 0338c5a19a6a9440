"""kafka_admin.schemas.protoc: references gathered and checked, .proto text compiled by the real
protoc (grpcio-tools) in a bounded child; every failure is a ProtoSchemaError that says why."""

from __future__ import annotations

import base64

import pytest
from google.protobuf import descriptor_pb2

from kafka_admin.schemas import protoc
from kafka_admin.schemas.protoc import ProtoFiles, ProtoSchemaError, Reference, build, check_name, gather

MONEY = 'syntax = "proto3";\npackage shared;\nmessage Money { string currency = 1; int64 units = 2; }\n'
ORDER = """syntax = "proto3";
package shop;
import "shared/money.proto";
import "google/protobuf/timestamp.proto";
message Header { string id = 1; }
message Order {
  message Line { string sku = 1; shared.Money price = 2; }
  repeated Line lines = 1;
  google.protobuf.Timestamp at = 2;
}
"""


def registry(versions: dict[tuple[str, int], tuple[str, list[Reference]]]):
    """A fetch over a dict, counting calls (gather's only I/O is this callback)."""
    calls: list[tuple[str, int]] = []

    def fetch(subject: str, version: int) -> tuple[str, list[Reference]]:
        calls.append((subject, version))
        if (subject, version) not in versions:
            raise ProtoSchemaError(f"the schema references {subject} v{version}, which the registry does not hold")
        return versions[(subject, version)]

    return fetch, calls


def money_proto() -> descriptor_pb2.FileDescriptorProto:
    fdp = descriptor_pb2.FileDescriptorProto(name="shared/money.proto", package="shared", syntax="proto3")
    msg = fdp.message_type.add(name="Money")
    msg.field.add(name="units", number=1, type=descriptor_pb2.FieldDescriptorProto.TYPE_INT64, label=1)
    return fdp


class TestGather:
    def test_references_are_fetched_once_each_breadth_first(self):
        fetch, calls = registry({("money", 1): (MONEY, [])})
        refs = [Reference("shared/money.proto", "money", 1), Reference("shared/money.proto", "money", 1)]
        files = gather(ORDER, refs, fetch)
        assert files.root == protoc.ROOT_NAME and set(files.files) == {protoc.ROOT_NAME, "shared/money.proto"}
        assert calls == [("money", 1)]

    def test_one_name_for_two_versions_is_refused(self):
        fetch, _ = registry({("money", 1): (MONEY, []), ("money", 2): (MONEY, [])})
        refs = [Reference("shared/money.proto", "money", 1), Reference("shared/money.proto", "money", 2)]
        with pytest.raises(ProtoSchemaError, match=r"two references name shared/money\.proto: money v1 and money v2"):
            gather(ORDER, refs, fetch)

    @pytest.mark.parametrize("name", ["../etc/passwd.proto", "/abs.proto", "a/../b.proto", "a\\b.proto", "", "x" * 201])
    def test_names_that_are_not_plain_relative_files_are_refused(self, name):
        with pytest.raises(ProtoSchemaError, match="not a plain relative file name"):
            check_name(name)

    def test_sizes_and_counts_are_capped_before_compiling(self, monkeypatch):
        with pytest.raises(ProtoSchemaError, match="over the 262,144 this dashboard compiles"):
            gather("x" * (protoc.MAX_SCHEMA_CHARS + 1), [], registry({})[0])
        many = {(f"s{i}", 1): (MONEY, [Reference(f"f{i + 1}.proto", f"s{i + 1}", 1)]) for i in range(100)}
        with pytest.raises(ProtoSchemaError, match="more than 63 references"):
            gather(ORDER, [Reference("f0.proto", "s0", 1)], registry(many)[0])
        monkeypatch.setattr(protoc, "MAX_TOTAL_CHARS", len(ORDER) + len(MONEY) - 1)
        with pytest.raises(ProtoSchemaError, match="with its references is over"):
            gather(ORDER, [Reference("shared/money.proto", "money", 1)], registry({("money", 1): (MONEY, [])})[0])

    def test_fetching_references_is_bounded_in_time(self):
        fetch, calls = registry({("money", 1): (MONEY, [])})
        with pytest.raises(ProtoSchemaError, match=r"took longer than -1 s") as caught:
            gather(ORDER, [Reference("shared/money.proto", "money", 1)], fetch, timeout_s=-1)  # spent already
        assert not caught.value.lasting and calls == []

    def test_serialized_schemas_stay_descriptors(self):
        encoded = base64.b64encode(money_proto().SerializeToString()).decode()
        files = gather(encoded, [], registry({})[0])
        assert files.root == "shared/money.proto"
        assert isinstance(files.files["shared/money.proto"], descriptor_pb2.FileDescriptorProto)


class TestBuild:
    def test_text_with_a_reference_and_a_well_known_type(self):
        file, pool = build(ProtoFiles(protoc.ROOT_NAME, {protoc.ROOT_NAME: ORDER, "shared/money.proto": MONEY}))
        assert [m.name for m in file.message_type] == ["Header", "Order"]
        line = pool.FindMessageTypeByName("shop.Order.Line")
        assert line.fields_by_name["price"].message_type.full_name == "shared.Money"
        assert pool.FindMessageTypeByName("shop.Order").fields_by_name["at"].message_type.full_name == (
            "google.protobuf.Timestamp"
        )

    def test_serialized_root_with_a_text_reference(self):
        root = descriptor_pb2.FileDescriptorProto(name="pay.proto", package="p", syntax="proto3")
        root.dependency.append("shared/money.proto")
        root.message_type.add(name="Pay").field.add(
            name="m",
            number=1,
            type=descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE,
            type_name=".shared.Money",
            label=1,
        )
        file, pool = build(ProtoFiles("pay.proto", {"pay.proto": root, "shared/money.proto": MONEY}))
        assert file.name == "pay.proto"
        assert pool.FindMessageTypeByName("p.Pay").fields_by_name["m"].message_type.full_name == "shared.Money"

    def test_serialized_only_needs_no_protoc(self, monkeypatch):
        monkeypatch.setattr(protoc, "compile_files", None)  # calling it would fail the test
        _, pool = build(ProtoFiles("shared/money.proto", {"shared/money.proto": money_proto()}))
        assert pool.FindMessageTypeByName("shared.Money").fields_by_name["units"].number == 1

    def test_serialized_import_cycle_is_named(self):
        a = descriptor_pb2.FileDescriptorProto(name="a.proto", dependency=["b.proto"])
        b = descriptor_pb2.FileDescriptorProto(name="b.proto", dependency=["a.proto"])
        with pytest.raises(ProtoSchemaError, match=r"import cycle: a.proto -> b.proto -> a.proto"):
            build(ProtoFiles("a.proto", {"a.proto": a, "b.proto": b}))

    @pytest.mark.parametrize(
        ("files", "message"),
        [
            ({"b.proto": 'syntax = "proto3"; message B { Unknown u = 1; }'}, '"Unknown" is not defined'),
            ({"b.proto": "message {"}, "Expected"),
            ({"b.proto": 'syntax = "proto3"; import "missing.proto"; message B {}'}, "missing.proto: File not found"),
            (
                {"b.proto": 'syntax = "proto3"; import "a.proto";', "a.proto": 'syntax = "proto3"; import "b.proto";'},
                "File recursively imports itself: b.proto -> a.proto -> b.proto",
            ),
        ],
    )
    def test_what_protoc_refuses_is_its_message_without_temporary_paths(self, files, message):
        with pytest.raises(ProtoSchemaError, match="the schema does not compile") as caught:
            build(ProtoFiles("b.proto", files))
        assert message in str(caught.value) and "/tmp" not in str(caught.value) and caught.value.lasting

    def test_a_compile_past_its_time_out_is_stopped(self):
        with pytest.raises(ProtoSchemaError, match=r"took longer than 0\.001 s"):
            protoc.compile_files(ProtoFiles("a.proto", {"a.proto": MONEY}), timeout_s=0.001)

    def test_the_child_runs_under_memory_and_cpu_limits(self, monkeypatch):
        monkeypatch.setattr(protoc, "MEMORY_LIMIT_BYTES", 16 * 1024 * 1024)  # too small to start Python
        with pytest.raises(ProtoSchemaError, match="its memory limit is 16 MiB") as caught:
            protoc.compile_files(ProtoFiles("a.proto", {"a.proto": MONEY}))
        assert "site-packages" not in str(caught.value)

    def test_a_missing_compiler_says_what_to_install(self, monkeypatch):
        monkeypatch.setattr(protoc, "_CHILD", "import grpc_tools_not_here\n")
        with pytest.raises(ProtoSchemaError, match=r"protoc is not installed here \(grpcio-tools"):
            protoc.compile_files(ProtoFiles("a.proto", {"a.proto": MONEY}))

    def test_the_child_gets_none_of_the_servers_environment(self, monkeypatch):
        monkeypatch.setenv("KAFKA_SCHEMA_REGISTRY_PASSWORD", "s3cret")
        child = "import os, sys\nsys.stderr.write('env: ' + ' '.join(sorted(os.environ)) + ' end')\nsys.exit(1)\n"
        monkeypatch.setattr(protoc, "_CHILD", child)
        with pytest.raises(ProtoSchemaError, match=r"env: .* end") as caught:
            protoc.compile_files(ProtoFiles("a.proto", {"a.proto": MONEY}))
        assert "KAFKA_SCHEMA_REGISTRY_PASSWORD" not in str(caught.value)
