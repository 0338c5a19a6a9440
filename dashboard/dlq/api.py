"""DLQ endpoints of the JSON API: list, records, plan, reprocess (runs in the background), resolve, runs.

Reads need a login or a token, like the rest of the API; actions need the operator role. A
session-authenticated POST must carry the CSRF token (a browser sends cookies by itself); a
bearer-token POST does not (a browser never adds that header on its own).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.core.paginator import Paginator
from django.http import HttpRequest, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from dashboard.access import tokens
from dashboard.access.permissions import can_operate, why_not
from dashboard.api.base import (
    ApiError,
    api_view,
    authenticate,
    cluster_config,
    error_response,
    json_response,
    page_size,
)
from dashboard.clusters import schema_decoder
from dashboard.dlq import service as dlq
from dashboard.dlq.queries import DlqQuery
from dashboard.models import DlqRecord, ReprocessRun
from dashboard.params import InvalidPage
from kafka_admin.dlq.routing import parse_failure
from kafka_admin.isolation import reads
from kafka_admin.records import read as messages
from kafka_admin.records.payload import Payload, describe_part, header_text

log = logging.getLogger(__name__)

Json = dict[str, Any]
MAX_BODY = 5 * 1024 * 1024


def api_action(view: Callable[..., Json | tuple[Json, int]]) -> Callable[..., JsonResponse]:
    """POST only; token or session (with CSRF); operators only; JSON in, JSON out, never a 500 page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        if request.method != "POST":
            return error_response(405, "method not allowed: use POST", {"Allow": "POST"})
        denied = authenticate(request)
        if denied is not None:
            return denied
        if not tokens.has_authorization(request):
            csrf_failure = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
            if csrf_failure is not None:
                return error_response(403, "CSRF check failed: send the X-CSRFToken header with a session")
        if not can_operate(request.user):
            return error_response(403, why_not(request.user))
        try:
            body = _body(request)
            result = view(request, body, *args, **kwargs)
        except ApiError as exc:
            return error_response(exc.status, exc.message, exc.headers)
        except (InvalidPage, dlq.InvalidSelection) as exc:
            return error_response(400, str(exc))
        except Exception:
            log.exception("API action failed: %s", view.__name__)
            return error_response(500, "internal error (see the server log)")
        data, status = result if isinstance(result, tuple) else (result, 200)
        return json_response(data, status)

    return login_not_required(csrf_exempt(wrapper))


