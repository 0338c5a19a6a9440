"""Django admin: alert rules and silences are editable; the audit log and tokens are read-only there."""

from django.contrib import admin

from dashboard.alerts.forms import AlertRuleForm
from dashboard.models import AlertRule, ApiToken, AuditEntry, Silence


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    form = AlertRuleForm
    list_display = ("name", "enabled", "cluster", "pattern", "condition", "threshold", "for_seconds", "channel")
    list_filter = ("enabled", "condition", "channel")


@admin.register(Silence)
class SilenceAdmin(admin.ModelAdmin):
    list_display = ("rule", "pattern", "until", "reason", "created_by")


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "action", "cluster", "target", "count", "result")
    list_filter = ("action", "result")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "prefix", "created_at", "last_used_at")
    readonly_fields = ("digest", "prefix", "created_at", "last_used_at")
