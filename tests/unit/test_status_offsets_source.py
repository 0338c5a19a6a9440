"""The status bar says when committed offsets are still loading, and when they are read group by group."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from types import SimpleNamespace

from django.template.loader import render_to_string

from kafka_admin.snapshot.model import ClusterSnapshot, OffsetsSource


def status(source: OffsetsSource | None) -> str:
    snapshot = ClusterSnapshot("c", datetime(2026, 1, 1, tzinfo=UTC), 10.0, 6)
    snapshot = dataclasses.replace(snapshot, offsets_source=source)
    state = SimpleNamespace(stale=False, cache_error=None, cluster="c", failure=None)
    return render_to_string("partials/status.html", {"state": state, "snapshot": snapshot})


def test_catch_up_progress_is_shown():
    html = status(OffsetsSource("offsets-topic", caught_up=False, read=250, total=1000))
    assert "loading committed offsets from __consumer_offsets: 250 of 1000 records (25%)" in html


def test_nothing_once_caught_up():
    assert 'data-testid="offsets' not in status(OffsetsSource("offsets-topic", caught_up=True, read=10, total=10))
    assert 'data-testid="offsets' not in status(None)


def test_the_fallback_is_said_and_its_reason_escaped():
    html = status(OffsetsSource("admin", note="reading __consumer_offsets is not allowed (<ACL>)"))
    assert "committed offsets read group by group" in html
    assert "&lt;ACL&gt;" in html and "<ACL>" not in html
