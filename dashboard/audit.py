"""The audit log: every action (reprocess, resolve, offset reset, alert rule change) writes one entry
here, whichever feature made it, and the audit page lists them."""

from __future__ import annotations

from datetime import timedelta

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from dashboard.models import AuditEntry


def audit(actor: str, action: str, cluster: str, target: str, count: int, result: str, details: dict) -> AuditEntry:
    """Record who did what to which target, how many things it touched, and how it ended."""
    return AuditEntry.objects.create(
        actor=actor, action=action, cluster=cluster, target=target, count=count, result=result, details=details
    )


OFFSET_RESET = "offset-reset"  # the action of an offset reset's entry
RESETS_WITHIN_S = 3600.0  # longer than the lag-status window at any sensible poll interval


def recent_resets(cluster: str, within_s: float = RESETS_WITHIN_S) -> list[tuple[str, float]]:
    """(group, unix time) of the offset resets this dashboard wrote to `cluster` lately (page or CLI).

    The poller hands them to the lag status, so a reset made here is not reported as a REWIND;
    refused and failed resets wrote nothing and are left out; an unverified one may have written some."""
    rows = AuditEntry.objects.filter(
        action=OFFSET_RESET,
        cluster=cluster,
        result__in=("done", "partial", "unverified"),
        at__gte=timezone.now() - timedelta(seconds=within_s),
    )
    return [(group_id, at.timestamp()) for group_id, at in rows.values_list("target", "at")]


def audit_log(request: HttpRequest) -> HttpResponse:
    entries = Paginator(AuditEntry.objects.all(), 50).get_page(request.GET.get("page", 1))
    return render(request, "audit.html", {"entries": entries, "section": "audit"})
