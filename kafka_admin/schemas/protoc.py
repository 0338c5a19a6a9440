""".proto text to descriptors with protoc (grpcio-tools' bundled compiler), bounded.

A registry holds Protobuf schemas as .proto text (Confluent's Java serializer, most tools) or as a
base64 FileDescriptorProto (confluent-kafka's Python serializer); either may import other subjects
(schema references). Python's protobuf has no .proto parser, so text goes through protoc. The
schema is untrusted input: protoc runs in a child process (grpc_tools runs the compiler in-process,
so never in ours) with a wall-clock time-out, CPU and memory limits, one at a time per process, and
on sizes checked before and after. Failures are a ProtoSchemaError whose message says why.
"""

from __future__ import annotations

import base64
import binascii
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.message import DecodeError

MAX_SCHEMA_CHARS = 256 * 1024  # one schema's text
MAX_TOTAL_CHARS = 1024 * 1024  # a schema with everything it imports
MAX_FILES = 64  # a schema and its references
MAX_OUTPUT_BYTES = 8 * 1024 * 1024  # the descriptor set protoc writes
COMPILE_TIMEOUT_S = 10.0
GATHER_TIMEOUT_S = 30.0  # fetching all of a schema's references
CPU_LIMIT_S = 10
MEMORY_LIMIT_BYTES = 1024 * 1024 * 1024
ROOT_NAME = "__registered_schema__.proto"
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*(/[A-Za-z0-9_][A-Za-z0-9_.\-]*)*")
_ONE_AT_A_TIME = threading.BoundedSemaphore(1)

# The child: limits first, then protoc with grpc_tools' own include dir (well-known types) last.
_CHILD = (
    "import resource, sys\n"
    "resource.setrlimit(resource.RLIMIT_AS, ({mem}, {mem}))\n"
    "resource.setrlimit(resource.RLIMIT_CPU, ({cpu}, {cpu}))\n"
    "resource.setrlimit(resource.RLIMIT_FSIZE, ({out}, {out}))\n"
    "from grpc_tools import protoc\n"
    "sys.argv[0] = 'protoc'\n"
    "protoc.entrypoint()\n"
)


class ProtoSchemaError(ValueError):
    """A Protobuf schema that cannot become descriptors; `lasting` False: worth asking again later."""

    def __init__(self, message: str, lasting: bool = True) -> None:
        super().__init__(message)
        self.lasting = lasting


@dataclass(frozen=True)
class ProtoFiles:
    """A schema and the files it imports, by import name: .proto text, or a FileDescriptorProto."""

    root: str
    files: Mapping[str, str | descriptor_pb2.FileDescriptorProto]


class Reference(NamedTuple):
    """A schema reference as registries give it: the import name, and the subject version it names."""

    name: str
    subject: str
    version: int


# (subject, version) -> that version's schema text and its own references
Fetch = Callable[[str, int], tuple[str, list[Reference]]]


def gather(
    schema_str: str, references: list[Reference], fetch: Fetch, timeout_s: float = GATHER_TIMEOUT_S
) -> ProtoFiles:
    """The schema and, breadth first, every subject version it references, checked as they come.

    Two references that give one import name different contents are refused (protoc would take
    either); a version met twice is fetched once, so reference loops end."""
    total = check_size("the schema", schema_str, 0)
    root = serialized(schema_str)
    root_name = root.name if root is not None else ROOT_NAME
    files: dict[str, str | descriptor_pb2.FileDescriptorProto] = {root_name: root if root is not None else schema_str}
    origin: dict[str, tuple[str, int]] = {}
    queue = list(references)
    deadline = time.monotonic() + timeout_s
    while queue:
        if time.monotonic() > deadline:
            raise ProtoSchemaError(f"fetching the schema's references took longer than {timeout_s:g} s", lasting=False)
        ref = queue.pop(0)
        name = check_name(ref.name)
        if name in origin:
            if origin[name] != (ref.subject, ref.version):
                raise ProtoSchemaError(
                    f"two references name {name}: {origin[name][0]} v{origin[name][1]} and {ref.subject} v{ref.version}"
                )
            continue
        if len(origin) + 1 >= MAX_FILES:
            raise ProtoSchemaError(f"the schema has more than {MAX_FILES - 1} references")
        text, more = fetch(ref.subject, ref.version)
        total = check_size(name, text, total)
        origin[name] = (ref.subject, ref.version)
        found = serialized(text)
        files[name] = found if found is not None else text
        queue.extend(more)
    return ProtoFiles(root_name, files)


def serialized(schema_str: str) -> descriptor_pb2.FileDescriptorProto | None:
    """The FileDescriptorProto of a schema in its serialized (base64) form, else None (.proto text)."""
    try:
        return descriptor_pb2.FileDescriptorProto.FromString(base64.b64decode(schema_str, validate=True))
    except (binascii.Error, ValueError, DecodeError):
        return None


def check_name(name: str) -> str:
    """A reference's import name, refused unless it is a plain relative path (it becomes a file)."""
    parts = name.split("/")
    if len(name) > 200 or not _NAME.fullmatch(name) or any(p in (".", "..") for p in parts):
        raise ProtoSchemaError(f"the schema reference name {name[:80]!r} is not a plain relative file name")
    if name == ROOT_NAME:
        raise ProtoSchemaError(f"the schema reference name {name} is reserved")
    return name


def check_size(name: str, text: str, total: int) -> int:
    """The running total of schema text, refused past the caps before anything is compiled."""
    if len(text) > MAX_SCHEMA_CHARS:
        raise ProtoSchemaError(
            f"{name} is {len(text):,} characters, over the {MAX_SCHEMA_CHARS:,} this dashboard compiles"
        )
    total += len(text)
    if total > MAX_TOTAL_CHARS:
        raise ProtoSchemaError(f"the schema with its references is over {MAX_TOTAL_CHARS:,} characters")
    return total


