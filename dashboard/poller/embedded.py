"""Start and stop one Poller per configured cluster inside a running event loop."""

from __future__ import annotations

import asyncio
import logging

from django.conf import settings

from dashboard.clusters import configured_clusters
from dashboard.poller.loop import Poller

log = logging.getLogger(__name__)


class PollerGroup:
    """The pollers of this process; started once, stopped together."""

    def __init__(self) -> None:
        self.stop_event = asyncio.Event()
        self.tasks: list[asyncio.Task] = []

    def start(self) -> None:
        for config in configured_clusters().values():
            poller = Poller(config, settings.POLL_INTERVAL_S)
            self.tasks.append(asyncio.get_running_loop().create_task(poller.run(self.stop_event)))
            log.info("poller started for cluster %s every %.1fs", config.name, settings.POLL_INTERVAL_S)

    async def stop(self) -> None:
        self.stop_event.set()
        await asyncio.gather(*self.tasks, return_exceptions=True)
