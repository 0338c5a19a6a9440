"""No offset reset for the group types where writing offsets is unsafe or meaningless (streams and
share groups here, Connect worker groups in tests/unit/test_group_types.py): the group page says
why and what to do instead, and the reset pages refuse before any broker work, even when posted
to directly. Real groups on the real 4.3.1 broker, read by the real collector."""

from __future__ import annotations

from html import unescape

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from dashboard.models import AuditEntry
from dashboard.state import store
from kafka_admin.snapshot.collect import SnapshotCollector
from tests.integration.test_offset_reset import user_client
from tests.share_support import set_group_configs, share_worker
from tests.streams_support import streams_app
from tests.waiting import wait_until

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


def stored_with(config, group: str, ready) -> None:
    """Collect until `ready(group)` holds, then save that snapshot where the pages read it."""
    collector = SnapshotCollector(config)
    try:
        snap = wait_until(lambda: (s := collector.collect()).group(group) and ready(s.group(group)) and s, 90, group)
    finally:
        collector.close()
    store.save(snap)


def assert_refused(group: str, tool: str) -> None:
    op = user_client("op", "operators")
    page = unescape(op.get(reverse("group", args=["test", group])).content.decode())
    assert 'data-testid="reset-link"' not in page and "Reset offsets…" not in page
    assert 'data-testid="reset-refused"' in page and tool in page
    form = op.get(reverse("reset_offsets", args=["test", group]))
    assert form.status_code == 409 and tool in unescape(form.content.decode())
    data = {"scope": "all", "to": "earliest"}
    assert op.post(reverse("reset_preview", args=["test", group]), data).status_code == 409
    applied = op.post(reverse("reset_apply", args=["test", group]), {**data, "confirm": "yes", "expect": []})
    assert applied.status_code == 409 and tool in unescape(applied.content.decode())
    with pytest.raises(CommandError) as cli:  # the CLI has no snapshot: it asks the brokers' listing
        call_command("reset_offsets", "--cluster", "test", "--group", group, "--all-topics", "--to-earliest")
    assert cli.value.returncode == 1 and str(cli.value).startswith("refused: ") and tool in str(cli.value)
    assert not AuditEntry.objects.filter(target=group).exists()  # nothing planned, nothing written


class TestNoResetWhereUnsafe:
    def test_streams_group(self, kafka, broker, dashboard_cluster):
        source, sink = kafka.create_topic(partitions=2), kafka.create_topic(partitions=2)
        app = kafka.unique("streams-reset")
        kafka.produce(source, 100)
        with streams_app(broker.bootstrap, app, source, sink, pause_ms=50):
            stored_with(dashboard_cluster, app, lambda g: g.type == "streams" and g.offsets)
            assert_refused(app, "kafka-streams-groups")

    def test_share_group(self, kafka, broker, dashboard_cluster):
        topic = kafka.create_topic(partitions=1)
        group = kafka.unique("share-reset")
        set_group_configs(broker.bootstrap, group, share_auto_offset_reset="earliest")
        kafka.produce(topic, 10)
        with share_worker(broker.bootstrap, group, topic, 4):
            stored_with(dashboard_cluster, group, lambda g: g.type == "share")
            assert_refused(group, "kafka-share-groups")