def _body(request: HttpRequest) -> Json:
    try:
        size = len(request.body)
    except RequestDataTooBig:  # beyond DATA_UPLOAD_MAX_MEMORY_SIZE: Django refuses to read it
        raise ApiError(413, "request body too large") from None
    if size > MAX_BODY:
        raise ApiError(413, "request body too large")
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[..." nested too deep
        raise ApiError(400, "the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return data


def _dlq_topic(cluster: str, topic: str) -> str:
    cluster_config(cluster)
    if not dlq.is_dlq(cluster, topic):
        raise ApiError(404, "not a dead letter topic (see DLQ_PATTERNS and DLQ_MAPPING)")
    return topic


def _selection(cluster: str, topic: str, body: Json) -> tuple[object, dict]:
    data = dict(body)
    if data.get("mode") == "selected":
        keys = data.get("records", [])
        if not isinstance(keys, list) or len(keys) > dlq.MAX_SELECTION:
            raise dlq.InvalidSelection("records must be a list of 'partition:offset' strings")
        data["keys"] = [str(k) for k in keys]
    if data.get("mode") == "filter" and not isinstance(data.get("filter", {}), dict):
        raise dlq.InvalidSelection("filter must be an object of the DLQ page's query parameters")
    if data.get("mode") == "filter":
        data["filter"] = {str(k): str(v) for k, v in data.get("filter", {}).items()}
    return dlq.selection_from(cluster, topic, data)


def _rate(body: Json) -> float | None:
    value = body.get("rate_limit")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= 1_000_000:
        raise dlq.InvalidSelection("rate_limit must be a number of records per second from 1 to 1,000,000")
    return float(value)


def summary_json(s: dlq.DlqSummary) -> Json:
    return {
        "topic": s.topic,
        "original_topics": list(s.targets),
        "records": s.total,
        "waiting": s.waiting_total,
        "indexed": s.indexed,
        "reprocessed": s.reprocessed,
        "resolved": s.resolved,
        "oldest_waiting": s.oldest_waiting.isoformat() if s.oldest_waiting else None,
        "top_reasons": [{"exception_class": c, "count": n} for c, n in s.top_reasons],
    }


def record_json(r: DlqRecord) -> Json:
    return {
        "partition": r.partition,
        "offset": r.offset,
        "timestamp": r.timestamp.isoformat() if r.timestamp else None,
        "key": r.key_preview,
        "value_preview": r.value_preview[:500],
        "value_size": r.value_size,
        "original": {"topic": r.original_topic or None, "partition": r.original_partition, "offset": r.original_offset},
        "target_topic": r.target_topic or None,
        "target_source": r.target_source or None,
        "exception_class": r.exception_class or None,
        "failure_class": r.failure_class or None,
        "stage": r.stage or None,
        "convention": r.convention or None,
        "exception_message": r.exception_message or None,
        "retry_count": r.retry_count,
        "status": r.status,
        "status_by": r.status_by or None,
        "status_note": r.status_note or None,
    }


def run_json(run: ReprocessRun) -> Json:
    return {
        "run_id": run.run_id,
        "dlq_topic": run.dlq_topic,
        "actor": run.actor,
        "state": run.state,
        "planned": run.planned,
        "sent": run.sent,
        "skipped": run.skipped,
        "failed": run.failed,
        "message": run.message or None,
        "selection": run.selection,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


@api_view
def dlq_list(request: HttpRequest, cluster: str) -> Json:
    cluster_config(cluster)
    return {"cluster": cluster, "results": [summary_json(s) for s in dlq.summaries(cluster)]}


@api_view
def dlq_records(request: HttpRequest, cluster: str, topic: str) -> Json:
    _dlq_topic(cluster, topic)
    query = DlqQuery.parse(request.GET)
    size = page_size(request)
    paginator = Paginator(dlq.filtered(cluster, topic, query), size)
    page = paginator.get_page(query.page)
    return {
        "cluster": cluster,
        "topic": topic,
        "count": paginator.count,
        "page": page.number,
        "pages": paginator.num_pages,
        "page_size": size,
        "results": [record_json(r) for r in page],
    }


def payload_json(p: Payload) -> Json:
    """A key or value as the record page shows it; decoded ones also as JSON, with their schema."""
    out: Json = {"kind": p.kind, "text": p.text, "size": p.size, "truncated": p.truncated, "schema": None}
    if p.schema is not None:
        s = p.schema
        out["schema"] = {
            "id": s.schema_id,
            "format": s.format,
            "subject": s.subject,
            "version": s.version,
            "decoded": s.text is not None,
            "reason": s.reason,
            "note": s.note,
        }
        if s.text is not None and not p.truncated:
            out["json"] = json.loads(s.text)
    return out


@api_view
def dlq_record(request: HttpRequest, cluster: str, topic: str, partition: int, offset: int) -> Json:
    """One dead letter read from Kafka: key and value (schema-decoded with a registry), headers."""
    _dlq_topic(cluster, topic)
    try:
        dlq.check_position(partition, offset)
    except dlq.InvalidSelection as exc:
        raise ApiError(400, str(exc)) from None
    # In a reader child, like the record page: a librdkafka crash must not take the server down.
    result = reads.read_records(cluster_config(cluster), topic, partition, messages.FromOffset(offset), limit=1)
    record = result.records[0] if result.records and result.records[0].offset == offset else None
    if record is None:
        raise ApiError(404, result.error or "no record at that offset")
    decoder = schema_decoder(cluster)
    origin = parse_failure(record.headers).original_topic or topic
    return {
        "cluster": cluster,
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "timestamp": record.timestamp.isoformat() if record.timestamp else None,
        "key": payload_json(describe_part(record.key, record.key_size, 4096, decoder, origin, True)),
        "value": payload_json(describe_part(record.value, record.value_size, decoder=decoder, topic=origin)),
        "headers": [[name, header_text(value)] for name, value in record.headers[:500]],
    }


@api_action
def dlq_plan(request: HttpRequest, body: Json, cluster: str, topic: str) -> Json:
    _dlq_topic(cluster, topic)
    selection, described = _selection(cluster, topic, body)
    plan = dlq.plan(cluster, topic, selection, force=bool(body.get("force")))
    return {
        "selection": described,
        "force": bool(body.get("force")),
        "would_send": plan.would_send,
        "per_target": plan.per_target,
        "skipped_done": len(plan.skipped_done),
        "skipped_unmapped": len(plan.skipped_unmapped),
        "missing_topics": plan.missing_targets,
        "too_large": len(plan.too_large),
        "not_found": plan.not_found,
        "errors": list(plan.errors),
        "notes": list(plan.notes),
    }


@api_action
def dlq_reprocess(request: HttpRequest, body: Json, cluster: str, topic: str) -> tuple[Json, int]:
    _dlq_topic(cluster, topic)
    if body.get("confirm") is not True:
        raise ApiError(400, 'a reprocess needs "confirm": true (see the plan endpoint for a dry run)')
    selection, described = _selection(cluster, topic, body)
    run = dlq.start_run(
        cluster,
        topic,
        selection,
        described,
        request.user.get_username(),
        force=bool(body.get("force")),
        rate_limit=_rate(body),
    )
    return run_json(run), 202


@api_action
def dlq_resolve(request: HttpRequest, body: Json, cluster: str, topic: str) -> Json:
    _dlq_topic(cluster, topic)
    records = body.get("records", [])
    if not isinstance(records, list):
        raise dlq.InvalidSelection("records must be a list of 'partition:offset' strings")
    keys = dlq.parse_keys([str(k) for k in records])
    count = dlq.resolve(cluster, topic, keys, request.user.get_username(), str(body.get("reason", "")))
    return {"resolved": count, "requested": len(keys)}


@api_view
def dlq_run(request: HttpRequest, cluster: str, run_id: str) -> Json:
    cluster_config(cluster)
    run = ReprocessRun.objects.filter(cluster=cluster, run_id=run_id).first()
    if run is None:
        raise ApiError(404, "no such reprocess run")
    return run_json(run)
