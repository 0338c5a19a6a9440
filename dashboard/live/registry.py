"""Live fragments by name: what each fragment kind renders, and which fragments each page shows.

A fragment is identified by a FragmentSpec (its name, the cluster, and the page's query
parameters that change what it shows). Features register their renderers with @renderer and their
pages with @live_page; the websocket consumer and the publisher look them up here, and name no
feature.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dashboard.params import InvalidPage, cluster_param


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
PageFragments = Callable[[str, Mapping[str, str]], list[FragmentSpec]]
_renderers: dict[str, Renderer] = {}
_pages: dict[str, PageFragments] = {}


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


def live_page(name: str) -> Callable[[PageFragments], PageFragments]:
    """Register which fragments page `name` shows: fn(cluster, query) -> specs; may raise InvalidPage."""

    def register(fn: PageFragments) -> PageFragments:
        _pages[name] = fn
        return fn

    return register


def page_fragments(page: str, query: Mapping[str, str]) -> list[FragmentSpec]:
    """The live fragments a page shows, for the websocket consumer; raises InvalidPage."""
    cluster = cluster_param(query)
    fragments = _pages.get(page)
    if fragments is None:
        raise InvalidPage("unknown page")
    return fragments(cluster, query)
