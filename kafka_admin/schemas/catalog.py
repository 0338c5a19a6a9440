"""What a registry holds, for the schemas page, and its compatibility check, for the reprocess dry run.

Both talk to the registry on request (a person opened the page or asked for a plan), never per
record: the catalog costs three requests a subject, bounded to MAX_SUBJECTS, and the check one
request per distinct (subject, schema id). Failures are a message, never raised.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from confluent_kafka.schema_registry import SchemaRegistryError

from kafka_admin.schemas.decoder import SchemaDecoder
from kafka_admin.schemas.wire import framing, subject_for

MAX_SUBJECTS = 200


@dataclass(frozen=True)
class SubjectInfo:
    name: str
    versions: tuple[int, ...]
    latest_id: int | None
    schema_type: str
    compatibility: str | None  # the subject's own level; None: the registry's default applies


@dataclass(frozen=True)
class Catalog:
    subjects: tuple[SubjectInfo, ...] = ()
    default_compatibility: str | None = None
    truncated: bool = False  # more than MAX_SUBJECTS subjects: only the first are described
    error: str | None = None


def _problem(exc: Exception) -> str:
    if isinstance(exc, SchemaRegistryError):
        return f"the schema registry answered {exc.http_status_code}: {exc.error_message}"[:300]
    return f"schema registry unreachable ({type(exc).__name__}: {exc})"[:300]


def read_catalog(decoder: SchemaDecoder) -> Catalog:
    """Subjects, their versions and compatibility levels (subjects in name order)."""
    client = decoder.client
    try:
        names = sorted(client.get_subjects())
        default = client.get_compatibility()
    except Exception as exc:  # noqa: BLE001 - connection refused, timeout, TLS, an error answer
        return Catalog(error=_problem(exc))
    subjects = []
    for name in names[:MAX_SUBJECTS]:
        try:
            versions = tuple(client.get_versions(name))
            latest = client.get_latest_version(name)
        except Exception as exc:  # noqa: BLE001
            return Catalog(tuple(subjects), default, len(names) > MAX_SUBJECTS, f"subject {name}: {_problem(exc)}")
        try:
            level: str | None = client.get_compatibility(name)
        except SchemaRegistryError:
            level = None  # no level of its own (a 404): the default applies
        except Exception as exc:  # noqa: BLE001
            return Catalog(tuple(subjects), default, len(names) > MAX_SUBJECTS, f"subject {name}: {_problem(exc)}")
        kind = latest.schema.schema_type or "AVRO"
        subjects.append(SubjectInfo(name, versions, latest.schema_id, kind, level))
    return Catalog(tuple(subjects), default, len(names) > MAX_SUBJECTS)


def topics_of(subject: str, topics: Iterable[str], strategy: str) -> list[str]:
    """The topics whose records a subject names under `strategy` (record names tell no topic)."""
    if strategy == "record":
        return []
    if strategy == "topic":
        return [t for t in topics if subject in (f"{t}-key", f"{t}-value")]
    return [t for t in topics if subject.startswith(f"{t}-")]


@dataclass(frozen=True)
class Refusal:
    """Records whose schema the target subject no longer accepts (its compatibility check says no)."""

    schema_id: int
    subject: str
    records: int

    def line(self) -> str:
        return f"{self.records} records use schema id {self.schema_id}, which {self.subject} no longer accepts"


def schema_counts(values: Iterable[bytes | None]) -> dict[int, int]:
    """How many of these values name each schema id."""
    return dict(Counter(f.schema_id for f in map(framing, values) if f is not None))


def refused_schemas(
    decoder: SchemaDecoder, target_topic: str, counts: Mapping[int, int]
) -> tuple[list[Refusal], str | None]:
    """For a reprocess dry run: which schema ids (with how many records use each) the target's
    subject refuses against its latest version. Bytes are never changed; this only says what the
    target's consumers will meet."""
    refusals: list[Refusal] = []
    for sid, n in sorted(counts.items()):
        schema = decoder.schema(sid)
        if schema is None:
            continue  # unknown or unreachable: the record pages say why
        subject = subject_for(decoder.config.subject_strategy, target_topic, False, decoder.record_name(sid))
        if not subject:
            continue
        try:
            ok = decoder.client.test_compatibility(subject, schema)
        except SchemaRegistryError as exc:
            if exc.http_status_code == 404:
                continue  # the target has no such subject: nothing to be compatible with
            return refusals, _problem(exc)
        except Exception as exc:  # noqa: BLE001
            return refusals, _problem(exc)
        if not ok:
            refusals.append(Refusal(sid, subject, n))
    return refusals, None
