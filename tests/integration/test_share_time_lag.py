"""A share group through the whole poller on the real 4.3.1 broker: the time lag of its oldest
unacknowledged record (the record at the share-partition start offset, read by the collector's
bounded record-timestamp reads), alert rules on its lag and time lag, and its status windows
refilled from the stored history after a restart."""

from __future__ import annotations

import re
import time

import pytest
from django.urls import reverse

from dashboard.models import AlertRule, AlertState
from dashboard.poller.loop import Poller
from dashboard.state import store
from dashboard.templatetags.dash import duration
from kafka_admin.figures.status import LagStatus
from tests.integration.test_offset_reset import user_client
from tests.integration.test_share_groups import tool_offsets
from tests.kafka_support import KEEP_OLD_RECORDS
from tests.share_support import set_group_configs, share_worker
from tests.waiting import wait_until

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

HOURS_AGO = 2


def produce_old(kafka, topic: str, count: int, first_ts_ms: int) -> None:
    """`count` records a second apart from `first_ts_ms` (CreateTime), acknowledged by the broker."""
    p = kafka.producer(acks="all")
    for i in range(count):
        p.produce(topic, value=b"job", partition=0, timestamp=first_ts_ms + i * 1000)
    assert p.flush(30) == 0


def share_figures(cluster: str, group: str):
    state = store.state(cluster)
    g = state.snapshot.group(group) if state.snapshot else None
    return g, state.figures.groups.get(group)


class TestShareGroupThroughThePoller:
    def test_time_lag_alerts_and_status_after_a_restart(self, kafka, broker, dashboard_cluster, settings):
        # Its twelve cycles run back to back, not an interval apart: every cycle's row is stored, as
        # the held rows of an on-change history would stand for them (unit: test_history_writer).
        settings.HISTORY_HEARTBEAT_S = 0
        topic = kafka.create_topic(partitions=1, config=KEEP_OLD_RECORDS)
        group = kafka.unique("share-lagging")
        set_group_configs(broker.bootstrap, group, share_auto_offset_reset="earliest")
        written_ms = int((time.time() - HOURS_AGO * 3600) * 1000)
        produce_old(kafka, topic, 3, written_ms)
        for condition, threshold in (("lag_gt", 10), ("time_lag_gt", 3600)):
            AlertRule.objects.create(
                name=condition, pattern=group, condition=condition, threshold=threshold, for_seconds=0
            )
        name = dashboard_cluster.name
        with share_worker(broker.bootstrap, group, topic, 3):  # acknowledges the first 3, then takes no more
            produce_old(kafka, topic, 20, written_ms + 3000)  # waiting: 2 hours old, nobody acknowledges them
            poller = Poller(dashboard_cluster, 1.0, isolated=False)
            try:

                def lagging():
                    poller.cycle()
                    g, gf = share_figures(name, group)
                    waiting = g and g.share_partitions and g.share_partitions[0].lag
                    return (g, gf) if waiting and waiting >= 20 and gf.time_lag.seconds is not None else None

                g, gf = wait_until(lagging, 60, "the share group's lag and time lag")
                theirs = tool_offsets(broker, group)
                (p,) = g.share_partitions
                assert theirs == {(topic, 0): (p.start_offset, p.lag)}  # Kafka's own tool agrees
                # The record at the start offset is the oldest unacknowledged one: its own timestamp.
                oldest_ms = written_ms + p.start_offset * 1000
                expected = time.time() - oldest_ms / 1000
                assert abs(gf.time_lag.seconds - expected) < 60, (gf.time_lag, expected)
                assert not gf.time_lag.lower_bound and gf.time_lag.reason.startswith("record timestamp")
                assert gf.time_lag.seconds > (HOURS_AGO * 3600) - 120

                # The page's share table and the API say the same.
                viewer = user_client("viewer", "viewers")
                page = viewer.get(reverse("group", args=[name, group])).content.decode()
                cell = re.search(r'data-testid="share-time-lag">([^<]+)<', page).group(1)
                assert cell == duration(gf.partition_time_lags[(topic, 0)].seconds) and cell.startswith("2h")
                api = viewer.get(f"/api/v1/clusters/{name}/groups/{group}/").json()
                (row,) = api["share_partitions"]
                assert row["time_lag_s"] is not None and row["time_lag_s"] > HOURS_AGO * 3600 - 120
                assert row["time_lag_lower_bound"] is False and api["time_lag_s"] == row["time_lag_s"]
                (part,) = api["partitions"]
                assert (part["start_offset"], part["lag"], part["time_lag_s"]) == (
                    p.start_offset,
                    p.lag,
                    row["time_lag_s"],
                )

                firing = {s.rule.condition for s in AlertState.objects.select_related("rule") if s.firing_since}
                assert firing == {"lag_gt", "time_lag_gt"}

                # A full status window, then a restart: the new poller judges from the stored history.
                for _ in range(12):
                    poller.cycle()
                before = share_figures(name, group)[1].partition_statuses[(topic, 0)]
                assert before.status == LagStatus.STALL, before  # a member holds it; the start offset stays
            finally:
                poller.close()
            after = first_status_of_a_new_poller(dashboard_cluster, group, topic, seeded=True)
            without_history = first_status_of_a_new_poller(dashboard_cluster, group, topic, seeded=False)
        assert after.status == LagStatus.STALL, after  # judged on the stored window at once
        assert without_history.status == LagStatus.NODATA, without_history  # what it would say otherwise


def first_status_of_a_new_poller(config, group: str, topic: str, seeded: bool):
    """The partition's status after the first cycle of a new poller (a restart), its windows
    refilled from the stored history or, for comparison, left empty."""
    poller = Poller(config, 1.0, isolated=False)
    poller._seeded = not seeded  # a poller seeds on its first cycle unless told it has
    try:
        poller.cycle()
        return share_figures(config.name, group)[1].partition_statuses[(topic, 0)]
    finally:
        poller.close()
