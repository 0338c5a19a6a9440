"""DLQ pages and actions: list, topic (filters, triage, selection), record detail, plan -> confirm ->
run with progress, resolve, and the audit log. Actions are operators-only, CSRF-protected, audited.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from dashboard.access.permissions import can_operate, operator_required
from dashboard.clusters import get_cluster, schema_decoder
from dashboard.dlq import fragments
from dashboard.dlq import service as dlq
from dashboard.dlq.ledger import history
from dashboard.dlq.queries import DlqQuery
from dashboard.dlq.readers import target_readers
from dashboard.models import DlqRecord, ReprocessRun
from dashboard.pages import bad_request, cluster_page, page, ws_url
from dashboard.params import InvalidPage
from dashboard.relations import chain_view, groups_reading, original_of
from dashboard.state import store
from kafka_admin.dlq.conventions.registry import CONVENTIONS
from kafka_admin.dlq.metadata_only import metadata_only
from kafka_admin.dlq.routing import FailureInfo, parse_failure, resolve_target
from kafka_admin.isolation import reads
from kafka_admin.records import read as messages
from kafka_admin.records.payload import describe_part, header_text
from kafka_admin.schemas.catalog import refused_schemas


@cluster_page
def dlq_list(request: HttpRequest, cluster: str) -> HttpResponse:
    return page(
        request,
        "dlq_list.html",
        cluster,
        "dlq",
        ws_url("dlq", cluster),
        **fragments.dlq_context(cluster, on_dlq_page=True),
    )


@cluster_page
def dlq_topic(request: HttpRequest, cluster: str, topic: str) -> HttpResponse:
    if not dlq.is_dlq(cluster, topic):
        raise Http404("not a dead letter topic (see DLQ_PATTERNS and DLQ_MAPPING)")
    query = DlqQuery.parse(request.GET)
    rows = dlq.filtered(cluster, topic, query)
    paged = Paginator(rows, 50).get_page(query.page)
    context: dict[str, Any] = {
        "topic": topic,
        "query": query,
        "records": paged,
        "match_count": paged.paginator.count,
        "can_operate": can_operate(request.user),
        "filter_json": json.dumps(dict(query.params())),
        "related": related_context(cluster, topic),
        "chain": chain_view(store.state(cluster).snapshot, topic),
        **fragments.dlq_triage_context(cluster, topic, query),
    }
    live = ws_url("dlq-topic", cluster, (("topic", topic), *query.params()))
    return page(request, "dlq_topic.html", cluster, "dlq", live, **context)


def related_context(cluster: str, topic: str) -> dict[str, list[str]]:
    """Links from a DLQ page: its original topics (the records' own and the name's), who reads what."""
    snap = store.state(cluster).snapshot
    targets = DlqRecord.objects.filter(cluster=cluster, topic=topic).exclude(target_topic="")
    originals = set(targets.order_by().values_list("target_topic", flat=True).distinct()[:10])
    if original_of(topic):
        originals.add(original_of(topic))
    known = {t.name for t in snap.topics} if snap else set()
    return {
        "originals": sorted(originals & known) if snap else sorted(originals),
        "original_readers": sorted({g for o in originals for g in groups_reading(snap, o)})[:20],
        "dlq_readers": groups_reading(snap, topic)[:20],
    }


@cluster_page
def dlq_record(request: HttpRequest, cluster: str, topic: str, partition: int, offset: int) -> HttpResponse:
    """One dead-letter record, read from Kafka: value, every header decoded, the failure, its history."""
    try:
        dlq.check_position(partition, offset)
    except dlq.InvalidSelection as exc:
        return bad_request(request, str(exc))
    result = reads.read_records(get_cluster(cluster), topic, partition, messages.FromOffset(offset), limit=1)
    record = result.records[0] if result.records and result.records[0].offset == offset else None
    indexed = DlqRecord.objects.filter(cluster=cluster, topic=topic, partition=partition, offset=offset).first()
    if record is None and indexed is None:
        raise Http404(result.error or "no record at that offset")
    context: dict[str, Any] = {
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "indexed": indexed,
        "read_error": result.error if record is None else None,
        "can_operate": can_operate(request.user),
    }
    if record is not None:
        info = parse_failure(record.headers)
        decoder = schema_decoder(cluster)
        # Dead letters keep the original record's bytes: its subject is the original topic's.
        origin = info.original_topic or topic
        context.update(
            record=record,
            info=info,
            target=resolve_target(info, topic, *dlq.routing(cluster)),
            key=describe_part(record.key, record.key_size, limit=4096, decoder=decoder, topic=origin, is_key=True),
            value=describe_part(record.value, record.value_size, decoder=decoder, topic=origin),
            headers=[header_row(name, value) for name, value in record.headers[:500]],
            download={"download_base": f"/c/{quote(cluster)}/topics/{quote(topic)}/messages/{partition}/{offset}/"},
        )
        context.update(metadata_only_context(cluster, info, record, decoder))
    context["history"] = history(cluster, topic, partition, offset, limit=50)
    return page(request, "dlq_record.html", cluster, "dlq", "", **context)


def metadata_only_context(cluster: str, info: FailureInfo, record: messages.Record, decoder: Any) -> dict[str, Any]:
    """For a dead letter without key and value (KIP-1191's default): what it is, whether its original
    record is still retained (from the snapshot), and that record itself, read from its topic."""
    snap = store.state(cluster).snapshot
    log_range = None
    if snap is not None and info.original_topic is not None:
        found = next((t for t in snap.topics if t.name == info.original_topic), None)
        part = next((p for p in found.partitions if p.partition == info.original_partition), None) if found else None
        log_range = (part.start_offset, part.end_offset) if part is not None else None
    only = metadata_only(info, record.key, record.value, log_range)
    if only is None:
        return {}
    out: dict[str, Any] = {"metadata_only": only}
    if only.readable:
        read = reads.read_records(
            get_cluster(cluster), only.topic, only.partition, messages.FromOffset(only.offset), limit=1
        )
        original = read.records[0] if read.records and read.records[0].offset == only.offset else None
        if original is None:
            out["original_error"] = read.error or "the original record could not be read"
        else:
            out["original"] = original
            base = f"/c/{quote(cluster)}/topics/{quote(only.topic)}/messages/{only.partition}/{only.offset}/"
            out["original_download"] = {"download_base": base}
            out["original_key"] = describe_part(
                original.key, original.key_size, limit=4096, decoder=decoder, topic=only.topic, is_key=True
            )
            value = describe_part(original.value, original.value_size, decoder=decoder, topic=only.topic)
            out["original_value"] = value
    return out


def header_row(name: str, value: bytes | None) -> tuple[str, str, str | None]:
    """(name, what it says, its raw bytes when they were decoded): Spring's binary partition shows
    as 13, its bytes one click away."""
    reading = CONVENTIONS.reading(name, value)
    if reading is None:
        return name, header_text(value), None
    return name, reading, header_text(value)


def _form_selection(request: HttpRequest, cluster: str, topic: str) -> tuple[object, dict]:
    resolving = request.POST.get("action") == "resolve"
    data: dict[str, Any] = {
        "mode": "selected" if resolving else request.POST.get("mode", ""),
        "keys": request.POST.getlist("key"),
        "partition": request.POST.get("partition", ""),
        "start": request.POST.get("start", ""),
        "end": request.POST.get("end", ""),
    }
    if data["mode"] == "filter":
        try:
            data["filter"] = json.loads(request.POST.get("filter", "{}"))
        except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested too deep
            raise dlq.InvalidSelection("the filter could not be read; reload the page") from None
        if not isinstance(data["filter"], dict):
            raise dlq.InvalidSelection("the filter could not be read; reload the page")
        data["filter"] = {str(k): str(v) for k, v in data["filter"].items()}  # as the API does
    return dlq.selection_from(cluster, topic, data)


def _rate_limit(request: HttpRequest) -> float | None:
    raw = request.POST.get("rate_limit", "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 7 or not 1 <= int(raw) <= 1_000_000:
        raise dlq.InvalidSelection("rate limit must be a whole number of records per second (1 to 1,000,000)")
    return float(raw)


def _schema_lines(cluster: str, schema_ids: dict[str, dict[int, int]]) -> list[str]:
    """The dry run's schema lines: records whose schema a target's subject no longer accepts."""
    decoder = schema_decoder(cluster)
    if decoder is None:
        return []
    lines = []
    for target, counts in sorted(schema_ids.items()):
        refusals, problem = refused_schemas(decoder, target, counts)
        lines.extend(r.line() for r in refusals)
        if problem:
            lines.append(f"could not check the schemas of {target}: {problem}")
    return lines


@cluster_page
@require_POST
@operator_required
def dlq_plan(request: HttpRequest, cluster: str, topic: str) -> HttpResponse:
    """Step 1 of a reprocess: the dry run, and a confirmation that says exactly what will happen."""
    if not dlq.is_dlq(cluster, topic):
        raise Http404("not a dead letter topic")
    try:
        selection, described = _form_selection(request, cluster, topic)
        rate_limit = _rate_limit(request)
    except (dlq.InvalidSelection, InvalidPage) as exc:
        return bad_request(request, str(exc))
    if request.POST.get("action") == "resolve":
        return render(
            request,
            "dlq_resolve.html",
            {
                "cluster": cluster,
                "topic": topic,
                "section": "dlq",
                "keys": request.POST.getlist("key"),
                "described": described,
            },
        )
    force = request.POST.get("force") == "1"
    result = dlq.plan(cluster, topic, selection, force=force)
    context = {
        "topic": topic,
        "plan": result,
        "schema_lines": _schema_lines(cluster, result.schema_ids),
        "readers": target_readers(cluster, topic, result.per_target),
        "described": described,
        "force": force,
        "rate_limit": rate_limit,
        "post": {k: request.POST.getlist(k) for k in ("mode", "key", "partition", "start", "end", "filter")},
    }
    return page(request, "dlq_plan.html", cluster, "dlq", "", **context)


@cluster_page
@require_POST
@operator_required
def dlq_reprocess(request: HttpRequest, cluster: str, topic: str) -> HttpResponse:
    """Step 2: run it (after the confirmation page), then follow its progress."""
    if not dlq.is_dlq(cluster, topic):
        raise Http404("not a dead letter topic")
    if request.POST.get("confirm") != "yes":
        return bad_request(request, "a reprocess needs the confirmation step")
    try:
        selection, described = _form_selection(request, cluster, topic)
        rate_limit = _rate_limit(request)
    except (dlq.InvalidSelection, InvalidPage) as exc:
        return bad_request(request, str(exc))
    run = dlq.start_run(
        cluster,
        topic,
        selection,
        described,
        request.user.get_username(),
        force=request.POST.get("force") == "1",
        rate_limit=rate_limit,
    )
    return redirect("dlq_run", cluster=cluster, run_id=run.run_id)


@cluster_page
@require_POST
@operator_required
def dlq_resolve(request: HttpRequest, cluster: str, topic: str) -> HttpResponse:
    try:
        keys = dlq.parse_keys(request.POST.getlist("key"))
        count = dlq.resolve(cluster, topic, keys, request.user.get_username(), request.POST.get("reason", ""))
    except dlq.InvalidSelection as exc:
        return bad_request(request, str(exc))
    return redirect(f"/c/{quote(cluster)}/dlq/{quote(topic)}/?status=resolved&resolved={count}")


@cluster_page
def dlq_run(request: HttpRequest, cluster: str, run_id: str) -> HttpResponse:
    run = get_object_or_404(ReprocessRun, run_id=run_id, cluster=cluster)
    if request.htmx:
        return render(request, "partials/dlq_run.html", {"run": run, "cluster": cluster})
    return page(request, "dlq_run.html", cluster, "dlq", "", run=run)
