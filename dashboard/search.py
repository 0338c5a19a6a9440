"""The nav's search box: groups, topics and DLQs whose name contains the words, from the snapshot.

Why so plain: a case-insensitive substring test on names already in memory (no regex from the
user, no broker call), bounded input and bounded output, so a search costs what a page costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import HttpRequest, HttpResponse

from dashboard.pages import cluster_page, page
from dashboard.params import text_param
from dashboard.relations import is_dlq_name
from dashboard.state import store
from kafka_admin.snapshot.model import ClusterSnapshot

LIMIT = 25  # per kind; the lists behind "all N" links page through the rest


@dataclass
class Hits:
    """One kind of result: the first LIMIT names and how many matched in all."""

    names: list[str] = field(default_factory=list)
    total: int = 0

    def add(self, name: str) -> None:
        self.total += 1
        if len(self.names) < LIMIT:
            self.names.append(name)


def search(snapshot: ClusterSnapshot | None, q: str) -> dict[str, Hits]:
    """Names containing every word of `q` (case-insensitive), by kind, each sorted by name."""
    hits = {"groups": Hits(), "topics": Hits(), "dlqs": Hits()}
    words = q.casefold().split()
    if snapshot is None or not words:
        return hits

    def matches(name: str) -> bool:
        folded = name.casefold()
        return all(w in folded for w in words)

    for group_id in sorted(g.group_id for g in snapshot.groups):
        if matches(group_id):
            hits["groups"].add(group_id)
    for topic in sorted(t.name for t in snapshot.topics if not t.internal):
        if matches(topic):
            hits["dlqs" if is_dlq_name(topic) else "topics"].add(topic)
    return hits


@cluster_page
def search_page(request: HttpRequest, cluster: str) -> HttpResponse:
    q = text_param(request.GET, "q")
    results = search(store.state(cluster).snapshot, q)
    return page(request, "search.html", cluster, "search", "", q=q, results=results, limit=LIMIT)
