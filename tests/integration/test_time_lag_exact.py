"""Exact time lag at any depth: groups committed at records written 1 h, 2 h, 3 h and a day ago
read as those durations (not "at least 5 minutes"), from the first cycle, against the real broker."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from confluent_kafka import TopicPartition
from django.contrib.auth import get_user_model
from django.urls import reverse

from dashboard.poller.loop import Poller
from dashboard.state import store
from kafka_admin.figures.tracker import FigureTracker
from kafka_admin.snapshot.collect import SnapshotCollector
from tests.kafka_support import KEEP_OLD_RECORDS

pytestmark = [pytest.mark.broker]

HOURS = (1, 2, 3, 24)


def produce_at(kafka, topic: str, partition: int, stamps_ms: list[int], transactional: bool = False) -> None:
    """Records with chosen CreateTimes (a producer may set any timestamp), acknowledged."""
    conf = {"acks": "all"}
    if transactional:
        conf["transactional.id"] = kafka.unique("tx")
    p = kafka.producer(**conf)
    if transactional:
        p.init_transactions(30)
        p.begin_transaction()
    for ts in stamps_ms:
        p.produce(topic, value=b"v", partition=partition, timestamp=ts)
    if transactional:
        p.commit_transaction(30)
    assert p.flush(30) == 0


def collector_for(broker) -> SnapshotCollector:
    """A collector that reads every far-behind offset in one cycle: the suite's broker holds many other
    tests' groups far behind, and the default cap (50 a cycle, largest lag first) would leave these
    tests' offsets for later cycles."""
    return SnapshotCollector(replace(broker.config(), time_lag_reads=100_000))


def aged_topic(kafka) -> str:
    """Partition i: 10 records written HOURS[i] hours ago, then 10 written now."""
    topic = kafka.create_topic(partitions=len(HOURS), config=KEEP_OLD_RECORDS)
    now_ms = int(time.time() * 1000)
    for partition, hours in enumerate(HOURS):
        produce_at(kafka, topic, partition, [now_ms - hours * 3_600_000] * 10 + [now_ms] * 10)
    return topic


def test_exact_time_lag_hours_behind_from_the_first_cycle(kafka, broker):
    topic = aged_topic(kafka)
    group = kafka.unique("hours-behind")
    kafka.commit(group, [(topic, p, 3) for p in range(len(HOURS))])
    collector = collector_for(broker)
    try:
        snapshot = collector.collect()
        figures = FigureTracker().update(snapshot).groups[group]
        for partition, hours in enumerate(HOURS):
            tl = figures.partition_time_lags[(topic, partition)]
            assert not tl.lower_bound, tl
            assert abs(tl.seconds - hours * 3600) < 60, (hours, tl)
            assert tl.reason == "record timestamp (CreateTime)"
        assert figures.time_lag.seconds == pytest.approx(24 * 3600, abs=60)
        ours = {(topic, p) for p in range(len(HOURS))}
        assert ours <= {(t, p) for t, p, _ in collector.record_times.last_read}
        collector.collect()  # a stuck group costs one read: the next cycle asks the cache
        assert not ours & {(t, p) for t, p, _ in collector.record_times.last_read}  # others' groups may move
    finally:
        collector.close()


def test_log_append_time_topic_and_a_marker_at_the_offset(kafka, broker):
    log_append = kafka.create_topic(partitions=1, config={"message.timestamp.type": "LogAppendTime"})
    produce_at(kafka, log_append, 0, [int(time.time() * 1000) - 3_600_000] * 5)  # the broker stamps them now
    tx = kafka.create_topic(partitions=1)
    produce_at(kafka, tx, 0, [int(time.time() * 1000) - 7_200_000] * 4, transactional=True)  # 0-3, marker at 4
    group = kafka.unique("appended")
    kafka.commit(group, [(log_append, 0, 1), (tx, 0, 4)])
    collector = collector_for(broker)
    try:
        figures = FigureTracker().update(collector.collect()).groups[group]
    finally:
        collector.close()
    appended = figures.partition_time_lags[(log_append, 0)]
    assert appended.reason == "record timestamp (LogAppendTime)" and appended.seconds < 120, appended
    marker = figures.partition_time_lags[(tx, 0)]
    assert (marker.seconds, marker.lower_bound) == (0.0, False), marker  # only the commit marker waits


