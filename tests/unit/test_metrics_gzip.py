"""/metrics gzip-compressed (dashboard/metrics_gzip.py): the same text as the plain exposition, its
per-cycle members compressed once per cycle. Hand-built snapshots in the store, no broker."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest
from django.test import RequestFactory

from dashboard import metrics, metrics_gzip
from dashboard.clusters import default_cluster
from dashboard.state import store
from tests.factories import later, snapshot
from tests.unit.test_metrics import busy_cluster, parse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]


def name() -> str:
    return default_cluster().name


def compressed(now: datetime) -> bytes:
    clusters = metrics.gather()
    return metrics_gzip.render_gzip(metrics.segments(clusters, now), metrics.cycle_text, metrics.partition_series_max())


@pytest.mark.parametrize(
    ("header", "wanted"),
    [
        ("gzip", True),
        ("deflate, gzip;q=1.0, *;q=0.5", True),
        ("GZIP", True),
        ("x-gzip", True),
        ("gzip;q=0", False),
        ("gzip; q=0.000", False),
        ("gzip;q=bogus", False),
        ("br, deflate", False),
        ("", False),
    ],
)
def test_accept_encoding(header: str, wanted: bool) -> None:
    request = RequestFactory().get("/metrics", HTTP_ACCEPT_ENCODING=header)
    assert metrics_gzip.wants_gzip(request) is wanted


def test_a_large_text_is_a_stream_of_members_equal_to_the_plain_exposition(monkeypatch) -> None:
    monkeypatch.setattr(metrics_gzip, "WHOLE_BELOW", 0)  # "large": members, not one compression a scrape
    snap, figures = busy_cluster(name())
    store.save(snap, figures)
    now = datetime.now(UTC)
    body = compressed(now)
    assert body[:2] == b"\x1f\x8b"
    assert body.count(b"\x1f\x8b\x08") > 2, "one stream of several members"
    assert gzip.decompress(body) == metrics.render(metrics.gather(), now)


def test_the_view_sends_gzip_only_when_asked(client) -> None:
    snap, figures = busy_cluster(name())
    store.save(snap, figures)
    plain = client.get("/metrics")
    packed = client.get("/metrics", HTTP_ACCEPT_ENCODING="gzip")
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert plain["Vary"] == packed["Vary"] == "Accept-Encoding"
    assert packed["Cache-Control"] == "no-store"
    per_scrape = set(metrics.PER_SCRAPE)

    def steady(body: bytes) -> dict:
        return {k: v for k, v in parse(body.decode()).items() if k[0] not in per_scrape}

    assert steady(gzip.decompress(packed.content)) == steady(plain.content)
    assert len(packed.content) < len(plain.content) / 3
    assert packed.content.count(b"\x1f\x8b\x08") == 1, "a small text: one member"


def test_per_cycle_members_are_kept_until_the_next_cycle(monkeypatch) -> None:
    monkeypatch.setattr(metrics_gzip, "WHOLE_BELOW", 0)
    store.save(snapshot(cluster=name(), groups={"g1": {("orders", 0): 90}}))
    now = datetime.now(UTC)
    first = gzip.decompress(compressed(now))
    key = metrics.partition_series_max()
    members = metrics_gzip.cycle_members(store.state(name()), metrics.cycle_text, key)[0]
    compressed(now)
    assert metrics_gzip.cycle_members(store.state(name()), metrics.cycle_text, key)[0] is members, (
        "a second scrape of the same cycle compresses only its own lines"
    )

    store.save(snapshot(later(5), cluster=name(), groups={"g1": {("orders", 0): 97}}))
    assert metrics_gzip.cycle_members(store.state(name()), metrics.cycle_text, key)[0] is not members
    second = gzip.decompress(compressed(now))
    current = 'kafka_consumergroup_current_offset{cluster="%s",consumergroup="g1",partition="0",topic="orders"}'
    assert (current % name()).encode() + b" 90.0" in first
    assert (current % name()).encode() + b" 97.0" in second
    assert second == metrics.render(metrics.gather(), now)