def build(source: ProtoFiles) -> tuple[descriptor_pb2.FileDescriptorProto, descriptor_pool.DescriptorPool]:
    """The root file's descriptor and a pool holding it and every file it imports."""
    root = source.files[source.root]
    if isinstance(root, descriptor_pb2.FileDescriptorProto) and all(
        isinstance(f, descriptor_pb2.FileDescriptorProto) for f in source.files.values()
    ):
        protos = list(source.files.values())
    else:
        protos = list(compile_files(source).file)
    return _pool(protos, source)


def _pool(
    protos: list[descriptor_pb2.FileDescriptorProto], source: ProtoFiles
) -> tuple[descriptor_pb2.FileDescriptorProto, descriptor_pool.DescriptorPool]:
    """Add files in dependency order; well-known types nobody supplied come from protobuf itself."""
    by_name = {p.name: p for p in protos}
    root_name = source.root
    root = source.files[root_name]
    if isinstance(root, descriptor_pb2.FileDescriptorProto):
        root_name = root.name
        by_name.setdefault(root_name, root)
    pool = descriptor_pool.DescriptorPool()
    added: set[str] = set()

    def add(name: str, path: tuple[str, ...]) -> None:
        if name in added:
            return
        if name in path:
            raise ProtoSchemaError(f"import cycle: {' -> '.join((*path, name))}")
        proto = by_name.get(name)
        if proto is None:
            try:
                known = descriptor_pool.Default().FindFileByName(name)
            except KeyError:
                raise ProtoSchemaError(f"the schema imports {name}, which no schema reference supplies") from None
            proto = descriptor_pb2.FileDescriptorProto()
            known.CopyToProto(proto)
        for dep in proto.dependency:
            add(dep, (*path, name))
        try:
            pool.Add(proto)
        except (TypeError, ValueError) as exc:
            raise ProtoSchemaError(f"{name} does not fit with what it imports: {exc}") from None
        added.add(name)

    add(root_name, ())
    return by_name[root_name], pool


def compile_files(source: ProtoFiles, timeout_s: float = COMPILE_TIMEOUT_S) -> descriptor_pb2.FileDescriptorSet:
    """protoc over the text files (serialized ones given to it as a descriptor set), in a bounded child."""
    if not _ONE_AT_A_TIME.acquire(timeout=timeout_s):
        raise ProtoSchemaError("another Protobuf schema is being compiled; try again", lasting=False)
    try:
        with tempfile.TemporaryDirectory(prefix="proto-") as tmp:
            return _run(source, Path(tmp), timeout_s)
    finally:
        _ONE_AT_A_TIME.release()


def _run(source: ProtoFiles, tmp: Path, timeout_s: float) -> descriptor_pb2.FileDescriptorSet:
    include = tmp / "include"
    given = descriptor_pb2.FileDescriptorSet()
    for name, content in source.files.items():
        if isinstance(content, descriptor_pb2.FileDescriptorProto):
            given.file.append(content)
            continue
        path = include / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    out = tmp / "out.pb"
    args = [f"-I{include}", f"--descriptor_set_out={out}", "--include_imports"]
    if given.file:
        (tmp / "given.pb").write_bytes(given.SerializeToString())
        args.append(f"--descriptor_set_in={tmp / 'given.pb'}")
    code = _CHILD.format(mem=MEMORY_LIMIT_BYTES, cpu=CPU_LIMIT_S, out=MAX_OUTPUT_BYTES)
    root = source.files[source.root]
    targets = [source.root] if isinstance(root, str) else [n for n, f in source.files.items() if isinstance(f, str)]
    cmd = [sys.executable, "-I", "-c", code, *args, *targets]
    try:
        # An empty environment: the server's (registry and broker credentials) is none of protoc's business.
        done = subprocess.run(cmd, cwd=tmp, env={}, capture_output=True, timeout=timeout_s, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ProtoSchemaError(f"compiling the schema took longer than {timeout_s:g} s") from None
    except OSError as exc:
        raise ProtoSchemaError(f"protoc could not be started ({exc})", lasting=False) from None
    if done.returncode < 0:
        raise ProtoSchemaError(f"protoc was stopped by signal {-done.returncode} (over its CPU or memory limit)")
    if done.returncode != 0:
        raise ProtoSchemaError(f"the schema does not compile: {_protoc_message(done.stderr, tmp)}")
    if not out.is_file() or out.stat().st_size > MAX_OUTPUT_BYTES:
        raise ProtoSchemaError("protoc wrote no usable descriptor set")
    try:
        return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    except DecodeError:
        raise ProtoSchemaError("protoc wrote a descriptor set that does not parse") from None


def _protoc_message(stderr: bytes, tmp: Path) -> str:
    """protoc's first complaints, without the temporary paths (and the root's reserved name)."""
    text = stderr.decode("utf-8", "replace").replace(f"{tmp}/include/", "").replace(str(tmp), "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if "Traceback (most recent call last):" in lines:  # the child itself failed, not the schema
        last = lines[-1].split(":")[0]
        if last == "ModuleNotFoundError":
            return "protoc is not installed here (grpcio-tools, requirements.txt)"
        if last in ("MemoryError", "ImportError"):  # an import that cannot map its library: memory
            return f"protoc's child failed ({last}; its memory limit is {MEMORY_LIMIT_BYTES // 2**20} MiB)"
        return f"protoc's child failed ({last})"
    message = "; ".join(lines[:3]) or "protoc failed without saying why"
    return message.replace(ROOT_NAME, "the schema")