def test_aborted_records_and_a_tombstone_at_the_offset(kafka, broker):
    """What a read_committed reader skips (an aborted transaction) is no record: the time lag is that
    of the next committed record. A tombstone (no value) is a record like any other: its timestamp."""
    now_ms = int(time.time() * 1000)
    aborted = kafka.create_topic(partitions=1, config=KEEP_OLD_RECORDS)
    p = kafka.producer(**{"acks": "all", "transactional.id": kafka.unique("tx-abort")})
    p.init_transactions(30)
    p.begin_transaction()
    for _ in range(3):  # offsets 0-2, then the abort marker at 3
        p.produce(aborted, value=b"never", partition=0, timestamp=now_ms - 5 * 3_600_000)
    p.abort_transaction(30)
    produce_at(kafka, aborted, 0, [now_ms - 2 * 3_600_000] * 3)  # 4-6, committed
    tombstones = kafka.create_topic(partitions=1, config=KEEP_OLD_RECORDS)
    t = kafka.producer(acks="all")
    t.produce(tombstones, key=b"k", value=None, partition=0, timestamp=now_ms - 3_600_000)
    t.produce(tombstones, key=b"k", value=b"v", partition=0, timestamp=now_ms)
    assert t.flush(30) == 0
    group = kafka.unique("skips")
    kafka.commit(group, [(aborted, 0, 0), (tombstones, 0, 0)])
    collector = collector_for(broker)
    try:
        figures = FigureTracker().update(collector.collect()).groups[group]
    finally:
        collector.close()
    past_abort = figures.partition_time_lags[(aborted, 0)]
    assert not past_abort.lower_bound and abs(past_abort.seconds - 2 * 3600) < 60, past_abort
    tomb = figures.partition_time_lags[(tombstones, 0)]
    assert not tomb.lower_bound and abs(tomb.seconds - 3600) < 60, tomb


def test_below_the_log_start_says_records_were_deleted(kafka, broker):
    topic = kafka.create_topic(partitions=1, config=KEEP_OLD_RECORDS)
    now_ms = int(time.time() * 1000)
    produce_at(kafka, topic, 0, [now_ms - 3 * 3_600_000] * 5 + [now_ms - 3_600_000] * 5)
    cut = TopicPartition(topic, 0, 5)
    kafka.admin.delete_records([cut], request_timeout=30)[cut].result(30)
    group = kafka.unique("lost")
    kafka.commit(group, [(topic, 0, 2)])
    collector = collector_for(broker)
    try:
        figures = FigureTracker().update(collector.collect()).groups[group]
    finally:
        collector.close()
    tl = figures.partition_time_lags[(topic, 0)]
    assert tl.lower_bound and tl.reason.startswith("offset below the log start"), tl
    assert abs(tl.seconds - 3600) < 60  # at least the age of the oldest record left


@pytest.mark.django_db
def test_page_and_api_show_hours_not_a_lower_bound(kafka, dashboard_cluster, client):
    topic = aged_topic(kafka)
    group = kafka.unique("page-hours")
    kafka.commit(group, [(topic, 2, 0)])  # 3 h behind
    Poller(dashboard_cluster, 1.0).cycle()
    tl = store.state("test").figures.groups[group].time_lag
    assert abs(tl.seconds - 3 * 3600) < 60 and not tl.lower_bound
    client.force_login(get_user_model().objects.create_user("watcher", password="pw-watcher-123"))
    html = client.get(reverse("group", args=["test", group])).content.decode()
    assert "3h 00m" in html and "≥ " not in html
    body = client.get(reverse("api:group", args=["test", group])).json()
    data = body.get("data", body)
    assert data["time_lag_lower_bound"] is False and abs(data["time_lag_s"] - 3 * 3600) < 60


@pytest.mark.django_db
def test_the_chart_keeps_rising_while_the_group_is_stuck(kafka, dashboard_cluster, settings):
    # Every cycle's row is stored: its cycles run back to back, far inside the heartbeat that keeps a
    # stuck group's time lag on the chart in production (HISTORY_HEARTBEAT_SECONDS).
    settings.HISTORY_HEARTBEAT_S = 0
    from dashboard.monitor.fragments import chart_context

    topic = aged_topic(kafka)
    group = kafka.unique("chart-stuck")
    kafka.commit(group, [(topic, 0, 0)])  # 1 h behind, and it stays there
    poller = Poller(dashboard_cluster, 1.0)
    deadline = time.monotonic() + 30
    series: list = []
    while time.monotonic() < deadline:
        poller.cycle()
        series = [v for v in chart_context("test", group, "1h")["chart"]["time_lag"] if v is not None]
        if len(series) >= 3 and series[-1] > series[0]:
            break
    assert len(series) >= 3 and series[-1] > series[0], series
    assert series == sorted(series) and all(abs(v - 3600) < 90 for v in series)  # no flat line at a bound
