"""Forms for alert rules and silences: validation with messages meant for a person."""

from __future__ import annotations

from django import forms

from dashboard.alerts import webhooks
from dashboard.alerts.engine import masked_url, valid_pattern
from dashboard.models import AlertRule, Silence

STATUSES = {"OK", "WARN", "STALL", "STOP", "REWIND", "NODATA"}


class AlertRuleForm(forms.ModelForm):
    webhook_url = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.PasswordInput(render_value=False),
        help_text="http(s) URL; leave empty to keep the current one. Never shown again in full.",
    )

    class Meta:
        model = AlertRule
        fields = [
            "name",
            "enabled",
            "cluster",
            "pattern",
            "condition",
            "threshold",
            "statuses",
            "for_seconds",
            "channel",
            "webhook_url",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A choice must be made, and said in words: Django's blank choice reads "---------".
        condition = self.fields["condition"]
        condition.choices = [("", "Choose a condition…"), *[c for c in condition.choices if c[0] != ""]]
        if self.instance.pk and self.instance.webhook_url:
            self.fields["webhook_url"].help_text = f"current: {masked_url(self.instance.webhook_url)}; " + str(
                self.fields["webhook_url"].help_text
            )

    def clean_pattern(self) -> str:
        pattern = self.cleaned_data["pattern"].strip() or "*"
        problem = valid_pattern(pattern)
        if problem:
            raise forms.ValidationError(problem)
        return pattern

    def clean_statuses(self) -> str:
        raw = [s.strip().upper() for s in self.cleaned_data["statuses"].split(",") if s.strip()]
        unknown = sorted(set(raw) - STATUSES)
        if unknown:
            raise forms.ValidationError(f"unknown status {', '.join(unknown)}; use {', '.join(sorted(STATUSES))}")
        return ",".join(raw)

    def clean_webhook_url(self) -> str:
        url = self.cleaned_data["webhook_url"].strip()
        if not url:
            return self.instance.webhook_url if self.instance.pk else ""
        if not (url.startswith("http://") or url.startswith("https://")):
            raise forms.ValidationError("the webhook URL must start with http:// or https://")
        problem = webhooks.url_problem(url)  # checked again at every delivery (the name may resolve anew)
        if problem:
            raise forms.ValidationError(f"this webhook URL is not allowed: {problem}")
        return url

    def clean(self) -> dict:
        data = super().clean()
        condition = data.get("condition")
        if condition == "status_in" and not data.get("statuses"):
            self.add_error("statuses", "name at least one status for 'status in'")
        if condition in ("lag_gt", "time_lag_gt", "dlq_waiting_gt") and (data.get("threshold") or 0) < 0:
            self.add_error("threshold", "the threshold cannot be negative")
        if data.get("channel") in ("webhook", "slack") and not data.get("webhook_url"):
            self.add_error("webhook_url", "a webhook channel needs a URL")
        return data


class SilenceForm(forms.ModelForm):
    minutes = forms.IntegerField(min_value=1, max_value=60 * 24 * 30, initial=60, help_text="how long")

    class Meta:
        model = Silence
        fields = ["rule", "pattern", "reason"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rule"].empty_label = "Choose a rule…"  # not Django's "---------"

    def clean_pattern(self) -> str:
        pattern = self.cleaned_data["pattern"].strip() or "*"
        problem = valid_pattern(pattern)
        if problem:
            raise forms.ValidationError(problem)
        return pattern
