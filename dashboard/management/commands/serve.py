"""Serve the dashboard with daphne and, in the embedded default, run the pollers in-process.

Why not `runserver`: the pollers must share the server's event loop (the in-memory channel layer
only works within one loop), and daphne's `ready_callable` gives us exactly that moment.
"""

from __future__ import annotations

import asyncio
import logging

from daphne.endpoints import build_endpoint_description_strings
from daphne.server import Server
from django.conf import settings
from django.core.management.base import BaseCommand

from dashboard.poller.embedded import PollerGroup

log = logging.getLogger(__name__)


def stop_pollers(pollers: PollerGroup) -> object:
    """A Deferred that fires when every poller has stopped (Twisted waits for it before stopping)."""
    from twisted.internet.defer import Deferred

    return Deferred.fromFuture(asyncio.ensure_future(pollers.stop()))


class Command(BaseCommand):
    help = "Serve the dashboard (daphne, websockets) with the pollers in-process unless POLLER_IN_PROCESS=false."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-poller", action="store_true", help="do not poll here (a separate poll_kafka runs)")

    def handle(self, *args, host: str, port: int, no_poller: bool, **options) -> None:
        from config.asgi import application

        pollers = PollerGroup() if settings.POLLER_IN_PROCESS and not no_poller else None

        def ready() -> None:
            # Called just before the reactor starts: schedule the pollers on its asyncio loop.
            from twisted.internet import reactor

            if pollers is not None:
                asyncio.get_event_loop().call_soon(pollers.start)
                # Shutdown waits for the pollers to end: each releases its lease, so the next start
                # of the server polls at once instead of waiting for the lease to expire.
                reactor.addSystemEventTrigger("before", "shutdown", stop_pollers, pollers)
            self.stdout.write(f"Dashboard at http://{host}:{port}/  (Ctrl-C to stop)")

        server = Server(
            application=application,
            endpoints=build_endpoint_description_strings(host=host, port=port),
            ready_callable=ready,
            verbosity=0,
        )
        server.run()
