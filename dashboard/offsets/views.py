"""Offset reset pages: the form, the preview (a dry run), then apply after confirmation.

Operators only, CSRF on every POST, audited. The broker work is kafka_admin.offset_reset; these views
parse the form, call it with the cluster's config and render. A reset is refused while the group
has active members (Kafka's rule), and the refusal names them.

The broker work runs in a child process per call (kafka_admin.isolation.oneshot) unless
BROKER_ACTIONS_ISOLATED is off: its list_consumer_group_offsets segfaults on a broker that has no
__consumer_offsets yet, and a crash must cost the request, never the server.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from dashboard.access.permissions import operator_required
from dashboard.audit import OFFSET_RESET, audit
from dashboard.clusters import get_cluster
from dashboard.pages import bad_request, cluster_page, page
from dashboard.state import store
from kafka_admin import offset_reset as offsets
from kafka_admin.config import ClusterConfig
from kafka_admin.isolation.oneshot import WorkerFailed, run_in_child
from kafka_admin.offset_reset import ApplyResult, InvalidReset, ReadFailed, ResetPlan, ResetSpec
from kafka_admin.snapshot.groups.registry import reset_refused

TARGETS = (
    ("earliest", "Earliest (log start)"),
    ("latest", "Latest (log end: skip everything waiting)"),
    ("timestamp", "Timestamp (ISO-8601 UTC or epoch ms)"),
    ("offset", "Offset"),
    ("shift", "Shift by N (negative = re-read)"),
)
MAX_SELECTORS = 10_000
MAX_FIELD = 20_000
AUDIT_ROWS = 1000


def _broker(name: str, config: ClusterConfig, *args: Any) -> Any:
    """kafka_admin.offset_reset.<name>(config, *args), in a child process of its own (see the docstring)."""
    if not settings.BROKER_ACTIONS_ISOLATED:
        return getattr(offsets, name)(config, *args)
    within = max(config.cycle_timeout_s, 6 * config.request_timeout_s)  # reads, writes with retries, read-back
    return run_in_child(
        f"kafka_admin.offset_reset:{name}",
        config,
        *args,
        role=f"offset reset ({name}) on {config.name}",
        within_s=within,
    )


CRASHED = "the broker client crashed ({}) while reading; nothing was written. Try again."
CRASHED_WRITING = "the broker client crashed ({}) while writing: read the group again to see what Kafka holds"


def _unavailable(request: HttpRequest, message: str) -> HttpResponse:
    html = render_to_string("error.html", {"status": 503, "message": message}, request=request)
    return HttpResponse(html, status=503)


def parse_form(data: Any) -> tuple[list[tuple[str, int | None]] | None, ResetSpec, dict[str, list[str]]]:
    """(partitions or None for every committed partition, spec, the fields to post again)."""
    scope = data.get("scope", "selected")
    if scope not in ("all", "selected"):
        raise InvalidReset("scope must be 'all' or 'selected'")
    picked = data.getlist("tp")
    more = data.get("more", "")
    if len(picked) > MAX_SELECTORS or len(more) > MAX_FIELD:
        raise InvalidReset("too many partitions in one request")
    spec = offsets.parse_spec(data.get("to", ""), data.get("value", ""))
    fields = {"scope": [scope], "tp": picked, "more": [more], "to": [spec.to], "value": [data.get("value", "")]}
    if scope == "all":
        return None, spec, fields
    partitions: list[tuple[str, int | None]] = []
    for text in [*picked, *more.split()]:
        topic, numbers = offsets.parse_selector(text)
        partitions.extend([(topic, None)] if numbers is None else [(topic, n) for n in numbers])
    if not partitions:
        raise InvalidReset("choose the partitions to reset (or 'all committed partitions')")
    return partitions, spec, fields


def expectations(plan: ResetPlan) -> list[str]:
    """The previewed current offsets, posted back with the confirmation: 'topic:partition:offset'."""
    return [f"{r.topic}:{r.partition}:{'-' if r.current is None else r.current}" for r in plan.rows]


def changed_since_preview(plan: ResetPlan, expected: list[str]) -> list[str]:
    """Partitions whose committed offset moved since the preview (another reset, a resubmitted form)."""
    now = set(expectations(plan))
    seen = set(expected)
    moved = sorted(now ^ seen)
    return sorted({m.rsplit(":", 1)[0].replace(":", "/") for m in moved})


def outcome_of(result: ApplyResult) -> str:
    """The audit log's result word: done (every partition reads back its new offset), refused
    (nothing written), failed, partial (Kafka refused some), or unverified (Kafka answered every
    write, but some partitions read back other offsets)."""
    if result.ok:
        return "done"
    if result.refused:
        return "refused"
    if not result.applied:
        return "failed"
    if result.unverified and not result.failed:
        return "unverified"
    return "partial"


def audit_reset(
    actor: str, cluster: str, plan: ResetPlan, result: ApplyResult | None, outcome: str, error: str | None = None
) -> None:
    applied = result.applied if result is not None else ()
    verified = result.verified if result is not None else ()
    rows = applied if outcome == "done" else plan.rows
    details: dict[str, Any] = {
        "spec": plan.spec.as_dict() if plan.spec else None,
        "state": plan.state,
        "rows": [r.as_dict() for r in rows[:AUDIT_ROWS]],
        "partitions": len(plan.rows),
    }
    if plan.members:
        details["members"] = [m._asdict() for m in plan.members[:50]]
    if result is not None and result.failed:
        details["failed"] = [f"{t}/{p}: {msg}" for t, p, msg in result.failed[:AUDIT_ROWS]]
    if result is not None and result.checks:
        details["verified"] = len(verified)
        if result.unverified:
            details["unverified"] = [c.describe() for c in result.unverified[:AUDIT_ROWS]]
    if error:
        details["error"] = error[:1000]
    audit(actor, OFFSET_RESET, cluster, plan.group_id, len(verified), outcome, details)


MAX_GROUP_ID_BYTES = 32_767  # a group id is a Kafka protocol STRING (int16 length)


def _check_group_id(group: str) -> None:
    """A group id no Kafka client can send (librdkafka cuts at a NUL) cannot exist: 404, not a broker error."""
    if "\x00" in group or len(group.encode("utf-8", "replace")) > MAX_GROUP_ID_BYTES:
        raise Http404("unknown consumer group (no group id can contain a NUL character or exceed 32,767 bytes)")


def refusal(cluster: str, group: str) -> str:
    """Why this group's type gets no offset reset (streams, share, Connect groups), from the latest
    snapshot; "" when it may, or when the snapshot does not know the group (Kafka's rules decide)."""
    snap = store.state(cluster).snapshot
    known = snap.group(group) if snap is not None else None
    return reset_refused(known.type, known.protocol) if known is not None else ""


def _refused(request: HttpRequest, message: str) -> HttpResponse:
    html = render_to_string("error.html", {"status": 409, "message": message}, request=request)
    return HttpResponse(html, status=409)


def _context(group: str, **extra: Any) -> dict[str, Any]:
    return {"group_id": group, "targets": TARGETS, **extra}


@cluster_page
@require_GET
@operator_required
def reset_form(request: HttpRequest, cluster: str, group: str) -> HttpResponse:
    """Choose partitions and a target. Reads the group now (an action page, not monitoring)."""
    _check_group_id(group)
    if why := refusal(cluster, group):
        return _refused(request, why)
    try:
        state, members, committed = _broker("read_group", get_cluster(cluster), group)
    except ReadFailed as exc:
        return _unavailable(request, str(exc))
    except WorkerFailed as exc:
        return _unavailable(request, CRASHED.format(exc))
    if state == "Dead" and not committed and not members:
        raise Http404("unknown consumer group (no members, no committed offsets)")
    by_topic: dict[str, list[tuple[int, int]]] = {}
    for (topic, partition), offset in sorted(committed.items()):
        by_topic.setdefault(topic, []).append((partition, offset))
    context = _context(
        group,
        mode="form",
        group_state=state,
        members=members,
        blocked=offsets.blocked_reason(state, members),
        by_topic=sorted(by_topic.items()),
        form={"scope": "all" if committed else "selected", "to": ""},  # no default: "earliest" re-reads everything
    )
    return page(request, "reset_offsets.html", cluster, "groups", "", **context)


@cluster_page
@require_POST
@operator_required
def reset_preview(request: HttpRequest, cluster: str, group: str) -> HttpResponse:
    """The dry run: current -> new per partition, lag before -> after; refused when the group is active."""
    _check_group_id(group)
    if why := refusal(cluster, group):
        return _refused(request, why)
    try:
        partitions, spec, fields = parse_form(request.POST)
        plan = _broker("plan_reset", get_cluster(cluster), group, partitions, spec)
    except ReadFailed as exc:
        return _unavailable(request, str(exc))
    except InvalidReset as exc:
        return bad_request(request, str(exc))
    except WorkerFailed as exc:
        return _unavailable(request, CRASHED.format(exc))
    context = _context(group, mode="preview", plan=plan, post=fields, expect=expectations(plan))
    return page(request, "reset_offsets.html", cluster, "groups", "", **context)


@cluster_page
@require_POST
@operator_required
def reset_apply(request: HttpRequest, cluster: str, group: str) -> HttpResponse:
    """Apply after the preview: plans again, checks nothing moved since, writes, audits."""
    _check_group_id(group)
    if why := refusal(cluster, group):
        return _refused(request, why)
    if request.POST.get("confirm") != "yes":
        return bad_request(request, "an offset reset needs the preview and its confirmation first")
    actor = request.user.get_username()
    config = get_cluster(cluster)
    try:
        partitions, spec, fields = parse_form(request.POST)
        plan = _broker("plan_reset", config, group, partitions, spec)
    except ReadFailed as exc:
        return _unavailable(request, str(exc))
    except InvalidReset as exc:
        return bad_request(request, str(exc))
    except WorkerFailed as exc:
        return _unavailable(request, CRASHED.format(exc))
    result: ApplyResult | None = None
    moved = changed_since_preview(plan, request.POST.getlist("expect"))
    if plan.blocked_reason is not None:
        error = f"refused: {plan.blocked_reason}"
        outcome = "refused"
    elif moved:
        shown = ", ".join(moved[:10]) + (" …" if len(moved) > 10 else "")
        error = f"refused: the offsets changed since the preview ({shown}); nothing was written, preview again"
        outcome = "refused"
    else:
        try:
            result = _broker("apply_reset", config, plan)
            error = result.error
            outcome = outcome_of(result)
        except WorkerFailed as exc:  # audited as failed: what Kafka holds is for a read to say
            error, outcome = CRASHED_WRITING.format(exc), "failed"
    audit_reset(actor, cluster, plan, result, outcome, error)
    context = _context(group, mode="result", plan=plan, result=result, outcome=outcome, error=error, post=fields)
    response = page(request, "reset_offsets.html", cluster, "groups", "", **context)
    if outcome != "done":
        response.status_code = 409
    return response
