"""The publisher: renders each subscribed fragment ONCE per cycle and returns those that changed,
for the poller to send through the channel layer to every page that shows them."""

from __future__ import annotations

import hashlib
import logging

from dashboard.live.registry import render
from dashboard.live.subscriptions import active

log = logging.getLogger(__name__)


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
