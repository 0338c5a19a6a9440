"""Live fragments: what an open page subscribes to, and the publisher that renders each changed
fragment ONCE per cycle and sends it through the channel layer to every page that shows it.

A fragment is identified by a FragmentSpec (its name, the cluster, and the page's query
parameters that change what it shows). Subscriptions live in the database with an expiry, so a
poller in another process (scaled-out setup) knows what to render.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from dashboard.models import LiveSubscription

log = logging.getLogger(__name__)

SUBSCRIPTION_TTL = timedelta(seconds=120)
REFRESH_EVERY_S = 45


@dataclass(frozen=True, slots=True)
class FragmentSpec:
    name: str
    cluster: str
    params: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        raw = json.dumps([self.name, self.cluster, list(self.params)], separators=(",", ":"))
        return hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()

    @property
    def group(self) -> str:
        """Channel-layer group name (ASCII, < 100 chars)."""
        return f"live.{self.key}"

    def param(self, name: str, default: str = "") -> str:
        return dict(self.params).get(name, default)

    def to_json(self) -> dict:
        return {"name": self.name, "cluster": self.cluster, "params": [list(p) for p in self.params]}

    @classmethod
    def from_json(cls, data: dict) -> FragmentSpec:
        return cls(data["name"], data["cluster"], tuple((str(k), str(v)) for k, v in data.get("params", [])))


Renderer = Callable[[FragmentSpec], str]
_renderers: dict[str, Renderer] = {}


def renderer(name: str) -> Callable[[Renderer], Renderer]:
    """Register the function that renders one fragment kind (with hx-swap-oob and a stable id)."""

    def register(fn: Renderer) -> Renderer:
        _renderers[name] = fn
        return fn

    return register


def render(spec: FragmentSpec) -> str:
    return _renderers[spec.name](spec)


def known(name: str) -> bool:
    return name in _renderers


def subscribe(specs: Iterable[FragmentSpec]) -> None:
    """Register (or keep alive) the fragments an open page shows."""
    expires = timezone.now() + SUBSCRIPTION_TTL
    for spec in specs:
        LiveSubscription.objects.update_or_create(
            key=spec.key, defaults={"spec": spec.to_json(), "expires_at": expires}
        )


def active(cluster: str) -> list[FragmentSpec]:
    now = timezone.now()
    LiveSubscription.objects.filter(expires_at__lt=now - SUBSCRIPTION_TTL).delete()
    specs = (
        FragmentSpec.from_json(s)
        for s in LiveSubscription.objects.filter(expires_at__gte=now).values_list("spec", flat=True)
    )
    return [s for s in specs if s.cluster == cluster and known(s.name)]


class Publisher:
    """Remembers what it last sent per fragment, so unchanged fragments are not sent again."""

    def __init__(self, cluster: str) -> None:
        self.cluster = cluster
        self._digests: dict[str, str] = {}
        self.rendered = 0

    def forget(self) -> None:
        """Forget what was sent (it may not have arrived): the next cycle sends every fragment again."""
        self._digests.clear()

    def changed(self) -> list[tuple[str, str]]:
        """Render every subscribed fragment once; return (group, html) for those that changed."""
        out = []
        specs = active(self.cluster)
        live_keys = {s.key for s in specs}
        for key in list(self._digests):
            if key not in live_keys:
                del self._digests[key]
        for spec in specs:
            try:
                html = render(spec)
            except Exception:
                log.exception("rendering live fragment %s failed", spec.name)
                continue
            self.rendered += 1
            digest = hashlib.sha1(html.encode(), usedforsecurity=False).hexdigest()
            if self._digests.get(spec.key) != digest:
                self._digests[spec.key] = digest
                out.append((spec.group, html))
        return out
