"""The schemas page. It asks the registry when opened (kafka_admin.schemas.catalog), like the
message browser asks the broker; the topics come from the latest snapshot, no broker call."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from dashboard.clusters import schema_decoder
from dashboard.pages import cluster_page, page
from dashboard.state import store
from kafka_admin.schemas.catalog import read_catalog, topics_of


@cluster_page
def schemas(request: HttpRequest, cluster: str) -> HttpResponse:
    decoder = schema_decoder(cluster)
    if decoder is None:
        return page(request, "schemas.html", cluster, "schemas", "", registry=None)
    catalog = read_catalog(decoder)
    snapshot = store.state(cluster).snapshot
    names = [t.name for t in snapshot.topics] if snapshot else []
    strategy = decoder.config.subject_strategy
    wanted = request.GET.get("subject", "")
    rows = [
        {"subject": s, "topics": topics_of(s.name, names, strategy), "selected": s.name == wanted}
        for s in catalog.subjects
    ]
    return page(
        request,
        "schemas.html",
        cluster,
        "schemas",
        "",
        registry=decoder.config.describe(),
        catalog=catalog,
        rows=rows,
        polled=snapshot is not None,
    )
