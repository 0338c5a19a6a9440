"""Lag status against the real broker: a reset made from the dashboard (audited) is not a REWIND,
the same reset made by another tool is (docs/lag-status.md, rule 3)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from dashboard.models import AuditEntry
from dashboard.poller.loop import Poller
from dashboard.state import store
from kafka_admin.figures.status import DEFAULT_MIN_SAMPLES

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


def test_a_reset_made_here_is_no_rewind_one_made_elsewhere_is(kafka, dashboard_cluster):
    topic = kafka.create_topic(partitions=1)
    kafka.produce(topic, 100, partition=0)
    here, elsewhere = kafka.unique("reset-here"), kafka.unique("reset-elsewhere")
    for group in (here, elsewhere):
        kafka.commit(group, [(topic, 0, 80)])
    poller = Poller(dashboard_cluster, 1.0)
    for _ in range(DEFAULT_MIN_SAMPLES + 1):
        poller.cycle()
    call_command("reset_offsets", "--group", here, "--topic", topic, "--to-offset", "10", stdout=StringIO())
    assert AuditEntry.objects.get(target=here).result == "done"
    kafka.commit(elsewhere, [(topic, 0, 10)])  # kafka-consumer-groups, another dashboard, a script
    poller.cycle()
    poller.cycle()  # a drop is judged once the next sample confirms it
    groups = store.state("test").figures.groups
    assert groups[elsewhere].status.status == "REWIND"
    assert groups[elsewhere].status.reason.endswith("committed offset moved back 70 records (80 -> 10)")
    assert groups[here].status.status == "OK"
