"""The overview against the real broker: a transactional topic's offsets are labelled offsets, and a
caught-up transactional consumer (lag 1: the commit marker) is not counted as lagging (issue 13 §3)."""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from dashboard.monitor.rows import group_rows
from dashboard.poller.loop import Poller
from dashboard.state import store
from tests.integration.test_time_lag_exact import produce_at

pytestmark = [pytest.mark.broker, pytest.mark.django_db]


def test_transactional_topic_and_marker_lag(kafka, dashboard_cluster, client):
    topic = kafka.create_topic(partitions=1)
    produce_at(kafka, topic, 0, [int(time.time() * 1000)] * 10, transactional=True)  # 10 records + 1 marker
    group = kafka.unique("tx-reader")
    kafka.commit(group, [(topic, 0, 10)])  # read everything: only the marker is after it
    # Each cycle reads a bounded number of record times, largest lag first, and other tests' groups
    # on this broker lag more than ours: cycles until ours is read (the rest stay cached).
    poller, deadline = Poller(dashboard_cluster, 1.0), time.monotonic() + 90
    while True:
        poller.cycle()
        figures = store.state("test").figures.groups[group]
        if not figures.time_lag.lower_bound or time.monotonic() > deadline:
            break
    poller.close()
    assert figures.time_lag.seconds == 0.0 and not figures.time_lag.lower_bound, figures.time_lag
    client.force_login(get_user_model().objects.create_user("watcher", password="pw-watcher-123"))
    page = client.get(reverse("topic", args=["test", topic])).content.decode()
    assert "offsets 11" in page  # an offset span, said so: 10 records and a commit marker
    # Other tests' groups share this broker: count the tile against the rows, and find ours.
    rows = {r.group_id: r for r in group_rows(store.state("test"))}
    assert not rows[group].attention
    overview = client.get(reverse("overview", args=["test"])).content.decode()
    lagging = re.search(r'data-testid="tile-lagging".*?</div></div>', overview, re.S).group(0)
    assert f'<div class="tile-value">{sum(r.attention for r in rows.values())}</div>' in lagging
