"""The DLQ fragments (the DLQ list and a DLQ topic's triage) and the DLQ pages that show them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.template.loader import render_to_string

from dashboard.dlq.queries import DlqQuery
from dashboard.dlq.service import summaries, triage
from dashboard.live.registry import FragmentSpec, live_page, renderer
from dashboard.params import name_param


def _render(template: str, spec: FragmentSpec, **context: Any) -> str:
    return render_to_string(f"partials/{template}.html", {"cluster": spec.cluster, **context})


def dlq_context(cluster: str, on_dlq_page: bool = False) -> dict[str, Any]:
    """The DLQ table; on the DLQ page it has no heading of its own (the page's h1 says it)."""
    rows = summaries(cluster)
    return {"dlqs": rows, "dlq_waiting": sum(r.waiting_total for r in rows), "on_dlq_page": on_dlq_page}


@renderer("dlq-table")
def render_dlq_table(spec: FragmentSpec) -> str:
    return _render("dlq_table", spec, **dlq_context(spec.cluster, on_dlq_page=spec.param("heading") == "page"))


def dlq_triage_context(cluster: str, topic: str, query: Any) -> dict[str, Any]:
    summary = next((s for s in summaries(cluster) if s.topic == topic), None)
    return {"topic": topic, "query": query, "summary": summary, "triage": triage(cluster, topic, query)}


@renderer("dlq-triage")
def render_dlq_triage(spec: FragmentSpec) -> str:
    params = dict(spec.params)
    topic = params.pop("topic", "")
    return _render("dlq_triage", spec, **dlq_triage_context(spec.cluster, topic, DlqQuery.parse(params)))


@live_page("dlq")
def dlq_page(cluster: str, query: Mapping[str, str]) -> list[FragmentSpec]:
    return [FragmentSpec("status", cluster), FragmentSpec("dlq-table", cluster, (("heading", "page"),))]


@live_page("dlq-topic")
def dlq_topic_page(cluster: str, query: Mapping[str, str]) -> list[FragmentSpec]:
    topic = name_param(query, "topic")
    return [
        FragmentSpec("status", cluster),
        FragmentSpec("dlq-triage", cluster, (("topic", topic), *DlqQuery.parse(query).params())),
    ]
