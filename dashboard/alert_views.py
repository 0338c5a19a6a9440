"""The alerts page: firing now, pending, history, silences, rules (operators edit)."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from dashboard import alerts
from dashboard.alert_forms import AlertRuleForm, SilenceForm
from dashboard.dlq_service import audit
from dashboard.models import AlertEvent, AlertRule, AlertState, Silence
from dashboard.permissions import can_operate, operator_required


def alerts_page(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    context = {
        "section": "alerts",
        "firing": alerts.firing().order_by("firing_since"),
        "pending": AlertState.objects.filter(firing_since__isnull=True).select_related("rule"),
        "events": AlertEvent.objects.select_related("rule")[:100],
        "silences": Silence.objects.filter(until__gt=now).select_related("rule").order_by("until"),
        "rules": AlertRule.objects.order_by("name"),
        "can_operate": can_operate(request.user),
        "silence_form": SilenceForm(),
        "masked": {r.pk: alerts.masked_url(r.webhook_url) for r in AlertRule.objects.all()},
    }
    return render(request, "alerts.html", context)


@operator_required
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    rule = get_object_or_404(AlertRule, pk=pk) if pk else None
    # Bound on every POST, even an empty one: an unbound form would answer 400 without saying why.
    form = AlertRuleForm(request.POST if request.method == "POST" else None, instance=rule)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        audit(
            request.user.get_username(),
            "alert-rule-" + ("edit" if rule else "create"),
            saved.cluster or "*",
            saved.name,
            1,
            "done",
            {
                "condition": saved.condition,
                "threshold": saved.threshold,
                "pattern": saved.pattern,
                "channel": saved.channel,
                "webhook": alerts.masked_url(saved.webhook_url),
            },
        )
        return redirect("alerts")
    status = 400 if request.method == "POST" else 200
    return render(request, "alert_rule.html", {"form": form, "rule": rule, "section": "alerts"}, status=status)


@require_POST
@operator_required
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(AlertRule, pk=pk)
    audit(request.user.get_username(), "alert-rule-delete", rule.cluster or "*", rule.name, 1, "done", {})
    rule.delete()
    return redirect("alerts")


@require_POST
@operator_required
def silence_create(request: HttpRequest) -> HttpResponse:
    form = SilenceForm(request.POST)
    if not form.is_valid():
        return render(request, "alerts_silence_error.html", {"form": form, "section": "alerts"}, status=400)
    silence = form.save(commit=False)
    silence.until = timezone.now() + timedelta(minutes=form.cleaned_data["minutes"])
    silence.created_by = request.user.get_username()
    silence.save()
    audit(
        silence.created_by,
        "silence",
        "*",
        f"{silence.rule or 'all rules'} {silence.pattern}",
        1,
        "done",
        {"until": silence.until.isoformat(), "reason": silence.reason},
    )
    return redirect("alerts")


@require_POST
@operator_required
def silence_end(request: HttpRequest, pk: int) -> HttpResponse:
    silence = get_object_or_404(Silence, pk=pk)
    silence.until = timezone.now()
    silence.save(update_fields=["until"])
    audit(request.user.get_username(), "silence-end", "*", silence.pattern, 1, "done", {"reason": silence.reason})
    return redirect("alerts")
