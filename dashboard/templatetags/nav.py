"""The top bar's links (base.html), reversed once per cluster instead of on every page request.

Nine {% url %} tags on every page cost about what a database query does. What they give depends on
the cluster, the URL configuration and the script prefix (the path the dashboard is mounted under)
alone, so those three are the key; the rest of the top bar (the search text, the user) is drawn
per request as before.
"""

from __future__ import annotations

from functools import lru_cache
from types import MappingProxyType

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()

CLUSTER_LINKS = ("overview", "groups", "topics", "dlq", "schemas", "brokers", "search")
PLAIN_LINKS = ("alerts", "audit")


@register.filter
def nav_links(cluster: str) -> MappingProxyType[str, str]:
    """{% with links=nav|nav_links %}{{ links.groups }}: the section links of one cluster's pages."""
    return _links(str(cluster), get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


@lru_cache(maxsize=256)
def _links(cluster: str, prefix: str, urlconf: str) -> MappingProxyType[str, str]:
    """prefix is part of the key only: reverse() reads the current one itself."""
    links = {name: reverse(name, urlconf, args=[cluster]) for name in CLUSTER_LINKS}
    links.update({name: reverse(name, urlconf) for name in PLAIN_LINKS})
    return MappingProxyType(links)
