"""The audit log's offset resets, as the poller hands them to the lag status (no REWIND for them)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.audit import OFFSET_RESET, audit, recent_resets
from dashboard.models import AuditEntry
from dashboard.offsets.views import audit_reset
from kafka_admin.offset_reset import ApplyResult, ResetPlan

pytestmark = pytest.mark.django_db


def reset(group: str, result: str = "done", cluster: str = "local", action: str = OFFSET_RESET) -> AuditEntry:
    return audit("alice", action, cluster, group, 1, result, {})


class TestRecentResets:
    def test_done_and_partial_resets_of_the_cluster(self):
        done, partial = reset("g1"), reset("g2", "partial")
        reset("g3", "refused")
        reset("g4", "failed")
        reset("g5", cluster="other")
        reset("g6", action="reprocess")
        assert sorted(recent_resets("local")) == [("g1", done.at.timestamp()), ("g2", partial.at.timestamp())]

    def test_only_recent_ones(self):
        old = reset("g1")
        AuditEntry.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(hours=2))
        recent = reset("g1")
        assert recent_resets("local") == [("g1", recent.at.timestamp())]
        assert len(recent_resets("local", within_s=3 * 3600)) == 2

    def test_what_the_reset_page_and_cli_write_is_found(self):
        plan = ResetPlan("orders-app", "Empty", (), ())
        audit_reset("alice", "local", plan, ApplyResult(()), "done")
        audit_reset("alice", "local", plan, None, "refused", "refused: active members")
        assert [group for group, _ in recent_resets("local")] == ["orders-app"]
