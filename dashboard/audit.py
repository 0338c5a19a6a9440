"""The audit log: every action (reprocess, resolve, offset reset, alert rule change) writes one entry
here, whichever feature made it, and the audit page lists them."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard.models import AuditEntry


def audit(actor: str, action: str, cluster: str, target: str, count: int, result: str, details: dict) -> AuditEntry:
    """Record who did what to which target, how many things it touched, and how it ended."""
    return AuditEntry.objects.create(
        actor=actor, action=action, cluster=cluster, target=target, count=count, result=result, details=details
    )


def audit_log(request: HttpRequest) -> HttpResponse:
    entries = Paginator(AuditEntry.objects.all(), 50).get_page(request.GET.get("page", 1))
    return render(request, "audit.html", {"entries": entries, "section": "audit"})
